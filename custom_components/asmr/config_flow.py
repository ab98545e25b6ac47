"""Config flow for ASMR Scenes: one config entry per room."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.exceptions import HomeAssistantError
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
    MIX_LAYERS,
    MIX_LEVEL_DB,
    PLACEMENTS,
    SCENES,
    TRIGGERS,
    EngineError,
    MixLayer,
    Scene,
    available_formats,
    mix_scene,
    playable_format,
    resolve_scene,
    variant_names,
)
from .mixes import (
    CONF_LAYERS,
    CONF_LEVEL_DB,
    CONF_PLACEMENT,
    SUBENTRY_MIX,
    layers_data,
    mix_layers,
    room_mixes,
)
from .schema import valid_base_topic


def _own_players(hass: HomeAssistant) -> list[str]:
    """Return the rooms' own media players, which cannot be a room's speakers."""
    return [
        entry.entity_id
        for entry in er.async_get(hass).entities.values()
        if entry.platform == DOMAIN and entry.domain == "media_player"
    ]


def _targets_schema(hass: HomeAssistant) -> dict[vol.Marker, Any]:
    """Return the schema fields that choose a room's lights and speakers.

    They have no defaults: the forms suggest the current choice instead, so a field
    emptied in the form (whose key the frontend then leaves out) stays empty.
    """
    return {
        vol.Optional(CONF_LIGHTS): EntitySelector(
            EntitySelectorConfig(domain="light", multiple=True)
        ),
        vol.Optional(CONF_SPEAKERS): EntitySelector(
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
            if name:
                await self.async_set_unique_id(slugify(name))
                self._abort_if_unique_id_configured()
            errors = _validate_targets(self.hass, user_input)
            if not name:
                errors[CONF_NAME] = "no_name"
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
        schema = vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Optional(CONF_AREA): AreaSelector(),
                **_targets_schema(self.hass),
            }
        )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
        )

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
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(_targets_schema(self.hass)), user_input or entry.data
            ),
            errors=errors,
            description_placeholders={"name": entry.title},
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> AsmrOptionsFlow:
        """Return the options flow that holds the room's session defaults."""
        return AsmrOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Return the room's subentries: its own mixes."""
        return {SUBENTRY_MIX: MixSubentryFlow}


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


def _options_schema(
    options: dict[str, Any], mixes: tuple[Scene, ...] = ()
) -> vol.Schema:
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
                        for scene in (*SCENES.values(), *mixes)
                    ],
                    mode=SelectSelectorMode.DROPDOWN,
                    # The built-in scenes' names in the user's language; a mix's own.
                    translation_key=CONF_SCENE,
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


def _validate_options(
    options: dict[str, Any], mixes: tuple[Scene, ...] = ()
) -> dict[str, str]:
    """Return form errors for the options."""
    errors: dict[str, str] = {}
    try:
        resolve_scene(options[CONF_SCENE], avoid=options[CONF_AVOID], mixes=mixes)
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
        placeholders: dict[str, str] | None = None
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
            errors = _validate_options(options, room_mixes(self.config_entry))
            if not errors and (other := self._room_on(options[CONF_MQTT_TOPIC])):
                # Both rooms would act on the topic's commands.
                errors[CONF_MQTT_TOPIC] = "topic_taken"
                placeholders = {"room": other.title}
            if not errors:
                return self.async_create_entry(data=options)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                _options_schema(
                    dict(self.config_entry.options), room_mixes(self.config_entry)
                ),
                user_input or _current_options(dict(self.config_entry.options)),
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _room_on(self, topic: str) -> ConfigEntry | None:
        """Return another room that uses an MQTT base topic (None for no topic)."""
        if not topic:
            return None
        return next(
            (
                entry
                for entry in self.hass.config_entries.async_entries(DOMAIN)
                if entry.entry_id != self.config_entry.entry_id
                and entry.options.get(CONF_MQTT_TOPIC) == topic
            ),
            None,
        )


CONF_SOUND = "sound"
CONF_SPEAKER = "speaker"
SOUND_OFF = "off"
PLACEMENT_AUTO = "auto"
VARIANT_SEPARATOR = "__"
LAYER_KEYS = tuple(f"layer_{n}" for n in range(1, MIX_LAYERS[1] + 1))
"""The form's layer sections: as many as a mix may have."""


