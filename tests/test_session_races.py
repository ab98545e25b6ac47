"""A room never gets stuck: its events run one at a time, whatever their order.

The speaker's service calls wait on an event, so a test can hold one step of a start,
stop or end half-way while another event arrives.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.asmr.const import DOMAIN
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.components.media_player import MediaPlayerState
from homeassistant.const import STATE_OFF
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util

from .common import (
    BED_LIGHT,
    COLOUR_LIGHT,
    add_room,
    room_entry,
    setup_entities,
    setup_lights,
)
from .test_session_faults import SPEAKER, FakeSpeaker, Faults

SWITCH = "switch.bedroom_rain_on_the_window"


async def settle(rounds: int = 20) -> None:
    """Let the event loop run what is ready (without waiting for held calls)."""
    for _ in range(rounds):
        await asyncio.sleep(0)


@pytest.fixture
async def speakers(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> tuple[FakeSpeaker, FakeSpeaker]:
    """Give Home Assistant the demo lights and two speakers whose calls can be held."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    bedroom, nursery = FakeSpeaker(Faults()), FakeSpeaker(Faults())
    nursery._attr_name = "Nursery speaker"  # noqa: SLF001

    await setup_entities(hass, "media_player", "fake_speakers", [bedroom, nursery])
    return bedroom, nursery


@pytest.fixture
def speaker(speakers: tuple[FakeSpeaker, FakeSpeaker]) -> FakeSpeaker:
    """Return the bedroom's speaker."""
    return speakers[0]


def hold(speaker: FakeSpeaker) -> asyncio.Event:
    """Make the speaker's next service calls wait; return the event that frees them."""
    speaker.gate = asyncio.Event()
    speaker.entered.clear()
    return speaker.gate


def phase(hass: HomeAssistant) -> str:
    """Return the bedroom's phase."""
    return hass.states.get("sensor.bedroom_phase").state


async def test_double_tap_on_then_off_while_starting(
    hass: HomeAssistant, speaker: FakeSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """Off while the start still waits for the speaker: no error; it fades, then ends."""
    await add_room(
        hass,
        room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], fade_out_seconds=60),
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    gate = hold(speaker)
    on = hass.async_create_task(
        hass.services.async_call(
            "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
        )
    )
    await speaker.entered.wait()
    assert phase(hass) == "starting"
    off = hass.async_create_task(
        hass.services.async_call(
            "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
        )
    )
    await settle()
    gate.set()
    await on
    await off
    await hass.async_block_till_done()
    assert phase(hass) == "fading"
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end == dt_util.utcnow() + timedelta(seconds=60)
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


async def test_stop_without_fade_while_starting(
    hass: HomeAssistant, speaker: FakeSpeaker
) -> None:
    """A stop that arrives mid-start waits for it, then ends it; nothing is left on."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    started = async_capture_events(hass, "asmr_session_started")
    ended = async_capture_events(hass, "asmr_session_ended")
    gate = hold(speaker)
    start = hass.async_create_task(
        hass.services.async_call(
            DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
        )
    )
    await speaker.entered.wait()
    stop = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "stop",
            {"config_entry_id": entry.entry_id, "fade": False},
            blocking=True,
        )
    )
    await settle()
    gate.set()
    await start
    await stop
    await hass.async_block_till_done()
    assert phase(hass) == "idle"
    assert len(started) == 1
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).state == STATE_OFF
    assert hass.states.get(SPEAKER).state == MediaPlayerState.IDLE
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.5


async def test_start_during_an_end_is_not_undone_by_it(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A scene started while the last one's end waits for the speaker keeps running.

    The old end finishes first (its lights off, its store gone), then the new session
    dims the lights, is stored, and ends by its own timer.
    """
    entry = await add_room(
        hass,
        room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], fade_out_seconds=60),
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "minutes": 10},
        blocking=True,
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=9))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert phase(hass) == "fading"

    gate = hold(speaker)
    freezer.tick(timedelta(minutes=1))
    async_fire_time_changed(hass)
    await speaker.entered.wait()  # the end is pausing the speaker
    start = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "start",
            {"config_entry_id": entry.entry_id, "minutes": 20, "scene": "ocean_night"},
            blocking=True,
            return_response=True,
        )
    )
    await settle()
    gate.set()
    response = await start
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["timer"]
    assert phase(hass) == "playing"
    assert hass.states.get("switch.bedroom_ocean_at_night").state == "on"
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] == 38
    assert hass_storage[f"asmr.{entry.entry_id}"]["data"]["scene"] == "ocean_night"
    assert hass.states.get(SPEAKER).state == MediaPlayerState.PLAYING
    assert response is not None
    ends_at = dt_util.parse_datetime(str(response["ends_at"]))
    assert ends_at is not None

    freezer.move_to(ends_at)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["timer", "timer"]
    assert f"asmr.{entry.entry_id}" not in hass_storage


