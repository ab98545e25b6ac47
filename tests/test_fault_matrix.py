"""The fault matrix: a device that keeps failing through one step of a session.

``test_session_faults`` fails each device call once (the first retry answers). Here a
kind of call (a light's turn on or off, a speaker's play, volume, pause or stop) raises
every time during one whole step (start, extend, stop with or without fade, the fade's
beginning, the end, the resume after a restart), with each kind of exception. The room
has two lights and a speaker. Whatever fails: the room ends idle with one ended event,
the user gets exactly one repair issue naming what failed, the other devices are put
back, and once the device answers again the notice goes and everything is put back.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.asmr.const import DOMAIN
from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
)
from homeassistant.components.media_player.const import MediaPlayerState
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir

from . import test_session_faults
from .common import BED_LIGHT, COLOUR_LIGHT, add_room, room_entry, state_of
from .test_session_faults import SPEAKER, FakeSpeaker, Faults, call, phase, tick

# The demo lights, the fake speaker and the fault plan that routes their calls.
faults = test_session_faults.faults
speaker = test_session_faults.speaker

LIGHTS = [BED_LIGHT, COLOUR_LIGHT]
CALLS: dict[str, list[str]] = {
    "light_on": [f"{light} turn_on" for light in LIGHTS],
    "light_off": [f"{light} turn_off" for light in LIGHTS],
    "play_media": ["speaker play_media"],
    "volume_set": ["speaker volume_set"],
    "media_pause": ["speaker media_pause"],
    "media_stop": ["speaker media_stop"],
}
"""Each kind of device call, as the fault plan names the calls."""
STEPS = ["start", "extend", "stop", "stop_now", "fade", "end", "resume"]
ERRORS: dict[str, Exception] = {
    "HomeAssistantError": HomeAssistantError("device refused"),
    "TimeoutError": TimeoutError(),
    "OSError": OSError(113, "No route to host"),
    "Exception": Exception("integration bug"),
}
MINUTES = 10
FADE_OUT = 60


def asmr_issues(hass: HomeAssistant) -> list[ir.IssueEntry]:
    """Return the integration's repair issues."""
    return [
        issue
        for (domain, _), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN
    ]


class Run:
    """One session with a kind of call failing through one of its steps."""

    def __init__(
        self,
        hass: HomeAssistant,
        freezer: FrozenDateTimeFactory,
        faults: Faults,
        entry: MockConfigEntry,
        kind: str,
        error: Exception,
    ) -> None:
        """Prepare the run."""
        self.hass = hass
        self.freezer = freezer
        self.faults = faults
        self.entry = entry
        self.kind = kind
        self.error = error
        self.failed: list[str] = []
        """The device calls that raised."""

    async def faulty(self, step: Any) -> None:
        """Run a step with the kind of call failing every time; check the notice."""
        before = len(self.faults.calls)
        self.faults.always = dict.fromkeys(CALLS[self.kind], self.error)
        try:
            await step
            await self.hass.async_block_till_done()
        finally:
            self.faults.always = {}
        self.failed += [c for c in self.faults.calls[before:] if c in CALLS[self.kind]]
        issues = asmr_issues(self.hass)
        where = f"{self.kind} raising {self.error!r}"
        # At most one notice, naming only devices that failed. (It may be gone already:
        # a device leaves it as soon as one of its calls works again.)
        assert [i.issue_id for i in issues] in (
            [],
            [f"device_failed_{self.entry.entry_id}"],
        ), (where, issues)
        if issues:
            placeholders = issues[0].translation_placeholders or {}
            named = set(placeholders["entities"].split(", "))
            failed = {
                SPEAKER if c.startswith("speaker") else c.split()[0]
                for c in self.failed
            }
            assert named <= failed, (where, named)

    async def run(self, step: str) -> str:
        """Start, (extend), stop or run out, with the fault in ``step``; return the reason."""
        entry_id = self.entry.entry_id
        start = call(hass=self.hass, service="start", config_entry_id=entry_id)
        if step == "start":
            await self.faulty(start)
        else:
            await start
        now, end = 0, MINUTES * 60  # seconds since the start
        if step == "extend":
            # During the fade-out: the extend brightens the lights again.
            await tick(self.hass, self.freezer, end - FADE_OUT)
            now = end - FADE_OUT
            assert phase(self.hass) == "fading"
            await self.faulty(
                call(self.hass, "extend", config_entry_id=entry_id, minutes=5)
            )
            end += 5 * 60
        if step == "resume":
            assert await self.hass.config_entries.async_unload(entry_id)
            await tick(self.hass, self.freezer, 60)
            now += 60
            await self.faulty(self.hass.config_entries.async_setup(entry_id))
        if step == "stop":
            await self.faulty(call(self.hass, "stop", config_entry_id=entry_id))
            await tick(self.hass, self.freezer, FADE_OUT)
            return "stopped"
        if step == "stop_now":
            await self.faulty(
                call(self.hass, "stop", config_entry_id=entry_id, fade=False)
            )
            return "stopped"
        to_fade = end - FADE_OUT - now
        if step == "fade":
            await self.faulty(tick(self.hass, self.freezer, to_fade))
        else:
            await tick(self.hass, self.freezer, to_fade)
        assert phase(self.hass) == "fading"
        if step == "end":
            await self.faulty(tick(self.hass, self.freezer, FADE_OUT))
        else:
            await tick(self.hass, self.freezer, FADE_OUT)
        return "timer"


