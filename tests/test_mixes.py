"""Tests for a room's own mixes, made, changed and deleted in its subentry flow.

A mix plays everywhere a scene plays (switch, action, media player, select, media
browser, MQTT, Assist), and can be heard while it is composed.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
import voluptuous_serialize
from yarl import URL

from custom_components.asmr import config_flow
from custom_components.asmr.config_flow import LAYER_KEYS
from custom_components.asmr.const import DOMAIN
from custom_components.asmr.engine import SCENES, InvalidMixError
from custom_components.asmr.media_source import find_scene
from custom_components.asmr.mixes import SUBENTRY_MIX
from custom_components.asmr.session import EVENT_SESSION_ENDED
from homeassistant.components import conversation, media_source
from homeassistant.components.media_player import (
    ATTR_INPUT_SOURCE,
    ATTR_INPUT_SOURCE_LIST,
    SERVICE_SELECT_SOURCE,
)
from homeassistant.components.select import ATTR_OPTIONS, SERVICE_SELECT_OPTION
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    SOURCE_USER,
    ConfigSubentryData,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_OPTION,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv, entity_registry as er, intent
from homeassistant.setup import async_setup_component

from .common import BED_LIGHT, add_room, room_entry, setup_entities, setup_lights
from .mosquitto import Peer
from .test_mqtt import (  # noqa: F401 - the MQTT tests' fixtures
    BASE,
    LIGHT,
    SET,
    STATE,
    broker,
    lights,
    mqtt_entry,
    peer,
    subscribed,
)
from .test_session_faults import FakeSpeaker, Faults

SPEAKER = "media_player.bedroom_speaker"
SPARE = "media_player.spare_speaker"
SENTENCES = Path(__file__).parent.parent / "custom_sentences" / "en" / "asmr.yaml"

RAIN_MIX: dict[str, Any] = {
    "name": "Rain mix",
    "layer_1": {"sound": "rainfall__on_glass", "level_db": 0, "placement": "auto"},
    "layer_2": {"sound": "brown_noise", "level_db": -12, "placement": "wide"},
}


class SpareSpeaker(FakeSpeaker):
    """A second speaker in the bedroom."""

    _attr_name = "Spare speaker"


@pytest.fixture
async def speakers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> tuple[FakeSpeaker, FakeSpeaker]:
    """Give Home Assistant the demo lights, two fake speakers and an internal URL."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await hass.config.async_update(time_zone="UTC")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    bedroom, spare = FakeSpeaker(Faults()), SpareSpeaker(Faults())
    await setup_entities(hass, "media_player", "fake_speakers", [bedroom, spare])
    return bedroom, spare


@pytest.fixture
async def room(
    hass: HomeAssistant, speakers: tuple[FakeSpeaker, FakeSpeaker]
) -> MockConfigEntry:
    """Return a bedroom with a light and both speakers."""
    return await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER, SPARE], minutes=30)
    )


async def _open(
    hass: HomeAssistant, room: MockConfigEntry, subentry_id: str | None = None
) -> Any:
    """Open the mix form: a new mix, or an existing one to change."""
    context: dict[str, Any] = {"source": SOURCE_USER}
    if subentry_id is not None:
        context = {"source": SOURCE_RECONFIGURE, "subentry_id": subentry_id}
    result = await hass.config_entries.subentries.async_init(
        (room.entry_id, SUBENTRY_MIX), context=context
    )
    assert result["type"] is FlowResultType.FORM
    return result


async def _compose(
    hass: HomeAssistant,
    room: MockConfigEntry,
    form: dict[str, Any],
    subentry_id: str | None = None,
) -> Any:
    """Fill in the mix form once; return what the flow shows next."""
    result = await _open(hass, room, subentry_id)
    return await hass.config_entries.subentries.async_configure(result["flow_id"], form)


async def _make_mix(
    hass: HomeAssistant, room: MockConfigEntry, form: dict[str, Any] = RAIN_MIX
) -> str:
    """Make a mix through the flow and save it; return its subentry id."""
    before = set(room.subentries)
    result = await _compose(hass, room, form)
    assert result["type"] is FlowResultType.MENU, result.get("errors")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    (subentry_id,) = set(room.subentries) - before
    return subentry_id


def _entity_id(hass: HomeAssistant, domain: str, unique_id: str) -> str:
    """Return the entity id of one of the room's entities."""
    entity_id = er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)
    assert entity_id is not None, unique_id
    return entity_id


def _phase(hass: HomeAssistant) -> str:
    """Return the bedroom's phase."""
    return hass.states.get("sensor.bedroom_phase").state


