"""A room never gets stuck: every end completes whatever its lights and speakers raise.

The lights are Home Assistant's demo lights and the speaker a small media player
entity; faults are injected where a real integration raises them, inside the
entities' service methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.asmr.const import DOMAIN
from homeassistant.components.demo.light import DemoLight
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_COLOR_TEMP_KELVIN
from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.components.repairs import DOMAIN as REPAIRS_DOMAIN
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import BED_LIGHT, add_room, room_entry, setup_entities, setup_lights

SPEAKER = "media_player.bedroom_speaker"


class Faults:
    """Which device call raises what: the n-th call, or every call of a kind."""

    def __init__(self) -> None:
        """Start with no faults."""
        self.calls: list[str] = []
        self.at: int | None = None
        self.error: Exception = HomeAssistantError("device fault")
        self.always: dict[str, Exception] = {}

    def check(self, call: str) -> None:
        """Count a device call; raise if it is the one that fails."""
        self.calls.append(call)
        if len(self.calls) == self.at:
            raise self.error
        if call in self.always:
            raise self.always[call]


class FakeSpeaker(MediaPlayerEntity):
    """A speaker that plays what it is told, optionally slowly or with faults."""

    _attr_name = "Bedroom speaker"
    _attr_should_poll = False
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.VOLUME_SET
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP
    )

    def __init__(self, faults: Faults) -> None:
        """Initialise an idle speaker at half volume."""
        self.faults = faults
        self.gate: asyncio.Event | None = None
        """While set to an unset event, every service call waits for it."""
        self.entered = asyncio.Event()
        """Set when a service call has started (and may be waiting at the gate)."""
        self._attr_state = MediaPlayerState.IDLE
        self._attr_volume_level = 0.5
        self._attr_media_content_id: str | None = None

    async def _serve(self, call: str) -> None:
        """Wait at the gate, then raise a fault if one is due."""
        self.entered.set()
        if self.gate is not None:
            await self.gate.wait()
        self.faults.check(f"speaker {call}")

    async def async_play_media(
        self, media_type: str, media_id: str, **kwargs: Any
    ) -> None:
        """Play a URL."""
        await self._serve("play_media")
        self._attr_state = MediaPlayerState.PLAYING
        self._attr_media_content_id = media_id
        self.async_write_ha_state()

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the volume."""
        await self._serve("volume_set")
        self._attr_volume_level = volume
        self.async_write_ha_state()

    async def async_media_pause(self) -> None:
        """Pause."""
        await self._serve("media_pause")
        self._attr_state = MediaPlayerState.PAUSED
        self.async_write_ha_state()

    async def async_media_stop(self) -> None:
        """Stop: the speaker forgets what it played."""
        await self._serve("media_stop")
        self._attr_state = MediaPlayerState.IDLE
        self._attr_media_content_id = None
        self.async_write_ha_state()


async def setup_speaker(hass: HomeAssistant, faults: Faults) -> FakeSpeaker:
    """Add the fake speaker as ``media_player.bedroom_speaker``."""
    speaker = FakeSpeaker(faults)

    await setup_entities(hass, "media_player", "fake_speakers", [speaker])
    return speaker


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Faults:
    """Route every light call through the fault plan too."""
    plan = Faults()
    turn_on, turn_off = DemoLight.async_turn_on, DemoLight.async_turn_off

    async def faulty_on(light: DemoLight, **kwargs: Any) -> None:
        plan.check(f"{light.entity_id} turn_on")
        await turn_on(light, **kwargs)

    async def faulty_off(light: DemoLight, **kwargs: Any) -> None:
        plan.check(f"{light.entity_id} turn_off")
        await turn_off(light, **kwargs)

    monkeypatch.setattr(DemoLight, "async_turn_on", faulty_on)
    monkeypatch.setattr(DemoLight, "async_turn_off", faulty_off)
    return plan


@pytest.fixture
async def speaker(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, faults: Faults
) -> FakeSpeaker:
    """Give Home Assistant the demo lights, the fake speaker and an internal URL."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    assert await async_setup_component(hass, REPAIRS_DOMAIN, {})
    return await setup_speaker(hass, faults)


async def call(hass: HomeAssistant, service: str, **data: Any) -> None:
    """Call one of the integration's actions and let everything settle."""
    await hass.services.async_call(DOMAIN, service, data, blocking=True)
    await hass.async_block_till_done()


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Let time pass and the room's timers fire."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def phase(hass: HomeAssistant) -> str:
    """Return the bedroom's phase."""
    return hass.states.get("sensor.bedroom_phase").state


