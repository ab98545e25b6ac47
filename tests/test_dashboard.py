"""Tests for the shipped dashboard: every card shows an entity a Bedroom room has."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util.yaml import load_yaml

from .common import BED_LIGHT, add_room, room_entry, setup_lights

DASHBOARD = Path(__file__).parent.parent / "dashboards" / "asmr.yaml"


def _entities(node: Any) -> set[str]:
    """Return every entity id a dashboard configuration names."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("entity", "entity_id") and isinstance(value, str):
                found.add(value)
            else:
                found |= _entities(value)
    elif isinstance(node, list):
        for item in node:
            found |= _entities(item)
    return found


async def test_dashboard_entities_exist(hass: HomeAssistant) -> None:
    """The dashboard shows every scene switch, button, sensor, number, select and player."""
    await setup_lights(hass)
    await add_room(hass, room_entry(lights=[BED_LIGHT]))
    shown = _entities(load_yaml(DASHBOARD))
    room = {
        state.entity_id
        for state in hass.states.async_all()
        if state.entity_id.split(".")[1].startswith("bedroom_")
        and state.entity_id.split(".")[0]
        in (
            "switch",
            "button",
            "sensor",
            "number",
            "select",
            "media_player",
        )
    }
    assert shown == room