async def test_new_mix_gets_a_switch_that_plays_it(
    hass: HomeAssistant, room: MockConfigEntry, speakers: tuple[FakeSpeaker, ...]
) -> None:
    """A saved mix is stored as the room's subentry and has its own switch."""
    mix_id = await _make_mix(hass, room)

    subentry = room.subentries[mix_id]
    assert (subentry.subentry_type, subentry.title) == (SUBENTRY_MIX, "Rain mix")
    assert subentry.data["layers"] == [
        {
            "trigger": "rainfall",
            "variant": "on_glass",
            "level_db": 0.0,
            "placement": None,
        },
        {
            "trigger": "brown_noise",
            "variant": None,
            "level_db": -12.0,
            "placement": "wide",
        },
    ]
    switch = _entity_id(hass, "switch", f"{room.entry_id}-scene-{mix_id}")
    assert er.async_get(hass).async_get(switch).config_subentry_id == mix_id
    state = hass.states.get(switch)
    assert state.name == "Bedroom Rain mix"
    assert state.attributes["icon"] == "mdi:weather-rainy"
    assert state.attributes["scene_id"] == mix_id

    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(switch).state == STATE_ON
    assert room.runtime_data.scene == mix_id
    assert _phase(hass) == "playing"
    assert "/api/asmr/stream/" in speakers[0].media_content_id

    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.async_block_till_done()
    assert _phase(hass) == "fading"