def issues_of(hass: HomeAssistant, key: str, entry: MockConfigEntry) -> list[Any]:
    """Return the room's repair issues with a key."""
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"{key}_{entry.entry_id}")
    return [issue] if issue is not None else []


async def run_timer_end(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry_id: str
) -> None:
    """Start, pass the fade-out, reach the end."""
    await call(hass, "start", config_entry_id=entry_id, minutes=10)
    await tick(hass, freezer, 9 * 60)
    await tick(hass, freezer, 60)


async def run_extend_stop_fade(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry_id: str
) -> None:
    """Start, extend, stop with a fade, reach the end of the fade."""
    await call(hass, "start", config_entry_id=entry_id, minutes=10)
    await call(hass, "extend", config_entry_id=entry_id, minutes=5)
    await call(hass, "stop", config_entry_id=entry_id, fade=True)
    await tick(hass, freezer, 60)


async def run_stop_now(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, entry_id: str
) -> None:
    """Start and stop at once."""
    await call(hass, "start", config_entry_id=entry_id, minutes=10)
    await call(hass, "stop", config_entry_id=entry_id, fade=False)


SCENARIOS: dict[str, tuple[Callable[..., Any], str]] = {
    "timer": (run_timer_end, "timer"),
    "extend_stop_fade": (run_extend_stop_fade, "stopped"),
    "stop_now": (run_stop_now, "stopped"),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
@pytest.mark.parametrize(
    "error",
    [
        HomeAssistantError("device refused"),
        TimeoutError(),
        OSError(113, "No route to host"),
        Exception("cast library error"),
    ],
    ids=["HomeAssistantError", "TimeoutError", "OSError", "Exception"],
)
async def test_every_call_failing_once_still_ends_well(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    faults: Faults,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    scenario: str,
    error: Exception,
) -> None:
    """Each device call of start, extend, stop and end raising once: the room ends well.

    Whichever call fails, the room ends idle, its lights and the speaker's volume are
    put back, its store is empty, the ended event fires once and the user got exactly
    one notice, which went away as the device answered again.
    """
    run, reason = SCENARIOS[scenario]
    entry = await add_room(
        hass,
        room_entry(
            lights=[BED_LIGHT],
            speakers=[SPEAKER],
            end_action="restore",
            fade_out_seconds=60,
        ),
    )
    await run(hass, freezer, entry.entry_id)  # once without faults: count the calls
    steps = list(faults.calls)
    assert len(steps) >= 7, steps
    faults.error = error
    for at, step in enumerate(steps, start=1):
        faults.calls.clear()
        faults.at = at
        ended = async_capture_events(hass, "asmr_session_ended")
        created = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)
        await run(hass, freezer, entry.entry_id)
        where = f"{error!r} at call {at} ({step})"
        assert phase(hass) == "idle", where
        assert [e.data["reason"] for e in ended] == [reason], where
        light = hass.states.get(BED_LIGHT)
        assert light.state == STATE_ON, where
        assert light.attributes[ATTR_BRIGHTNESS] == 255, where
        assert light.attributes[ATTR_COLOR_TEMP_KELVIN] == 4000, where
        assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.5, where
        assert hass.states.get(SPEAKER).state != MediaPlayerState.PLAYING, where
        assert f"asmr.{entry.entry_id}" not in hass_storage, where
        assert [
            e.data["issue_id"] for e in created if e.data["action"] == "create"
        ] == [f"device_failed_{entry.entry_id}"], where
        assert issues_of(hass, "device_failed", entry) == [], where


async def test_a_speaker_that_always_fails_does_not_hold_the_room(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    faults: Faults,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A speaker whose pause, stop and volume always time out: the room still ends.

    The notice stays while the speaker fails, goes when it works again, and goes with
    the room when the room is deleted.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="off")
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert hass.states.get(SPEAKER).state == MediaPlayerState.PLAYING
    for service in ("media_pause", "media_stop", "volume_set"):
        faults.always[f"speaker {service}"] = TimeoutError()
    await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    assert phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).state == "off"
    (issue,) = issues_of(hass, "device_failed", entry)
    assert issue.translation_placeholders["entities"] == SPEAKER

    faults.always.clear()
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert issues_of(hass, "device_failed", entry) == []

    faults.always["speaker media_pause"] = OSError("gone")
    faults.always["speaker media_stop"] = OSError("gone")
    await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    assert len(issues_of(hass, "device_failed", entry)) == 1
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert issues_of(hass, "device_failed", entry) == []


