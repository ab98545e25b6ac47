"""Tests for what a room's entities tell Home Assistant about themselves."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.asmr.const import CONF_AREA, CONF_LIGHTS, CONF_SCENE
from custom_components.asmr.plan import StartRequest
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.media_player import (
    ATTR_INPUT_SOURCE,
    ATTR_INPUT_SOURCE_LIST,
    ATTR_MEDIA_DURATION,
    ATTR_MEDIA_POSITION,
    ATTR_MEDIA_POSITION_UPDATED_AT,
    ATTR_MEDIA_TITLE,
    ATTR_MEDIA_VOLUME_LEVEL,
    SERVICE_SELECT_SOURCE,
    MediaPlayerState,
)
from homeassistant.components.number import NumberDeviceClass
from homeassistant.components.select import ATTR_OPTION, SERVICE_SELECT_OPTION
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_ENTITY_ID,
    ATTR_ENTITY_PICTURE,
    ATTR_UNIT_OF_MEASUREMENT,
    CONF_NAME,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_STOP,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    SERVICE_VOLUME_SET,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    entity_registry as er,
)
from homeassistant.util import dt as dt_util

from .common import BED_LIGHT, add_room, room_entry, setup_lights


async def test_duration_number_is_a_duration(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """The session length is a duration in minutes, so the frontend formats it as one."""
    entry = await add_room(hass, room_entry())
    entity_id = entity_registry.async_get_entity_id(
        "number", "asmr", f"{entry.entry_id}-minutes"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_DEVICE_CLASS] == NumberDeviceClass.DURATION
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "min"


def _entity_id(hass: HomeAssistant, platform: str, unique_id: str) -> str:
    """Return the entity id of one of the room's entities by its unique id."""
    entity_id = er.async_get(hass).async_get_entity_id(platform, "asmr", unique_id)
    assert entity_id is not None
    return entity_id


@pytest.fixture
async def room(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> MockConfigEntry:
    """Return a lights-only bedroom at a fixed moment."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    return await add_room(hass, room_entry(lights=[BED_LIGHT], minutes=30))


async def test_media_player_plays_the_scenes(
    hass: HomeAssistant, room: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Sources start scenes; the player shows the scene and the session's progress."""
    player = _entity_id(hass, "media_player", f"{room.entry_id}-player")
    state = hass.states.get(player)
    assert state.state == MediaPlayerState.IDLE
    assert state.attributes[ATTR_DEVICE_CLASS] == "speaker"
    assert "Fireside pages" in state.attributes[ATTR_INPUT_SOURCE_LIST]

    await hass.services.async_call(
        "media_player",
        SERVICE_SELECT_SOURCE,
        {ATTR_ENTITY_ID: player, ATTR_INPUT_SOURCE: "Fireside pages"},
        blocking=True,
    )
    await hass.async_block_till_done()
    started = dt_util.utcnow()
    freezer.tick(timedelta(minutes=10))
    state = hass.states.get(player)
    assert state.state == MediaPlayerState.PLAYING
    assert room.runtime_data.scene == "fireside_pages"
    assert state.attributes[ATTR_MEDIA_TITLE] == "Fireside pages"
    assert state.attributes[ATTR_INPUT_SOURCE] == "Fireside pages"
    assert state.attributes[ATTR_MEDIA_DURATION] == 30 * 60
    assert state.attributes[ATTR_MEDIA_POSITION] == 0
    assert state.attributes[ATTR_MEDIA_POSITION_UPDATED_AT] == started
    assert (
        state.attributes[ATTR_ENTITY_PICTURE] == "/api/asmr/picture/fireside_pages.png"
    )

    await hass.services.async_call(
        "media_player",
        SERVICE_VOLUME_SET,
        {ATTR_ENTITY_ID: player, ATTR_MEDIA_VOLUME_LEVEL: 0.4},
        blocking=True,
    )
    assert room.runtime_data.volume == 40
    assert hass.states.get(player).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.4

    await hass.services.async_call(
        "media_player", SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: player}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.runtime_data.phase == "fading"


@pytest.mark.parametrize("how", ["switch", "source"])
async def test_turning_on_the_scene_that_plays_changes_nothing(
    hass: HomeAssistant, room: MockConfigEntry, how: str
) -> None:
    """Asking again for the scene that plays keeps its session (its end and all).

    An automation that makes sure the scene is on, or a voice assistant that repeats
    a command, must not restart the session, losing an extend or a chosen end.
    """
    player = _entity_id(hass, "media_player", f"{room.entry_id}-player")
    switch = "switch.bedroom_fireside_pages"
    ends_at = await room.runtime_data.async_start(
        StartRequest(scene="fireside_pages", minutes=90)
    )
    await hass.async_block_till_done()
    plan = room.runtime_data.plan
    if how == "switch":
        await hass.services.async_call(
            "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
        )
    else:
        await hass.services.async_call(
            "media_player",
            SERVICE_SELECT_SOURCE,
            {ATTR_ENTITY_ID: player, ATTR_INPUT_SOURCE: "Fireside pages"},
            blocking=True,
        )
    await hass.async_block_till_done()
    assert room.runtime_data.plan is plan
    assert room.runtime_data.ends_at == ends_at


@pytest.mark.parametrize("service", [SERVICE_TURN_OFF, SERVICE_MEDIA_PAUSE])
async def test_media_player_off_or_pause_fades_out(
    hass: HomeAssistant, room: MockConfigEntry, service: str
) -> None:
    """Turning the player off (or pausing it) stops the session with its fade."""
    player = _entity_id(hass, "media_player", f"{room.entry_id}-player")
    await hass.services.async_call(
        "media_player", SERVICE_TURN_ON, {ATTR_ENTITY_ID: player}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.runtime_data.scene == "rain_on_window"
    await hass.services.async_call(
        "media_player", service, {ATTR_ENTITY_ID: player}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.runtime_data.phase == "fading"


async def test_media_player_refuses_an_unknown_source(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """A source that is no scene is refused with its name, and nothing starts."""
    player = _entity_id(hass, "media_player", f"{room.entry_id}-player")
    with pytest.raises(ServiceValidationError, match="Thunder"):
        await hass.services.async_call(
            "media_player",
            SERVICE_SELECT_SOURCE,
            {ATTR_ENTITY_ID: player, ATTR_INPUT_SOURCE: "Thunder"},
            blocking=True,
        )
    assert room.runtime_data.plan is None


async def test_default_scene_select_sets_what_wind_down_plays(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The select changes the room's default scene, which Wind down then starts."""
    select = _entity_id(hass, "select", f"{room.entry_id}-default_scene")
    assert hass.states.get(select).state == "rain_on_window"
    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: select, ATTR_OPTION: "ocean_night"},
        blocking=True,
    )
    assert room.options[CONF_SCENE] == "ocean_night"
    assert hass.states.get(select).state == "ocean_night"
    await hass.services.async_call(
        "button",
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: _entity_id(hass, "button", f"{room.entry_id}-wind_down")},
        blocking=True,
    )
    assert room.runtime_data.scene == "ocean_night"


async def test_default_scene_refuses_a_wholly_avoided_scene(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """A default scene whose every trigger is avoided is refused, the old one kept."""
    await setup_lights(hass)
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], avoid=["white_noise"]))
    select = _entity_id(hass, "select", f"{entry.entry_id}-default_scene")
    with pytest.raises(ServiceValidationError):
        await hass.services.async_call(
            "select",
            SERVICE_SELECT_OPTION,
            {ATTR_ENTITY_ID: select, ATTR_OPTION: "white_noise"},
            blocking=True,
        )
    assert entry.options[CONF_SCENE] == "rain_on_window"


