"""Tests for what a room's entities tell Home Assistant about themselves."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass
from homeassistant.const import ATTR_DEVICE_CLASS, ATTR_UNIT_OF_MEASUREMENT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .common import add_room, room_entry


async def test_duration_number_is_a_duration(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """The session length is a duration in minutes, so the frontend formats it as one."""
    entry = await add_room(hass, room_entry())
    entity_id = entity_registry.async_get_entity_id(
        "number", "asmr", f"{entry.entry_id}-minutes"
    )
    assert entity_id is not None
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes[ATTR_DEVICE_CLASS] == NumberDeviceClass.DURATION
    assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == "min"