async def test_a_speaker_that_cannot_be_stopped_keeps_the_session_volume(
    hass: HomeAssistant, speaker: FakeSpeaker, faults: Faults
) -> None:
    """The daytime volume never goes back under our stream while it still plays.

    Pause and stop fail on both tries of an immediate stop: the speaker keeps the
    session's low volume (the stream is closed after, so it falls silent) and the user
    is told.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], volume=20)
    )
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.2
    faults.always["speaker media_pause"] = OSError("gone")
    faults.always["speaker media_stop"] = OSError("gone")
    await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    assert phase(hass) == "idle"
    state = hass.states.get(SPEAKER)
    assert state.state == MediaPlayerState.PLAYING
    assert state.attributes["volume_level"] == 0.2
    assert "speaker volume_set" not in faults.calls[-4:]
    (issue,) = issues_of(hass, "device_failed", entry)
    assert issue.translation_placeholders["entities"] == SPEAKER


async def test_a_failed_device_notice_clears_after_a_reload(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    faults: Faults,
) -> None:
    """The notice of a device that failed goes when it answers, after a reload too.

    The room's devices that failed are read back from the notice a reload (or a
    restart) finds, so a device that answers again still takes its name off it.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="off")
    )
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    for service in ("media_pause", "media_stop", "volume_set"):
        faults.always[f"speaker {service}"] = TimeoutError()
    await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    assert len(issues_of(hass, "device_failed", entry)) == 1

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert len(issues_of(hass, "device_failed", entry)) == 1
    faults.always.clear()
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert issues_of(hass, "device_failed", entry) == []


