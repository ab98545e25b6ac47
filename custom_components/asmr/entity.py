"""Base entity for ASMR Scenes: one device per room, updated by the room's session."""

from __future__ import annotations

from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity

from .const import DOMAIN
from .session import RoomSession


class AsmrEntity(Entity):
    """An entity of a room, refreshed whenever the room's session changes."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, room: RoomSession, key: str) -> None:
        """Initialise the entity of a room."""
        self.room = room
        self._attr_unique_id = f"{room.entry.entry_id}-{key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, room.entry.entry_id)})

    async def async_added_to_hass(self) -> None:
        """Follow the room's session."""
        self.async_on_remove(self.room.async_add_listener(self.async_write_ha_state))
