"""Tests for a room's MQTT face, with a real mosquitto broker and a paho-mqtt client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
from datetime import datetime, timedelta
import json
import logging
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
import yaml

from custom_components.asmr.const import CONF_MQTT_TOPIC, DOMAIN
from homeassistant.components import mqtt
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_PORT, STATE_ON
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import add_room, room_entry
from .mosquitto import TIMEOUT, Broker, Peer, running_broker

BASE = "asmr/bedroom"
STATE = f"{BASE}/state"
SET = f"{BASE}/set"
LIGHT = "light.ceiling_lights"
BRIDGE_LOGGER = "custom_components.asmr.mqtt_bridge"

IDLE = {
    "room": "Bedroom",
    "phase": "idle",
    "scene": None,
    "ends_at": None,
    "volume": 25,
}

BAD_PAYLOADS = [
    "not json {",
    "[1, 2, 3]",
    '"start"',
    "42",
    '{"scene": "ocean_night"}',
    '{"action": "dance"}',
    '{"action": 7}',
    '{"action": "start", "scene": "no_such_scene"}',
    '{"action": "start", "minutes": "lots"}',
    '{"action": "start", "minutes": [30]}',
    '{"action": "start", "minutes": 0}',
    '{"action": "start", "minutes": 721}',
    '{"action": "start", "minutes": 30, "until": "23:30"}',
    '{"action": "start", "until": "25:99"}',
    '{"action": "start", "volume": 150}',
    '{"action": "start", "brightness": -1}',
    '{"action": "start", "color_temp_kelvin": 100}',
    '{"action": "start", "dim_seconds": "slowly"}',
    '{"action": "start", "colour": "warm"}',
    '{"action": "stop", "fade": "maybe"}',
    '{"action": "extend"}',
    '{"action": "extend", "minutes": -5}',
    '{"action": "extend", "minutes": 9999}',
]


@pytest.fixture(autouse=True)
def fast_reconnect() -> Generator[None]:
    """Let Home Assistant's MQTT client retry a lost broker quickly.

    Not much faster than this: a retry that overtakes the broker's CONNACK races in the
    MQTT client's socket handling.
    """
    with patch("homeassistant.components.mqtt.client.RECONNECT_INTERVAL_SECONDS", 0.5):
        yield


@pytest.fixture
async def lights(hass: HomeAssistant) -> None:
    """Set up an optimistic template light that dims and takes a colour temperature."""
    light = {
        "name": "Ceiling lights",
        "turn_on": [],
        "turn_off": [],
        "set_level": [],
        "set_temperature": [],
    }
    assert await async_setup_component(
        hass, "template", {"template": [{"light": [light]}]}
    )
    await hass.async_block_till_done()
    assert hass.states.get(LIGHT) is not None


@pytest.fixture
def broker(socket_enabled: None, tmp_path: Path) -> Generator[Broker]:
    """Run a real mosquitto on a free loopback port."""
    with running_broker(tmp_path) as running:
        yield running


async def setup_mqtt(hass: HomeAssistant, broker: Broker) -> MockConfigEntry:
    """Set up Home Assistant's MQTT integration against the broker; wait until connected."""
    entry = MockConfigEntry(
        domain=mqtt.DOMAIN,
        data={mqtt.CONF_BROKER: "127.0.0.1", CONF_PORT: broker.port},
        version=1,
        minor_version=2,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await wait_until(lambda: mqtt.is_connected(hass))
    return entry


@pytest.fixture
async def mqtt_entry(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None
) -> AsyncGenerator[MockConfigEntry]:
    """Set up Home Assistant's MQTT integration, connected to the broker."""
    entry = await setup_mqtt(hass, broker)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
def peer(broker: Broker) -> Generator[Peer]:
    """Return an independent MQTT client subscribed to the room's state."""
    client = Peer(broker.port)
    client.subscribe(STATE)
    yield client
    client.close()


@pytest.fixture
def fresh_peer(broker: Broker) -> Generator[Callable[[], Peer]]:
    """Return a factory for clients that subscribe to the room's state afresh."""
    clients: list[Peer] = []

    def connect() -> Peer:
        client = Peer(broker.port)
        clients.append(client)
        client.subscribe(STATE)
        return client

    yield connect
    for client in clients:
        client.close()


async def wait_until(condition: Callable[[], object]) -> None:
    """Wait (polling) until ``condition()`` is true."""
    async with asyncio.timeout(TIMEOUT):
        while not condition():
            await asyncio.sleep(0.02)


async def subscribed(hass: HomeAssistant, topic: str = SET) -> None:
    """Wait until Home Assistant's MQTT client is subscribed to ``topic`` (the commands)."""
    done = asyncio.Event()
    remove = mqtt.async_on_subscribe_done(hass, topic, 0, done.set)
    try:
        async with asyncio.timeout(TIMEOUT):
            await done.wait()
    finally:
        remove()


async def hass_hears(
    hass: HomeAssistant, topic: str
) -> tuple[list[str], CALLBACK_TYPE]:
    """Subscribe in Home Assistant too; return what it hears on ``topic`` and the stop."""
    heard: list[str] = []
    stop = await mqtt.async_subscribe(
        hass, topic, lambda msg: heard.append(str(msg.payload))
    )
    return heard, stop


def bridge_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the warnings the MQTT bridge logged."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == BRIDGE_LOGGER and record.levelno == logging.WARNING
    ]


