"""The fields shared by the actions and the MQTT commands, and the MQTT topic check.

One place for what a valid scene, duration, volume, brightness, ... is: the actions
(``services.py``), the MQTT commands (``mqtt_bridge.py``) and the voice intents read
them from here, and the options flow checks a room's MQTT topic as the bridge does.
"""

from __future__ import annotations

import math
from typing import Any, Final

import voluptuous as vol

from homeassistant.components import mqtt
from homeassistant.helpers import config_validation as cv

from .const import (
    CONF_BRIGHTNESS,
    CONF_COLOR_TEMP_KELVIN,
    CONF_DIM_SECONDS,
    CONF_FADE_OUT_SECONDS,
    CONF_MINUTES,
    CONF_SCENE,
    CONF_UNTIL,
    CONF_VOLUME,
    KELVIN_MAX,
    KELVIN_MIN,
    MINUTES_MAX,
    MINUTES_MIN,
    RAMP_SECONDS_MAX,
)
from .plan import StartRequest

ATTR_FADE: Final = "fade"


def finite(value: Any) -> Any:
    """Refuse an infinite number, which ``vol.Coerce(int)`` would let escape.

    ``int(float("inf"))`` raises ``OverflowError``, not the ``ValueError`` that
    ``vol.Coerce`` turns into a refusal (a script may say ``minutes: .inf``).
    """
    if isinstance(value, float) and math.isinf(value):
        raise vol.Invalid("expected a finite number")
    return value


MINUTES: Final = vol.All(
    finite, vol.Coerce(int), vol.Range(min=MINUTES_MIN, max=MINUTES_MAX)
)
"""A duration in minutes (1-720)."""
PERCENT: Final = vol.All(finite, vol.Coerce(int), vol.Range(min=1, max=100))
"""A volume or brightness in percent (1-100)."""
KELVIN: Final = vol.All(
    finite, vol.Coerce(int), vol.Range(min=KELVIN_MIN, max=KELVIN_MAX)
)
"""A colour temperature in kelvin."""
RAMP: Final = vol.All(finite, vol.Coerce(int), vol.Range(min=0, max=RAMP_SECONDS_MAX))
"""A dim or fade-out time in seconds."""
ONE_END: Final = (
    "two or more values in the same group: "
    f"give either {CONF_MINUTES} or {CONF_UNTIL}, not both"
)
"""The refusal of a start that names both ways to end."""

START_FIELDS: Final[dict[vol.Marker, Any]] = {
    vol.Optional(CONF_SCENE): cv.string,
    vol.Exclusive(CONF_MINUTES, "end", msg=ONE_END): MINUTES,
    vol.Exclusive(CONF_UNTIL, "end", msg=ONE_END): cv.time,
    vol.Optional(CONF_VOLUME): PERCENT,
    vol.Optional(CONF_BRIGHTNESS): PERCENT,
    vol.Optional(CONF_COLOR_TEMP_KELVIN): KELVIN,
    vol.Optional(CONF_DIM_SECONDS): RAMP,
    vol.Optional(CONF_FADE_OUT_SECONDS): RAMP,
}
"""The fields of a start request."""
STOP_FIELDS: Final[dict[vol.Marker, Any]] = {
    vol.Optional(ATTR_FADE, default=True): cv.boolean
}
"""The fields of a stop request."""
EXTEND_FIELDS: Final[dict[vol.Marker, Any]] = {vol.Required(CONF_MINUTES): MINUTES}
"""The fields of an extend request."""


def start_request(data: dict[str, Any]) -> StartRequest:
    """Return the start request that validated action or command data describe."""
    return StartRequest(
        **{key: data[key] for key in StartRequest.__dataclass_fields__ if key in data}
    )


def valid_base_topic(topic: str) -> str:
    """Return a room's MQTT base topic if it can carry its state and commands.

    The base is written as typed (no surrounding spaces), names no wildcard and does
    not end in ``/``; ``{topic}/state`` must be a topic to publish to and
    ``{topic}/set`` one to subscribe to. Raise ``vol.Invalid`` otherwise.
    """
    if (
        topic != topic.strip()
        or any(char in topic for char in "#+\0")
        or topic.endswith("/")
    ):
        raise vol.Invalid(f"not a base topic: {topic!r}")
    mqtt.valid_publish_topic(f"{topic}/state")
    mqtt.valid_subscribe_topic(f"{topic}/set")
    return topic