def _sounds() -> list[str]:
    """Return the sounds a layer picks from: off, each trigger, each named variant.

    A trigger's own sound is its default variant; its other variants follow it as
    ``trigger__variant``.
    """
    sounds = [SOUND_OFF]
    for trigger_id in TRIGGERS:
        sounds.append(trigger_id)
        sounds.extend(
            f"{trigger_id}{VARIANT_SEPARATOR}{variant}"
            for variant in variant_names(trigger_id)[1:]
        )
    return sounds


def _sound(layer: MixLayer) -> str:
    """Return the form's sound value for a stored layer."""
    if layer.variant is None:
        return layer.trigger
    return f"{layer.trigger}{VARIANT_SEPARATOR}{layer.variant}"


def _mix_schema() -> vol.Schema:
    """Return the mix form: a name and six layer sections, the first one open."""
    low, high = MIX_LEVEL_DB
    layer = vol.Schema(
        {
            vol.Required(CONF_SOUND, default=SOUND_OFF): SelectSelector(
                SelectSelectorConfig(
                    options=_sounds(),
                    translation_key="mix_sound",
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Required(CONF_LEVEL_DB, default=0): NumberSelector(
                NumberSelectorConfig(
                    min=low,
                    max=high,
                    step=1,
                    unit_of_measurement="dB",
                    mode=NumberSelectorMode.SLIDER,
                )
            ),
            vol.Required(CONF_PLACEMENT, default=PLACEMENT_AUTO): SelectSelector(
                SelectSelectorConfig(
                    options=[PLACEMENT_AUTO, *PLACEMENTS],
                    translation_key=CONF_PLACEMENT,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
        }
    )
    # A section's own default is what the form shows in it: the layer's field defaults
    # (an empty one would show blank fields and a level slider at its far end).
    unused = {CONF_SOUND: SOUND_OFF, CONF_LEVEL_DB: 0, CONF_PLACEMENT: PLACEMENT_AUTO}
    fields: dict[vol.Marker, Any] = {vol.Required(CONF_NAME): TextSelector()}
    for key in LAYER_KEYS:
        fields[vol.Optional(key, default=dict(unused))] = section(
            layer, {"collapsed": key != LAYER_KEYS[0]}
        )
    return vol.Schema(fields)


def _form_values(name: str, layers: list[MixLayer]) -> dict[str, Any]:
    """Return the form's values for a mix (to fill the form when it is edited)."""
    values: dict[str, Any] = {CONF_NAME: name}
    for key, layer in zip(LAYER_KEYS, layers, strict=False):
        values[key] = {
            CONF_SOUND: _sound(layer),
            CONF_LEVEL_DB: layer.level_db,
            CONF_PLACEMENT: layer.placement or PLACEMENT_AUTO,
        }
    return values


def _layers(user_input: dict[str, Any]) -> list[MixLayer]:
    """Return the layers a filled-in form holds (the sections not off), in order."""
    layers = []
    for key in LAYER_KEYS:
        values = user_input.get(key) or {}
        sound = values.get(CONF_SOUND, SOUND_OFF)
        if sound == SOUND_OFF:
            continue
        trigger, _, variant = sound.partition(VARIANT_SEPARATOR)
        placement = values.get(CONF_PLACEMENT, PLACEMENT_AUTO)
        layers.append(
            MixLayer(
                trigger=trigger,
                variant=variant or None,
                level_db=float(values.get(CONF_LEVEL_DB, 0)),
                placement=None if placement == PLACEMENT_AUTO else placement,
            )
        )
    return layers


class MixSubentryFlow(ConfigSubentryFlow):
    """Make or change one of a room's mixes, and listen to it before saving.

    The form holds the mix's name and six layer sections (a layer left "off" is not
    part of the mix); a mix that holds goes to a menu: save it, listen to 30 seconds
    of it on one of the room's speakers, or change it.
    """

    def __init__(self) -> None:
        """Initialise an empty draft."""
        self._name = ""
        self._layers: list[MixLayer] = []
        self._scene: Scene | None = None

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Compose a new mix."""
        return await self._async_compose("user", user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a mix."""
        if user_input is None and self._scene is None:
            subentry = self._get_reconfigure_subentry()
            self._name = subentry.title
            self._layers = mix_layers(subentry.data)
        return await self._async_compose("reconfigure", user_input)

    async def _async_compose(
        self, step_id: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """Show the mix form; on a mix that holds, go to the menu."""
        errors: dict[str, str] = {}
        placeholders = {"error": ""}
        if user_input is not None:
            self._name = str(user_input[CONF_NAME]).strip()
            self._layers = _layers(user_input)
            errors, placeholders["error"] = self._check()
            if not errors:
                return await self.async_step_ready()
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _mix_schema(), user_input or _form_values(self._name, self._layers)
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    def _check(self) -> tuple[dict[str, str], str]:
        """Return the form errors of the draft and what the engine said was wrong."""
        if not self._name:
            return {CONF_NAME: "no_name"}, ""
        editing = (
            self._get_reconfigure_subentry().subentry_id
            if self.source == "reconfigure"
            else None
        )
        taken = {
            name.casefold()
            for scene in SCENES.values()
            for name in (scene.id, scene.name)
        } | {
            mix.name.casefold()
            for mix in room_mixes(self._get_entry())
            if mix.id != editing
        }
        if self._name.casefold() in taken:
            return {CONF_NAME: "duplicate_name"}, ""
        if not self._layers:
            return {"base": "no_layers"}, ""
        try:
            self._scene = mix_scene(
                id=editing or "new_mix", name=self._name, layers=self._layers
            )
        except EngineError as err:
            return {"base": "invalid_mix"}, str(err)
        return {}, ""

    async def async_step_ready(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Offer to save the mix, listen to it first, or change it."""
        return self.async_show_menu(
            step_id="ready",
            menu_options=["save", "listen", str(self.source)],
            description_placeholders={"name": self._name},
        )

    async def async_step_save(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Save the mix (a changed mix that plays goes on with its new layers)."""
        data = {CONF_LAYERS: layers_data(self._layers)}
        if self.source == "reconfigure":
            return self.async_update_and_abort(
                self._get_entry(),
                self._get_reconfigure_subentry(),
                title=self._name,
                data=data,
            )
        return self.async_create_entry(title=self._name, data=data)

    async def async_step_listen(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Play 30 seconds of the mix on a speaker the room's session is not using."""
        entry = self._get_entry()
        loaded = entry.state is ConfigEntryState.LOADED
        free = entry.runtime_data.free_speakers() if loaded else []
        # Said on the form, not by ending the flow: the mix can still be saved.
        refusal = None if free else "no_free_speaker" if loaded else "room_not_loaded"
        if refusal is not None and user_input is not None:
            return await self.async_step_ready()
        errors: dict[str, str] = {}
        if user_input is not None and self._scene is not None:
            speaker = user_input.get(CONF_SPEAKER)
            if speaker in free:
                try:
                    await entry.runtime_data.async_preview(self._scene, speaker)
                except HomeAssistantError:
                    errors["base"] = "preview_failed"
                else:
                    return await self.async_step_ready()
            # Else the form had no speaker to pick (none was free then), or the one
            # picked is playing the session now: the speakers free now are offered.
        if refusal is not None:
            return self.async_show_form(
                step_id="listen",
                data_schema=vol.Schema({}),
                errors={"base": refusal},
                description_placeholders={"name": self._name},
            )
        return self.async_show_form(
            step_id="listen",
            data_schema=vol.Schema(
                {
                    vol.Required(CONF_SPEAKER, default=free[0]): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(
                                    value=entity_id, label=_entity_name(self, entity_id)
                                )
                                for entity_id in free
                            ],
                            mode=SelectSelectorMode.LIST,
                        )
                    )
                }
            ),
            errors=errors,
            description_placeholders={"name": self._name},
        )


def _entity_name(flow: MixSubentryFlow, entity_id: str) -> str:
    """Return an entity's friendly name (its id if it has none)."""
    state = flow.hass.states.get(entity_id)
    return str(state.name) if state is not None else entity_id
