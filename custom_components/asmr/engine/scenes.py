"""The scene library and user mixes: named mixes of triggers.

Each layer has a level, a placement and optionally one of its trigger's variants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import calibration
from .base import PLACEMENTS, Placement
from .loudness import LOUDNESS_LUFS
from .triggers import (
    TRIGGER_IDS,
    TRIGGERS,
    Renderer,
    calibration_key,
    variant_names,
    variant_renderer,
)


class EngineError(ValueError):
    """A request the sound engine cannot serve (bad id, bad argument)."""


class UnknownSceneError(EngineError):
    """No scene has the requested id."""


class UnknownTriggerError(EngineError):
    """No trigger has the requested id."""


class UnknownVariantError(EngineError):
    """The trigger has no variant of the requested name."""


class EmptySceneError(EngineError):
    """Every layer of the scene was left out."""


class InvalidMixError(EngineError):
    """A mix cannot be built as asked (layer count, level, placement, id or name)."""


class UnknownPlacementError(InvalidMixError):
    """No placement preset has the requested name."""


MIX_LAYERS = (1, 6)
"""Fewest and most layers of a mix."""

MIX_LEVEL_DB = (-30.0, 0.0)
"""Lowest and highest level of a mix layer, in dB relative to its calibrated trigger."""


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One trigger in a scene: its level relative to the others and where it sits.

    ``level_db`` is relative to the trigger's calibrated loudness; ``variant`` names one
    of the trigger's variants (``None``: the trigger's own sound).
    """

    trigger: str
    level_db: float = 0.0
    placement: Placement = field(default_factory=Placement)
    variant: str | None = None


@dataclass(frozen=True, kw_only=True)
class Scene:
    """A named mix of triggers.

    ``gain_db`` brings the mix of calibrated layers to the loudness target; it comes from
    the calibration table for the built-in scenes and from ``estimated_loudness_db`` for
    user mixes and for scenes with layers left out.
    """

    id: str
    name: str
    layers: tuple[Layer, ...]
    icon: str
    gain_db: float = 0.0


@dataclass(frozen=True, kw_only=True)
class MixLayer:
    """One layer of a user mix, as a listener composes it.

    Parameters
    ----------
    trigger
        A trigger id.
    level_db
        Level relative to the trigger's calibrated loudness, within ``MIX_LEVEL_DB``.
    placement
        A name in ``base.PLACEMENTS`` (``"close"``, ``"near"``, ``"far"``, ``"wide"``);
        ``None`` puts a close trigger ``"close"`` and any other ``"wide"``.
    variant
        One of the trigger's variants (``None``: its own sound).

    """

    trigger: str
    level_db: float = 0.0
    placement: str | None = None
    variant: str | None = None


_TRIGGER_ICONS: dict[str, str] = {
    "whispering": "mdi:account-voice",
    "tapping": "mdi:gesture-tap",
    "scratching": "mdi:gesture-swipe",
    "brushing": "mdi:brush",
    "paper_crinkling": "mdi:file-document-outline",
    "typing": "mdi:keyboard",
    "page_turning": "mdi:book-open-page-variant",
    "hair_brushing": "mdi:brush-variant",
    "rainfall": "mdi:weather-rainy",
    "fire_crackling": "mdi:fireplace",
    "wind": "mdi:weather-windy",
    "ocean_waves": "mdi:waves",
    "stream": "mdi:water",
    "white_noise": "mdi:waveform",
    "pink_noise": "mdi:sine-wave",
    "brown_noise": "mdi:wave",
}


