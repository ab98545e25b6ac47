"""Sensors over a room's session: when it ends and which phase it is in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import AsmrEntity
from .session import AsmrConfigEntry, Phase, RoomSession

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AsmrSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor over a room's session."""

    value_fn: Callable[[RoomSession], datetime | str | None]


SENSORS: tuple[AsmrSensorEntityDescription, ...] = (
    AsmrSensorEntityDescription(
        key="ends_at",
        translation_key="ends_at",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda room: room.ends_at,
    ),
    AsmrSensorEntityDescription(
        key="phase",
        translation_key="phase",
        device_class=SensorDeviceClass.ENUM,
        options=[phase.value for phase in Phase],
        value_fn=lambda room: room.phase.value,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's session sensors."""
    async_add_entities(
        AsmrSensor(entry.runtime_data, description) for description in SENSORS
    )


class AsmrSensor(AsmrEntity, SensorEntity):
    """A sensor over a room's session."""

    entity_description: AsmrSensorEntityDescription

    def __init__(
        self, room: RoomSession, description: AsmrSensorEntityDescription
    ) -> None:
        """Initialise the sensor."""
        super().__init__(room, description.key)
        self.entity_description = description

    @property
    def native_value(self) -> datetime | str | None:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.room)