async def test_mix_form_has_six_layer_sections(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The form holds a name and six layers, the first one open, the others folded."""
    result = await _open(hass, room)
    schema = result["data_schema"].schema
    keys = [str(key) for key in schema]
    assert keys == ["name", *LAYER_KEYS]
    assert len(LAYER_KEYS) == 6
    sections = [schema[key] for key in schema if str(key) in LAYER_KEYS]
    assert [s.options["collapsed"] for s in sections] == [False] + [True] * 5
    # What the frontend fills each section with: the layer's own defaults (an empty
    # section would show blank fields and the level slider at its far end).
    shown = voluptuous_serialize.convert(
        result["data_schema"], custom_serializer=cv.custom_serializer
    )
    defaults = [field["default"] for field in shown if field["name"] in LAYER_KEYS]
    assert defaults == [{"sound": "off", "level_db": 0, "placement": "auto"}] * 6


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({"name": "Quiet"}, {"base": "no_layers"}),
        (
            {"name": "Quiet", "layer_1": {"sound": "off"}, "layer_2": {"sound": "off"}},
            {"base": "no_layers"},
        ),
        ({**RAIN_MIX, "name": "  "}, {"name": "no_name"}),
        ({**RAIN_MIX, "name": "ocean AT night"}, {"name": "duplicate_name"}),
        ({**RAIN_MIX, "name": "white_noise"}, {"name": "duplicate_name"}),
    ],
)
async def test_mix_form_says_what_is_wrong(
    hass: HomeAssistant,
    room: MockConfigEntry,
    form: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A mix without layers, without a name or named like a scene is refused."""
    result = await _compose(hass, room, form)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    assert not room.subentries


async def test_mix_name_must_differ_from_the_rooms_other_mixes(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Two mixes of one room cannot share a name (whatever its case)."""
    await _make_mix(hass, room)
    result = await _compose(hass, room, {**RAIN_MIX, "name": "RAIN MIX"})
    assert result["errors"] == {"name": "duplicate_name"}
    assert len(room.subentries) == 1


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (
            {**RAIN_MIX, "layer_7": {"sound": "wind", "level_db": 0}},
            "extra keys not allowed @ data['layer_7']",
        ),
        (
            {**RAIN_MIX, "layer_2": {"sound": "wind", "level_db": -31}},
            "too small for dictionary value @ data['layer_2']['level_db']",
        ),
        (
            {**RAIN_MIX, "layer_2": {"sound": "wind", "level_db": 1}},
            "too large for dictionary value @ data['layer_2']['level_db']",
        ),
        (
            {**RAIN_MIX, "layer_2": {"sound": "thunder"}},
            "for dictionary value @ data['layer_2']['sound']",
        ),
        (
            {**RAIN_MIX, "layer_1": {"sound": "rainfall__on_roof"}},
            "for dictionary value @ data['layer_1']['sound']",
        ),
        (
            {**RAIN_MIX, "layer_1": {"sound": "wind__on_glass"}},
            "for dictionary value @ data['layer_1']['sound']",
        ),
        (
            {**RAIN_MIX, "layer_1": {"sound": "wind", "placement": "above"}},
            "for dictionary value @ data['layer_1']['placement']",
        ),
    ],
)
async def test_mix_form_refuses_what_it_does_not_offer(
    hass: HomeAssistant, room: MockConfigEntry, form: dict[str, Any], field: str
) -> None:
    """A seventh layer, a level out of range, an unknown sound or placement: refused.

    The refusal names the field (the level's range is -30 to 0 dB).
    """
    result = await _open(hass, room)
    with pytest.raises(InvalidData) as refused:
        await hass.config_entries.subentries.async_configure(result["flow_id"], form)
    assert field in str(refused.value.schema_errors)
    assert not room.subentries


async def test_edit_mix_changes_name_and_layers(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Changing a mix shows its layers, then stores the new ones under the same id."""
    mix_id = await _make_mix(hass, room)
    switch = _entity_id(hass, "switch", f"{room.entry_id}-scene-{mix_id}")

    result = await _open(hass, room, mix_id)
    assert result["step_id"] == "reconfigure"
    schema = result["data_schema"].schema

    def suggested(fields: dict[Any, Any]) -> dict[str, Any]:
        return {
            str(key): key.description["suggested_value"]
            for key in fields
            if key.description
        }

    assert suggested(schema)["name"] == "Rain mix"
    sections = {
        str(key): value.schema.schema
        for key, value in schema.items()
        if str(key) in LAYER_KEYS
    }
    assert suggested(sections["layer_1"])["sound"] == "rainfall__on_glass"
    assert suggested(sections["layer_3"]) == {}
    assert suggested(sections["layer_2"]) == {
        "sound": "brown_noise",
        "level_db": -12.0,
        "placement": "wide",
    }
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Rain on the tent",
            "layer_1": {"sound": "rainfall__on_ground", "level_db": -3},
            "layer_2": {"sound": "wind", "level_db": -9, "placement": "far"},
            "layer_3": {"sound": "whispering", "level_db": -20, "placement": "close"},
        },
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["save", "listen", "reconfigure"]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    subentry = room.subentries[mix_id]
    assert subentry.title == "Rain on the tent"
    assert [layer["trigger"] for layer in subentry.data["layers"]] == [
        "rainfall",
        "wind",
        "whispering",
    ]
    assert hass.states.get(switch).name == "Bedroom Rain on the tent"
    # Its own name is not a duplicate of itself.
    result = await _compose(
        hass, room, {**RAIN_MIX, "name": "rain on the TENT"}, mix_id
    )
    assert result["type"] is FlowResultType.MENU


async def test_editing_a_playing_mix_plays_the_new_layers_to_the_same_end(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
) -> None:
    """A playing mix that is changed goes on, cast again with its new layers."""
    mix_id = await _make_mix(hass, room)
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id},
        blocking=True,
    )
    await hass.async_block_till_done()
    first_url = speakers[0].media_content_id
    ends_at = room.runtime_data.ends_at

    result = await _compose(
        hass,
        room,
        {"name": "Rain mix", "layer_1": {"sound": "ocean_waves", "level_db": 0}},
        mix_id,
    )
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    await hass.async_block_till_done()

    assert not ended
    assert room.runtime_data.scene == mix_id
    assert room.runtime_data.ends_at == ends_at
    assert speakers[0].media_content_id != first_url


async def test_deleting_a_playing_mix_ends_it_stopped(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Deleting a mix ends its session (reason stopped) and removes its switch."""
    mix_id = await _make_mix(hass, room)
    switch = _entity_id(hass, "switch", f"{room.entry_id}-scene-{mix_id}")
    await room.runtime_data.async_set_default_scene(mix_id)
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"

    assert hass.config_entries.async_remove_subentry(room, mix_id)
    await hass.async_block_till_done()

    assert [event.data["reason"] for event in ended] == ["stopped"]
    assert ended[0].data["scene"] == mix_id
    assert _phase(hass) == "idle"
    assert hass.states.get(switch) is None
    assert er.async_get(hass).async_get(switch) is None
    assert room.options["scene"] == "rain_on_window"
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


async def test_deleting_another_mix_leaves_the_session_alone(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Deleting a mix that is not playing does not touch the running session."""
    mix_id = await _make_mix(hass, room)
    other = await _make_mix(hass, room, {**RAIN_MIX, "name": "Other"})
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id},
        blocking=True,
    )
    hass.config_entries.async_remove_subentry(room, other)
    await hass.async_block_till_done()
    assert not ended
    assert room.runtime_data.scene == mix_id


