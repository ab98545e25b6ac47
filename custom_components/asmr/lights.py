"""Lights: remember, dim, fade out and put back a room's lights."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import logging
from typing import Any

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
from homeassistant.exceptions import HomeAssistantError

_LOGGER = logging.getLogger(__name__)


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


def is_available(state: State | None) -> bool:
    """Return whether an entity can be controlled now."""
    return state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


def snapshot(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, LightSnapshot]:
    """Return the current state of the available lights among ``entity_ids``."""
    return {
        entity_id: LightSnapshot.of(state)
        for entity_id in entity_ids
        if is_available(state := hass.states.get(entity_id)) and state is not None
    }


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], context: Context
) -> bool:
    """Call a light service; return whether it worked (a failure is logged)."""
    try:
        await hass.services.async_call(
            LIGHT_DOMAIN, service, data, blocking=True, context=context
        )
    except HomeAssistantError as err:
        _LOGGER.warning("Could not %s %s: %s", service, data[ATTR_ENTITY_ID], err)
        return False
    return True


async def async_glow(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    brightness_pct: int,
    color_temp_kelvin: int | None,
    transition: float,
    context: Context,
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
        return await _call(hass, SERVICE_TURN_ON, data, context)

    done = await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
    return [entity_id for entity_id, ok in zip(entity_ids, done, strict=True) if ok]


async def async_turn_off(
    hass: HomeAssistant, entity_ids: list[str], *, transition: float, context: Context
) -> None:
    """Turn lights off."""
    await asyncio.gather(
        *(
            _call(
                hass,
                SERVICE_TURN_OFF,
                {ATTR_ENTITY_ID: entity_id, ATTR_TRANSITION: transition},
                context,
            )
            for entity_id in entity_ids
            if is_available(hass.states.get(entity_id))
        )
    )


async def async_restore(
    hass: HomeAssistant,
    snapshots: dict[str, LightSnapshot],
    *,
    transition: float,
    context: Context,
) -> None:
    """Put lights back as they were before the session."""

    async def one(entity_id: str, before: LightSnapshot) -> None:
        if not is_available(hass.states.get(entity_id)):
            return
        if not before.on:
            await async_turn_off(
                hass, [entity_id], transition=transition, context=context
            )
            return
        data: dict[str, Any] = {ATTR_ENTITY_ID: entity_id, ATTR_TRANSITION: transition}
        if before.brightness is not None:
            data[ATTR_BRIGHTNESS] = before.brightness
        if before.color_temp_kelvin is not None:
            data[ATTR_COLOR_TEMP_KELVIN] = before.color_temp_kelvin
        elif before.hs_color is not None:
            data[ATTR_HS_COLOR] = before.hs_color
        await _call(hass, SERVICE_TURN_ON, data, context)

    await asyncio.gather(*(one(entity_id, s) for entity_id, s in snapshots.items()))
