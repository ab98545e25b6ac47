"""The asmr.start, asmr.stop and asmr.extend actions."""

from __future__ import annotations

from typing import Any, Final

import voluptuous as vol

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv

from .const import CONF_MINUTES, DOMAIN
from .schema import ATTR_FADE, EXTEND_FIELDS, START_FIELDS, STOP_FIELDS, start_request
from .session import AsmrConfigEntry, RoomSession

SERVICE_START: Final = "start"
SERVICE_STOP: Final = "stop"
SERVICE_EXTEND: Final = "extend"
ROOM: Final[dict[vol.Marker, Any]] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}
START_SCHEMA: Final = vol.Schema({**ROOM, **START_FIELDS})
STOP_SCHEMA: Final = vol.Schema({**ROOM, **STOP_FIELDS})
EXTEND_SCHEMA: Final = vol.Schema({**ROOM, **EXTEND_FIELDS})


def _room(hass: HomeAssistant, call: ServiceCall) -> RoomSession:
    """Return the room an action names, or say clearly why it cannot be used."""
    entry_id = call.data[ATTR_CONFIG_ENTRY_ID]
    entry: AsmrConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_room",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="room_not_loaded",
            translation_placeholders={"room": entry.title},
        )
    return entry.runtime_data


async def _async_start(call: ServiceCall) -> ServiceResponse:
    """Start a session."""
    room = _room(call.hass, call)
    ends_at = await room.async_start(
        start_request(dict(call.data)), context=call.context
    )
    return {"ends_at": ends_at.isoformat()}


async def _async_stop(call: ServiceCall) -> None:
    """Stop a session."""
    await _room(call.hass, call).async_stop(
        fade=call.data[ATTR_FADE], context=call.context
    )


async def _async_extend(call: ServiceCall) -> ServiceResponse:
    """Extend a session."""
    room = _room(call.hass, call)
    ends_at = await room.async_extend(call.data[CONF_MINUTES], context=call.context)
    return {"ends_at": ends_at.isoformat()}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_START,
        _async_start,
        schema=START_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(DOMAIN, SERVICE_STOP, _async_stop, schema=STOP_SCHEMA)
    hass.services.async_register(
        DOMAIN,
        SERVICE_EXTEND,
        _async_extend,
        schema=EXTEND_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
