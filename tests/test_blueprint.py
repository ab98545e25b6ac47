"""Tests for the bedtime wind-down blueprint, loaded through Home Assistant's blueprints."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    async_capture_events,
    async_fire_time_changed,
)

from homeassistant.components import automation
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import BED_LIGHT, add_room, room_entry, setup_lights

BLUEPRINT = (
    Path(__file__).parent.parent
    / "blueprints"
    / "automation"
    / "asmr"
    / "bedtime_wind_down.yaml"
)
THURSDAY_EVENING = "2026-11-26 22:00:00+00:00"  # 26 November 2026 is a Thursday
SOMEONE_HOME = "binary_sensor.someone_home"


@pytest.fixture
async def room(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """Give Home Assistant a Bedroom with a demo light, the blueprint and a clock."""
    freezer.move_to(THURSDAY_EVENING)
    await hass.config.async_update(time_zone="UTC")
    target = Path(hass.config.path("blueprints", "automation", "asmr"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(BLUEPRINT, target / BLUEPRINT.name)
    await setup_lights(hass)
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT]))
    return entry.entry_id


async def _automate(hass: HomeAssistant, room: str, **inputs: Any) -> None:
    """Create an automation from the blueprint with some inputs."""
    assert await async_setup_component(
        hass,
        automation.DOMAIN,
        {
            automation.DOMAIN: {
                "id": "bedtime",
                "alias": "Bedtime",
                "use_blueprint": {
                    "path": "asmr/bedtime_wind_down.yaml",
                    "input": {
                        "start_time": "22:30:00",
                        "room": room,
                        "scene": "ocean_night",
                        "minutes": 30,
                        **inputs,
                    },
                },
            }
        },
    )
    await hass.async_block_till_done()


async def _at(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str) -> None:
    """Move the frozen clock to a moment and let the timers fire."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


async def test_blueprint_validates(hass: HomeAssistant, room: str) -> None:
    """The automation made from the blueprint loads without errors."""
    await _automate(hass, room, weekdays=["thu"])
    state = hass.states.get("automation.bedtime")
    assert state is not None
    assert state.state == "on"
    assert automation.blueprint_in_automation(hass, "automation.bedtime") == (
        "asmr/bedtime_wind_down.yaml"
    )


async def test_starts_at_set_time_on_enabled_day(
    hass: HomeAssistant, room: str, freezer: FrozenDateTimeFactory
) -> None:
    """At 22:30 on a chosen day the session starts with the scene and duration."""
    started = async_capture_events(hass, "asmr_session_started")
    await _automate(hass, room, weekdays=["mon", "thu"])
    await _at(hass, freezer, "2026-11-26 22:29:59+00:00")
    assert not started
    await _at(hass, freezer, "2026-11-26 22:30:00+00:00")
    assert [e.data["scene"] for e in started] == ["ocean_night"]
    assert hass.states.get("switch.bedroom_ocean_at_night").state == "on"
    end = dt_util.parse_datetime(started[0].data["ends_at"])
    assert end == dt_util.utcnow() + timedelta(minutes=30)


async def test_does_not_start_on_other_days(
    hass: HomeAssistant, room: str, freezer: FrozenDateTimeFactory
) -> None:
    """On a day that is not chosen nothing happens."""
    started = async_capture_events(hass, "asmr_session_started")
    await _automate(hass, room, weekdays=["fri", "sat"])
    await _at(hass, freezer, "2026-11-26 22:30:00+00:00")
    assert not started
    assert hass.states.get("sensor.bedroom_phase").state == "idle"


async def test_optional_condition_holds_it_back(
    hass: HomeAssistant, room: str, freezer: FrozenDateTimeFactory
) -> None:
    """With "only if someone is home", an empty house stays dark; next night it runs."""
    hass.states.async_set(SOMEONE_HOME, "off")
    started = async_capture_events(hass, "asmr_session_started")
    await _automate(
        hass,
        room,
        weekdays=["thu", "fri"],
        only_if=[{"condition": "state", "entity_id": SOMEONE_HOME, "state": "on"}],
    )
    await _at(hass, freezer, "2026-11-26 22:30:00+00:00")
    assert not started
    hass.states.async_set(SOMEONE_HOME, "on")
    await _at(hass, freezer, "2026-11-27 22:30:00+00:00")
    assert len(started) == 1