def ends_at(state: dict[str, Any]) -> datetime:
    """Return the end a state message announces."""
    moment = dt_util.parse_datetime(state["ends_at"])
    assert moment is not None
    return moment


@pytest.fixture
async def room(
    hass: HomeAssistant, lights: None, mqtt_entry: MockConfigEntry
) -> AsyncGenerator[MockConfigEntry]:
    """Set up the Bedroom, with its MQTT topic, once MQTT is connected."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    yield entry
    await hass.config_entries.async_unload(entry.entry_id)


async def test_fresh_subscriber_sees_retained_state(
    hass: HomeAssistant, room: MockConfigEntry, fresh_peer: Callable[[], Peer]
) -> None:
    """A client that subscribes after the room loaded gets its state, retained."""
    client = fresh_peer()
    assert await client.wait_for(STATE) == IDLE
    assert client.received(STATE)[0].retain


async def test_commands_start_extend_and_stop(
    hass: HomeAssistant,
    room: MockConfigEntry,
    peer: Peer,
    fresh_peer: Callable[[], Peer],
) -> None:
    """Commands on the set topic start, extend and stop; each change is published."""
    await peer.wait_for(STATE, lambda state: state == IDLE)

    peer.publish(SET, '{"action": "start", "scene": "ocean_night", "minutes": 30}')
    started = await peer.wait_for(STATE, lambda state: state["phase"] == "playing")
    assert started["scene"] == "ocean_night"
    assert started["room"] == "Bedroom"
    assert abs(ends_at(started) - dt_util.utcnow() - timedelta(minutes=30)) < timedelta(
        minutes=1
    )
    light = hass.states.get(LIGHT)
    assert light is not None
    assert (light.state, light.attributes["brightness"]) == (STATE_ON, 38)  # 15 %
    assert await fresh_peer().wait_for(STATE) == started

    peer.publish(SET, '{"action": "extend", "minutes": 10}')
    extended = await peer.wait_for(STATE, lambda state: state != started)
    assert ends_at(extended) - ends_at(started) == timedelta(minutes=10)
    assert extended["phase"] == "playing"

    peer.publish(SET, '{"action": "stop", "fade": false}')
    assert await peer.wait_for(STATE, lambda state: state["phase"] == "idle") == IDLE
    assert await fresh_peer().wait_for(STATE) == IDLE


async def test_stop_fades_out_then_ends(
    hass: HomeAssistant, room: MockConfigEntry, peer: Peer
) -> None:
    """A plain stop command fades the session out and the room ends idle."""
    peer.publish(
        SET,
        json.dumps(
            {"action": "start", "until": "23:30", "volume": 40, "fade_out_seconds": 60}
        ),
    )
    started = await peer.wait_for(STATE, lambda state: state["phase"] == "playing")
    assert started["volume"] == 40
    assert dt_util.as_local(ends_at(started)).strftime("%H:%M") == "23:30"

    peer.publish(SET, '{"action": "stop"}')
    fading = await peer.wait_for(STATE, lambda state: state["phase"] == "fading")
    assert ends_at(fading) <= dt_util.utcnow() + timedelta(seconds=60)

    async_fire_time_changed(hass, ends_at(fading) + timedelta(seconds=1))
    assert await peer.wait_for(STATE, lambda state: state["phase"] == "idle") == IDLE


async def test_bad_payloads_change_nothing(
    hass: HomeAssistant,
    room: MockConfigEntry,
    peer: Peer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each bad command is ignored with one warning; the running session is untouched."""
    peer.publish(SET, '{"action": "start", "scene": "forest_stream", "minutes": 20}')
    running = await peer.wait_for(STATE, lambda state: state["phase"] == "playing")
    await hass.async_block_till_done()
    published = len(peer.received(STATE))
    caplog.clear()

    for payload in BAD_PAYLOADS:
        peer.publish(SET, payload)
    await wait_until(lambda: len(bridge_warnings(caplog)) >= len(BAD_PAYLOADS))
    await hass.async_block_till_done()

    warnings = bridge_warnings(caplog)
    assert len(warnings) == len(BAD_PAYLOADS)
    assert all(SET in warning for warning in warnings)
    assert "not JSON" in warnings[0]
    assert "Expected a dictionary" in warnings[1]
    problems = [warning.partition(" (payload: ")[0] for warning in warnings]
    assert "no_such_scene" in problems[7]
    assert "minutes" in problems[8]
    assert len(peer.received(STATE)) == published
    session = room.runtime_data
    assert (str(session.phase), session.scene) == ("playing", "forest_stream")
    assert session.ends_at is not None
    assert session.ends_at.isoformat() == running["ends_at"]
    assert room.state is ConfigEntryState.LOADED