async def test_extend_and_stop_buttons(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Extend adds the room's extend minutes; Stop fades out; Stop when idle is harmless."""
    stop = _entity_id(hass, "button", f"{room.entry_id}-stop")
    extend = _entity_id(hass, "button", f"{room.entry_id}-extend")
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: stop}, blocking=True
    )
    assert room.runtime_data.plan is None

    ends_at = await room.runtime_data.async_start(StartRequest())
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: extend}, blocking=True
    )
    assert room.runtime_data.ends_at == ends_at + timedelta(minutes=15)
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: stop}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.runtime_data.phase == "fading"


async def test_session_event_entity(hass: HomeAssistant, room: MockConfigEntry) -> None:
    """The event entity fires started and ended with the bus events' data."""
    event = _entity_id(hass, "event", f"{room.entry_id}-session")
    assert hass.states.get(event).attributes["event_types"] == ["started", "ended"]
    ends_at = await room.runtime_data.async_start(StartRequest(scene="pink_noise"))
    await hass.async_block_till_done()
    state = hass.states.get(event)
    assert state.attributes["event_type"] == "started"
    assert state.attributes["scene"] == "pink_noise"
    assert state.attributes["ends_at"] == ends_at.isoformat()
    assert state.attributes["config_entry_id"] == room.entry_id

    await room.runtime_data.async_stop(fade=False)
    await hass.async_block_till_done()
    state = hass.states.get(event)
    assert state.attributes["event_type"] == "ended"
    assert state.attributes["reason"] == "stopped"


async def test_room_device_is_placed_in_the_chosen_area(
    hass: HomeAssistant,
    area_registry: ar.AreaRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The area chosen in the config flow is the room device's area."""
    hass.states.async_set("light.bedroom", "off")
    area = area_registry.async_create("Upstairs bedroom")
    result = await hass.config_entries.flow.async_init(
        "asmr", context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Bedroom", CONF_AREA: area.id, CONF_LIGHTS: ["light.bedroom"]},
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry_id = result["result"].entry_id
    device = device_registry.async_get_device({("asmr", entry_id)})
    assert device is not None
    assert device.area_id == area.id
