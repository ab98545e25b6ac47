"""Numbers that set a room's session duration and volume, and its mixer's levels.

The mixer has a level per layer a mix can have; each shows a layer of the mix the
mixer's select shows (unavailable where that mix has fewer layers) and writes the mix.
"""

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
from .engine import MIX_LAYERS, MIX_LEVEL_DB, TRIGGERS, Layer
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
    """Add the room's numbers and its mixer's layer levels."""
    room = entry.runtime_data
    async_add_entities(
        [
            *(AsmrNumber(room, description) for description in NUMBERS),
            *(MixerLevel(room, layer) for layer in range(MIX_LAYERS[1])),
        ]
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


def _sound(layer: Layer) -> str:
    """Return the name of a layer's sound, like "Rainfall (on glass)"."""
    name = TRIGGERS[layer.trigger].name
    if layer.variant is None:
        return name
    return f"{name} ({layer.variant.replace('_', ' ')})"


class MixerLevel(AsmrEntity, NumberEntity):
    """The level of one layer of the mix the room's mixer shows."""

    _attr_translation_key = "mixer_layer"
    _attr_native_min_value = MIX_LEVEL_DB[0]
    _attr_native_max_value = MIX_LEVEL_DB[1]
    _attr_native_step = 1
    _attr_native_unit_of_measurement = "dB"
    _attr_mode = NumberMode.SLIDER

    def __init__(self, room: RoomSession, layer: int) -> None:
        """Initialise the level of the mixer's layer (from 0)."""
        super().__init__(room, f"mixer-layer-{layer + 1}")
        self.layer = layer
        self._attr_translation_placeholders = {"layer": str(layer + 1)}

    def _layer(self) -> Layer | None:
        """Return the layer this level shows, if the mix has it."""
        mix = self.room.mixer
        if mix is None or self.layer >= len(mix.layers):
            return None
        return mix.layers[self.layer]

    @property
    def available(self) -> bool:
        """Return whether the mix the mixer shows has this layer."""
        return self._layer() is not None

    @property
    def native_value(self) -> float | None:
        """Return the layer's level, in dB."""
        layer = self._layer()
        return layer.level_db if layer is not None else None

    @property
    def extra_state_attributes(self) -> dict[str, str] | None:
        """Return the mix and the layer's sound."""
        mix, layer = self.room.mixer, self._layer()
        if mix is None or layer is None:
            return None
        return {"mix": mix.name, "sound": _sound(layer)}

    async def async_set_native_value(self, value: float) -> None:
        """Set the layer's level in the mix."""
        mix = self.room.mixer
        if mix is not None:
            await self.room.async_set_mix_level(mix.id, self.layer, value)