_LIBRARY: tuple[Scene, ...] = (
    Scene(
        id="rain_on_window",
        name="Rain on the window",
        icon="mdi:weather-rainy",
        layers=(
            Layer(trigger="rainfall", variant="on_glass"),
            Layer(
                trigger="tapping",
                level_db=-9.0,
                placement=Placement(azimuth=45.0, sweep=30.0, period_s=40.0),
            ),
            Layer(trigger="brown_noise", level_db=-12.0),
        ),
    ),
    Scene(
        id="fireside_pages",
        name="Fireside pages",
        icon="mdi:fireplace",
        layers=(
            Layer(trigger="fire_crackling", level_db=-10.0),
            Layer(
                trigger="page_turning",
                placement=Placement(azimuth=0.0, sweep=10.0, period_s=60.0),
            ),
        ),
    ),
    Scene(
        id="whisper_and_brush",
        name="Whisper and brush",
        icon="mdi:account-voice",
        layers=(
            Layer(
                trigger="whispering",
                placement=Placement(azimuth=-40.0, sweep=45.0, period_s=24.0),
            ),
            Layer(
                trigger="brushing",
                level_db=-6.0,
                placement=Placement(azimuth=55.0, sweep=65.0, period_s=18.0),
            ),
            Layer(trigger="pink_noise", level_db=-16.0),
        ),
    ),
    Scene(
        id="paper_and_pages",
        name="Paper and pages",
        icon="mdi:book-open-page-variant",
        layers=(
            Layer(
                trigger="paper_crinkling",
                placement=Placement(azimuth=30.0, sweep=40.0, period_s=30.0),
            ),
            Layer(
                trigger="page_turning",
                placement=Placement(azimuth=-20.0, sweep=10.0, period_s=60.0),
            ),
            Layer(
                trigger="scratching",
                level_db=8.0,
                placement=Placement(azimuth=-20.0, sweep=40.0, period_s=26.0),
            ),
        ),
    ),
    Scene(
        id="late_night_typing",
        name="Late-night typing",
        icon="mdi:keyboard",
        layers=(
            Layer(
                trigger="typing",
                placement=Placement(azimuth=10.0, sweep=10.0, period_s=50.0),
            ),
            Layer(trigger="rainfall", level_db=-13.0),
        ),
    ),
    Scene(
        id="forest_stream",
        name="Forest stream",
        icon="mdi:forest",
        layers=(Layer(trigger="stream"), Layer(trigger="wind", level_db=-6.0)),
    ),
    Scene(
        id="ocean_night",
        name="Ocean at night",
        icon="mdi:waves",
        layers=(Layer(trigger="ocean_waves"), Layer(trigger="wind", level_db=-9.0)),
    ),
    Scene(
        id="hair_brushing",
        name="Hair brushing",
        icon="mdi:brush-variant",
        layers=(
            Layer(
                trigger="hair_brushing",
                placement=Placement(azimuth=40.0, sweep=75.0, period_s=20.0),
            ),
            Layer(
                trigger="whispering",
                placement=Placement(azimuth=-50.0, sweep=40.0, period_s=30.0),
            ),
        ),
    ),
    Scene(
        id="white_noise",
        name="White noise",
        icon="mdi:waveform",
        layers=(Layer(trigger="white_noise"),),
    ),
    Scene(
        id="pink_noise",
        name="Pink noise",
        icon="mdi:sine-wave",
        layers=(Layer(trigger="pink_noise"),),
    ),
    Scene(
        id="brown_noise",
        name="Brown noise",
        icon="mdi:wave",
        layers=(Layer(trigger="brown_noise"),),
    ),
)
"""The built-in scenes, before their calibrated gains are looked up."""


def power_sum_db(layers: Iterable[Layer]) -> float:
    """Return the estimated loudness of calibrated layers mixed, relative to one at 0 dB.

    Independent sources add in power, so layers at ``l_i`` dB sum to
    ``10 * log10(sum(10 ** (l_i / 10)))``.
    """
    total = sum(10.0 ** (layer.level_db / 10.0) for layer in layers)
    return 10.0 * math.log10(total) if total > 0.0 else -math.inf


PROFILE_SHARES = 32
"""How many equal shares a loudness profile cuts a trigger's 400 ms blocks into."""

_ABSOLUTE_GATE_LUFS = -70.0  # BS.1770-4's gates
_RELATIVE_GATE_LU = -10.0
_SILENT_DB = -99.0  # a silent block in a profile