def put_back(hass: HomeAssistant) -> dict[str, bool]:
    """Return, for each light and the speaker, whether it is as before the session."""
    bed = state_of(hass, BED_LIGHT)
    colour = state_of(hass, COLOUR_LIGHT)
    speaker_state = state_of(hass, SPEAKER)
    return {
        BED_LIGHT: bed.state == STATE_ON
        and bed.attributes[ATTR_BRIGHTNESS] == 255
        and bed.attributes[ATTR_COLOR_TEMP_KELVIN] == 4000,
        COLOUR_LIGHT: colour.state == STATE_OFF,
        SPEAKER: speaker_state.attributes["volume_level"] == 0.5
        and speaker_state.state != MediaPlayerState.PLAYING,
    }


@pytest.mark.parametrize("error", list(ERRORS))
@pytest.mark.parametrize("step", STEPS)
async def test_a_device_failing_through_a_step(
    hass: HomeAssistant,
    speaker: FakeSpeaker,
    faults: Faults,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    step: str,
    error: str,
) -> None:
    """Each kind of device call failing all through ``step``: the room still ends well."""
    entry = await add_room(
        hass,
        room_entry(
            lights=LIGHTS,
            speakers=[SPEAKER],
            end_action="restore",
            fade_out_seconds=FADE_OUT,
            minutes=MINUTES,
        ),
    )
    assert state_of(hass, COLOUR_LIGHT).attributes.get(ATTR_HS_COLOR) is None
    injected = 0
    for kind in CALLS:
        where = f"{kind} raising {error} through {step}"
        ended = async_capture_events(hass, "asmr_session_ended")
        issues = async_capture_events(hass, ir.EVENT_REPAIRS_ISSUE_REGISTRY_UPDATED)
        run = Run(hass, freezer, faults, entry, kind, ERRORS[error])
        reason = await run.run(step)
        injected += bool(run.failed)

        assert phase(hass) == "idle", where
        assert [e.data["reason"] for e in ended] == [reason], where
        assert f"{DOMAIN}.{entry.entry_id}" not in hass_storage, where
        created = [e.data["issue_id"] for e in issues if e.data["action"] == "create"]
        assert created == ([f"device_failed_{entry.entry_id}"] if run.failed else []), (
            where
        )
        back = put_back(hass)
        failed_devices = {
            SPEAKER if c.startswith("speaker") else c.split()[0] for c in run.failed
        }
        if step in ("end", "stop_now"):
            # It failed at the very end: only what failed may be left as it was.
            assert {d for d, ok in back.items() if not ok} <= failed_devices, (
                where,
                back,
            )
        else:
            # It answered again later in the session: everything is back, notice gone.
            assert all(back.values()), (where, back)
            assert asmr_issues(hass) == [], where

        # The device answers again: a clean session puts everything back, clears all.
        await call(hass, "start", config_entry_id=entry.entry_id)
        await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
        assert asmr_issues(hass) == [], where
        if not all(back.values()):
            # Put the light back as it was before the failed run, for the next kind.
            await restore_devices(hass)
        assert all(put_back(hass).values()), where
    # The step does make calls that fail: the matrix is not empty.
    # (A fade, a stop with a fade and an extend may touch only the lights.)
    least = 1 if step in ("fade", "stop", "extend") else 2
    assert injected >= least, f"{injected} kinds failed in {step}"


async def restore_devices(hass: HomeAssistant) -> None:
    """Put the lights and the speaker as they were at the start (by hand)."""
    await hass.services.async_call(
        "light",
        "turn_on",
        {"entity_id": BED_LIGHT, "brightness": 255, "color_temp_kelvin": 4000},
        blocking=True,
    )
    await hass.services.async_call(
        "light", "turn_off", {"entity_id": COLOUR_LIGHT}, blocking=True
    )
    await hass.services.async_call(
        "media_player",
        "volume_set",
        {"entity_id": SPEAKER, "volume_level": 0.5},
        blocking=True,
    )
    await hass.services.async_call(
        "media_player", "media_stop", {"entity_id": SPEAKER}, blocking=True
    )
    await hass.async_block_till_done()
