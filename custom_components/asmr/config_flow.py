"""Config flow for ASMR Scenes: one config entry per room."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.selector import (
    AreaSelector,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import slugify

from .const import (
    AUDIO_FORMATS,
    CONF_AREA,
    CONF_AUDIO_FORMAT,
    CONF_AVOID,
    CONF_BRIGHTNESS,
    CONF_COLOR_TEMP_KELVIN,
    CONF_DIM_SECONDS,
    CONF_END_ACTION,
    CONF_EXTEND_MINUTES,
    CONF_FADE_OUT_SECONDS,
    CONF_LIGHTS,
    CONF_MINUTES,
    CONF_MQTT_TOPIC,
    CONF_SCENE,
    CONF_SPEAKERS,
    CONF_VOLUME,
    DEFAULT_OPTIONS,
    DOMAIN,
    KELVIN_MAX,
    KELVIN_MIN,
    MINUTES_MAX,
    MINUTES_MIN,
    RAMP_SECONDS_MAX,
    EndAction,
)
from .engine import (
    SCENES,
    TRIGGERS,
    EngineError,
    available_formats,
    playable_format,
    resolve_scene,
)
from .schema import valid_base_topic


def _own_players(hass: HomeAssistant) -> list[str]:
    """Return the rooms' own media players, which cannot be a room's speakers."""
    return [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN and entry.domain == "media_player"
    ]


def _targets_schema(
    hass: HomeAssistant, lights: list[str], speakers: list[str]
) -> dict[vol.Marker, Any]:
    """Return the schema fields that choose a room's lights and speakers."""
    return {
        vol.Optional(CONF_LIGHTS, default=lights): EntitySelector(
            EntitySelectorConfig(domain="light", multiple=True)
        ),
        vol.Optional(CONF_SPEAKERS, default=speakers): EntitySelector(
            EntitySelectorConfig(
                domain="media_player",
                multiple=True,
                exclude_entities=_own_players(hass),
            )
        ),
    }


def _validate_targets(
    hass: HomeAssistant, user_input: dict[str, Any]
) -> dict[str, str]:
    """Return form errors for the chosen lights and speakers."""
    if not user_input.get(CONF_LIGHTS) and not user_input.get(CONF_SPEAKERS):
        return {"base": "no_targets"}
    registry = er.async_get(hass)
    errors: dict[str, str] = {}
    for key in (CONF_LIGHTS, CONF_SPEAKERS):
        for entity_id in user_input.get(key, []):
            if (
                hass.states.get(entity_id) is None
                and entity_id not in registry.entities
            ):
                errors[key] = "entity_not_found"
    return errors


class AsmrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Create a room: its name, lights and speakers."""

    VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the room's name, lights and speakers."""
        errors: dict[str, str] = {}
        if user_input is not None:
            name = user_input[CONF_NAME].strip()
            await self.async_set_unique_id(slugify(name))
            self._abort_if_unique_id_configured()
            errors = _validate_targets(self.hass, user_input)
            if not errors:
                return self.async_create_entry(
                    title=name,
                    data={
                        CONF_NAME: name,
                        CONF_LIGHTS: user_input.get(CONF_LIGHTS, []),
                        CONF_SPEAKERS: user_input.get(CONF_SPEAKERS, []),
                        **(
                            {CONF_AREA: user_input[CONF_AREA]}
                            if user_input.get(CONF_AREA)
                            else {}
                        ),
                    },
                    options=dict(DEFAULT_OPTIONS),
                )
        user_input = user_input or {}
        schema = vol.Schema(
            {
                vol.Required(
                    CONF_NAME, default=user_input.get(CONF_NAME, vol.UNDEFINED)
                ): TextSelector(),
                vol.Optional(
                    CONF_AREA, default=user_input.get(CONF_AREA, vol.UNDEFINED)
                ): AreaSelector(),
                **_targets_schema(
                    self.hass,
                    user_input.get(CONF_LIGHTS, []),
                    user_input.get(CONF_SPEAKERS, []),
                ),
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema, errors=errors)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the room's lights and speakers."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _validate_targets(self.hass, user_input)
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_LIGHTS: user_input.get(CONF_LIGHTS, []),
                        CONF_SPEAKERS: user_input.get(CONF_SPEAKERS, []),
                    },
                )
        current = user_input or entry.data
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=vol.Schema(
                _targets_schema(self.hass, current[CONF_LIGHTS], current[CONF_SPEAKERS])
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> AsmrOptionsFlow:
        """Return the options flow that holds the room's session defaults."""
        return AsmrOptionsFlow()


def _number(low: int, high: int, unit: str, step: int = 1) -> NumberSelector:
    """Return a number box selector."""
    return NumberSelector(
        NumberSelectorConfig(
            min=low,
            max=high,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


def _current_options(options: dict[str, Any]) -> dict[str, Any]:
    """Return the room's options with defaults, its audio format one that works here."""
    current = {**DEFAULT_OPTIONS, **options}
    current[CONF_AUDIO_FORMAT] = playable_format(str(current[CONF_AUDIO_FORMAT]))
    return current


def _options_schema(options: dict[str, Any]) -> vol.Schema:
    """Return the options form, filled with the current options.

    Fields that may be left empty (the avoid list, the MQTT topic) are only suggested:
    the frontend leaves an emptied field out, which must clear it rather than bring the
    old value back as a default would.
    """
    current = _current_options(options)

    def opt(key: str) -> vol.Optional:
        if key in _CLEARABLE:
            return vol.Optional(key)
        return vol.Optional(key, default=current[key])

    return vol.Schema(
        {
            opt(CONF_SCENE): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=scene.id, label=scene.name)
                        for scene in SCENES.values()
                    ],
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            opt(CONF_MINUTES): _number(MINUTES_MIN, MINUTES_MAX, "min"),
            opt(CONF_EXTEND_MINUTES): _number(MINUTES_MIN, MINUTES_MAX, "min"),
            opt(CONF_BRIGHTNESS): _number(1, 100, "%"),
            opt(CONF_COLOR_TEMP_KELVIN): _number(KELVIN_MIN, KELVIN_MAX, "K", 50),
            opt(CONF_DIM_SECONDS): _number(0, RAMP_SECONDS_MAX, "s"),
            opt(CONF_FADE_OUT_SECONDS): _number(0, RAMP_SECONDS_MAX, "s"),
            opt(CONF_VOLUME): _number(1, 100, "%"),
            opt(CONF_END_ACTION): SelectSelector(
                SelectSelectorConfig(
                    options=[action.value for action in EndAction],
                    translation_key=CONF_END_ACTION,
                    mode=SelectSelectorMode.LIST,
                )
            ),
            opt(CONF_AUDIO_FORMAT): SelectSelector(
                SelectSelectorConfig(
                    options=[f for f in AUDIO_FORMATS if f in available_formats()],
                    translation_key=CONF_AUDIO_FORMAT,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            opt(CONF_AVOID): SelectSelector(
                SelectSelectorConfig(
                    options=list(TRIGGERS),
                    translation_key="trigger",
                    multiple=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            opt(CONF_MQTT_TOPIC): TextSelector(),
        }
    )


def _validate_options(options: dict[str, Any]) -> dict[str, str]:
    """Return form errors for the options."""
    errors: dict[str, str] = {}
    try:
        resolve_scene(options[CONF_SCENE], avoid=options[CONF_AVOID])
    except EngineError:
        errors[CONF_AVOID] = "scene_empty"
    topic = options[CONF_MQTT_TOPIC]
    if topic:
        try:
            valid_base_topic(topic)
        except vol.Invalid:
            errors[CONF_MQTT_TOPIC] = "invalid_topic"
    return errors


_CLEARABLE: dict[str, Any] = {CONF_AVOID: [], CONF_MQTT_TOPIC: ""}
"""Options that may be left empty in the form, with their empty value."""


class AsmrOptionsFlow(OptionsFlow):
    """Edit a room's session defaults."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the room's defaults."""
        errors: dict[str, str] = {}
        if user_input is not None:
            options = {
                **_CLEARABLE,
                **user_input,
                **{
                    key: int(user_input[key])
                    for key in (
                        CONF_MINUTES,
                        CONF_EXTEND_MINUTES,
                        CONF_BRIGHTNESS,
                        CONF_COLOR_TEMP_KELVIN,
                        CONF_DIM_SECONDS,
                        CONF_FADE_OUT_SECONDS,
                        CONF_VOLUME,
                    )
                },
            }
            errors = _validate_options(options)
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(dict(self.config_entry.options)),
                user_input or _current_options(dict(self.config_entry.options)),
            ),
            errors=errors,
        )