async def test_an_end_is_stored_before_the_devices_are_put_back(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    hass_storage: dict[str, Any],
) -> None:
    """A stop is stored at once, before the devices are put back.

    A restart while they are still being put back ends the session again rather
    than resuming it.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="off")
    )
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    speaker.gate = asyncio.Event()  # the speaker takes its time
    speaker.entered.clear()
    stop = hass.async_create_task(
        call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    )
    await speaker.entered.wait()
    stored = dict(hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"])
    speaker.gate.set()
    await stop
    assert stored.get("ending") is True
    assert stored["end_reason"] == "stopped"

    # Home Assistant went down before the end was done: the store still holds it.
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.services.async_call(
        "light", "turn_on", {"entity_id": BED_LIGHT, "brightness": 38}, blocking=True
    )
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": stored,
    }
    ended = async_capture_events(hass, "asmr_session_ended")
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["stopped"]
    assert hass.states.get(BED_LIGHT).state == "off"
    assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage


async def test_a_speaker_that_never_answers_times_out(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A service call that hangs is given up after the timeout; the end completes."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="off")
    )
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    speaker.gate = asyncio.Event()  # never set: the speaker hangs
    with patch("custom_components.asmr.lights.SERVICE_TIMEOUT", 1.0):
        stop = hass.async_create_task(
            call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
        )
        for _ in range(100):  # the event loop's clock runs with the frozen one
            freezer.tick(timedelta(seconds=0.5))
            async_fire_time_changed(hass)
            for _ in range(10):
                await asyncio.sleep(0)
            if stop.done():
                break
        await stop
    assert phase(hass) == "idle"
    assert hass.states.get(BED_LIGHT).state == "off"
    assert len(issues_of(hass, "device_failed", entry)) == 1


# -- a stored session that this version cannot play (issue 11, item 6) -------------------


def stored_plan(
    token: str = "stored-token-0123456789", **changes: Any
) -> dict[str, Any]:
    """Return a plan as a running session stores it, with some fields changed."""
    now = dt_util.utcnow()
    plan: dict[str, Any] = {
        "scene": "rain_on_window",
        "seed": 7,
        "token": token,
        "started_at": (now - timedelta(minutes=5)).isoformat(),
        "ends_at": (now + timedelta(minutes=25)).isoformat(),
        "volume": 30,
        "brightness": 15,
        "color_temp_kelvin": 2200,
        "dim_seconds": 120,
        "fade_out_seconds": 300,
        "end_action": "restore",
        "audio_format": "mp3",
        "avoid": [],
        "lights_before": {
            BED_LIGHT: {
                "on": True,
                "brightness": 255,
                "color_temp_kelvin": 4000,
                "hs_color": None,
            }
        },
        "volumes_before": {SPEAKER: 0.5},
        "released": [],
        "end_reason": "timer",
    }
    plan.update(changes)
    return plan


async def glowing_room(hass: HomeAssistant, token: str) -> None:
    """Leave the room as a session left it: light glowing, speaker playing ours."""
    await hass.services.async_call(
        "light",
        "turn_on",
        {"entity_id": BED_LIGHT, "brightness": 38, "color_temp_kelvin": 2200},
        blocking=True,
    )
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            "entity_id": SPEAKER,
            "media_content_id": f"http://127.0.0.1:8123/api/asmr/stream/{token}/0-0.mp3",
            "media_content_type": "audio/mpeg",
        },
        blocking=True,
    )
    await hass.services.async_call(
        "media_player",
        "volume_set",
        {"entity_id": SPEAKER, "volume_level": 0.3},
        blocking=True,
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"scene": "a_scene_renamed_later"},
        {"audio_format": "opus"},
        {"avoid": ["a_trigger_renamed_later"]},
        {"ends_at": "tomorrow"},
        {"started_at": "2026-11-26T20:55:00"},  # no time zone
        {"volume": "loud"},
        {"lights_before": []},
        {"volumes_before": {SPEAKER: 7}},
        {"seed": None},
    ],
    ids=[
        "unknown_scene",
        "unknown_format",
        "unknown_trigger",
        "bad_moment",
        "naive_moment",
        "bad_volume",
        "bad_lights",
        "bad_volumes",
        "no_seed",
    ],
)
async def test_stored_session_that_cannot_resume_is_ended_cleanly(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    hass_storage: dict[str, Any],
    changes: dict[str, Any],
) -> None:
    """A stored plan this version cannot play: the room loads, ends it, tells once."""
    entry = room_entry(lights=[BED_LIGHT], speakers=[SPEAKER])
    token = "stored-token-0123456789"
    hass_storage[f"asmr.{entry.entry_id}"] = {
        "version": 1,
        "key": f"asmr.{entry.entry_id}",
        "data": stored_plan(token, **changes),
    }
    await glowing_room(hass, token)
    ended = async_capture_events(hass, "asmr_session_ended")
    await add_room(hass, entry)
    assert entry.state.value == "loaded"
    assert phase(hass) == "idle"
    assert [e.data["reason"] for e in ended] == ["error"]
    assert f"asmr.{entry.entry_id}" not in hass_storage
    (issue,) = issues_of(hass, "stored_session_invalid", entry)
    assert issue.translation_placeholders["room"] == "Bedroom"
    state = hass.states.get(SPEAKER)
    assert state.state != MediaPlayerState.PLAYING
    if "volumes_before" not in changes:
        assert state.attributes["volume_level"] == 0.5
    light = hass.states.get(BED_LIGHT)
    if "lights_before" not in changes:
        assert light.attributes[ATTR_BRIGHTNESS] == 255
        assert light.attributes[ATTR_COLOR_TEMP_KELVIN] == 4000

    # The notice goes when a session starts again, and only one was ever raised.
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert issues_of(hass, "stored_session_invalid", entry) == []


@pytest.mark.parametrize(
    "stored",
    [
        {"version": 1, "data": ["not", "a", "plan"]},
        {"version": 1, "data": "garbage"},
        {"version": 1, "data": {"scene": 5}},
        {"version": 99, "data": {}},  # from a later version: no migration known
    ],
    ids=["list", "string", "fragment", "future_version"],
)
async def test_malformed_store_never_breaks_room_setup(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    hass_storage: dict[str, Any],
    stored: dict[str, Any],
) -> None:
    """A store that cannot be read at all: the room loads; the lights go per end action."""
    entry = room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], end_action="off")
    hass_storage[f"asmr.{entry.entry_id}"] = {"key": f"asmr.{entry.entry_id}", **stored}
    await glowing_room(hass, "unknown-token")
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state.value == "loaded"
    assert phase(hass) == "idle"
    assert hass.states.get(BED_LIGHT).state == "off"
    assert len(issues_of(hass, "stored_session_invalid", entry)) == 1
    await call(hass, "start", config_entry_id=entry.entry_id, minutes=10)
    assert phase(hass) == "playing"
