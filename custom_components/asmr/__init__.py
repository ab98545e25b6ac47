"""ASMR Scenes: turn a room into an ASMR space."""

from __future__ import annotations

from homeassistant.const import CONF_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import DOMAIN
from .intent import async_setup_intents
from .services import async_setup_services
from .session import AsmrConfigEntry, RoomSession
from .stream import AsmrStreamView

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [Platform.BUTTON, Platform.NUMBER, Platform.SENSOR, Platform.SWITCH]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the ASMR Scenes actions and the audio stream."""
    async_setup_services(hass)
    async_setup_intents(hass)
    hass.http.register_view(AsmrStreamView())
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AsmrConfigEntry) -> bool:
    """Set up a room from a config entry."""
    dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.data[CONF_NAME],
        manufacturer="ASMR Scenes",
        model="Room",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    room = RoomSession(hass, entry)
    entry.runtime_data = room
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await room.async_setup()
    return True


async def async_unload_entry(hass: HomeAssistant, entry: AsmrConfigEntry) -> bool:
    """Unload a room; a running session stays stored and resumes on the next load."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        await entry.runtime_data.async_shutdown()
    return unloaded
