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
from homeassistant.components.light import ColorMode
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
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
        DemoLight(
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
