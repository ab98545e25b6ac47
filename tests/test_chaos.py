"""Restart chaos: a room's sessions survive 100 restarts at random moments.

Two rooms run random sessions (random scene, length, fade-out; extends and stops in
between) on a frozen clock. At random moments a room, or both, is unloaded and set up
again from what it stored, as a Home Assistant restart does; some restarts last past a
session's end. Every session must end on its schedule (or, if that passed while Home
Assistant was down, as soon as it is back), fire its ended event once, and leave the
lights and the speakers' volumes as they were.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from custom_components.asmr.const import DOMAIN
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_COLOR_TEMP_KELVIN
from homeassistant.components.media_player.const import MediaPlayerState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .common import (
    BED_LIGHT,
    COLOUR_LIGHT,
    add_room,
    room_entry,
    room_problems,
    setup_entities,
    setup_lights,
    state_of,
)
from .test_session_faults import SPEAKER, FakeSpeaker, Faults
from .test_session_races import hold, settle

NURSERY_SPEAKER = "media_player.nursery_speaker"
SCENES = ["rain_on_window", "ocean_night", "forest_stream", "fireside_pages"]
RESTARTS = 100
SLACK = timedelta(seconds=1)
"""How far from its schedule a session may end."""


@dataclass
class Expected:
    """What the test expects of one room's session."""

    room: str
    entry: MockConfigEntry
    light: str
    speaker: str
    device: FakeSpeaker
    """The speaker entity, whose service calls the test can hold."""
    ends_at: datetime | None = None
    """When the running session must end (None: the room is idle)."""
    reason: str = "timer"
    fade_out: int = 0
    down_since: datetime | None = None
    """When the room was unloaded (None: it is loaded)."""


@dataclass
class Ended:
    """An ended event and the (frozen) moment it fired."""

    at: datetime
    entry_id: str
    reason: str


