"""Helpers shared by the ASMR Scenes tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
import time
from typing import Any

from mpd import MPDClient
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    mock_platform,
)

from custom_components.asmr.const import (
    CONF_LIGHTS,
    CONF_SPEAKERS,
    DEFAULT_OPTIONS,
    DOMAIN,
)
from homeassistant.components.demo.light import DemoLight
from homeassistant.components.light.const import ColorMode
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component


def room_entry(
    name: str = "Bedroom",
    lights: list[str] | None = None,
    speakers: list[str] | None = None,
    **options: Any,
) -> MockConfigEntry:
    """Return a room's config entry as the config flow would create it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=name,
        unique_id=name.lower(),
        data={
            CONF_NAME: name,
            CONF_LIGHTS: lights if lights is not None else ["light.bedroom"],
            CONF_SPEAKERS: speakers if speakers is not None else [],
        },
        options={**DEFAULT_OPTIONS, **options},
    )


async def add_room(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    """Add a room's config entry to Home Assistant and set it up."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


BED_LIGHT = "light.demo_lights_bed"
COLOUR_LIGHT = "light.demo_lights_colour"


async def setup_entities(
    hass: HomeAssistant, domain: str, platform: str, entities: Sequence[Entity]
) -> None:
    """Set up ``entities`` under the real ``domain`` component, as platform ``platform``."""

    async def setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        add_entities(entities)

    mock_platform(
        hass, f"{platform}.{domain}", MockPlatform(async_setup_platform=setup_platform)
    )
    assert await async_setup_component(hass, domain, {domain: [{"platform": platform}]})
    await hass.async_block_till_done()


class PluggedLight(DemoLight):
    """A demo light whose power can go and come back, as a bulb's does."""

    @callback
    def power(self, *, on: bool | None, brightness: int = 255) -> None:
        """Lose power (None: unavailable), or get it back on or off."""
        self._available = on is not None
        if on is not None:
            self._state = on
            self._brightness = brightness
        self.async_write_ha_state()


async def setup_lights(hass: HomeAssistant) -> list[str]:
    """Set up two of Home Assistant's demo lights: a white one and a colour-only one."""
    entities = [
        DemoLight(
            unique_id="bed",
            device_name="Bed light",
            state=True,
            available=True,
            brightness=255,
            ct=4000,
        ),
        PluggedLight(
            unique_id="colour",
            device_name="Colour lamp",
            state=False,
            available=True,
            hs_color=(30, 80),
            supported_color_modes={ColorMode.HS},
        ),
    ]

    await setup_entities(hass, "light", "demo_lights", entities)
    return [BED_LIGHT, COLOUR_LIGHT]


async def setup_http(hass: HomeAssistant, port: int) -> str:
    """Start Home Assistant's real HTTP server on 127.0.0.1; return its internal URL."""
    url = f"http://127.0.0.1:{port}"
    await async_process_ha_core_config(hass, {"internal_url": url})
    assert await async_setup_component(
        hass, "http", {"http": {"server_host": "127.0.0.1", "server_port": port}}
    )
    await hass.http.start()
    return url


async def setup_mpd(hass: HomeAssistant, port: int) -> str:
    """Add Home Assistant's MPD integration for an MPD server; return its entity id."""
    entry = MockConfigEntry(
        domain="mpd", title="Bedroom speaker", data={"host": "127.0.0.1", "port": port}
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    entity_id = er.async_get(hass).async_get_entity_id(
        "media_player", "mpd", entry.entry_id
    )
    assert entity_id is not None
    return entity_id


async def wait_for(
    hass: HomeAssistant,
    check: Callable[[], bool],
    *,
    refresh: str | None = None,
    timeout: float = 20,
    what: str = "",
) -> None:
    """Wait (in real time) until ``check`` holds, refreshing a polled entity meanwhile."""
    for _ in range(round(timeout / 0.2)):
        if check():
            return
        if refresh is not None:
            await async_update_entity(hass, refresh)
        await hass.async_block_till_done()
        await asyncio.sleep(0.2)
    raise AssertionError(f"condition not reached in {timeout} s: {what}")


def mpd_status(port: int) -> dict[str, str]:
    """Return MPD's own status, asked directly over its protocol."""
    client = MPDClient()
    client.connect("127.0.0.1", port)
    try:
        status: dict[str, str] = client.status()
    finally:
        client.disconnect()
    return status


def mpd_pause_song(port: int, volume: int) -> None:
    """Leave MPD paused in a song at a volume, as a listener might before bed."""
    client = MPDClient()
    client.connect("127.0.0.1", port)
    try:
        client.update()
        while "updating_db" in client.status():
            time.sleep(0.05)
        client.add("lullaby.wav")
        client.setvol(volume)
        client.play()
        client.pause(1)
    finally:
        client.disconnect()


def room_problems(
    hass: HomeAssistant,
    room: str,
    entry_id: str,
    started: Sequence[Any],
    ended: Sequence[Any],
    storage: dict[str, Any],
) -> list[str]:
    """Return what is inconsistent in a room at rest (nothing, if all is well).

    A room at rest is idle with nothing stored, no scene switch on and as many ended
    as started events; or it runs one session: playing or fading, stored, one scene
    switch on and one more started than ended event. ``started`` and ``ended`` are
    the captured ``asmr_session_started`` / ``asmr_session_ended`` events.
    """
    phase = hass.states.get(f"sensor.{room}_phase")
    if phase is None:
        return [f"{room}: no phase sensor"]
    running = sum(e.data["config_entry_id"] == entry_id for e in started) - sum(
        e.data["config_entry_id"] == entry_id for e in ended
    )
    stored = storage.get(f"{DOMAIN}.{entry_id}") is not None
    switches_on = [
        state.entity_id
        for state in hass.states.async_all("switch")
        if state.entity_id.startswith(f"switch.{room}_") and state.state == "on"
    ]
    expected = {"idle": 0, "playing": 1, "fading": 1}.get(phase.state)
    if expected is None:
        return [f"{room}: phase {phase.state} at rest"]
    problems = []
    if running != expected:
        problems.append(f"{room}: {phase.state} after {running:+d} started-ended")
    if stored != bool(expected):
        problems.append(f"{room}: {phase.state} but stored={stored}")
    if len(switches_on) != expected:
        problems.append(f"{room}: {phase.state} with switches on {switches_on}")
    return problems


def state_of(hass: HomeAssistant, entity_id: str) -> State:
    """Return an entity's state, which must exist."""
    state = hass.states.get(entity_id)
    assert state is not None, f"{entity_id} has no state"
    return state
