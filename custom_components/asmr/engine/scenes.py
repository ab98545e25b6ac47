"""The scene library: named mixes of triggers, each layer with a level and a placement."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
import math

from . import calibration
from .base import Placement
from .triggers import TRIGGER_IDS, TRIGGERS


class EngineError(ValueError):
    """A request the sound engine cannot serve (bad id, bad argument)."""


class UnknownSceneError(EngineError):
    """No scene has the requested id."""


class UnknownTriggerError(EngineError):
    """No trigger has the requested id."""


class EmptySceneError(EngineError):
    """Every layer of the scene was left out."""


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One trigger in a scene: its level relative to the others and where it sits."""

    trigger: str
    level_db: float = 0.0
    placement: Placement = field(default_factory=Placement)


@dataclass(frozen=True, kw_only=True)
class Scene:
    """A named mix of triggers.

    ``gain_db`` brings the mix of calibrated layers to the loudness target; it comes from
    the calibration table for the built-in scenes and from a power-sum estimate for mixes
    with layers left out.
    """

    id: str
    name: str
    layers: tuple[Layer, ...]
    icon: str
    gain_db: float = 0.0


_CLOSE_DEFAULT = Placement(azimuth=0.0, sweep=70.0, period_s=22.0)
"""Where a lone close trigger plays: wandering from ear to ear."""

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


def _layer(trigger: str, level_db: float = 0.0, *motion: float) -> Layer:
    """Return a layer; ``motion`` is (azimuth, sweep, period_s) for a placed trigger."""
    placement = (
        Placement(azimuth=motion[0], sweep=motion[1], period_s=motion[2])
        if motion
        else Placement()
    )
    return Layer(trigger=trigger, level_db=level_db, placement=placement)


_LIBRARY: tuple[tuple[str, str, str, tuple[Layer, ...]], ...] = (
    (
        "rain_on_window",
        "Rain on the window",
        "mdi:weather-rainy",
        (
            _layer("rainfall"),
            _layer("tapping", -9.0, 45.0, 30.0, 40.0),
            _layer("brown_noise", -12.0),
        ),
    ),
    (
        "fireside_pages",
        "Fireside pages",
        "mdi:fireplace",
        (
            _layer("fire_crackling", -6.0),
            _layer("page_turning", 0.0, 0.0, 10.0, 60.0),
        ),
    ),
    (
        "whisper_and_brush",
        "Whisper and brush",
        "mdi:account-voice",
        (
            _layer("whispering", 0.0, -55.0, 45.0, 24.0),
            _layer("brushing", -6.0, 55.0, 65.0, 18.0),
            _layer("pink_noise", -16.0),
        ),
    ),
    (
        "paper_and_pages",
        "Paper and pages",
        "mdi:book-open-page-variant",
        (
            _layer("paper_crinkling", 0.0, 30.0, 40.0, 30.0),
            _layer("page_turning", 0.0, -20.0, 10.0, 60.0),
            _layer("scratching", 6.0, -30.0, 40.0, 26.0),
        ),
    ),
    (
        "late_night_typing",
        "Late-night typing",
        "mdi:keyboard",
        (_layer("typing", 0.0, 10.0, 10.0, 50.0), _layer("rainfall", -14.0)),
    ),
    (
        "forest_stream",
        "Forest stream",
        "mdi:forest",
        (_layer("stream"), _layer("wind", -6.0)),
    ),
    (
        "ocean_night",
        "Ocean at night",
        "mdi:waves",
        (_layer("ocean_waves"), _layer("wind", -9.0)),
    ),
    (
        "hair_brushing",
        "Hair brushing",
        "mdi:brush-variant",
        (
            _layer("hair_brushing", 0.0, 40.0, 75.0, 20.0),
            _layer("whispering", -5.0, -50.0, 40.0, 30.0),
        ),
    ),
    ("white_noise", "White noise", "mdi:waveform", (_layer("white_noise"),)),
    ("pink_noise", "Pink noise", "mdi:sine-wave", (_layer("pink_noise"),)),
    ("brown_noise", "Brown noise", "mdi:wave", (_layer("brown_noise"),)),
)


def power_sum_db(layers: Iterable[Layer]) -> float:
    """Return the estimated loudness of calibrated layers mixed, relative to one at 0 dB.

    Independent sources add in power, so layers at ``l_i`` dB sum to
    ``10 * log10(sum(10 ** (l_i / 10)))``.
    """
    total = sum(10.0 ** (layer.level_db / 10.0) for layer in layers)
    return 10.0 * math.log10(total) if total > 0.0 else -math.inf


def _build() -> dict[str, Scene]:
    """Return the built-in scenes with their calibrated gains."""
    scenes: dict[str, Scene] = {}
    for scene_id, name, icon, layers in _LIBRARY:
        gain = calibration.SCENE_GAIN_DB.get(scene_id, -power_sum_db(layers))
        scenes[scene_id] = Scene(
            id=scene_id, name=name, layers=layers, icon=icon, gain_db=gain
        )
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


def resolve_scene(scene_id: str, avoid: Iterable[str] = ()) -> Scene:
    """Return a built-in scene without the layers of triggers to avoid.

    Parameters
    ----------
    scene_id
        Id of a built-in scene.
    avoid
        Trigger ids the listener does not want to hear.

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
    scene = SCENES.get(scene_id)
    if scene is None:
        raise UnknownSceneError(
            f"unknown scene {scene_id!r}; known scenes: {', '.join(SCENES)}"
        )
    avoided = set(avoid)
    for trigger_id in sorted(avoided):
        _check_trigger(trigger_id)
    kept = tuple(layer for layer in scene.layers if layer.trigger not in avoided)
    if not kept:
        raise EmptySceneError(
            f"scene {scene_id!r} has no layer left once {', '.join(sorted(avoided))} "
            "are avoided"
        )
    if kept == scene.layers:
        return scene
    correction = scene.gain_db + power_sum_db(scene.layers)
    return replace(scene, layers=kept, gain_db=correction - power_sum_db(kept))


def trigger_scene(trigger_id: str) -> Scene:
    """Return a one-layer scene playing a lone trigger (close triggers wander around the head).

    Raises
    ------
    UnknownTriggerError
        No trigger has that id.

    """
    _check_trigger(trigger_id)
    trigger = TRIGGERS[trigger_id]
    placement = _CLOSE_DEFAULT if trigger.close else Placement()
    return Scene(
        id=trigger_id,
        name=trigger.name,
        layers=(Layer(trigger=trigger_id, placement=placement),),
        icon=_TRIGGER_ICONS[trigger_id],
    )
