"""Tests for the scene library."""

from __future__ import annotations

import pytest

from custom_components.asmr.engine.scenes import (
    SCENES,
    EmptySceneError,
    EngineError,
    UnknownSceneError,
    UnknownTriggerError,
    estimated_loudness_db,
    resolve_scene,
    trigger_scene,
)
from custom_components.asmr.engine.triggers import (
    TRIGGER_IDS,
    TRIGGERS,
    variant_renderer,
)

CONTRACT_TRIGGER_IDS = (
    "whispering",
    "tapping",
    "scratching",
    "brushing",
    "paper_crinkling",
    "typing",
    "page_turning",
    "hair_brushing",
    "rainfall",
    "fire_crackling",
    "wind",
    "ocean_waves",
    "stream",
    "white_noise",
    "pink_noise",
    "brown_noise",
)


def test_library_uses_every_trigger() -> None:
    """At least eight scenes, which together play all sixteen triggers."""
    assert len(SCENES) >= 8
    used = {layer.trigger for scene in SCENES.values() for layer in scene.layers}
    assert used == set(TRIGGER_IDS)
    assert TRIGGER_IDS == CONTRACT_TRIGGER_IDS
    assert all(TRIGGERS[trigger_id].id == trigger_id for trigger_id in TRIGGER_IDS)


def test_scenes_are_well_formed() -> None:
    """Ids match keys, names and mdi icons are set, layers are real triggers."""
    for scene_id, scene in SCENES.items():
        assert scene.id == scene_id
        assert scene.name
        assert scene.icon.startswith("mdi:")
        assert scene.layers
        assert all(layer.trigger in TRIGGERS for layer in scene.layers)
        for layer in scene.layers:
            assert variant_renderer(layer.trigger, layer.variant) is not None


def test_close_triggers_move_in_scenes() -> None:
    """Every close trigger in a scene is placed and moves around the head."""
    for scene in SCENES.values():
        for layer in scene.layers:
            if TRIGGERS[layer.trigger].close:
                assert layer.placement.sweep > 0.0
                assert layer.placement.period_s > 0.0


def test_avoiding_a_trigger_drops_its_layer_and_keeps_the_level() -> None:
    """Avoided layers go; the gain rises to make up for the quieter mix."""
    full = resolve_scene("rain_on_window")
    less = resolve_scene("rain_on_window", avoid=["tapping", "whispering"])
    assert [layer.trigger for layer in less.layers] == ["rainfall", "brown_noise"]
    expected = (
        full.gain_db
        + estimated_loudness_db(full.layers)
        - estimated_loudness_db(less.layers)
    )
    assert less.gain_db == pytest.approx(expected)
    assert less.gain_db > full.gain_db
    assert resolve_scene("rain_on_window", avoid=["typing"]) is full
    assert resolve_scene(full) is full
    assert resolve_scene(full, avoid=["tapping", "whispering"]) == less


def test_errors_say_what_is_wrong() -> None:
    """Unknown ids and empty scenes raise engine errors (ValueErrors) with the id."""
    with pytest.raises(UnknownSceneError, match="'nope'"):
        resolve_scene("nope")
    with pytest.raises(UnknownTriggerError, match="'kazoo'"):
        resolve_scene("ocean_night", avoid=["kazoo"])
    with pytest.raises(EmptySceneError, match="ocean_night"):
        resolve_scene("ocean_night", avoid=["ocean_waves", "wind"])
    with pytest.raises(UnknownTriggerError, match="'kazoo'"):
        trigger_scene("kazoo")
    assert issubclass(EngineError, ValueError)


@pytest.mark.parametrize("trigger_id", TRIGGER_IDS)
def test_every_trigger_plays_alone(trigger_id: str) -> None:
    """A lone trigger is a one-layer scene; close ones wander around the head."""
    scene = trigger_scene(trigger_id)
    assert [layer.trigger for layer in scene.layers] == [trigger_id]
    assert scene.icon.startswith("mdi:")
    moving = scene.layers[0].placement.sweep > 0.0
    assert moving == TRIGGERS[trigger_id].close