async def test_mix_survives_a_reload(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
) -> None:
    """A session of a mix resumes after the room is loaded again; the mix stays."""
    mix_id = await _make_mix(hass, room)
    ended = async_capture_events(hass, EVENT_SESSION_ENDED)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id, "minutes": 20},
        blocking=True,
    )
    await hass.async_block_till_done()
    ends_at = room.runtime_data.ends_at

    assert await hass.config_entries.async_reload(room.entry_id)
    await hass.async_block_till_done()

    assert not ended
    assert room.runtime_data.scene == mix_id
    assert room.runtime_data.ends_at == ends_at
    switch = _entity_id(hass, "switch", f"{room.entry_id}-scene-{mix_id}")
    assert hass.states.get(switch).state == STATE_ON
    assert f"/{room.runtime_data.plan.token}/" in speakers[0].media_content_id


async def test_start_action_refuses_another_rooms_mix(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """A mix id of another room is an unknown scene here."""
    kitchen = await add_room(hass, room_entry("Kitchen", lights=[BED_LIGHT]))
    mix_id = await _make_mix(hass, kitchen)
    with pytest.raises(Exception, match="unknown scene"):
        await hass.services.async_call(
            DOMAIN,
            "start",
            {"config_entry_id": room.entry_id, "scene": mix_id},
            blocking=True,
        )
    assert _phase(hass) == "idle"


async def test_mix_is_a_source_and_a_default_scene(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The media player lists the mix by name; the default-scene select offers it."""
    mix_id = await _make_mix(hass, room)
    player = _entity_id(hass, "media_player", f"{room.entry_id}-player")
    select = _entity_id(hass, "select", f"{room.entry_id}-default_scene")
    assert hass.states.get(player).attributes[ATTR_INPUT_SOURCE_LIST][-1] == "Rain mix"
    assert hass.states.get(select).attributes[ATTR_OPTIONS][-1] == "Rain mix"

    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: select, ATTR_OPTION: "Rain mix"},
        blocking=True,
    )
    assert room.options["scene"] == mix_id
    assert hass.states.get(select).state == "Rain mix"

    await hass.services.async_call(
        "media_player",
        SERVICE_SELECT_SOURCE,
        {ATTR_ENTITY_ID: player, ATTR_INPUT_SOURCE: "Rain mix"},
        blocking=True,
    )
    await hass.async_block_till_done()
    state = hass.states.get(player)
    assert state.attributes[ATTR_INPUT_SOURCE] == "Rain mix"
    assert state.attributes["media_title"] == "Rain mix"
    assert room.runtime_data.scene == mix_id

    await hass.services.async_call(
        "button",
        "press",
        {ATTR_ENTITY_ID: _entity_id(hass, "button", f"{room.entry_id}-wind_down")},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert room.runtime_data.scene == mix_id


async def test_mix_in_the_media_browser_under_its_room(
    hass: HomeAssistant,
    room: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The room's folder lists its mix, which resolves to a signed, playable URL."""
    assert await async_setup_component(hass, "media_source", {})
    mix_id = await _make_mix(hass, room)

    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    folder = (root.children or [])[-1]
    assert (folder.title, folder.can_expand, folder.can_play) == (
        "Bedroom",
        True,
        False,
    )
    listed = await media_source.async_browse_media(hass, folder.media_content_id)
    (mix,) = listed.children or []
    assert (mix.title, mix.can_play) == ("Rain mix", True)
    assert mix.media_content_id == f"media-source://{DOMAIN}/{room.entry_id}-{mix_id}"

    played = await media_source.async_resolve_media(hass, mix.media_content_id, None)
    assert URL(played.url).path.startswith(f"/api/asmr/scene/{room.entry_id}-{mix_id}/")
    client = await hass_client_no_auth()
    response = await client.head(played.url)
    assert response.status == 200
    response.close()

    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(
            hass, f"media-source://{DOMAIN}/{room.entry_id}-nothing", None
        )
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_browse_media(hass, f"media-source://{DOMAIN}/nothing")


async def _set_volume(
    hass: HomeAssistant, speaker: str, level: float, user: MockUser
) -> None:
    """Set a speaker's volume by hand."""
    await hass.services.async_call(
        "media_player",
        "volume_set",
        {ATTR_ENTITY_ID: speaker, "volume_level": level},
        blocking=True,
        context=Context(user_id=user.id),
    )
    await hass.async_block_till_done()


async def _after(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: int
) -> None:
    """Let ``seconds`` pass, ten at a time, and everything they start settle."""
    for _ in range(seconds // 10):
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def test_listen_plays_a_preview_on_a_free_speaker(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """Listening plays 30 s of the draft on a speaker the session does not use.

    The speaker gets its volume back afterwards; the running session is not touched.
    """
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": "ocean_night"},
        blocking=True,
    )
    await hass.async_block_till_done()
    bedroom, spare = speakers
    # Someone plays the radio on the spare speaker: the session leaves it alone.
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            ATTR_ENTITY_ID: SPARE,
            "media_content_id": "http://radio.example/stream",
            "media_content_type": "music",
        },
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    assert SPARE in room.runtime_data.plan.released
    await _set_volume(hass, SPARE, 0.6, hass_admin_user)
    session_url = bedroom.media_content_id

    result = await _compose(hass, room, RAIN_MIX)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    assert result["step_id"] == "listen"
    field = next(iter(result["data_schema"].schema))
    assert [
        o["value"] for o in result["data_schema"].schema[field].config["options"]
    ] == [SPARE]
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"speaker": SPARE}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.MENU
    assert "/api/asmr/stream/" in spare.media_content_id
    assert spare.volume_level == 0.25
    assert bedroom.media_content_id == session_url
    assert room.runtime_data.scene == "ocean_night"

    freezer.tick(timedelta(seconds=50))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert spare.state != "playing"
    assert spare.volume_level == 0.6
    assert bedroom.media_content_id == session_url


async def test_listen_refuses_when_every_speaker_plays_the_session(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """With the session on every speaker, listening says none is free."""
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": "ocean_night"},
        blocking=True,
    )
    await hass.async_block_till_done()
    result = await _compose(hass, room, RAIN_MIX)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_free_speaker"}
    # The step's title names the mix.
    assert result["description_placeholders"] == {"name": RAIN_MIX["name"]}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU


async def test_listen_offers_the_speakers_freed_while_it_waited(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Told no speaker is free, the user stops the session and goes on: the form asks.

    The form had no speaker field; submitting it once a speaker is free shows the
    speakers to choose from instead of failing.
    """
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": "ocean_night"},
        blocking=True,
    )
    await hass.async_block_till_done()
    result = await _compose(hass, room, RAIN_MIX)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    assert result["errors"] == {"base": "no_free_speaker"}
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": room.entry_id, "fade": False},
        blocking=True,
    )
    await hass.async_block_till_done()
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "listen"
    assert not result["errors"]
    assert "speaker" in result["data_schema"].schema


@pytest.fixture
async def assist(hass: HomeAssistant, room: MockConfigEntry) -> None:
    """Give Assist our sentences."""
    target = Path(hass.config.path("custom_sentences", "en"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(SENTENCES, target / "asmr.yaml")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})


async def _say(hass: HomeAssistant, text: str) -> intent.IntentResponse:
    """Say a sentence to the default agent; return its answer."""
    result = await conversation.async_converse(hass, text, None, Context(), "en")
    await hass.async_block_till_done()
    return result.response


async def test_assist_plays_and_stops_my_mix(
    hass: HomeAssistant, room: MockConfigEntry, assist: None
) -> None:
    """Saying "play my rain mix in the bedroom" starts the mix; "stop my ..." fades it."""
    mix_id = await _make_mix(hass, room)
    response = await _say(hass, "play my rain mix in the bedroom for 20 minutes")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.speech["plain"]["speech"] == (
        "Winding down in Bedroom with Rain mix until 21:20."
    )
    assert room.runtime_data.scene == mix_id

    response = await _say(hass, "stop my rain mix")
    assert response.speech["plain"]["speech"].startswith("Fading out Rain mix")
    assert _phase(hass) == "fading"


async def test_assist_says_an_unknown_mix(
    hass: HomeAssistant, room: MockConfigEntry, assist: None
) -> None:
    """A mix the room does not have is said back, and nothing starts."""
    response = await _say(hass, "play my thunder mix in the bedroom")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert response.speech["plain"]["speech"] == (
        "There is no scene or mix called thunder in Bedroom."
    )
    assert _phase(hass) == "idle"


async def test_assist_turns_the_mix_switch_on_by_name(
    hass: HomeAssistant, room: MockConfigEntry, assist: None
) -> None:
    """Home Assistant's own HassTurnOn finds the mix's switch by its name."""
    mix_id = await _make_mix(hass, room)
    response = await _say(hass, "turn on bedroom rain mix")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_ON
    assert room.runtime_data.scene == mix_id


async def test_mixer_shows_and_sets_the_levels_of_a_mix(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
) -> None:
    """The mixer's select picks a mix; its layer levels show and change that mix."""
    mixer = _entity_id(hass, "select", f"{room.entry_id}-mixer")
    levels = [
        _entity_id(hass, "number", f"{room.entry_id}-mixer-layer-{n}")
        for n in range(1, 7)
    ]
    assert hass.states.get(mixer).state == "unavailable"
    assert hass.states.get(levels[0]).state == "unavailable"

    rain = await _make_mix(hass, room)
    other = await _make_mix(
        hass,
        room,
        {"name": "Night wind", "layer_1": {"sound": "wind", "level_db": -4}},
    )
    assert hass.states.get(mixer).state == "Rain mix"
    assert hass.states.get(mixer).attributes[ATTR_OPTIONS] == ["Rain mix", "Night wind"]
    first, second = hass.states.get(levels[0]), hass.states.get(levels[1])
    assert (first.state, first.attributes["sound"]) == ("0.0", "Rainfall (on glass)")
    assert (second.state, second.attributes["sound"]) == ("-12.0", "Brown noise")
    assert second.attributes["mix"] == "Rain mix"
    assert second.name == "Bedroom Mixer layer 2"
    assert hass.states.get(levels[2]).state == "unavailable"

    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": rain},
        blocking=True,
    )
    await hass.async_block_till_done()
    first_url = speakers[0].media_content_id
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: levels[1], "value": -20},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert room.subentries[rain].data["layers"][1]["level_db"] == -20.0
    assert hass.states.get(levels[1]).state == "-20.0"
    assert room.runtime_data.scene == rain
    assert speakers[0].media_content_id != first_url

    await hass.services.async_call(
        "select",
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: mixer, ATTR_OPTION: "Night wind"},
        blocking=True,
    )
    assert hass.states.get(levels[0]).state == "-4.0"
    assert hass.states.get(levels[1]).state == "unavailable"
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: levels[0], "value": -8}, blocking=True
    )
    await hass.async_block_till_done()
    assert room.subentries[other].data["layers"][0]["level_db"] == -8.0
    assert room.subentries[rain].data["layers"][1]["level_db"] == -20.0