def loudness_profile(block_db: ArrayLike) -> tuple[float, ...]:
    """Return the loudness profile of a lone trigger from its gating blocks.

    Parameters
    ----------
    block_db
        The loudness of its BS.1770 gating blocks (400 ms, 75 % overlap) relative to its
        integrated loudness, in dB (``-inf`` for silence).

    Returns
    -------
    tuple[float, ...]
        ``PROFILE_SHARES`` numbers, quietest first: the blocks sorted and cut into equal
        shares, each share's mean power in dB (at least ``-99``), to 0.1 dB.

    """
    power = np.sort(10.0 ** (np.asarray(block_db, dtype=np.float64) / 10.0))
    shares = np.array_split(power, PROFILE_SHARES)
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10([share.mean() for share in shares])
    return tuple(round(float(v), 1) for v in np.maximum(db, _SILENT_DB))


def _profile_power(layer: Layer) -> NDArray[np.float64]:
    """Return a layer's profile as block powers at its level (flat if not measured)."""
    key = calibration_key(layer.trigger, layer.variant)
    profile = calibration.LOUDNESS_PROFILE_DB.get(key)
    if profile is None:
        profile = calibration.LOUDNESS_PROFILE_DB.get(layer.trigger, (0.0,))
    return np.asarray(10.0 ** ((np.asarray(profile) + layer.level_db) / 10.0))


def _gated_db(power: NDArray[np.float64]) -> float:
    """Return the BS.1770 gated loudness of equally likely block powers, in dB.

    The absolute gate sits a fixed distance under the mix once it is brought to the
    target, so it is found by a few rounds of levelling.
    """
    level = 10.0 * math.log10(float(power.mean()))
    for _ in range(3):
        floor = level + _ABSOLUTE_GATE_LUFS - LOUDNESS_LUFS
        audible = power[10.0 * np.log10(power) > floor]
        if audible.size == 0:
            break
        gate = 10.0 * math.log10(float(audible.mean())) + _RELATIVE_GATE_LU
        kept = audible[10.0 * np.log10(audible) > gate]
        level = 10.0 * math.log10(float(kept.mean()))
    return level


def estimated_loudness_db(layers: Iterable[Layer]) -> float:
    """Return the estimated loudness of calibrated layers mixed, relative to the target.

    ``power_sum_db`` holds for steady sounds, but BS.1770's gates leave out the silences
    of a sparse trigger (page turns, taps) when it plays alone, not once a bed fills
    them: a page-turning layer over a quiet bed can measure 4 LU under the power sum.
    So each trigger's loudness profile (the spread of its blocks' loudness, measured by
    ``scripts/calibrate``) is combined as independent sources combine, block power by
    block power, and the gates are applied to the result.

    Parameters
    ----------
    layers
        Layers of calibrated triggers (level and variant count; placement moves a
        layer's loudness by under 0.2 LU and is left out).

    Returns
    -------
    float
        Loudness in LU relative to one calibrated layer at 0 dB.

    """
    mix: NDArray[np.float64] | None = None
    for layer in layers:
        power = _profile_power(layer)
        if mix is None:
            mix = power
            continue
        combined = np.sort((mix[:, None] + power[None, :]).ravel())
        shares = np.array_split(combined, min(combined.size, PROFILE_SHARES))
        mix = np.asarray([share.mean() for share in shares])
    if mix is None:
        return -math.inf
    return _gated_db(mix)


def _build() -> dict[str, Scene]:
    """Return the built-in scenes with their calibrated gains (estimated if not measured)."""
    scenes = {}
    for scene in _LIBRARY:
        gain = calibration.SCENE_GAIN_DB.get(scene.id)
        if gain is None:
            gain = -estimated_loudness_db(scene.layers)
        scenes[scene.id] = replace(scene, gain_db=gain)
    return scenes


SCENES: dict[str, Scene] = _build()
"""The built-in scenes, by id."""


