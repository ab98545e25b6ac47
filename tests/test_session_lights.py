"""Lights the session fades are not taken for lights changed by hand.

Home Assistant credits a device's updates to the caller for a few seconds only: a
polled or Zigbee light reports the steps of a long transition later, in a foreign
context. Those reports are the session's own; a person's change is not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.asmr.const import DOMAIN
from homeassistant.components.light import ATTR_BRIGHTNESS
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant

from .common import BED_LIGHT, add_room, room_entry, setup_lights

START = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)


@pytest.fixture
async def room(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """Start a 30-minute session (120-s dim) in a room with the bed light at full."""
    freezer.move_to(START)
    await setup_lights(hass)
    entry = await add_room(
        hass,
        room_entry(
            lights=[BED_LIGHT],
            speakers=[],
            minutes=30,
            dim_seconds=120,
            fade_out_seconds=300,
            end_action="off",
        ),
    )
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    return entry.entry_id


async def _at(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move to a moment of the session (seconds after its start)."""
    freezer.move_to(START + timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _light_reports(hass: HomeAssistant, state: str, brightness: int | None) -> None:
    """Write a light's state as its integration does on a late poll: foreign context."""
    attributes: dict[str, Any] = dict(hass.states.get(BED_LIGHT).attributes)
    attributes[ATTR_BRIGHTNESS] = brightness
    hass.states.async_set(BED_LIGHT, state, attributes, context=Context())


async def _ends_off(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """Reach the end of the session; return the light's state."""
    await _at(hass, freezer, 30 * 60 - 300)
    await _at(hass, freezer, 30 * 60)
    assert hass.states.get("sensor.bedroom_phase").state == "idle"
    return hass.states.get(BED_LIGHT).state


async def test_late_reports_of_the_dim_and_the_fade_are_ours(
    hass: HomeAssistant, room: str, freezer: FrozenDateTimeFactory
) -> None:
    """Steps of the 120-s dim and the 300-s fade reported late: the light goes off."""
    for seconds, brightness in ((10, 250), (60, 200), (90, 120), (150, 60), (200, 38)):
        await _at(hass, freezer, seconds)
        _light_reports(hass, STATE_ON, brightness)
        await hass.async_block_till_done()
    await _at(hass, freezer, 30 * 60 - 300)  # the fade-out: 38 down to 1 %
    for seconds, brightness in ((20, 38), (120, 30), (250, 12), (290, 5)):
        await _at(hass, freezer, 30 * 60 - 300 + seconds)
        _light_reports(hass, STATE_ON, brightness)
        await hass.async_block_till_done()
    assert await _ends_off(hass, freezer) == STATE_OFF


@pytest.mark.parametrize(
    ("seconds", "state", "brightness"),
    [
        (60, STATE_OFF, None),  # switched off at the wall or by an app mid-dim
        (300, STATE_ON, 255),  # brightened after the dim
        (100, STATE_ON, 255),  # brightened back during the dim
    ],
    ids=["off_mid_dim", "bright_after_dim", "bright_during_dim"],
)
async def test_a_persons_change_is_still_seen(
    hass: HomeAssistant,
    room: str,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    state: str,
    brightness: int | None,
) -> None:
    """A change off the session's path (no Home Assistant user): the light is left alone."""
    await _at(hass, freezer, seconds)
    _light_reports(hass, state, brightness)
    await hass.async_block_till_done()
    await _ends_off(hass, freezer)
    light = hass.states.get(BED_LIGHT)
    assert light.state == state
    assert light.attributes.get(ATTR_BRIGHTNESS) == brightness