async def test_mixer_refuses_a_layer_or_mix_that_is_not_there(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The session refuses levels for unknown mixes or layers, and unknown mixers."""
    mix_id = await _make_mix(hass, room)
    session = room.runtime_data
    with pytest.raises(ServiceValidationError) as refused:
        await session.async_set_mix_level(mix_id, 2, -3)
    assert refused.value.translation_key == "unknown_mix_layer"
    with pytest.raises(ServiceValidationError) as refused:
        await session.async_set_mix_level("ocean_night", 0, -3)
    assert refused.value.translation_key == "unknown_mix"
    with pytest.raises(ServiceValidationError):
        session.set_mixer("ocean_night")


@pytest.mark.parametrize("level_db", [5.0, -31.0, float("nan"), float("inf")])
async def test_mixer_refuses_a_level_out_of_range(
    hass: HomeAssistant, room: MockConfigEntry, level_db: float
) -> None:
    """A level outside -30..0 dB is refused with the range, and the mix is unchanged."""
    mix_id = await _make_mix(hass, room)
    with pytest.raises(ServiceValidationError) as refused:
        await room.runtime_data.async_set_mix_level(mix_id, 0, level_db)
    assert refused.value.translation_key == "mix_level_out_of_range"
    assert refused.value.translation_placeholders == {
        "level": str(level_db),
        "low": "-30",
        "high": "0",
    }
    assert room.subentries[mix_id].data["layers"][0]["level_db"] == 0.0


@pytest.fixture
async def mqtt_room(
    hass: HomeAssistant,
    lights: None,  # noqa: F811
    mqtt_entry: MockConfigEntry,  # noqa: F811
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the Bedroom with its MQTT topic once MQTT is connected."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_mqtt_starts_a_mix(
    hass: HomeAssistant,
    mqtt_room: MockConfigEntry,
    peer: Peer,  # noqa: F811
) -> None:
    """A start command on the room's set topic plays a mix by its id."""
    mix_id = await _make_mix(hass, mqtt_room)
    peer.publish(SET, f'{{"action": "start", "scene": "{mix_id}", "minutes": 10}}')
    started = await peer.wait_for(STATE, lambda state: state["phase"] == "playing")
    assert started["scene"] == mix_id
    assert mqtt_room.runtime_data.scene == mix_id


@pytest.mark.parametrize(
    ("language", "name", "start", "stop"),
    [
        ("de", "Regen", "Spiele meinen Mix Regen", "Stoppe meinen Mix Regen"),
        ("fr", "Pluie", "Lance mon mix pluie", "Arrête mon mix pluie"),
        ("es", "Lluvia", "Pon mi mezcla lluvia", "Para mi mezcla lluvia"),
        ("nl", "Regen", "Speel mijn mix regen", "Stop mijn mix regen"),
    ],
)
async def test_assist_plays_my_mix_in_other_languages(
    hass: HomeAssistant,
    room: MockConfigEntry,
    language: str,
    name: str,
    start: str,
    stop: str,
) -> None:
    """The shipped sentences of each language start and stop a mix by its name."""
    target = Path(hass.config.path("custom_sentences", language))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(SENTENCES.parent.parent / language / "asmr.yaml", target / "asmr.yaml")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})
    mix_id = await _make_mix(hass, room, {**RAIN_MIX, "name": name})

    result = await conversation.async_converse(hass, start, None, Context(), language)
    await hass.async_block_till_done()
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert name in result.response.speech["plain"]["speech"]
    assert room.runtime_data.scene == mix_id

    result = await conversation.async_converse(hass, stop, None, Context(), language)
    await hass.async_block_till_done()
    assert result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert _phase(hass) == "fading"


