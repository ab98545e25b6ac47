"""The ASMR sound engine: procedural triggers, scenes, mixing, loudness and encoding.

Pure numpy (plus soundfile for FLAC, Ogg and MP3); it never imports Home Assistant, so
scripts import it as the top-level package ``engine``.
"""

from __future__ import annotations

from .base import (
    CHUNK_FRAMES,
    PLACEMENTS,
    SAMPLE_RATE,
    ChunkRequest,
    Placement,
    Trigger,
)
from .encode import (
    FORMATS,
    FormatError,
    available_formats,
    encode,
    encoded_size,
    encoders,
    playable_format,
    stream_bytes,
    use_ffmpeg,
)
from .loudness import LOUDNESS_LUFS, TRUE_PEAK_CEILING_DBTP
from .render import DEFAULT_FADE_IN_S, render, warm_up
from .scenes import (
    MIX_LAYERS,
    MIX_LEVEL_DB,
    SCENES,
    EmptySceneError,
    EngineError,
    InvalidMixError,
    Layer,
    MixLayer,
    Scene,
    UnknownPlacementError,
    UnknownSceneError,
    UnknownTriggerError,
    UnknownVariantError,
    catalogue,
    mix_scene,
    resolve_scene,
    trigger_scene,
)
from .triggers import TRIGGER_IDS, TRIGGERS, VARIANTS, variant_names

__all__ = [
    "CHUNK_FRAMES",
    "DEFAULT_FADE_IN_S",
    "FORMATS",
    "LOUDNESS_LUFS",
    "MIX_LAYERS",
    "MIX_LEVEL_DB",
    "PLACEMENTS",
    "SAMPLE_RATE",
    "SCENES",
    "TRIGGERS",
    "TRIGGER_IDS",
    "TRUE_PEAK_CEILING_DBTP",
    "VARIANTS",
    "ChunkRequest",
    "EmptySceneError",
    "EngineError",
    "FormatError",
    "InvalidMixError",
    "Layer",
    "MixLayer",
    "Placement",
    "Scene",
    "Trigger",
    "UnknownPlacementError",
    "UnknownSceneError",
    "UnknownTriggerError",
    "UnknownVariantError",
    "available_formats",
    "catalogue",
    "encode",
    "encoded_size",
    "encoders",
    "mix_scene",
    "playable_format",
    "render",
    "resolve_scene",
    "stream_bytes",
    "trigger_scene",
    "use_ffmpeg",
    "variant_names",
    "warm_up",
]
