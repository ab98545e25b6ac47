"""MQTT face of a room: retained JSON state out, JSON commands in."""

from __future__ import annotations

from collections.abc import Callable
import logging
from typing import Any

import voluptuous as vol
from voluptuous.humanize import humanize_error

from homeassistant.components import mqtt
from homeassistant.core import CALLBACK_TYPE, CoreState, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.json import json_dumps
from homeassistant.util.json import json_loads

from .const import CONF_MINUTES, CONF_MQTT_TOPIC
from .schema import (
    ATTR_FADE,
    EXTEND_FIELDS,
    START_FIELDS,
    STOP_FIELDS,
    start_request,
    valid_base_topic,
)
from .session import AsmrConfigEntry

_LOGGER = logging.getLogger(__name__)

ATTR_ACTION = "action"

COMMAND_SCHEMA = vol.Schema(
    cv.key_value_schemas(
        ATTR_ACTION,
        {
            "start": vol.Schema({vol.Required(ATTR_ACTION): "start", **START_FIELDS}),
            "stop": vol.Schema({vol.Required(ATTR_ACTION): "stop", **STOP_FIELDS}),
            "extend": vol.Schema(
                {vol.Required(ATTR_ACTION): "extend", **EXTEND_FIELDS}
            ),
        },
    )
)
"""A command on ``<mqtt_topic>/set``: the fields of the actions, plus ``action``."""


async def async_setup_mqtt_bridge(
    hass: HomeAssistant, entry: AsmrConfigEntry
) -> Callable[[], None]:
    """Publish the room's state and take its commands over MQTT; return the teardown."""
    base_topic: str = entry.options[CONF_MQTT_TOPIC]
    try:
        valid_base_topic(base_topic)
    except vol.Invalid as err:
        _LOGGER.warning(
            "Room %s cannot use MQTT topic %s: %s", entry.title, base_topic, err
        )
        return lambda: None
    return _MqttBridge(hass, entry, base_topic).async_start()


async def async_clear_mqtt_state(
    hass: HomeAssistant, entry: AsmrConfigEntry, base_topic: str | None = None
) -> None:
    """Remove a room's retained state from the broker, if MQTT is there.

    For a deleted room, or from ``base_topic``, the topic a room has left.
    """
    if base_topic is None:
        base_topic = entry.options.get(CONF_MQTT_TOPIC)
    if not base_topic:
        return
    try:
        await mqtt.async_publish(hass, f"{base_topic}/state", "", qos=1, retain=True)
    except Exception as err:  # noqa: BLE001 - best effort: the room's reload goes on
        _LOGGER.warning(
            "Could not clear the MQTT state of room %s on %s: %s",
            entry.title,
            base_topic,
            err,
        )


class _MqttBridge:
    """Translate between a room's session and its MQTT topics."""

    def __init__(
        self, hass: HomeAssistant, entry: AsmrConfigEntry, base_topic: str
    ) -> None:
        """Remember the room and its topics."""
        self._hass = hass
        self._entry = entry
        self._base_topic = base_topic
        self._state_topic = f"{self._base_topic}/state"
        self._command_topic = f"{self._base_topic}/set"
        self._connected = False
        self._closed = False
        self._told = False
        self._unsubscribe: CALLBACK_TYPE | None = None

    @callback
    def async_start(self) -> Callable[[], None]:
        """Start listening to the session and to MQTT; return the teardown."""
        remove_listener = self._entry.runtime_data.async_add_listener(
            self._async_session_changed
        )
        remove_status = mqtt.async_subscribe_connection_status(
            self._hass, self._async_connection_changed
        )
        task = self._entry.async_create_background_task(
            self._hass, self._async_wait_for_mqtt(), f"asmr mqtt {self._entry.title}"
        )

        @callback
        def async_teardown() -> None:
            """Stop publishing and taking commands."""
            self._closed = True
            self._connected = False
            task.cancel()
            remove_listener()
            remove_status()
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None

        return async_teardown

    async def _async_wait_for_mqtt(self) -> None:
        """Wait for the MQTT integration, then subscribe and publish."""
        if not await mqtt.async_wait_for_mqtt_client(self._hass):
            self._tell_once("the MQTT integration is not set up")
            return
        await self._async_subscribe()
        if mqtt.is_connected(self._hass):
            self._async_connection_changed(True)

    async def _async_subscribe(self) -> None:
        """Subscribe to the command topic once; MQTT keeps it across reconnects."""
        if self._unsubscribe is None and not self._closed:
            self._unsubscribe = await mqtt.async_subscribe(
                self._hass, self._command_topic, self._async_command
            )

    @callback
    def _async_connection_changed(self, connected: bool) -> None:
        """Subscribe and publish the state whenever MQTT (re)connects."""
        was_connected, self._connected = self._connected, connected
        if not connected:
            if was_connected and self._hass.state is CoreState.running:
                self._tell_once("the connection to the MQTT broker was lost")
            return
        if self._unsubscribe is None:
            self._entry.async_create_task(
                self._hass, self._async_subscribe(), "asmr mqtt subscribe"
            )
        self._async_session_changed()

    @callback
    def _async_session_changed(self) -> None:
        """Publish the session's state, retained."""
        if not self._connected:
            return
        session = self._entry.runtime_data
        payload = json_dumps(
            {
                "room": session.name,
                "phase": str(session.phase),
                "scene": session.scene,
                "ends_at": session.ends_at.isoformat() if session.ends_at else None,
                "volume": session.volume,
            }
        )
        self._entry.async_create_task(
            self._hass, self._async_publish(payload), "asmr mqtt publish"
        )

    async def _async_publish(self, payload: str) -> None:
        """Publish one state message."""
        try:
            await mqtt.async_publish(
                self._hass, self._state_topic, payload, qos=1, retain=True
            )
        except HomeAssistantError as err:
            _LOGGER.debug("Could not publish to %s: %s", self._state_topic, err)

    async def _async_command(self, msg: mqtt.ReceiveMessage) -> None:
        """Run one JSON command from the command topic."""
        if self._closed or not msg.payload:
            # Closed: MQTT reloaded since we subscribed, so our unsubscribe missed.
            # Empty: someone cleared a retained command.
            return
        if msg.retain:
            self._warn(msg, "retained commands are not run (they would replay)")
            return
        try:
            data = json_loads(msg.payload)
        except ValueError:
            self._warn(msg, "not JSON")
            return
        try:
            command: dict[str, Any] = COMMAND_SCHEMA(data)
        except vol.Invalid as err:
            self._warn(msg, humanize_error(data, err))
            return
        session = self._entry.runtime_data
        action = command[ATTR_ACTION]
        try:
            if action == "start":
                await session.async_start(start_request(command))
            elif action == "stop":
                await session.async_stop(fade=command[ATTR_FADE])
            else:
                await session.async_extend(command[CONF_MINUTES])
        except HomeAssistantError as err:
            self._warn(msg, str(err) or repr(err))

    def _tell_once(self, reason: str) -> None:
        """Say, once per room, that MQTT is unavailable and the room goes on without it."""
        if not self._told:
            self._told = True
            _LOGGER.warning(
                "Room %s has MQTT topic %s but %s; the room works without MQTT"
                " and publishes its state again once MQTT is back",
                self._entry.title,
                self._base_topic,
                reason,
            )

    def _warn(self, msg: mqtt.ReceiveMessage, problem: str) -> None:
        """Log that a command was ignored and why."""
        _LOGGER.warning(
            "Ignored MQTT command on %s: %s (payload: %.200s)",
            msg.topic,
            problem,
            msg.payload,
        )