async def test_listen_says_when_the_speaker_does_not_play(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
) -> None:
    """A speaker that refuses the preview is said on the listen form; nothing plays."""
    spare = speakers[1]
    spare.faults.always["speaker play_media"] = HomeAssistantError("offline")
    result = await _compose(hass, room, RAIN_MIX)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"speaker": SPARE}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "preview_failed"}
    assert spare.state != "playing"
    assert _phase(hass) == "idle"


async def test_listen_needs_the_room_loaded(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """A room that is not loaded cannot play a preview: the flow says so, and goes on.

    The mix composed so far is kept: back at the menu it can still be saved.
    """
    result = await _compose(hass, room, RAIN_MIX)
    assert await hass.config_entries.async_unload(room.entry_id)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "room_not_loaded"}
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == RAIN_MIX["name"]


async def test_mix_form_passes_on_what_the_engine_refuses(
    hass: HomeAssistant, room: MockConfigEntry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever else the engine finds wrong with a mix is said on the form."""

    def refuse(**kwargs: Any) -> None:
        raise InvalidMixError("layer 1 (wind): too quiet to hear")

    monkeypatch.setattr(config_flow, "mix_scene", refuse)
    result = await _compose(hass, room, RAIN_MIX)
    assert result["errors"] == {"base": "invalid_mix"}
    assert result["description_placeholders"] == {
        "error": "layer 1 (wind): too quiet to hear"
    }


async def test_stored_mixes_load_with_the_room(
    hass: HomeAssistant, speakers: tuple[FakeSpeaker, FakeSpeaker]
) -> None:
    """A room loads its stored mixes, leaving out one this version cannot build."""
    stored = room_entry(lights=[BED_LIGHT], speakers=[SPEAKER])
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=stored.title,
        unique_id=stored.unique_id,
        data=dict(stored.data),
        options=dict(stored.options),
        subentries_data=[
            ConfigSubentryData(
                data={"layers": [{"trigger": "ocean_waves", "level_db": -3.0}]},
                subentry_type=SUBENTRY_MIX,
                title="Sea",
                unique_id=None,
            ),
            ConfigSubentryData(
                data={"layers": [{"trigger": "thunder", "level_db": 0.0}]},
                subentry_type=SUBENTRY_MIX,
                title="Storm",
                unique_id=None,
            ),
        ],
    )
    room = await add_room(hass, entry)
    assert [mix.name for mix in room.runtime_data.mixes] == ["Sea"]
    assert len(room.subentries) == 2
    switch = hass.states.get("switch.bedroom_sea")
    assert switch is not None
    assert switch.attributes["scene_id"] == room.runtime_data.mixes[0].id
    assert hass.states.get("switch.bedroom_storm") is None


async def test_options_offer_the_rooms_mixes_as_default_scene(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The room's options list its mixes as default scenes and keep one chosen."""
    mix_id = await _make_mix(hass, room)
    await room.runtime_data.async_set_default_scene(mix_id)
    result = await hass.config_entries.options.async_init(room.entry_id)
    scene = next(k for k in result["data_schema"].schema if str(k) == "scene")
    options = result["data_schema"].schema[scene].config["options"]
    assert options[-1] == {"value": mix_id, "label": "Rain mix"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"scene": mix_id, "volume": 30}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert room.options["scene"] == mix_id


async def test_listen_leaves_another_rooms_session_alone(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """A speaker another room's session plays on is not offered for listening."""
    kitchen = await add_room(
        hass, room_entry("Kitchen", lights=[BED_LIGHT], speakers=[SPARE])
    )
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": kitchen.entry_id, "scene": "forest_stream"},
        blocking=True,
    )
    await hass.async_block_till_done()
    result = await _compose(hass, room, RAIN_MIX)
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "listen"}
    )
    field = next(iter(result["data_schema"].schema))
    offered = result["data_schema"].schema[field].config["options"]
    assert [option["value"] for option in offered] == [SPEAKER]