@pytest.fixture
async def rooms(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> dict[str, Expected]:
    """Give Home Assistant the demo lights, two fake speakers and two rooms.

    The bedroom puts its light back as it was; the nursery turns its light off.
    """
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    bedroom_speaker, nursery_speaker = FakeSpeaker(Faults()), FakeSpeaker(Faults())
    nursery_speaker._attr_name = "Nursery speaker"  # noqa: SLF001
    await setup_entities(
        hass, "media_player", "fake_speakers", [bedroom_speaker, nursery_speaker]
    )
    bedroom = await add_room(
        hass,
        room_entry(
            "Bedroom", lights=[BED_LIGHT], speakers=[SPEAKER], end_action="restore"
        ),
    )
    nursery_entry = await add_room(
        hass,
        room_entry(
            "Nursery",
            lights=[COLOUR_LIGHT],
            speakers=[NURSERY_SPEAKER],
            end_action="off",
        ),
    )
    return {
        "bedroom": Expected("bedroom", bedroom, BED_LIGHT, SPEAKER, bedroom_speaker),
        "nursery": Expected(
            "nursery", nursery_entry, COLOUR_LIGHT, NURSERY_SPEAKER, nursery_speaker
        ),
    }


class Chaos:
    """Drives random sessions and restarts, and checks every end as it happens."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        rooms: dict[str, Expected],
        storage: dict[str, Any],
        rng: random.Random,
    ) -> None:
        """Start recording the rooms' events."""
        self.hass = hass
        self.freezer = freezer
        self.rooms = rooms
        self.storage = storage
        self.rng = rng
        self.restarts = 0
        self.kinds: Counter[str] = Counter()
        """The kinds of restart made: at rest, past an end, during an event."""
        self.sessions = 0
        self.log: list[str] = []
        """What the test did, for the message of a failed assertion."""
        self.started: list[Event] = async_capture_events(hass, "asmr_session_started")
        self.ended_events: list[Event] = async_capture_events(
            hass, "asmr_session_ended"
        )
        self.ended: list[Ended] = []
        self.checked = 0
        """How many of ``self.ended`` were matched to an expected end."""

        @callback
        def record(event: Event) -> None:
            self.ended.append(
                Ended(
                    dt_util.utcnow(),
                    event.data["config_entry_id"],
                    event.data["reason"],
                )
            )

        hass.bus.async_listen("asmr_session_ended", record)

    @property
    def now(self) -> datetime:
        """Return the frozen clock's time."""
        return dt_util.utcnow()

    def where(self) -> str:
        """Return the last steps taken, to say where an assertion failed."""
        return " | ".join(self.log[-8:])

    # -- what the test expects ----------------------------------------------------------

    def expect_end(self, room: Expected, reason: str) -> None:
        """Check that the room's session has just ended, now, for ``reason``.

        Its ended event is the next one not checked yet; ``expect_no_end`` then checks
        that it was the only one.
        """
        new = self.ended[self.checked :]
        assert [(e.entry_id, e.reason) for e in new[:1]] == [
            (room.entry.entry_id, reason)
        ], f"{room.room}: expected an end ({reason}), got {new}: {self.where()}"
        assert abs(new[0].at - self.now) <= SLACK, self.where()
        self.checked += 1
        room.ends_at = None

    def expect_no_end(self) -> None:
        """Check that no session ended since the last check."""
        assert self.ended[self.checked :] == [], self.where()

    def check_at_rest(self) -> None:
        """Check each loaded room: consistent, and put back if it is idle."""
        for room in self.rooms.values():
            if room.down_since is not None:
                continue
            problems = room_problems(
                self.hass,
                room.room,
                room.entry.entry_id,
                self.started,
                self.ended_events,
                self.storage,
            )
            assert problems == [], f"{problems}: {self.where()}"
            phase = state_of(self.hass, f"sensor.{room.room}_phase").state
            assert (phase == "idle") == (room.ends_at is None), (
                f"{room.room} is {phase}, expected end {room.ends_at}: {self.where()}"
            )
            if room.ends_at is None:
                self.check_put_back(room)

    def check_put_back(self, room: Expected) -> None:
        """Check that an idle room's light and speaker are as they were before."""
        light = state_of(self.hass, room.light)
        if room.room == "bedroom":
            assert light.state == STATE_ON, self.where()
            assert light.attributes[ATTR_BRIGHTNESS] == 255, self.where()
            assert light.attributes[ATTR_COLOR_TEMP_KELVIN] == 4000, self.where()
        else:
            assert light.state == STATE_OFF, self.where()
        speaker = state_of(self.hass, room.speaker)
        assert speaker.attributes["volume_level"] == 0.5, self.where()
        assert speaker.state != MediaPlayerState.PLAYING, self.where()

    # -- the events ---------------------------------------------------------------------

    async def call(self, room: Expected, service: str, **data: Any) -> Any:
        """Call one of the integration's actions for a room; let it settle."""
        response = await self.hass.services.async_call(
            DOMAIN,
            service,
            {"config_entry_id": room.entry.entry_id, **data},
            blocking=True,
            return_response=service != "stop",
        )
        await self.hass.async_block_till_done()
        return response

    async def start(self, room: Expected) -> None:
        """Start a random scene for a random time, replacing what runs."""
        minutes = self.rng.randint(1, 20)
        room.fade_out = self.rng.choice([0, 10, 60, 120])
        scene = self.rng.choice(SCENES)
        self.log.append(f"start {room.room} {scene} {minutes} min fade {room.fade_out}")
        replaced = room.ends_at is not None
        response = await self.call(
            room,
            "start",
            scene=scene,
            minutes=minutes,
            fade_out_seconds=room.fade_out,
            dim_seconds=self.rng.choice([0, 30, 120]),
        )
        if replaced:
            self.expect_end(room, "replaced")
        self.expect_no_end()
        room.ends_at = self.now + timedelta(minutes=minutes)
        room.reason = "timer"
        assert dt_util.parse_datetime(response["ends_at"]) == room.ends_at
        self.sessions += 1

    async def extend(self, room: Expected) -> None:
        """Extend the room's session (refused when idle)."""
        minutes = self.rng.randint(1, 10)
        self.log.append(f"extend {room.room} {minutes} min")
        if room.ends_at is None:
            with pytest.raises(ServiceValidationError):
                await self.call(room, "extend", minutes=minutes)
            return
        response = await self.call(room, "extend", minutes=minutes)
        room.ends_at += timedelta(minutes=minutes)
        room.reason = "timer"
        assert dt_util.parse_datetime(response["ends_at"]) == room.ends_at
        self.expect_no_end()

    async def stop(self, room: Expected) -> None:
        """Stop the room's session, with its fade-out or at once."""
        fade = self.rng.random() < 0.7
        self.log.append(f"stop {room.room} fade={fade}")
        await self.call(room, "stop", fade=fade)
        if room.ends_at is None:
            self.expect_no_end()
        elif not fade or room.fade_out == 0 or self.now >= room.ends_at:
            self.expect_end(room, "stopped")
        else:
            room.ends_at = min(
                room.ends_at, self.now + timedelta(seconds=room.fade_out)
            )
            room.reason = "stopped"
            self.expect_no_end()

    async def advance_to(self, target: datetime) -> None:
        """Let the clock run to ``target``, stopping at every expected end on the way."""
        while True:
            due = [
                room
                for room in self.rooms.values()
                if room.down_since is None
                and room.ends_at is not None
                and room.ends_at <= target
            ]
            moment = min([target, *(room.ends_at for room in due if room.ends_at)])
            moment = max(moment, self.now)
            self.freezer.move_to(moment)
            async_fire_time_changed(self.hass, moment)
            await self.hass.async_block_till_done()
            ending = [room for room in due if room.ends_at == moment]
            if ending and len(self.ended) - self.checked < len(ending):
                # Give a timer that is a little late its second of slack.
                self.freezer.tick(SLACK)
                async_fire_time_changed(self.hass)
                await self.hass.async_block_till_done()
            for room in sorted(ending, key=lambda r: self._order(r)):
                self.expect_end(room, room.reason)
            self.expect_no_end()
            if moment >= target:
                return

    def _order(self, room: Expected) -> int:
        """Return where a room's end is among the ends not checked yet."""
        for index, ended in enumerate(self.ended[self.checked :]):
            if ended.entry_id == room.entry.entry_id:
                return index
        return len(self.ended)

    async def wait(self) -> None:
        """Let time pass: a random while, or to a telling moment of a session."""
        running = [r for r in self.rooms.values() if r.ends_at and not r.down_since]
        kind = self.rng.randrange(4)
        if running and kind:
            room = self.rng.choice(running)
            assert room.ends_at is not None
            before = {
                1: timedelta(seconds=1),  # just before the end
                2: timedelta(seconds=room.fade_out),  # the fade-out begins
                3: timedelta(seconds=self.rng.randint(0, 300)),
            }[kind]
            target = max(room.ends_at - before, self.now)
        else:
            target = self.now + timedelta(seconds=self.rng.randint(1, 900))
        self.log.append(f"wait to {target:%H:%M:%S}")
        await self.advance_to(target)

    async def restart(self) -> None:
        """Unload one room or both, keep Home Assistant down a while, set them up again."""
        chosen = self.rng.choice([["bedroom"], ["nursery"], ["bedroom", "nursery"]])
        down = timedelta(seconds=self.rng.choice([0, 1, 5, 30, 120, 600]))
        self.log.append(f"restart {chosen} down {down.total_seconds():.0f} s")
        for name in chosen:
            room = self.rooms[name]
            assert await self.hass.config_entries.async_unload(room.entry.entry_id)
            room.down_since = self.now
        await self.hass.async_block_till_done()
        self.expect_no_end()
        # While the rooms are down, time passes and nothing of theirs may happen; the
        # other room's sessions still end on time.
        await self.advance_to(self.now + down)
        for name in chosen:
            room = self.rooms[name]
            assert await self.hass.config_entries.async_setup(room.entry.entry_id)
            await self.hass.async_block_till_done()
            room.down_since = None
            if room.ends_at is not None and room.ends_at <= self.now:
                # Its end passed while Home Assistant was down: it ends as it is back.
                self.expect_end(room, room.reason)
                self.kinds["past an end"] += 1
            elif room.ends_at is not None:
                self.kinds["resumed"] += 1
            self.expect_no_end()
        self.restarts += 1

    async def restart_mid_event(self, room: Expected) -> None:
        """Reload a room while one of its events waits for the speaker.

        The event (a start, a stop without fade, or the timer's end) is held at the
        speaker's first call; the room is reloaded meanwhile (unloaded and set up again
        from its store); then the speaker answers.
        """
        kinds = ["start"] if room.ends_at is None else ["start", "stop", "end", "end"]
        if any(
            other is not room
            and other.ends_at is not None
            and room.ends_at is not None
            and other.ends_at == room.ends_at
            for other in self.rooms.values()
        ):
            kinds = ["start", "stop"]  # both rooms end at once: not this kind of reload
        kind = self.rng.choice(kinds)
        self.log.append(f"reload {room.room} during {kind}")
        self.kinds[f"during {kind}"] += 1
        gate = hold(room.device)
        task: asyncio.Task[Any] | None = None
        replaced = room.ends_at is not None and kind == "start"
        if kind == "start":
            minutes = self.rng.randint(1, 20)
            room.fade_out = self.rng.choice([0, 10, 60, 120])
            task = self.hass.async_create_task(
                self.call(
                    room,
                    "start",
                    scene=self.rng.choice(SCENES),
                    minutes=minutes,
                    fade_out_seconds=room.fade_out,
                )
            )
        elif kind == "stop":
            task = self.hass.async_create_task(self.call(room, "stop", fade=False))
        else:
            assert room.ends_at is not None
            # The other room's sessions end on the way; then this one's end begins.
            await self.advance_to(room.ends_at - timedelta(seconds=1))
            self.freezer.move_to(room.ends_at)
            async_fire_time_changed(self.hass, room.ends_at)
        async with asyncio.timeout(5):
            await room.device.entered.wait()
        reload = self.hass.async_create_task(
            self.hass.config_entries.async_reload(room.entry.entry_id)
        )
        await settle()
        gate.set()
        room.device.gate = None
        assert await reload
        response = await task if task is not None else None
        await self.hass.async_block_till_done()
        if replaced:
            self.expect_end(room, "replaced")
        if kind == "start":
            room.ends_at = self.now + timedelta(minutes=minutes)
            room.reason = "timer"
            assert response is not None
            assert dt_util.parse_datetime(response["ends_at"]) == room.ends_at
            self.sessions += 1
        else:
            self.expect_end(room, "stopped" if kind == "stop" else room.reason)
        self.expect_no_end()
        self.restarts += 1


@pytest.mark.parametrize("seed", [7])
async def test_restart_chaos(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    rooms: dict[str, Expected],
    hass_storage: dict[str, Any],
    seed: int,
) -> None:
    """100 restarts at random moments of random sessions in two rooms.

    Each session ends within a second of its schedule (or as Home Assistant comes back,
    when the schedule passed while it was down), fires one ended event, and leaves its
    light and its speaker's volume as they were.
    """
    chaos = Chaos(hass, freezer, rooms, hass_storage, random.Random(seed))
    while chaos.restarts < RESTARTS:
        room = chaos.rng.choice(list(rooms.values()))
        step = chaos.rng.choices(
            ["start", "extend", "stop", "wait", "restart"], weights=[3, 2, 2, 4, 3]
        )[0]
        if step == "start" and room.ends_at is not None and chaos.rng.random() < 0.6:
            step = "wait"  # replace a running session now and then, not mostly
        if step == "start":
            await chaos.start(room)
        elif step == "extend":
            await chaos.extend(room)
        elif step == "stop":
            await chaos.stop(room)
        elif step == "wait":
            await chaos.wait()
        elif chaos.rng.random() < 0.7:
            await chaos.restart()
        else:
            await chaos.restart_mid_event(room)
        chaos.check_at_rest()

    # Let every session run out.
    last = max((r.ends_at for r in rooms.values() if r.ends_at), default=chaos.now)
    await chaos.advance_to(last + timedelta(seconds=1))
    chaos.check_at_rest()
    assert all(room.ends_at is None for room in rooms.values())
    assert chaos.checked == len(chaos.ended) == len(chaos.started) == chaos.sessions
    assert chaos.sessions > 50
    kinds = ["resumed", "past an end", "during start", "during stop", "during end"]
    assert all(chaos.kinds[kind] >= 2 for kind in kinds), chaos.kinds
    reasons = {ended.reason for ended in chaos.ended}
    assert reasons == {"timer", "stopped", "replaced"}, reasons
    for room in rooms.values():
        assert f"{DOMAIN}.{room.entry.entry_id}" not in hass_storage
    await hass.async_block_till_done(wait_background_tasks=True)  # the warm-ups
