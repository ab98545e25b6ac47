"""Tests for the session state machine, its actions, events, restart and stream."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.asmr.const import CONF_LIGHTS, CONF_SPEAKERS, DOMAIN
from custom_components.asmr.session import RETURN_WATCH
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    DATA_COMPONENT as LIGHT_COMPONENT,
)
from homeassistant.config_entries import ConfigEntryDisabler
from homeassistant.const import (
    EVENT_CALL_SERVICE,
    EVENT_HOMEASSISTANT_STARTED,
    EVENT_STATE_CHANGED,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Context, CoreState, HomeAssistant, ServiceCall
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import (
    BED_LIGHT,
    COLOUR_LIGHT,
    PluggedLight,
    add_room,
    room_entry,
    setup_lights,
)

SPEAKER = "media_player.bedroom"
STORE_KEY = "asmr.{entry_id}"


@pytest.fixture
async def played(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> list[ServiceCall]:
    """Give the room a speaker that records what it is asked to play."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    hass.states.async_set(SPEAKER, "idle", {"volume_level": 0.6})
    # Set up first, so that the room's own media player does not bring the real
    # services back over the recording ones.
    assert await async_setup_component(hass, "media_player", {})
    async_mock_service(hass, "media_player", "volume_set")
    async_mock_service(hass, "media_player", "media_stop")
    return async_mock_service(hass, "media_player", "play_media")


async def _start(hass: HomeAssistant, entry_id: str, **data: Any) -> str:
    """Start a session through the action; return its end."""
    response = await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry_id, **data},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    assert response is not None
    return str(response["ends_at"])


async def _stop_now(hass: HomeAssistant, entry_id: str) -> None:
    """Stop the room's session at once, through the action."""
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
    )


def _playing_our_stream(hass: HomeAssistant, played: list[ServiceCall]) -> None:
    """Show the speaker playing the session's last cast, as a real player would."""
    hass.states.async_set(
        SPEAKER,
        "playing",
        {"volume_level": 0.25, "media_content_id": played[-1].data["media_content_id"]},
    )


def _phase(hass: HomeAssistant) -> str:
    """Return the bedroom's phase sensor."""
    return hass.states.get("sensor.bedroom_phase").state


