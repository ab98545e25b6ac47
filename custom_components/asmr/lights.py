"""Lights: remember, dim, fade out and put back a room's lights."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
import logging
from typing import Any, Final

from homeassistant.components.light import (
    ATTR_BRIGHTNESS,
    ATTR_BRIGHTNESS_PCT,
    ATTR_COLOR_MODE,
    ATTR_COLOR_TEMP_KELVIN,
    ATTR_HS_COLOR,
    ATTR_SUPPORTED_COLOR_MODES,
    ATTR_TRANSITION,
    color_temp_supported,
)
from homeassistant.components.light.const import DOMAIN as LIGHT_DOMAIN, ColorMode
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import Context, HomeAssistant, State

_LOGGER = logging.getLogger(__name__)

SERVICE_TIMEOUT: Final = 10.0
"""Seconds a device gets to answer one service call before it counts as failed."""

type Report = Callable[[str, str, Exception | None], None]
"""Told ``(entity_id, service, error)`` after every call; ``error`` None when it worked."""


def log_failure(entity_id: str, service: str, error: Exception | None) -> None:
    """Log a failed call (the default report when no one keeps count)."""
    if error is not None:
        _LOGGER.warning("Could not %s %s: %r", service, entity_id, error)


@dataclass(frozen=True, kw_only=True)
class LightSnapshot:
    """How a light was before a session touched it."""

    on: bool
    brightness: int | None = None
    color_temp_kelvin: int | None = None
    hs_color: tuple[float, float] | None = None

    @classmethod
    def of(cls, state: State) -> LightSnapshot:
        """Return the snapshot of a light's current state."""
        attributes = state.attributes
        mode = attributes.get(ATTR_COLOR_MODE)
        hs = attributes.get(ATTR_HS_COLOR)
        return cls(
            on=state.state == STATE_ON,
            brightness=attributes.get(ATTR_BRIGHTNESS),
            color_temp_kelvin=attributes.get(ATTR_COLOR_TEMP_KELVIN)
            if mode == ColorMode.COLOR_TEMP
            else None,
            hs_color=(float(hs[0]), float(hs[1]))
            if hs is not None and mode != ColorMode.COLOR_TEMP
            else None,
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LightSnapshot:
        """Return a snapshot read back from storage."""
        hs = data.get("hs_color")
        return cls(
            on=bool(data["on"]),
            brightness=data.get("brightness"),
            color_temp_kelvin=data.get("color_temp_kelvin"),
            hs_color=(float(hs[0]), float(hs[1])) if hs else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """Return the snapshot as JSON-serialisable data."""
        return asdict(self)


REPORT_LAG: Final = timedelta(seconds=60)
"""How late a light may report a step of a transition (polled and Zigbee lights)."""
BRIGHTNESS_TOLERANCE: Final = 26
"""How far (of 255) a reported brightness may stray from the expected path: lights
follow their own curves, and round."""


@dataclass(frozen=True, kw_only=True)
class Ramp:
    """A brightness transition the session asked a light for."""

    start: datetime
    end: datetime
    start_brightness: int
    """Brightness (0..255) when the transition began (0 for a light that was off)."""
    target: int
    """Brightness (0..255) the transition ends at."""

    @classmethod
    def towards(
        cls,
        state: State | None,
        *,
        brightness_pct: int,
        transition: float,
        now: datetime,
    ) -> Ramp:
        """Return the ramp of a light from its state now to a brightness (percent)."""
        current = 0
        if state is not None and state.state == STATE_ON:
            current = int(state.attributes.get(ATTR_BRIGHTNESS) or 0)
        return cls(
            start=now,
            end=now + timedelta(seconds=transition),
            start_brightness=current,
            target=round(brightness_pct * 255 / 100),
        )

    def expected(self, moment: datetime) -> float:
        """Return the brightness the light should have reached at a moment (linear)."""
        span = (self.end - self.start).total_seconds()
        done = 1.0 if span <= 0 else (moment - self.start).total_seconds() / span
        done = min(max(done, 0.0), 1.0)
        return self.start_brightness + (self.target - self.start_brightness) * done

    def allows(self, brightness: int, moment: datetime) -> bool:
        """Return whether a reported brightness lies on this ramp, allowing for lag.

        A report may lag the path by up to ``REPORT_LAG`` or run ahead of it to the
        target, within ``BRIGHTNESS_TOLERANCE``.
        """
        lagging = self.expected(moment - REPORT_LAG)
        low, high = sorted((lagging, float(self.target)))
        return low - BRIGHTNESS_TOLERANCE <= brightness <= high + BRIGHTNESS_TOLERANCE


def changed_by_hand(
    old: State | None,
    new: State | None,
    *,
    ramp: Ramp | None,
    moment: datetime,
    by_user: bool,
) -> bool:
    """Return whether a light's change (not in the session's own context) is a person's.

    Home Assistant credits a device's updates to the caller for a few seconds only;
    the steps of a long transition that a light reports later arrive in a foreign
    context. Those that lie on the session's ramp are the session's own; a change by
    a Home Assistant user, a light turned off, or a brightness off the ramp is not.
    """
    if old is None or new is None or not is_available(old) or not is_available(new):
        return False
    brightness = new.attributes.get(ATTR_BRIGHTNESS)
    if old.state == new.state and old.attributes.get(ATTR_BRIGHTNESS) == brightness:
        return False
    if by_user or ramp is None or new.state != STATE_ON or brightness is None:
        return True
    return not ramp.allows(int(brightness), moment)


def is_available(state: State | None) -> bool:
    """Return whether an entity can be controlled now."""
    return state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


def snapshot(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, LightSnapshot]:
    """Return the current state of each light, to put it back as it is now.

    A light that is unavailable has no state to keep: it is taken as off, so that if
    it comes back during the session it is put back off, not left glowing.
    """
    return {
        entity_id: LightSnapshot.of(state)
        if is_available(state := hass.states.get(entity_id)) and state is not None
        else LightSnapshot(on=False)
        for entity_id in entity_ids
    }


async def call_service(
    hass: HomeAssistant,
    domain: str,
    service: str,
    data: dict[str, Any],
    *,
    context: Context,
) -> Exception | None:
    """Call a service, bounded in time; return what it raised (None: it worked).

    Whatever the device's integration raises (``HomeAssistantError``, a timeout, a
    network or library error) is returned, never raised: a room must always be able
    to go on, and to end.
    """
    try:
        async with asyncio.timeout(SERVICE_TIMEOUT):
            await hass.services.async_call(
                domain, service, data, blocking=True, context=context
            )
    except Exception as err:  # noqa: BLE001 - any device fault is reported, not raised
        return err
    return None


async def _call(
    hass: HomeAssistant,
    service: str,
    data: dict[str, Any],
    context: Context,
    report: Report,
) -> bool:
    """Call a light service and report how it went; return whether it worked."""
    error = await call_service(hass, LIGHT_DOMAIN, service, data, context=context)
    report(str(data[ATTR_ENTITY_ID]), f"{LIGHT_DOMAIN}.{service}", error)
    return error is None


async def async_glow(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    brightness_pct: int,
    color_temp_kelvin: int | None,
    transition: float,
    context: Context,
    report: Report = log_failure,
) -> list[str]:
    """Fade lights to a glow; return the lights that took the command.

    Lights without colour temperature get brightness only; ``color_temp_kelvin`` None
    keeps every light's colour.
    """

    async def one(entity_id: str) -> bool:
        state = hass.states.get(entity_id)
        if not is_available(state) or state is None:
            return False
        data: dict[str, Any] = {
            ATTR_ENTITY_ID: entity_id,
            ATTR_BRIGHTNESS_PCT: brightness_pct,
            ATTR_TRANSITION: transition,
        }
        if color_temp_kelvin is not None and color_temp_supported(
            state.attributes.get(ATTR_SUPPORTED_COLOR_MODES)
        ):
            data[ATTR_COLOR_TEMP_KELVIN] = color_temp_kelvin
        return await _call(hass, SERVICE_TURN_ON, data, context, report)

    done = await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
    return [entity_id for entity_id, ok in zip(entity_ids, done, strict=True) if ok]


async def async_turn_off(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    transition: float,
    context: Context,
    report: Report = log_failure,
) -> list[str]:
    """Turn lights off; return the lights that failed."""
    targets = [e for e in entity_ids if is_available(hass.states.get(e))]
    done = await asyncio.gather(
        *(
            _call(
                hass,
                SERVICE_TURN_OFF,
                {ATTR_ENTITY_ID: entity_id, ATTR_TRANSITION: transition},
                context,
                report,
            )
            for entity_id in targets
        )
    )
    return [entity_id for entity_id, ok in zip(targets, done, strict=True) if not ok]


async def async_restore(
    hass: HomeAssistant,
    snapshots: dict[str, LightSnapshot],
    *,
    transition: float,
    context: Context,
    report: Report = log_failure,
) -> list[str]:
    """Put lights back as they were before the session; return the lights that failed."""

    async def one(entity_id: str, before: LightSnapshot) -> bool:
        if not is_available(hass.states.get(entity_id)):
            return True
        if not before.on:
            return not await async_turn_off(
                hass, [entity_id], transition=transition, context=context, report=report
            )
        data: dict[str, Any] = {ATTR_ENTITY_ID: entity_id, ATTR_TRANSITION: transition}
        if before.brightness is not None:
            data[ATTR_BRIGHTNESS] = before.brightness
        if before.color_temp_kelvin is not None:
            data[ATTR_COLOR_TEMP_KELVIN] = before.color_temp_kelvin
        elif before.hs_color is not None:
            data[ATTR_HS_COLOR] = before.hs_color
        return await _call(hass, SERVICE_TURN_ON, data, context, report)

    done = await asyncio.gather(*(one(e, s) for e, s in snapshots.items()))
    return [entity_id for entity_id, ok in zip(snapshots, done, strict=True) if not ok]