async def test_renaming_a_playing_mix_does_not_cast_it_again(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
) -> None:
    """A new name for a playing mix changes its switch's name, not the sound."""
    mix_id = await _make_mix(hass, room)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id},
        blocking=True,
    )
    await hass.async_block_till_done()
    url = speakers[0].media_content_id
    result = await _compose(hass, room, {**RAIN_MIX, "name": "Soft rain"}, mix_id)
    await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "save"}
    )
    await hass.async_block_till_done()
    switch = _entity_id(hass, "switch", f"{room.entry_id}-scene-{mix_id}")
    assert hass.states.get(switch).name == "Bedroom Soft rain"
    assert speakers[0].media_content_id == url
    assert room.runtime_data.scene == mix_id


async def test_preview_refuses_a_speaker_the_session_plays_on(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """Asked for a speaker that its session plays on, the room refuses the preview."""
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": "ocean_night"},
        blocking=True,
    )
    await hass.async_block_till_done()
    with pytest.raises(ServiceValidationError) as refused:
        await room.runtime_data.async_preview(SCENES["white_noise"], SPEAKER)
    assert refused.value.translation_key == "speaker_busy"


async def test_unloaded_rooms_mixes_do_not_resolve(
    hass: HomeAssistant, room: MockConfigEntry
) -> None:
    """The media browser's mixes play only while their room is loaded."""
    mix_id = await _make_mix(hass, room)
    assert find_scene(hass, f"{room.entry_id}-{mix_id}") is not None
    assert await hass.config_entries.async_unload(room.entry_id)
    assert find_scene(hass, f"{room.entry_id}-{mix_id}") is None
    assert find_scene(hass, f"nowhere-{mix_id}") is None