async def test_start_replaces_running_scene(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """A second scene replaces the first; the lights' saved state is the original one."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await _start(hass, entry.entry_id, scene="rain_on_window")
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.bedroom_ocean_at_night"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["replaced"]
    assert hass.states.get("switch.bedroom_rain_on_the_window").state == STATE_OFF
    assert hass.states.get("switch.bedroom_ocean_at_night").state == STATE_ON
    assert len(played) == 2

    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["replaced", "stopped"]
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255


async def test_stop_fades_then_ends(
    hass: HomeAssistant, played: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    """Turning the switch off fades out over the fade-out time, in the stream playing."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], fade_out_seconds=60)
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await _start(hass, entry.entry_id, scene="forest_stream", minutes=30)
    freezer.tick(timedelta(minutes=5))  # past the fade-in
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.bedroom_forest_stream"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert _phase(hass) == "fading"
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end == dt_util.utcnow() + timedelta(seconds=60)
    assert len(played) == 1  # no new cast: the stream playing fades out by the new end
    plan = entry.runtime_data.plan
    assert plan is not None
    now = plan.frame_at(dt_util.utcnow())
    assert plan.envelope.gain(now) == 1.0
    assert 0.0 < plan.envelope.gain(now + 30 * 48000) < 1.0
    assert plan.envelope.end == now + 60 * 48000
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


async def test_light_changed_by_hand_is_left_alone(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """A light the user changes during the session is not touched at the end."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT, COLOUR_LIGHT], speakers=[], minutes=10)
    )
    await _start(hass, entry.entry_id)
    await hass.services.async_call(
        "light",
        "turn_on",
        {"entity_id": BED_LIGHT, "brightness": 200},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(BED_LIGHT).state == STATE_ON
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 200
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF


async def test_a_light_unavailable_at_the_start_is_not_left_on(
    hass: HomeAssistant, played: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    """A light that comes back during the session is put back off at the end.

    Nothing is known of how it was before the session, so "as before" is off: a bulb
    whose power came back mid-session does not glow on all night.
    """
    colour = hass.data[LIGHT_COMPONENT].get_entity(COLOUR_LIGHT)
    assert isinstance(colour, PluggedLight)
    colour.power(on=None)
    entry = await add_room(
        hass,
        room_entry(
            lights=[BED_LIGHT, COLOUR_LIGHT], speakers=[SPEAKER], end_action="restore"
        ),
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    colour.power(on=True)
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255


async def test_a_light_unavailable_at_the_end_is_put_back_when_it_returns(
    hass: HomeAssistant, played: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    """A glowing light that drops off the network at the end is put back on its return.

    A bulb that comes back after the end (on, as bulbs come back) is turned off as the
    end action says, instead of glowing all night.
    """
    colour = hass.data[LIGHT_COMPONENT].get_entity(COLOUR_LIGHT)
    assert isinstance(colour, PluggedLight)
    entry = await add_room(
        hass, room_entry(lights=[COLOUR_LIGHT], speakers=[], end_action="restore")
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_ON
    freezer.tick(timedelta(minutes=29, seconds=50))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    colour.power(on=None)
    freezer.tick(timedelta(seconds=20))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(COLOUR_LIGHT).state == STATE_UNAVAILABLE

    colour.power(on=True, brightness=40)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    colour.power(on=True)  # turned on again later by someone: left alone
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_ON


async def test_a_light_that_drops_while_it_is_put_back_is_watched_too(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bulb that falls off the network as the end turns it off is put back later.

    Its call fails, and by the second try it shows as unavailable: it is watched like a
    light that was unavailable from the start of the end.
    """
    colour = hass.data[LIGHT_COMPONENT].get_entity(COLOUR_LIGHT)
    assert isinstance(colour, PluggedLight)
    entry = await add_room(
        hass, room_entry(lights=[COLOUR_LIGHT], speakers=[], end_action="off")
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_ON

    async def drop(**kwargs: Any) -> None:
        colour.power(on=None)
        raise HomeAssistantError("timed out")

    monkeypatch.setattr(colour, "async_turn_off", drop)
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(COLOUR_LIGHT).state == STATE_UNAVAILABLE
    monkeypatch.undo()

    colour.power(on=True, brightness=255)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF


async def test_a_light_switched_on_long_after_the_end_is_left_alone(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bulb switched off at the wall during the session is not turned off next morning.

    It is unavailable at the end; when the wall switch brings it back hours later,
    someone wants it on. Only a return soon after the end (a network blip, power back)
    is put back.
    """
    colour = hass.data[LIGHT_COMPONENT].get_entity(COLOUR_LIGHT)
    assert isinstance(colour, PluggedLight)
    entry = await add_room(
        hass, room_entry(lights=[COLOUR_LIGHT], speakers=[], end_action="off")
    )
    await _start(hass, entry.entry_id, minutes=30)
    colour.power(on=None)
    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(COLOUR_LIGHT).state == STATE_UNAVAILABLE

    freezer.tick(RETURN_WATCH + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert f"{COLOUR_LIGHT} did not come back within 0:30:00" in caplog.text
    colour.power(on=True, brightness=255)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(COLOUR_LIGHT).state == STATE_ON


async def test_unavailable_speaker_does_not_stop_the_lights(
    hass: HomeAssistant, played: list[ServiceCall], issue_registry: ir.IssueRegistry
) -> None:
    """The lights dim without the speaker, and the user is told once."""
    hass.states.async_set(SPEAKER, STATE_UNAVAILABLE)
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await _start(hass, entry.entry_id)
    assert _phase(hass) == "playing"
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert played == []
    issue = issue_registry.async_get_issue(
        DOMAIN, f"targets_unavailable_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders == {"room": "Bedroom", "entities": SPEAKER}
    await _start(hass, entry.entry_id)
    assert [key for key in issue_registry.issues if key[0] == DOMAIN] == [
        (DOMAIN, f"targets_unavailable_{entry.entry_id}")
    ]


async def test_start_refused_when_nothing_is_available(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """With every light and speaker unavailable, start raises and nothing starts."""
    hass.states.async_set(SPEAKER, STATE_UNAVAILABLE)
    entry = await add_room(hass, room_entry(lights=["light.gone"], speakers=[SPEAKER]))
    with pytest.raises(HomeAssistantError) as err:
        await _start(hass, entry.entry_id)
    assert err.value.translation_key == "no_targets_available"
    assert _phase(hass) == "idle"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"minutes": 0}, "value must be at least 1"),
        ({"minutes": 721}, "value must be at most 720"),
        ({"minutes": 10, "until": "23:30"}, "two or more values in the same group"),
        ({"volume": 101}, "value must be at most 100"),
        ({"brightness": "bright"}, "expected int"),
        ({"until": "25:00"}, "Invalid time specified"),
    ],
)
async def test_start_schema_refuses_bad_input(
    hass: HomeAssistant, played: list[ServiceCall], data: dict[str, Any], message: str
) -> None:
    """Bad input is refused by the schema with a message saying what is wrong."""
    entry = await add_room(hass, room_entry(speakers=[SPEAKER]))
    with pytest.raises(Exception, match=message):
        await _start(hass, entry.entry_id, **data)
    assert _phase(hass) == "idle"
    assert played == []


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"scene": "disco"}, "bad_scene"),
        ({"config_entry_id": "nope"}, "unknown_room"),
    ],
)
async def test_start_refuses_unknown_scene_or_room(
    hass: HomeAssistant, played: list[ServiceCall], data: dict[str, Any], key: str
) -> None:
    """An unknown scene or room is a translated validation error; nothing starts."""
    entry = await add_room(hass, room_entry(speakers=[SPEAKER]))
    with pytest.raises(ServiceValidationError) as err:
        await _start(hass, entry.entry_id, **data)
    assert err.value.translation_key == key
    assert _phase(hass) == "idle"
    assert played == []


async def test_extend_when_idle_is_refused(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """Extending a room with no session says so."""
    entry = await add_room(hass, room_entry())
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "extend",
            {"config_entry_id": entry.entry_id, "minutes": 5},
            blocking=True,
        )
    assert err.value.translation_key == "not_running"


async def test_until_ends_at_next_time_of_day(
    hass: HomeAssistant, played: list[ServiceCall], freezer: FrozenDateTimeFactory
) -> None:
    """``until`` ends the session at the next occurrence of that local time."""
    await hass.config.async_set_time_zone("Europe/Amsterdam")
    freezer.move_to("2026-11-26 22:00:00+00:00")  # 23:00 in Amsterdam
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT]))
    assert (
        await _start(hass, entry.entry_id, until="23:30") == "2026-11-26T22:30:00+00:00"
    )
    assert (
        await _start(hass, entry.entry_id, until="22:30") == "2026-11-27T21:30:00+00:00"
    )


async def test_restart_mid_session_resumes(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a reload mid-session the session resumes: lights glow, speaker cast again."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    ends_at = await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": BED_LIGHT, "brightness": 255}, blocking=True
    )
    freezer.tick(timedelta(minutes=10))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    assert hass.states.get("sensor.bedroom_session_end").state == ends_at
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert len(played) == 2
    start_frame = int(
        played[-1].data["media_content_id"].rsplit("-", 1)[1].split(".")[0]
    )
    assert start_frame == 10 * 60 * 48000


async def test_restart_during_the_fade_out_never_brightens_the_lights(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A session resumed in its fade-out goes on dimming from where the lights are.

    Before, the lights went back up to the glow first, then down again.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], fade_out_seconds=600)
    )
    await _start(hass, entry.entry_id, minutes=30)
    freezer.tick(timedelta(minutes=25))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert _phase(hass) == "fading"
    dimmed = hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS]
    assert dimmed < 38
    assert await hass.config_entries.async_unload(entry.entry_id)
    changes = async_capture_events(hass, EVENT_STATE_CHANGED)
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    freezer.tick(timedelta(minutes=1))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _phase(hass) == "fading"
    levels = [
        e.data["new_state"].attributes.get(ATTR_BRIGHTNESS)
        for e in changes
        if e.data["entity_id"] == BED_LIGHT
    ]
    assert max(levels, default=dimmed) <= dimmed
    (fade,) = [c.data["service_data"] for c in calls if c.data["domain"] == "light"]
    assert fade["brightness_pct"] == 1
    assert fade["transition"] == 4 * 60  # on to the end, four minutes away


async def test_a_stop_while_home_assistant_starts_ends_the_stored_session(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop that comes before Home Assistant has started ends the session it stored.

    The session resumes only once Home Assistant has started; a stop before then marks
    the stored session as ending instead of finding nothing playing, and it ends (its
    devices put back) as soon as Home Assistant has started.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.set_state(CoreState.starting)
    freezer.tick(timedelta(minutes=5))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ended = async_capture_events(hass, "asmr_session_ended")
    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    assert ended == []  # its devices may not be there yet: it ends once started

    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255
    assert _phase(hass) == "idle"
    assert len(played) == 1  # nothing resumed


async def test_a_start_while_home_assistant_starts_replaces_the_stored_session(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A start before Home Assistant has started replaces the stored session.

    The lights are put back at the end as they were before the first session.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    ended = async_capture_events(hass, "asmr_session_ended")
    await _start(hass, entry.entry_id, scene="ocean_night", minutes=30)
    assert [e.data["reason"] for e in ended] == ["replaced"]
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert entry.runtime_data.plan is not None
    assert entry.runtime_data.plan.scene == "ocean_night"
    assert len(played) == 2  # the new session's cast only
    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255


async def _stored_to_end(
    hass: HomeAssistant, hass_storage: dict[str, Any], stored: str
) -> MockConfigEntry:
    """Store a glowing session that must end, in a room set up while Home Assistant starts.

    ``stored`` is ``ending`` (stopped while Home Assistant starts) or ``unreadable``.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert await hass.config_entries.async_unload(entry.entry_id)
    if stored == "unreadable":
        hass_storage[f"asmr.{entry.entry_id}"]["data"]["ends_at"] = "soon"
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if stored == "ending":
        await _stop_now(hass, entry.entry_id)
    return entry


@pytest.mark.parametrize("stored", ["ending", "unreadable"])
async def test_a_start_while_home_assistant_starts_replaces_a_session_it_must_end(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    stored: str,
) -> None:
    """A start before Home Assistant has started takes over a session left to end.

    The stored session was stopped while Home Assistant started, or cannot be read:
    either way the new session remembers the lights as they were before it, not at
    its glow, and puts them back so at its end.
    """
    entry = await _stored_to_end(hass, hass_storage, stored)
    await _start(hass, entry.entry_id, scene="ocean_night", minutes=30)
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    assert entry.runtime_data.plan is not None
    assert entry.runtime_data.plan.scene == "ocean_night"
    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255


@pytest.mark.parametrize("stored", ["ending", "unreadable"])
async def test_a_failed_start_while_home_assistant_starts_still_ends_the_session(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    stored: str,
) -> None:
    """A start refused while Home Assistant starts leaves the stored session to its end.

    Nothing of the room is there yet, so the start fails; once Home Assistant has
    started, the session it found is ended and its lights put back.
    """
    entry = await _stored_to_end(hass, hass_storage, stored)
    light, speaker = hass.states.get(BED_LIGHT), hass.states.get(SPEAKER)
    assert light is not None
    assert speaker is not None
    hass.states.async_set(BED_LIGHT, "unavailable")
    hass.states.async_set(SPEAKER, "unavailable")
    with pytest.raises(HomeAssistantError):
        await _start(hass, entry.entry_id, scene="ocean_night")
    hass.states.async_set(BED_LIGHT, light.state, light.attributes)
    hass.states.async_set(SPEAKER, speaker.state, speaker.attributes)
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert entry.runtime_data.plan is None
    assert f"asmr.{entry.entry_id}" not in hass_storage


async def test_turning_on_a_stored_scene_whose_time_passed_starts_it_again(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """While Home Assistant starts, a scene stored past its fade-out is started anew."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(minutes=40))
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.bedroom_rain_on_the_window"},
        blocking=True,
    )
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end is not None
    assert end > dt_util.utcnow()


async def test_a_volume_set_while_home_assistant_starts_is_the_resumed_volume(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The room's volume lowered before Home Assistant has started is the one it resumes at."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], volume=30)
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await entry.runtime_data.async_set_volume(10)
    volumes = async_mock_service(hass, "media_player", "volume_set")
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    assert len(played) == 2
    assert [c.data["volume_level"] for c in volumes] == [0.1]


async def test_an_extend_while_home_assistant_starts_resumes_the_longer_session(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An extend before Home Assistant has started moves the stored session's end.

    Once Home Assistant has started, the session resumes with its new end.
    """
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    ends_at = dt_util.parse_datetime(await _start(hass, entry.entry_id, minutes=30))
    assert ends_at is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    hass.set_state(CoreState.starting)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        DOMAIN,
        "extend",
        {"config_entry_id": entry.entry_id, "minutes": 15},
        blocking=True,
    )
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end == ends_at + timedelta(minutes=15)
    assert len(played) == 2  # the resumed cast
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38


async def test_restart_after_the_end_finishes(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A session whose end passed while Home Assistant was down is ended properly."""
    entry = await add_room(
        hass,
        room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore"),
    )
    await _start(hass, entry.entry_id, minutes=30)
    assert await hass.config_entries.async_unload(entry.entry_id)
    ended = async_capture_events(hass, "asmr_session_ended")
    freezer.tick(timedelta(hours=2))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["timer"]
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255
    assert len(played) == 1


async def test_stream_token_head_range_and_404(
    hass: HomeAssistant,
    played: list[ServiceCall],
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The stream needs its token, answers HEAD and Range, and is gone after the end."""
    entry = await add_room(
        hass, room_entry(lights=[], speakers=[SPEAKER], audio_format="wav", minutes=1)
    )
    await _start(hass, entry.entry_id, scene="pink_noise")
    url = played[-1].data["media_content_id"]
    assert played[-1].data["media_content_type"] == "audio/wav"
    path = url.removeprefix("http://127.0.0.1:8123")
    client = await hass_client_no_auth()

    head = await client.head(path)
    assert head.status == 200
    size = int(head.headers["Content-Length"])
    # The session, then silence up to the cast's horizon two hours later.
    assert size == 44 + (60 + 2 * 3600) * 48000 * 4
    assert head.headers["Accept-Ranges"] == "bytes"

    start = await client.get(path, headers={"Range": "bytes=0-1000999"})
    assert start.status == 206
    body = await start.read()
    assert len(body) == 1001000
    assert body[:4] == b"RIFF"

    part = await client.get(path, headers={"Range": "bytes=1000000-1000999"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 1000000-1000999/{size}"
    assert await part.read() == body[1000000:1001000]

    token = path.split("/")[4]
    forged = path.replace(token, "x" * len(token))
    assert (await client.get(forged)).status == 404

    await _stop_now(hass, entry.entry_id)
    assert (await client.get(path)).status == 404


async def test_deleting_a_room_ends_its_session(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """Deleting a room mid-session stops its sound and puts its lights per end action."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await _start(hass, entry.entry_id)
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255


async def test_disabling_a_room_ends_its_session(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """Disabling a room mid-session ends it as a stop does; enabling it resumes nothing."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    await _start(hass, entry.entry_id)
    _playing_our_stream(hass, played)
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    await hass.config_entries.async_set_disabled_by(
        entry.entry_id, ConfigEntryDisabler.USER
    )
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255
    stops = [c for c in calls if c.data["service"] == "media_stop"]
    assert [c.data["service_data"]["entity_id"] for c in stops] == [SPEAKER]

    await hass.config_entries.async_set_disabled_by(entry.entry_id, None)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert len(played) == 1


async def test_a_speaker_that_hides_what_it_plays_is_stopped_before_its_volume(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """A playing speaker that reports no content (some renderers) is taken as ours.

    At an immediate stop it is stopped first and only then given its louder volume
    back, so the old volume never meets the session's sound.
    """
    entry = await add_room(hass, room_entry(lights=[], speakers=[SPEAKER]))
    await _start(hass, entry.entry_id)
    hass.states.async_set(SPEAKER, "playing", {"volume_level": 0.25})
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)
    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    speaker_calls = [
        c.data["service"] for c in calls if c.data["domain"] == "media_player"
    ]
    assert speaker_calls == ["media_stop", "volume_set"]


async def test_reconfiguring_a_room_mid_session_moves_the_session(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """A light or speaker taken out of the room is put back at once, one put in joins.

    The session goes on after the reload; at its end the lights put in are put back as
    they were when they joined, and those taken out are not touched again.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore")
    )
    await _start(hass, entry.entry_id, minutes=30)
    _playing_our_stream(hass, played)
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    calls = async_capture_events(hass, EVENT_CALL_SERVICE)

    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_LIGHTS: [COLOUR_LIGHT], CONF_SPEAKERS: []}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _phase(hass) == "playing"
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 255
    assert hass.states.get(COLOUR_LIGHT).state == STATE_ON
    assert hass.states.get(COLOUR_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    speaker_calls = {
        c.data["service"]: c.data["service_data"]
        for c in calls
        if c.data["domain"] == "media_player"
    }
    assert speaker_calls["media_stop"] == {"entity_id": SPEAKER}
    assert speaker_calls["volume_set"] == {"entity_id": SPEAKER, "volume_level": 0.6}
    assert len(played) == 1  # nothing cast to a speaker no longer in the room

    await hass.services.async_call(
        "light", "turn_on", {"entity_id": BED_LIGHT, "brightness": 100}, blocking=True
    )
    await _stop_now(hass, entry.entry_id)
    await hass.async_block_till_done()
    assert _phase(hass) == "idle"
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 100


async def test_diagnostics_redact_the_stream_token(
    hass: HomeAssistant,
    played: list[ServiceCall],
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics show the room's session without its stream token."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await _start(hass, entry.entry_id, scene="ocean_night")
    assert await async_setup_component(hass, "diagnostics", {})
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["phase"] == "playing"
    assert diagnostics["plan"]["scene"] == "ocean_night"
    assert diagnostics["plan"]["token"] == "**REDACTED**"


async def test_dropped_speaker_is_cast_again_then_left_alone(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A speaker that drops the stream gets it again from now, three times, then a notice."""
    entry = await add_room(hass, room_entry(lights=[], speakers=[SPEAKER], minutes=60))
    await _start(hass, entry.entry_id)
    for attempt in range(1, 5):
        url = played[-1].data["media_content_id"]
        hass.states.async_set(SPEAKER, "playing", {"media_content_id": url})
        await hass.async_block_till_done()
        freezer.tick(timedelta(minutes=5))
        hass.states.async_set(SPEAKER, "idle", {"media_content_id": url})
        await hass.async_block_till_done()
        if attempt <= 3:
            assert len(played) == 1 + attempt
            start_frame = int(played[-1].data["media_content_id"].rsplit("-")[-1][:-4])
            assert start_frame == attempt * 5 * 60 * 48000
    assert len(played) == 4
    assert issue_registry.async_get_issue(DOMAIN, f"speaker_dropped_{entry.entry_id}")
    assert _phase(hass) == "playing"
