"""Hair brushing: a brush drawn through hair from the crown down, close to one ear.

Each stroke is the scratching gesture model with a quick start and a long glide. The
bristles pass through many strands and each strand snaps free of a bristle as a tiny
bright click: a dense crackle (``bristle_tips``) whose rate follows the stroke's speed
and the thickness of the hair, and whose clicks brighten as the brush speeds up. Under
it the strands rub the bristles with a soft swish that flutters as tufts grip and let
go (``stick_slip``). The brush returns through the air in silence between strokes;
runs of strokes move from side to side and each stroke slides a little past the ear.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, ChunkRequest, Trigger, chunk_rng
from ..events import soft_limit
from ..gestures import (
    CONTROL_HOP,
    blend,
    bristle_tips,
    graded_click_bank,
    hold,
    noise_table,
    place_strokes,
    stick_slip,
    stroke_controls,
    strokes_in_chunk,
)

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.08
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

CATCH_HZ = 40.0
"""Catches per second at full speed: tufts of strands gripping and letting go."""

CATCH_DEPTH = 1.0
"""Spread of the catches' strength (natural-log units)."""

SNAG_HZ = 2000.0
"""Strands snapping free of the bristles per second at full speed, in thick hair."""

SNAG_LEVEL = 4.0
"""Level of the strand clicks (unit-energy grains)."""

SNAG_GRAINS = 32
"""Grains of the strand clicks' bank, from dull to bright."""

SNAG_FRAMES = 96
"""Length of a strand's click, in frames (its decay is a fifth of that)."""

SNAG_BAND = (1500.0, 10000.0)
"""Resonances of the dullest and the brightest strand click, in Hz."""

SNAG_ROLLOFF = 7000.0
"""Corner of the low-pass that softens the top of every click, in Hz."""

SNAG_BRIGHTNESS = 2.0
"""How bright the strand clicks get at full speed (1 = the brightest grain)."""

SNAG_SPREAD = 1.2
"""Spread of the strand clicks' levels (natural-log units)."""

SWISH_LEVEL = 0.1
"""Level of the strands' friction noise."""

DULL = (500.0, 3500.0, -1.0)
"""Band (Hz) and tilt (dB per octave) of the strands' noise on a slow stroke."""

SWISH = (2000.0, 9000.0, 0.0)
"""Band (Hz) and tilt (dB per octave) of the strands' noise on a fast stroke."""

LEVEL_POWER = 0.9
"""How the friction level follows the stroke's speed."""

KNEE = 0.3
"""Level above which the rare hardest slips are bent softly (linear)."""

CEILING = 0.55
"""Level the bent slips never reach (linear)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, density, spot."""
    rng = chunk_rng(seed, "hair_brushing/segment", segment)
    runs = 8
    counts = rng.integers(3, 8, runs)
    base = rng.uniform(0.65, 1.1, runs)
    spot = rng.normal(0.0, 22.0, runs)
    thick = rng.uniform(0.6, 1.0, runs) * SNAG_HZ
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = base[run_of] * rng.uniform(0.8, 1.25, strokes)
    lift = rng.uniform(0.2, 0.45, strokes)
    lift[np.cumsum(counts) - 1] += rng.uniform(0.2, 0.7, runs)
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + lift)[:-1]])
    speed = rng.uniform(0.8, 1.0, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + 0.05 < SEGMENT_S * (segment + 1)
    return start[keep], dur[keep], speed[keep], thick[run_of][keep], spot[run_of][keep]


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the hair-brush strokes that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` stereo strokes placed around the head.

    """
    t0 = request.start_s
    start, dur, speed, thick, spot = _timeline(request.seed, request.index // SEGMENT_S)
    strokes = strokes_in_chunk(start, dur, t0)
    if strokes is None:
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    rng = chunk_rng(request.seed, "hair_brushing", request.index)
    mine, offsets, lengths, frames = (
        strokes.mine,
        strokes.offsets,
        strokes.lengths,
        strokes.frames,
    )
    v = stroke_controls(
        rng, offsets, lengths, speed[mine], frames, skew=0.3, wobble=0.15, bias=-0.6
    )
    gain = np.float32(GAIN)
    catches = stick_slip(rng, v, CATCH_HZ, CATCH_DEPTH, limit=1.5)
    mono = blend(
        rng,
        noise_table(DULL[0], DULL[1], DULL[2], "hair-dull", 2),
        noise_table(SWISH[0], SWISH[1], SWISH[2], "hair-swish", 2),
        v**LEVEL_POWER * catches * (np.float32(SWISH_LEVEL) * gain),
        np.clip(0.15 + 0.55 * v, 0.0, 1.0),
        frames,
    )
    density = hold(thick[mine], offsets, lengths, v.size, CONTROL_HOP)
    mono += bristle_tips(
        rng,
        v,
        v * density.astype(np.float32),
        v * catches * (np.float32(SNAG_LEVEL) * gain),
        graded_click_bank(
            SNAG_GRAINS, SNAG_FRAMES, SNAG_BAND[0], SNAG_BAND[1], "hair", SNAG_ROLLOFF
        ),
        frames,
        brightness=SNAG_BRIGHTNESS,
        spread=SNAG_SPREAD,
    )
    slide = rng.uniform(-14.0, 14.0, offsets.size)
    soft_limit(mono, knee=KNEE, ceiling=CEILING)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=slide, salt="hair_brushing"
    )


TRIGGER = Trigger(
    id="hair_brushing", name="Hair brushing", close=True, render_chunk=render_chunk
)