async def test_a_second_preview_on_a_speaker_gives_back_the_first_volume(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """Listening twice in a row leaves the speaker at the volume it had before both."""
    _, spare = speakers
    await _set_volume(hass, SPARE, 0.6, hass_admin_user)
    await room.runtime_data.async_preview(SCENES["white_noise"], SPARE)
    await hass.async_block_till_done()
    assert spare.volume_level == 0.25
    freezer.tick(timedelta(seconds=10))
    async_fire_time_changed(hass)
    await room.runtime_data.async_preview(SCENES["pink_noise"], SPARE)
    await hass.async_block_till_done()
    assert spare.volume_level == 0.25

    await _after(hass, freezer, 80)
    assert spare.state != "playing"
    assert spare.volume_level == 0.6


async def test_a_session_over_a_preview_gives_back_the_volume_before_the_preview(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """A session started while a preview plays puts the speaker back as it was before."""
    _, spare = speakers
    await _set_volume(hass, SPARE, 0.6, hass_admin_user)
    await room.runtime_data.async_preview(SCENES["white_noise"], SPARE)
    await hass.async_block_till_done()
    assert spare.volume_level == 0.25
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": "ocean_night", "minutes": 5},
        blocking=True,
    )
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": room.entry_id, "fade": False}, blocking=True
    )
    await hass.async_block_till_done()
    await _after(hass, freezer, 80)
    assert room.runtime_data.scene is None
    assert spare.volume_level == 0.6


async def test_a_recast_mix_retires_the_streams_it_replaces(
    hass: HomeAssistant,
    room: MockConfigEntry,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """Moving a playing mix's level many times leaves only the stream that plays.

    Every change casts the mix again; the casts it replaces serve nothing more, so
    a long evening at the mixer does not pile them up.
    """
    mix_id = await _make_mix(hass, room)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "scene": mix_id},
        blocking=True,
    )
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    urls = [speakers[0].media_content_id]
    for level in (-3.0, -6.0, -9.0):
        await room.runtime_data.async_set_mix_level(mix_id, 1, level)
        await hass.async_block_till_done()
        urls.append(speakers[0].media_content_id)
    assert len(set(urls)) == 4
    assert speakers[1].media_content_id == urls[-1]
    for url in urls[:-1]:
        response = await client.head(URL(url).path)
        assert response.status == 404, url
        response.close()
    response = await client.head(URL(urls[-1]).path)
    assert response.status == 200
    response.close()
