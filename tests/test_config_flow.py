"""Tests for the room config, options and reconfigure flows."""

from __future__ import annotations

import json
from pathlib import Path
import sys
from typing import Any

import pytest

from custom_components.asmr import engine
from custom_components.asmr.const import (
    CONF_AUDIO_FORMAT,
    CONF_AVOID,
    CONF_LIGHTS,
    CONF_MINUTES,
    CONF_MQTT_TOPIC,
    CONF_SCENE,
    CONF_SPEAKERS,
    CONF_VOLUME,
    DEFAULT_OPTIONS,
    DOMAIN,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er

from .common import add_room, room_entry


@pytest.fixture(autouse=True)
def targets(hass: HomeAssistant) -> None:
    """Give the house a light and a speaker to choose."""
    hass.states.async_set("light.bedroom", "off")
    hass.states.async_set("media_player.bedroom", "off")


async def _user_flow(hass: HomeAssistant, user_input: dict[str, Any]) -> Any:
    """Start the user flow and submit the form once."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    return await hass.config_entries.flow.async_configure(result["flow_id"], user_input)


async def test_user_creates_room_with_default_options(hass: HomeAssistant) -> None:
    """A room with a name, a light and a speaker is created with the defaults."""
    result = await _user_flow(
        hass,
        {
            CONF_NAME: " Bedroom ",
            CONF_LIGHTS: ["light.bedroom"],
            CONF_SPEAKERS: ["media_player.bedroom"],
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Bedroom"
    assert result["data"] == {
        CONF_NAME: "Bedroom",
        CONF_LIGHTS: ["light.bedroom"],
        CONF_SPEAKERS: ["media_player.bedroom"],
    }
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == "bedroom"


async def test_user_room_with_only_speakers(hass: HomeAssistant) -> None:
    """A room may have speakers and no lights."""
    result = await _user_flow(
        hass, {CONF_NAME: "Nursery", CONF_SPEAKERS: ["media_player.bedroom"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_LIGHTS] == []


async def test_user_needs_a_light_or_a_speaker(hass: HomeAssistant) -> None:
    """A room with neither lights nor speakers is refused, then fixed."""
    result = await _user_flow(
        hass, {CONF_NAME: "Bedroom", CONF_LIGHTS: [], CONF_SPEAKERS: []}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_targets"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "Bedroom", CONF_LIGHTS: ["light.bedroom"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize(
    ("key", "entity_id"),
    [(CONF_LIGHTS, "light.attic"), (CONF_SPEAKERS, "media_player.attic")],
)
async def test_user_refuses_missing_entity(
    hass: HomeAssistant, key: str, entity_id: str
) -> None:
    """An entity that does not exist is named as the field's error."""
    result = await _user_flow(hass, {CONF_NAME: "Bedroom", key: [entity_id]})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {key: "entity_not_found"}


async def test_user_accepts_registered_but_unavailable_entity(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A speaker that is registered but has no state yet (still starting) is fine."""
    entry = entity_registry.async_get_or_create("media_player", "cast", "kitchen-1")
    result = await _user_flow(
        hass, {CONF_NAME: "Kitchen", CONF_SPEAKERS: [entry.entity_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("name", ["", "   "])
async def test_user_needs_a_name(hass: HomeAssistant, name: str) -> None:
    """A blank name is refused on its field, and nothing is created until one is given."""
    result = await _user_flow(hass, {CONF_NAME: name, CONF_LIGHTS: ["light.bedroom"]})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NAME: "no_name"}
    assert hass.config_entries.async_entries(DOMAIN) == []

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: " Bedroom ", CONF_LIGHTS: ["light.bedroom"]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Bedroom"


async def test_user_same_name_aborts(hass: HomeAssistant) -> None:
    """A second room with the same name (any case) is already configured."""
    room_entry("Bedroom").add_to_hass(hass)
    result = await _user_flow(
        hass, {CONF_NAME: "bedroom", CONF_LIGHTS: ["light.bedroom"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_options_flow_stores_defaults(hass: HomeAssistant) -> None:
    """The options flow shows the defaults and stores the user's choices."""
    entry = await add_room(hass, room_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"

    new = {
        **DEFAULT_OPTIONS,
        CONF_SCENE: "fireside_pages",
        CONF_MINUTES: 30.0,
        CONF_VOLUME: 20.0,
        CONF_AVOID: ["tapping"],
        CONF_MQTT_TOPIC: "asmr/bedroom",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], new)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_SCENE] == "fireside_pages"
    assert entry.options[CONF_MINUTES] == 30
    assert isinstance(entry.options[CONF_MINUTES], int)
    assert entry.options[CONF_VOLUME] == 20
    assert entry.options[CONF_AVOID] == ["tapping"]
    assert entry.options[CONF_MQTT_TOPIC] == "asmr/bedroom"


@pytest.mark.parametrize(
    ("key", "stored", "cleared"),
    [(CONF_AVOID, ["tapping", "typing"], []), (CONF_MQTT_TOPIC, "asmr/bedroom", "")],
)
async def test_options_flow_clears_an_emptied_field(
    hass: HomeAssistant, key: str, stored: Any, cleared: Any
) -> None:
    """An optional field the user empties is cleared, not filled back with the old value.

    The frontend leaves an emptied optional field out of what it sends, so the form must
    suggest the stored value rather than default to it.
    """
    entry = await add_room(hass, room_entry(**{key: stored}))
    result = await hass.config_entries.options.async_init(entry.entry_id)
    field = next(marker for marker in result["data_schema"].schema if marker == key)
    assert field.description == {"suggested_value": stored}

    sent = {k: v for k, v in {**DEFAULT_OPTIONS, key: stored}.items() if k != key}
    result = await hass.config_entries.options.async_configure(result["flow_id"], sent)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[key] == cleared
    assert {k: v for k, v in entry.options.items() if k != key} == sent


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {CONF_SCENE: "white_noise", CONF_AVOID: ["white_noise"]},
            {CONF_AVOID: "scene_empty"},
        ),
        ({CONF_MQTT_TOPIC: "asmr/#"}, {CONF_MQTT_TOPIC: "invalid_topic"}),
        ({CONF_MQTT_TOPIC: "asmr/"}, {CONF_MQTT_TOPIC: "invalid_topic"}),
        ({CONF_MQTT_TOPIC: " asmr"}, {CONF_MQTT_TOPIC: "invalid_topic"}),
    ],
)
async def test_options_flow_errors(
    hass: HomeAssistant, changes: dict[str, Any], errors: dict[str, str]
) -> None:
    """Options that cannot work are refused with the field's error."""
    entry = await add_room(hass, room_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DEFAULT_OPTIONS, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert entry.options == DEFAULT_OPTIONS


async def test_options_refuse_a_topic_another_room_uses(hass: HomeAssistant) -> None:
    """Two rooms on one MQTT topic would both act on its commands: the form says so."""
    await add_room(hass, room_entry("Nursery", mqtt_topic="asmr/nursery"))
    entry = await add_room(hass, room_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DEFAULT_OPTIONS, CONF_MQTT_TOPIC: "asmr/nursery"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_MQTT_TOPIC: "topic_taken"}
    assert result["description_placeholders"] == {"room": "Nursery"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DEFAULT_OPTIONS, CONF_MQTT_TOPIC: "asmr/bedroom"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_reconfigure_changes_targets(hass: HomeAssistant) -> None:
    """Reconfigure swaps the room's lights and speakers and keeps its name."""
    entry = await add_room(hass, room_entry(lights=["light.bedroom"]))
    result = await entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIGHTS: [], CONF_SPEAKERS: []}
    )
    assert result["errors"] == {"base": "no_targets"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_LIGHTS: [], CONF_SPEAKERS: ["media_player.bedroom"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert entry.data == {
        CONF_NAME: "Bedroom",
        CONF_LIGHTS: [],
        CONF_SPEAKERS: ["media_player.bedroom"],
    }


async def test_reconfigure_clears_an_emptied_field(hass: HomeAssistant) -> None:
    """A field emptied in the form (the frontend then leaves its key out) is cleared.

    The form suggests the room's lights and speakers rather than defaulting to them,
    so leaving one out cannot bring the old ones back.
    """
    entry = await add_room(
        hass, room_entry(lights=["light.bedroom"], speakers=["media_player.bedroom"])
    )
    result = await entry.start_reconfigure_flow(hass)
    fields = {str(key): key for key in result["data_schema"].schema}
    assert fields[CONF_LIGHTS].description == {"suggested_value": ["light.bedroom"]}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SPEAKERS: ["media_player.bedroom"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert entry.data[CONF_LIGHTS] == []
    assert entry.data[CONF_SPEAKERS] == ["media_player.bedroom"]


async def test_options_offer_only_formats_that_work_here(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libsndfile and ffmpeg the form offers WAV only and suggests it for MP3."""
    entry = await add_room(hass, room_entry(audio_format="mp3"))
    monkeypatch.setitem(sys.modules, "soundfile", None)
    engine.use_ffmpeg(None)
    try:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        field = next(m for m in result["data_schema"].schema if m == CONF_AUDIO_FORMAT)
        selector = result["data_schema"].schema[field]
        assert selector.config["options"] == ["wav"]
        assert field.description == {"suggested_value": "wav"}
    finally:
        engine.use_ffmpeg("ffmpeg")


async def test_options_name_the_scenes_in_the_users_language(
    hass: HomeAssistant,
) -> None:
    """The default-scene picker takes the built-in scenes' names from the translations.

    The labels (English) stay for the room's own mixes, which have no translation.
    """
    entry = await add_room(hass, room_entry())
    result = await hass.config_entries.options.async_init(entry.entry_id)
    field = next(m for m in result["data_schema"].schema if m == CONF_SCENE)
    config = result["data_schema"].schema[field].config
    assert config["translation_key"] == "scene"
    strings = json.loads(
        (Path(engine.__file__).parent.parent / "strings.json").read_text("utf-8")
    )
    named = strings["selector"][config["translation_key"]]["options"]
    assert {option["value"] for option in config["options"]} == set(named)


async def test_a_rooms_own_player_is_no_speaker(hass: HomeAssistant) -> None:
    """A room's own ASMR player is not offered, and refused, as another room's speaker."""
    await add_room(hass, room_entry("Nursery"))
    own = er.async_get(hass).async_get_entity_id(
        "media_player",
        DOMAIN,
        f"{hass.config_entries.async_entries(DOMAIN)[0].entry_id}-player",
    )
    assert own is not None
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    speakers = next(m for m in result["data_schema"].schema if m == CONF_SPEAKERS)
    assert own in result["data_schema"].schema[speakers].config["exclude_entities"]
    with pytest.raises(InvalidData, match="speakers"):
        await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_NAME: "Bedroom", CONF_SPEAKERS: [own]}
        )