async def test_extend_while_stopping_waits_its_turn(
    hass: HomeAssistant, speaker: FakeSpeaker
) -> None:
    """An extend that arrives while a stop ends the session finds it idle and says so."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    gate = hold(speaker)
    stop = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "stop",
            {"config_entry_id": entry.entry_id, "fade": False},
            blocking=True,
        )
    )
    await speaker.entered.wait()
    extend = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "extend",
            {"config_entry_id": entry.entry_id, "minutes": 5},
            blocking=True,
        )
    )
    await settle()
    gate.set()
    await stop
    with pytest.raises(HomeAssistantError) as err:
        await extend
    assert err.value.translation_key == "not_running"
    await hass.async_block_till_done()
    assert phase(hass) == "idle"
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


NURSERY_SPEAKER = "media_player.nursery_speaker"


@pytest.mark.parametrize("seed", [1, 2])
async def test_random_events_leave_one_consistent_session_per_room(
    hass: HomeAssistant,
    speakers: tuple[FakeSpeaker, FakeSpeaker],
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    seed: int,
) -> None:
    """200 random, overlapping starts, stops, extends, volumes and ticks in two rooms.

    The speakers answer late. At every quiet moment each room is consistent (phase,
    store, switch and events agree); at the end both are idle with their lights and
    speakers' volumes put back.
    """
    rng = random.Random(seed)
    speaker, nursery_speaker = speakers
    options = {"end_action": "restore", "fade_out_seconds": 60}
    rooms = {
        "bedroom": await add_room(
            hass,
            room_entry("Bedroom", lights=[BED_LIGHT], speakers=[SPEAKER], **options),
        ),
        "nursery": await add_room(
            hass,
            room_entry(
                "Nursery",
                lights=[COLOUR_LIGHT],
                speakers=[NURSERY_SPEAKER],
                **options,
            ),
        ),
    }
    started = async_capture_events(hass, "asmr_session_started")
    ended = async_capture_events(hass, "asmr_session_ended")
    scenes = ["rain_on_window", "ocean_night", "forest_stream"]

    def action() -> Any:
        room = rng.choice(list(rooms))
        entry_id = rooms[room].entry_id
        kind = rng.choice(["start", "start", "stop", "stop_now", "extend", "volume"])
        if kind == "start":
            data = {
                "config_entry_id": entry_id,
                "scene": rng.choice(scenes),
                "minutes": rng.randint(1, 5),
            }
            return hass.services.async_call(DOMAIN, "start", data, blocking=True)
        if kind in ("stop", "stop_now"):
            data = {"config_entry_id": entry_id, "fade": kind == "stop"}
            return hass.services.async_call(DOMAIN, "stop", data, blocking=True)
        if kind == "extend":
            data = {"config_entry_id": entry_id, "minutes": rng.randint(1, 3)}
            return hass.services.async_call(DOMAIN, "extend", data, blocking=True)
        return hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": f"number.{room}_volume", "value": rng.randint(10, 40)},
            blocking=True,
        )

    def count(events: list[Any], entry_id: str) -> int:
        return sum(e.data["config_entry_id"] == entry_id for e in events)

    for _batch in range(40):
        gates = [hold(speaker), hold(nursery_speaker)]
        calls = [hass.async_create_task(action()) for _ in range(5)]
        if rng.random() < 0.5:
            freezer.tick(timedelta(seconds=rng.choice([5, 30, 61, 200])))
            async_fire_time_changed(hass)
        await settle(rng.randint(1, 30))
        for gate in gates:
            gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                # Only "nothing to extend" may be refused.
                assert isinstance(result, HomeAssistantError), repr(result)
                assert result.translation_key == "not_running", repr(result)
        await hass.async_block_till_done()
        for room, entry in rooms.items():
            phase = hass.states.get(f"sensor.{room}_phase").state
            stored = hass_storage.get(f"asmr.{entry.entry_id}")
            running = count(started, entry.entry_id) - count(ended, entry.entry_id)
            if phase == "idle":
                assert stored is None
                assert running == 0
            else:
                assert phase in ("playing", "fading")
                assert stored is not None
                assert running == 1
                scene = _switch(stored["data"]["scene"])
                assert hass.states.get(f"switch.{room}_{scene}").state == "on"

    for each in (speaker, nursery_speaker):
        each.gate = None
    for entry in rooms.values():
        await hass.services.async_call(
            DOMAIN,
            "stop",
            {"config_entry_id": entry.entry_id, "fade": False},
            blocking=True,
        )
    await hass.async_block_till_done()
    for room, entry in rooms.items():
        assert hass.states.get(f"sensor.{room}_phase").state == "idle"
        assert f"asmr.{entry.entry_id}" not in hass_storage
    assert len(started) == len(ended)
    assert len(started) > 40  # the random events did start (and replace) sessions
    bed = hass.states.get(BED_LIGHT)
    assert bed.state == "on"
    assert bed.attributes[ATTR_BRIGHTNESS] == 255
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    for entity_id in (SPEAKER, NURSERY_SPEAKER):
        assert hass.states.get(entity_id).attributes["volume_level"] == 0.5
        assert hass.states.get(entity_id).state != MediaPlayerState.PLAYING


def _switch(scene: str) -> str:
    """Return the object id of a scene's switch."""
    return {
        "rain_on_window": "rain_on_the_window",
        "ocean_night": "ocean_at_night",
        "forest_stream": "forest_stream",
    }[scene]


