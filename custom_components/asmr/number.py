"""Numbers that set a room's session duration and volume."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import MINUTES_MAX, MINUTES_MIN
from .entity import AsmrEntity
from .session import AsmrConfigEntry, RoomSession

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AsmrNumberEntityDescription(NumberEntityDescription):
    """Describes a number of a room."""

    value_fn: Callable[[RoomSession], int]
    set_fn: Callable[[RoomSession, int], Awaitable[None]]


NUMBERS: tuple[AsmrNumberEntityDescription, ...] = (
    AsmrNumberEntityDescription(
        key="minutes",
        translation_key="minutes",
        device_class=NumberDeviceClass.DURATION,
        native_min_value=MINUTES_MIN,
        native_max_value=MINUTES_MAX,
        native_step=5,
        mode=NumberMode.BOX,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda room: room.defaults.minutes,
        set_fn=lambda room, value: room.async_set_default_minutes(value),
    ),
    AsmrNumberEntityDescription(
        key="volume",
        translation_key="volume",
        native_min_value=1,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        native_unit_of_measurement=PERCENTAGE,
        value_fn=lambda room: room.volume,
        set_fn=lambda room, value: room.async_set_volume(value),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's numbers."""
    async_add_entities(
        AsmrNumber(entry.runtime_data, description) for description in NUMBERS
    )


class AsmrNumber(AsmrEntity, NumberEntity):
    """A number of a room."""

    entity_description: AsmrNumberEntityDescription

    def __init__(
        self, room: RoomSession, description: AsmrNumberEntityDescription
    ) -> None:
        """Initialise the number."""
        super().__init__(room, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> int:
        """Return the number's value."""
        return self.entity_description.value_fn(self.room)

    async def async_set_native_value(self, value: float) -> None:
        """Set the number's value."""
        await self.entity_description.set_fn(self.room, int(value))
        self.async_write_ha_state()
