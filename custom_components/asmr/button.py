"""The wind-down button: start the room's default scene with its defaults."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import AsmrEntity
from .session import AsmrConfigEntry, StartRequest

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's wind-down button."""
    async_add_entities([WindDownButton(entry.runtime_data, "wind_down")])


class WindDownButton(AsmrEntity, ButtonEntity):
    """Wind down: the room's default scene, lights and volume."""

    _attr_translation_key = "wind_down"

    async def async_press(self) -> None:
        """Start the room's default session."""
        await self.room.async_start(StartRequest(), context=self._context)
