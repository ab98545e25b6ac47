"""Constants for the ASMR Scenes integration."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

DOMAIN: Final = "asmr"

CONF_LIGHTS: Final = "lights"
CONF_SPEAKERS: Final = "speakers"

CONF_SCENE: Final = "scene"
CONF_MINUTES: Final = "minutes"
CONF_UNTIL: Final = "until"
CONF_BRIGHTNESS: Final = "brightness"
CONF_COLOR_TEMP_KELVIN: Final = "color_temp_kelvin"
CONF_DIM_SECONDS: Final = "dim_seconds"
CONF_FADE_OUT_SECONDS: Final = "fade_out_seconds"
CONF_VOLUME: Final = "volume"
CONF_END_ACTION: Final = "end_action"
CONF_AUDIO_FORMAT: Final = "audio_format"
CONF_AVOID: Final = "avoid"
CONF_MQTT_TOPIC: Final = "mqtt_topic"
CONF_EXTEND_MINUTES: Final = "extend_minutes"
CONF_AREA: Final = "area"


class EndAction(StrEnum):
    """What happens to the room's lights when a session ends."""

    OFF = "off"
    RESTORE = "restore"
    KEEP = "keep"


AUDIO_FORMATS: Final = ("mp3", "flac", "ogg", "wav")

MINUTES_MIN: Final = 1
MINUTES_MAX: Final = 720
KELVIN_MIN: Final = 1500
KELVIN_MAX: Final = 6500
RAMP_SECONDS_MAX: Final = 3600

DEFAULT_SCENE: Final = "rain_on_window"
DEFAULT_OPTIONS: Final[dict[str, object]] = {
    CONF_SCENE: DEFAULT_SCENE,
    CONF_MINUTES: 45,
    CONF_BRIGHTNESS: 15,
    CONF_COLOR_TEMP_KELVIN: 2200,
    CONF_DIM_SECONDS: 120,
    CONF_FADE_OUT_SECONDS: 300,
    CONF_VOLUME: 25,
    CONF_END_ACTION: EndAction.OFF.value,
    CONF_AUDIO_FORMAT: "mp3",
    CONF_AVOID: [],
    CONF_MQTT_TOPIC: "",
    CONF_EXTEND_MINUTES: 15,
}
