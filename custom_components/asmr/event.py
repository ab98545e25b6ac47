"""The room's session events as an event entity, for automations built on the device.

It fires ``started`` and ``ended`` with the same data as the ``asmr_session_started``
and ``asmr_session_ended`` bus events, which stay.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.event import EventEntity
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import AsmrEntity
from .session import EVENT_SESSION_ENDED, EVENT_SESSION_STARTED, AsmrConfigEntry

PARALLEL_UPDATES = 0

EVENT_TYPES = {EVENT_SESSION_STARTED: "started", EVENT_SESSION_ENDED: "ended"}
"""The entity's event type for each bus event."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's session event entity."""
    async_add_entities([SessionEvent(entry.runtime_data, "session")])


class SessionEvent(AsmrEntity, EventEntity):
    """A session of the room started or ended."""

    _attr_translation_key = "session"
    _attr_event_types = list(EVENT_TYPES.values())

    async def async_added_to_hass(self) -> None:
        """Follow the room's session events on the bus."""
        await super().async_added_to_hass()
        for bus_event in EVENT_TYPES:
            self.async_on_remove(
                self.hass.bus.async_listen(
                    bus_event, self._async_session_event, self._is_this_room
                )
            )

    @callback
    def _is_this_room(self, data: dict[str, Any]) -> bool:
        """Return whether a bus event is about this room."""
        return data.get("config_entry_id") == self.room.entry.entry_id

    @callback
    def _async_session_event(self, event: Event[dict[str, Any]]) -> None:
        """Fire the entity's event with the bus event's data."""
        self._trigger_event(EVENT_TYPES[str(event.event_type)], dict(event.data))
        self.async_write_ha_state()