def _check_trigger(trigger_id: str) -> None:
    """Raise ``UnknownTriggerError`` unless ``trigger_id`` names a trigger."""
    if trigger_id not in TRIGGERS:
        known = ", ".join(TRIGGER_IDS)
        raise UnknownTriggerError(
            f"unknown trigger {trigger_id!r}; known triggers: {known}"
        )


def _check_variant(trigger_id: str, variant: str | None) -> Renderer:
    """Return the renderer of a known trigger's variant, or raise ``UnknownVariantError``."""
    renderer = variant_renderer(trigger_id, variant)
    if renderer is None:
        names = variant_names(trigger_id)
        known = f"known variants: {', '.join(names)}" if names else "it has no variants"
        raise UnknownVariantError(
            f"unknown variant {variant!r} of trigger {trigger_id!r}; {known}"
        )
    return renderer


def layer_renderer(layer: Layer) -> Renderer:
    """Return the chunk renderer of a layer: its trigger, in its variant if it names one.

    Raises
    ------
    UnknownTriggerError
        No trigger has the layer's trigger id.
    UnknownVariantError
        The trigger has no variant of that name.

    """
    _check_trigger(layer.trigger)
    return _check_variant(layer.trigger, layer.variant)


def calibrated_gain_db(layer: Layer) -> float:
    """Return the gain that brings a layer's trigger (in its variant) to the target, in dB.

    A variant not yet in the calibration table plays at its trigger's gain.
    """
    trigger_gain = calibration.TRIGGER_GAIN_DB.get(layer.trigger, 0.0)
    key = calibration_key(layer.trigger, layer.variant)
    if key == layer.trigger:
        return trigger_gain
    return calibration.VARIANT_GAIN_DB.get(key, trigger_gain)


def catalogue(mixes: Iterable[Scene] = ()) -> dict[str, Scene]:
    """Return every scene a room can play, by id: the built-in ones, then its mixes.

    Parameters
    ----------
    mixes
        The room's mixes (see ``mix_scene``).

    Raises
    ------
    InvalidMixError
        Two scenes share an id.

    """
    scenes = dict(SCENES)
    for mix in mixes:
        if mix.id in scenes:
            raise InvalidMixError(f"two scenes have the id {mix.id!r}")
        scenes[mix.id] = mix
    return scenes


def _find(scene_id: str, mixes: Iterable[Scene]) -> Scene:
    """Return the scene with an id among the built-in ones and ``mixes``."""
    known = catalogue(mixes)
    found = known.get(scene_id)
    if found is None:
        raise UnknownSceneError(
            f"unknown scene {scene_id!r}; known scenes: {', '.join(known)}"
        )
    return found


def resolve_scene(
    scene: str | Scene, avoid: Iterable[str] = (), *, mixes: Iterable[Scene] = ()
) -> Scene:
    """Return a scene without the layers of triggers to avoid.

    Parameters
    ----------
    scene
        Id of a built-in scene or of one of ``mixes``, or a scene itself (a mix from
        ``mix_scene`` plays the same way as a built-in scene).
    avoid
        Trigger ids the listener does not want to hear.
    mixes
        Mixes whose ids ``scene`` may name.

    Returns
    -------
    Scene
        The scene, or a copy with fewer layers whose gain keeps it at the target.

    Raises
    ------
    UnknownSceneError
        No scene has that id.
    UnknownTriggerError
        A trigger id in ``avoid`` is unknown.
    EmptySceneError
        Every layer of the scene is avoided.

    """
    found = scene if isinstance(scene, Scene) else _find(scene, mixes)
    avoided = set(avoid)
    for trigger_id in sorted(avoided):
        _check_trigger(trigger_id)
    kept = tuple(layer for layer in found.layers if layer.trigger not in avoided)
    if not kept:
        raise EmptySceneError(
            f"scene {found.id!r} has no layer left once {', '.join(sorted(avoided))} "
            "are avoided"
        )
    if kept == found.layers:
        return found
    correction = found.gain_db + estimated_loudness_db(found.layers)
    return replace(found, layers=kept, gain_db=correction - estimated_loudness_db(kept))