async def test_extend_while_idle_is_refused(
    hass: HomeAssistant,
    room: MockConfigEntry,
    peer: Peer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Extending a room that plays nothing is ignored with a warning."""
    await peer.wait_for(STATE, lambda state: state == IDLE)
    peer.publish(SET, '{"action": "extend", "minutes": 10}')
    await wait_until(lambda: bridge_warnings(caplog))
    await hass.async_block_till_done()
    assert len(bridge_warnings(caplog)) == 1
    assert str(room.runtime_data.phase) == "idle"
    assert peer.payloads(STATE) == [IDLE]


async def test_retained_command_is_not_replayed(
    hass: HomeAssistant,
    lights: None,
    mqtt_entry: MockConfigEntry,
    peer: Peer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A command left retained on the broker does not start a session when the room loads."""
    peer.publish(SET, '{"action": "start", "minutes": 5}', retain=True)
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    await wait_until(lambda: bridge_warnings(caplog))
    await hass.async_block_till_done()
    assert "retained" in bridge_warnings(caplog)[0]
    assert str(entry.runtime_data.phase) == "idle"
    heard, stop = await hass_hears(hass, SET)
    await subscribed(hass)
    peer.publish(SET, b"", retain=True)  # clear it: an empty message is no warning
    await wait_until(lambda: "" in heard)
    await hass.async_block_till_done()
    stop()
    assert len(bridge_warnings(caplog)) == 1
    await hass.config_entries.async_unload(entry.entry_id)


async def test_room_loads_without_mqtt_and_warns_once(
    hass: HomeAssistant, lights: None, caplog: pytest.LogCaptureFixture
) -> None:
    """Without the MQTT integration the room works and says so once."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED

    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "minutes": 10},
        blocking=True,
    )
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": entry.entry_id, "fade": False},
        blocking=True,
    )
    await hass.async_block_till_done(wait_background_tasks=True)

    warnings = bridge_warnings(caplog)
    assert len(warnings) == 1
    assert "MQTT integration is not set up" in warnings[0]
    assert BASE in warnings[0]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_invalid_topic_is_refused_with_a_warning(
    hass: HomeAssistant, lights: None, caplog: pytest.LogCaptureFixture
) -> None:
    """A topic MQTT cannot use (say, edited by hand) leaves the room working, and says so."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic="asmr/+/x"))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    warnings = bridge_warnings(caplog)
    assert len(warnings) == 1
    assert "asmr/+/x" in warnings[0]
    await hass.config_entries.async_unload(entry.entry_id)


async def test_mqtt_set_up_after_the_room(
    hass: HomeAssistant,
    lights: None,
    broker: Broker,
    mock_hass_config: None,
    peer: Peer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When MQTT arrives after the room, the room starts publishing and listening."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(bridge_warnings(caplog)) == 1

    mqtt_config = await setup_mqtt(hass, broker)
    assert await peer.wait_for(STATE) == IDLE
    await subscribed(hass)
    peer.publish(SET, '{"action": "start", "minutes": 15}')
    assert (await peer.wait_for(STATE, lambda s: s["phase"] == "playing"))["scene"]
    peer.publish(SET, '{"action": "stop", "fade": false}')
    await peer.wait_for(STATE, lambda state: state == IDLE)
    assert len(bridge_warnings(caplog)) == 1

    await hass.config_entries.async_unload(entry.entry_id)
    await hass.config_entries.async_unload(mqtt_config.entry_id)


async def test_broker_restart_republishes_and_resubscribes(
    hass: HomeAssistant,
    room: MockConfigEntry,
    broker: Broker,
    fresh_peer: Callable[[], Peer],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the broker restarts (losing everything), the state and commands come back."""
    assert await fresh_peer().wait_for(STATE) == IDLE
    for _ in range(2):
        broker.stop()
        await wait_until(lambda: not mqtt.is_connected(hass))
        broker.start()
        await wait_until(lambda: mqtt.is_connected(hass))
    warnings = bridge_warnings(caplog)
    assert len(warnings) == 1  # said once, not at every loss
    assert "connection to the MQTT broker was lost" in warnings[0]

    client = fresh_peer()
    assert await client.wait_for(STATE) == IDLE
    await subscribed(hass)
    client.publish(SET, '{"action": "start", "minutes": 15}')
    await client.wait_for(STATE, lambda state: state["phase"] == "playing")
    client.publish(SET, '{"action": "stop", "fade": false}')
    await client.wait_for(STATE, lambda state: state == IDLE)


async def test_mqtt_reload_publishes_what_changed_meanwhile(
    hass: HomeAssistant,
    room: MockConfigEntry,
    mqtt_entry: MockConfigEntry,
    fresh_peer: Callable[[], Peer],
) -> None:
    """A session started while MQTT was away is published when MQTT is back; commands work once."""
    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": room.entry_id, "minutes": 10},
        blocking=True,
    )
    assert await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await wait_until(lambda: mqtt.is_connected(hass))

    client = fresh_peer()
    started = await client.wait_for(STATE, lambda state: state["phase"] == "playing")
    await subscribed(hass)
    client.publish(SET, '{"action": "extend", "minutes": 10}')
    extended = await client.wait_for(STATE, lambda state: state != started)
    await hass.async_block_till_done()
    assert ends_at(extended) - ends_at(started) == timedelta(minutes=10)
    assert client.payloads(STATE)[-1] == extended
    client.publish(SET, '{"action": "stop", "fade": false}')
    await client.wait_for(STATE, lambda state: state == IDLE)


async def test_unloaded_room_stops_listening(
    hass: HomeAssistant,
    lights: None,
    mqtt_entry: MockConfigEntry,
    peer: Peer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the room unloads, its command topic is ignored."""
    entry = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    await peer.wait_for(STATE, lambda state: state == IDLE)
    session = entry.runtime_data
    heard, stop = await hass_hears(hass, SET)
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    await subscribed(hass)

    peer.publish(SET, '{"action": "start", "minutes": 15}')
    peer.publish(SET, "not json")
    await wait_until(lambda: len(heard) == 2)
    await hass.async_block_till_done()
    stop()
    assert str(session.phase) == "idle"
    assert not bridge_warnings(caplog)
    assert peer.payloads(STATE) == [IDLE]


REMOTE_AUTOMATION = """
alias: "Bedside remote drives the bedroom's ASMR"
mode: queued
triggers:
  - trigger: mqtt
    topic: "zigbee2mqtt/Bedside remote"
    value_template: "{{ value_json.action }}"
    payload: "on"
    id: start
  - trigger: mqtt
    topic: "zigbee2mqtt/Bedside remote"
    value_template: "{{ value_json.action }}"
    payload: "off"
    id: stop
  - trigger: mqtt
    topic: "zigbee2mqtt/Bedside remote"
    value_template: "{{ value_json.action }}"
    payload: "brightness_move_up"
    id: extend
actions:
  - action: mqtt.publish
    data:
      topic: asmr/bedroom/set
      payload: >-
        {{ {"start": {"action": "start", "minutes": 45},
            "stop": {"action": "stop"},
            "extend": {"action": "extend", "minutes": 10}}[trigger.id] | to_json }}
"""
"""The README's Zigbee2MQTT example, word for word."""


async def test_readme_zigbee2mqtt_remote(
    hass: HomeAssistant, room: MockConfigEntry, peer: Peer
) -> None:
    """The README's automation turns a Zigbee2MQTT remote's presses into commands."""
    assert await async_setup_component(
        hass, "automation", {"automation": [yaml.safe_load(REMOTE_AUTOMATION)]}
    )
    await hass.async_block_till_done()
    remote = "zigbee2mqtt/Bedside remote"
    await wait_until(
        lambda: hass.states.get("automation.bedside_remote_drives_the_bedroom_s_asmr")
    )
    await subscribed(hass, remote)

    peer.publish(remote, '{"action": "on", "battery": 87}')
    started = await peer.wait_for(STATE, lambda state: state["phase"] == "playing")
    peer.publish(remote, '{"action": "brightness_move_up"}')
    extended = await peer.wait_for(STATE, lambda state: state != started)
    assert ends_at(extended) - ends_at(started) == timedelta(minutes=10)
    peer.publish(remote, '{"action": "off"}')
    await peer.wait_for(STATE, lambda state: state["phase"] == "fading")


async def test_deleted_room_clears_its_retained_state(
    hass: HomeAssistant,
    lights: None,
    mqtt_entry: MockConfigEntry,
    fresh_peer: Callable[[], Peer],
) -> None:
    """Deleting a room removes its retained state, so no client sees a ghost room."""
    room = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    assert await fresh_peer().wait_for(STATE) == IDLE
    assert await hass.config_entries.async_remove(room.entry_id)
    await hass.async_block_till_done()
    client = fresh_peer()
    client.subscribe(f"{BASE}/marker")
    client.publish(f"{BASE}/marker", "{}")
    await client.wait_for(f"{BASE}/marker")
    assert client.received(STATE) == []


@pytest.mark.parametrize("new_topic", ["asmr/bed", ""])
async def test_a_changed_topic_clears_the_old_retained_state(
    hass: HomeAssistant,
    lights: None,
    mqtt_entry: MockConfigEntry,
    fresh_peer: Callable[[], Peer],
    new_topic: str,
) -> None:
    """Moving a room to another topic, or off MQTT, leaves no ghost on the old one."""
    room = await add_room(hass, room_entry(lights=[LIGHT], mqtt_topic=BASE))
    await subscribed(hass)
    assert await fresh_peer().wait_for(STATE) == IDLE
    hass.config_entries.async_update_entry(
        room, options={**room.options, CONF_MQTT_TOPIC: new_topic}
    )
    await hass.async_block_till_done()
    client = fresh_peer()
    client.subscribe(f"{BASE}/marker")
    client.publish(f"{BASE}/marker", "{}")
    await client.wait_for(f"{BASE}/marker")
    assert client.received(STATE) == []
    if new_topic:
        moved = fresh_peer()
        moved.subscribe(f"{new_topic}/state")
        assert await moved.wait_for(f"{new_topic}/state") == IDLE
    await hass.config_entries.async_unload(room.entry_id)