async def test_start_while_a_restart_resumes_waits_then_replaces(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A start that arrives while a restored session casts again replaces it, whole."""
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "minutes": 30},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=5))
    ended = async_capture_events(hass, "asmr_session_ended")
    gate = hold(speaker)
    setup = hass.async_create_task(hass.config_entries.async_setup(entry.entry_id))
    await speaker.entered.wait()  # the resumed session is casting again
    start = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "start",
            {"config_entry_id": entry.entry_id, "scene": "ocean_night"},
            blocking=True,
        )
    )
    await settle()
    gate.set()
    assert await setup
    await start
    await hass.async_block_till_done()
    assert [e.data["reason"] for e in ended] == ["replaced"]
    assert phase(hass) == "playing"
    assert hass_storage[f"asmr.{entry.entry_id}"]["data"]["scene"] == "ocean_night"
    assert hass.states.get("switch.bedroom_ocean_at_night").state == "on"
    assert hass.states.get(SPEAKER).state == MediaPlayerState.PLAYING


async def give_up(
    hass: HomeAssistant, speaker: FakeSpeaker, service: str, data: dict[str, Any]
) -> None:
    """Call an action of ours, then give up on it while it waits for the speaker.

    As Home Assistant does when the automation waiting on it restarts or is stopped:
    the call is cancelled. Return once everything the room still does is done.
    """
    gate = hold(speaker)
    call = hass.async_create_task(
        hass.services.async_call(DOMAIN, service, data, blocking=True)
    )
    await speaker.entered.wait()
    call.cancel()
    await settle()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await call
    await hass.async_block_till_done()


async def test_a_stop_whose_caller_gives_up_still_ends_the_session(
    hass: HomeAssistant, speaker: FakeSpeaker
) -> None:
    """An automation restarted mid-stop does not leave the room half-ended.

    Home Assistant cancels the action call an automation waits on when it restarts or
    stops. The end goes on without its caller: sound stopped, volume and lights back.
    """
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER]))
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(BED_LIGHT).attributes[ATTR_BRIGHTNESS] < 255
    # The end waits for the speaker's pause.
    await give_up(
        hass, speaker, "stop", {"config_entry_id": entry.entry_id, "fade": False}
    )
    assert phase(hass) == "idle"
    assert hass.states.get(BED_LIGHT).state == STATE_OFF
    assert hass.states.get(SPEAKER).state != MediaPlayerState.PLAYING
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.5


async def test_a_scene_change_whose_caller_gives_up_still_changes_the_scene(
    hass: HomeAssistant, speaker: FakeSpeaker, hass_storage: dict[str, Any]
) -> None:
    """A start cancelled while it casts the new scene finishes it: one scene plays.

    Before, the new session was ended half-way, at the old session's volumes, while
    the speaker still played the old scene's stream at its volume from before.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], volume=20)
    )
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.2
    await give_up(
        hass,
        speaker,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "ocean_night"},
    )
    assert phase(hass) == "playing"
    assert hass.states.get("switch.bedroom_ocean_at_night").state == "on"
    assert hass_storage[f"asmr.{entry.entry_id}"]["data"]["scene"] == "ocean_night"
    state = hass.states.get(SPEAKER)
    assert state.state == MediaPlayerState.PLAYING
    plan = entry.runtime_data.plan
    assert plan is not None
    assert plan.token in state.attributes["media_content_id"]
    assert state.attributes["volume_level"] == 0.2
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": entry.entry_id, "fade": False},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.5
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


async def test_a_start_that_fails_after_its_caller_gave_up_is_logged(
    hass: HomeAssistant, speaker: FakeSpeaker, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody waits for the error any more: the log says what went wrong."""
    entry = await add_room(hass, room_entry(lights=[], speakers=[SPEAKER]))
    speaker.faults.always["speaker play_media"] = HomeAssistantError("unreachable")
    await give_up(hass, speaker, "start", {"config_entry_id": entry.entry_id})
    assert phase(hass) == "idle"
    assert "Bedroom: the start failed after its caller stopped waiting" in caplog.text
