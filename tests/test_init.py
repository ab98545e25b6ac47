"""Tests for setting up, unloading and reloading a room."""

from __future__ import annotations

from custom_components.asmr.const import DOMAIN
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from .common import add_room, room_entry


async def test_setup_creates_one_device_per_room(
    hass: HomeAssistant, device_registry: dr.DeviceRegistry
) -> None:
    """Each room is one device named after the room."""
    bedroom = await add_room(hass, room_entry("Bedroom"))
    nursery = await add_room(hass, room_entry("Nursery"))
    assert bedroom.state is ConfigEntryState.LOADED
    assert nursery.state is ConfigEntryState.LOADED
    device = device_registry.async_get_device({(DOMAIN, bedroom.entry_id)})
    assert device is not None
    assert device.name == "Bedroom"
    assert (
        len(dr.async_entries_for_config_entry(device_registry, nursery.entry_id)) == 1
    )


async def test_unload_and_reload(hass: HomeAssistant) -> None:
    """A room unloads and loads again."""
    entry = await add_room(hass, room_entry())
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