def trigger_scene(trigger_id: str) -> Scene:
    """Return a one-layer scene playing a lone trigger (close triggers wander around the head).

    Raises
    ------
    UnknownTriggerError
        No trigger has that id.

    """
    _check_trigger(trigger_id)
    trigger = TRIGGERS[trigger_id]
    placement = PLACEMENTS["close"] if trigger.close else Placement()
    return Scene(
        id=trigger_id,
        name=trigger.name,
        layers=(Layer(trigger=trigger_id, placement=placement),),
        icon=_TRIGGER_ICONS[trigger_id],
    )


def _mix_layer(position: int, mix_layer: MixLayer) -> Layer:
    """Return the scene layer of a mix layer, or raise what is wrong with it."""
    where = f"layer {position + 1}"
    try:
        _check_trigger(mix_layer.trigger)
        _check_variant(mix_layer.trigger, mix_layer.variant)
    except EngineError as err:
        raise type(err)(f"{where}: {err}") from None
    level = mix_layer.level_db
    low, high = MIX_LEVEL_DB
    if (
        isinstance(level, bool)
        or not isinstance(level, (int, float))
        or not low <= level <= high
    ):
        raise InvalidMixError(
            f"{where} ({mix_layer.trigger}): level_db must be a number from {low:g} "
            f"to {high:g} dB, got {level!r}"
        )
    name = mix_layer.placement
    if name is None:
        name = "close" if TRIGGERS[mix_layer.trigger].close else "wide"
    placement = PLACEMENTS.get(name)
    if placement is None:
        raise UnknownPlacementError(
            f"{where} ({mix_layer.trigger}): unknown placement {name!r}; known "
            f"placements: {', '.join(PLACEMENTS)}"
        )
    return Layer(
        trigger=mix_layer.trigger,
        level_db=float(level),
        placement=placement,
        variant=mix_layer.variant,
    )


def mix_scene(
    *, id: str, name: str, layers: Sequence[MixLayer], icon: str | None = None
) -> Scene:
    """Return a user-composed scene, at the loudness target whatever its layers' levels.

    Parameters
    ----------
    id
        The mix's id (unique among a room's scenes; not a built-in scene's id).
    name
        The name a listener sees.
    layers
        One to six layers (see ``MixLayer``).
    icon
        An ``mdi:`` icon (default: the icon of the loudest layer's trigger).

    Returns
    -------
    Scene
        A scene that ``resolve_scene``, ``render.render`` and ``catalogue`` take as they
        take a built-in one; its gain brings the mix to ``LOUDNESS_LUFS``.

    Raises
    ------
    InvalidMixError
        Empty or built-in id, empty name, too few or too many layers, a level out of
        range (``UnknownPlacementError`` for an unknown placement name).
    UnknownTriggerError
        A layer names no trigger.
    UnknownVariantError
        A layer names a variant its trigger does not have.

    """
    if not isinstance(id, str) or not id.strip():
        raise InvalidMixError(f"a mix needs a non-empty id, got {id!r}")
    if id in SCENES:
        raise InvalidMixError(f"mix id {id!r} is already a built-in scene's id")
    if not isinstance(name, str) or not name.strip():
        raise InvalidMixError(f"mix {id!r} needs a non-empty name, got {name!r}")
    fewest, most = MIX_LAYERS
    if not fewest <= len(layers) <= most:
        raise InvalidMixError(
            f"mix {id!r} has {len(layers)} layers; a mix has {fewest} to {most}"
        )
    built = tuple(_mix_layer(i, layer) for i, layer in enumerate(layers))
    if icon is None:
        loudest = max(built, key=lambda layer: layer.level_db)
        icon = _TRIGGER_ICONS[loudest.trigger]
    elif not icon.startswith("mdi:"):
        raise InvalidMixError(f"mix {id!r}: icon must be an mdi: icon, got {icon!r}")
    return Scene(
        id=id,
        name=name,
        layers=built,
        icon=icon,
        gain_db=-estimated_loudness_db(built),
    )
