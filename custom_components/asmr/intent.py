"""Voice: intents to start, stop and extend a room's session.

Sentences for them ship in the repository's ``custom_sentences/<language>/asmr.yaml``;
the handlers answer in the sentence's language (``REPLIES``, with the scene names of the
integration's translations), English where there is no reply text for it. The intents
also reach LLM-based assistants through their descriptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import voluptuous as vol

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    area_registry as ar,
    config_validation as cv,
    device_registry as dr,
    intent,
    translation,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .engine import SCENES
from .plan import StartRequest
from .schema import MINUTES
from .session import RoomSession

INTENT_START: Final = "AsmrStart"
INTENT_STOP: Final = "AsmrStop"
INTENT_EXTEND: Final = "AsmrExtend"

# What the handlers say, by language and outcome; {scene} is the scene's translated name.
REPLIES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "started": "Winding down in {room} with {scene} until {until}.",
        "fading": "Fading out {scene} in {room}; it ends at {until}.",
        "stopped": "Stopped {scene} in {room}.",
        "extended": "{scene} in {room} now plays until {until}.",
        "unknown_room": "There is no ASMR room called {room}.",
        "which_room": "Which room? Say for example: in the bedroom.",
        "not_playing": "{scene} is not playing in {room}.",
        "nothing_playing": "Nothing is playing in {room}.",
        "start_failed": "Could not start the ASMR in {room}: {error}",
        "extend_failed": "Could not extend the ASMR in {room}: {error}",
        "unknown_scene": "There is no scene or mix called {scene} in {room}.",
    },
    "de": {
        "started": "Zeit zum Entspannen: {scene} im Raum {room} bis {until} Uhr.",
        "fading": "{scene} im Raum {room} wird ausgeblendet und endet um {until} Uhr.",
        "stopped": "{scene} im Raum {room} ist gestoppt.",
        "extended": "{scene} im Raum {room} läuft jetzt bis {until} Uhr.",
        "unknown_room": "Es gibt keinen ASMR-Raum namens {room}.",
        "which_room": "Welcher Raum? Sag zum Beispiel: im Schlafzimmer.",
        "not_playing": "{scene} läuft gerade nicht im Raum {room}.",
        "nothing_playing": "Im Raum {room} läuft gerade nichts.",
        "start_failed": "ASMR konnte im Raum {room} nicht starten: {error}",
        "extend_failed": "ASMR im Raum {room} konnte nicht verlängert werden: {error}",
        "unknown_scene": "Im Raum {room} gibt es keine Szene und keinen Mix namens {scene}.",
    },
    "es": {
        "started": "Hora de relajarse: {scene} en la habitación {room} hasta las {until}.",
        "fading": "{scene} se desvanece en la habitación {room}; termina a las {until}.",
        "stopped": "He detenido {scene} en la habitación {room}.",
        "extended": "{scene} sigue en la habitación {room} hasta las {until}.",
        "unknown_room": "No hay ninguna habitación ASMR llamada {room}.",
        "which_room": "¿En qué habitación? Di por ejemplo: en el dormitorio.",
        "not_playing": "{scene} no está sonando en la habitación {room}.",
        "nothing_playing": "No está sonando nada en la habitación {room}.",
        "start_failed": "No se pudo iniciar el ASMR en la habitación {room}: {error}",
        "extend_failed": "No se pudo prolongar el ASMR en la habitación {room}: {error}",
        "unknown_scene": "No hay ninguna escena ni mezcla llamada {scene} en la habitación {room}.",
    },
    "fr": {
        "started": "C'est l'heure de se détendre : {scene} dans la pièce {room} jusqu'à {until}.",
        "fading": "{scene} s'éteint en douceur dans la pièce {room} ; fin à {until}.",
        "stopped": "J'ai arrêté {scene} dans la pièce {room}.",
        "extended": "{scene} continue dans la pièce {room} jusqu'à {until}.",
        "unknown_room": "Il n'y a pas de pièce ASMR nommée {room}.",
        "which_room": "Dans quelle pièce ? Dites par exemple : dans la chambre.",
        "not_playing": "{scene} ne joue pas dans la pièce {room}.",
        "nothing_playing": "Rien ne joue dans la pièce {room}.",
        "start_failed": "Impossible de lancer l'ASMR dans la pièce {room} : {error}",
        "extend_failed": "Impossible de prolonger l'ASMR dans la pièce {room} : {error}",
        "unknown_scene": "Il n'y a ni scène ni mix nommé {scene} dans la pièce {room}.",
    },
    "nl": {
        "started": "Tijd om tot rust te komen: {scene} in {room} tot {until}.",
        "fading": "{scene} in {room} wordt zachter en stopt om {until}.",
        "stopped": "{scene} in {room} is gestopt.",
        "extended": "{scene} in {room} speelt nu tot {until}.",
        "unknown_room": "Er is geen ASMR-kamer met de naam {room}.",
        "which_room": "Welke kamer? Zeg bijvoorbeeld: in de slaapkamer.",
        "not_playing": "{scene} speelt niet in {room}.",
        "nothing_playing": "Er speelt niets in {room}.",
        "start_failed": "ASMR kon niet starten in {room}: {error}",
        "extend_failed": "ASMR in {room} kon niet worden verlengd: {error}",
        "unknown_scene": "Er is geen scène of mix met de naam {scene} in {room}.",
    },
}


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intents (called by Home Assistant's intent integration)."""
    intent.async_register(hass, StartHandler())
    intent.async_register(hass, StopHandler())
    intent.async_register(hass, ExtendHandler())


def reply_language(language: str) -> str:
    """Return the language of REPLIES for a sentence's language, like de for de-CH."""
    if language in REPLIES:
        return language
    base = language.split("-")[0].lower()
    return base if base in REPLIES else "en"


def _said(language: str, reply: str, values: dict[str, str]) -> str:
    """Return one of the REPLIES in a sentence's language, its values filled in."""
    return REPLIES[reply_language(language)][reply].format(**values)


class Refusal(intent.IntentHandleError):
    """A request that cannot be done, said with one of the REPLIES."""

    def __init__(self, reply: str, **values: str) -> None:
        """Keep the reply and its values; the English text is the message."""
        super().__init__(_said("en", reply, values))
        self.reply = reply
        self.values = values


def _spoken_time(moment: datetime) -> str:
    """Return a local time as it is said, like 23:30."""
    return dt_util.as_local(moment).strftime("%H:%M")


def _room(intent_obj: intent.Intent, slots: dict[str, Any]) -> RoomSession:
    """Return the room a sentence names, else the satellite's, else the only one."""
    hass = intent_obj.hass
    rooms: list[RoomSession] = [
        entry.runtime_data for entry in hass.config_entries.async_loaded_entries(DOMAIN)
    ]
    if (wanted := slots.get("room", {}).get("value")) is not None:
        if (room := _named_room(hass, rooms, str(wanted))) is not None:
            return room
        raise Refusal("unknown_room", room=str(wanted))
    if intent_obj.device_id is not None:
        device = dr.async_get(hass).async_get(intent_obj.device_id)
        if device is not None and device.area_id is not None:
            area = ar.async_get(hass).async_get_area(device.area_id)
            if (
                area is not None
                and (room := _named_room(hass, rooms, area.name)) is not None
            ):
                return room
    if len(rooms) == 1:
        return rooms[0]
    raise Refusal("which_room")


def _named_room(
    hass: HomeAssistant, rooms: list[RoomSession], wanted: str
) -> RoomSession | None:
    """Return the room with a name, or whose device is in the area of that name."""
    name = wanted.casefold().removeprefix("the ").strip()
    devices = dr.async_get(hass)
    areas = ar.async_get(hass)
    for room in rooms:
        if room.name.casefold() == name:
            return room
        device = devices.async_get_device({(DOMAIN, room.entry.entry_id)})
        if device is not None and device.area_id is not None:
            area = areas.async_get_area(device.area_id)
            if area is not None and area.name.casefold() == name:
                return room
    return None


class AsmrIntentHandler(intent.IntentHandler):
    """An intent of ours: answers in the sentence's language, refusals say why."""

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent; say why when it cannot be done."""
        try:
            return await self._async_handle(intent_obj)
        except Refusal as err:
            response = intent_obj.create_response()
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE,
                _said(intent_obj.language, err.reply, err.values),
            )
            return response

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent."""
        raise NotImplementedError


async def _scene_name(
    intent_obj: intent.Intent, room: RoomSession, scene_id: str | None
) -> str:
    """Return the name of a scene as it is said in the sentence's language.

    A mix is called by the name its maker gave it.
    """
    scene = room.catalogue.get(scene_id or "")
    if scene is None:
        return "ASMR"
    language = reply_language(intent_obj.language)
    if language == "en" or scene.id not in SCENES:
        return scene.name
    names = await translation.async_get_translations(
        intent_obj.hass, language, "entity", {DOMAIN}
    )
    return names.get(f"component.{DOMAIN}.entity.switch.{scene.id}.name", scene.name)


async def _wanted_scene(
    intent_obj: intent.Intent, room: RoomSession, slots: dict[str, Any]
) -> str | None:
    """Return the scene id a sentence names: a scene's id, or a scene's or mix's name.

    A name is matched without case, with or without a trailing "mix" ("my rain mix"
    is the mix called "Rain" or "Rain mix"), as the room calls it or as the scene is
    called in the sentence's language (an assistant passes on what the user said).
    """
    said = slots.get("scene", slots.get("mix", {})).get("value")
    if said is None:
        return None
    if str(said) in room.catalogue:
        return str(said)
    name = str(said).casefold().strip()
    names = {name, f"{name} mix", name.removesuffix(" mix").strip()}
    for scene in room.catalogue.values():
        called = {scene.name, await _scene_name(intent_obj, room, scene.id)}
        if any(n.casefold() in names for n in called):
            return scene.id
    raise Refusal("unknown_scene", scene=str(said), room=room.name)


async def _why(intent_obj: intent.Intent, err: HomeAssistantError) -> str:
    """Return why an action failed, in the sentence's language when it is translated."""
    if err.translation_domain is None or err.translation_key is None:
        return str(err)
    messages = await translation.async_get_translations(
        intent_obj.hass,
        reply_language(intent_obj.language),
        "exceptions",
        {err.translation_domain},
    )
    key = f"component.{err.translation_domain}.exceptions.{err.translation_key}.message"
    if not (message := messages.get(key)):
        return str(err)
    try:
        return message.format(**(err.translation_placeholders or {})).rstrip(".")
    except (KeyError, IndexError):
        return str(err)


def _reply(
    intent_obj: intent.Intent, reply: str, **values: str
) -> intent.IntentResponse:
    """Return a response that says one of the REPLIES in the sentence's language."""
    response = intent_obj.create_response()
    response.async_set_speech(_said(intent_obj.language, reply, values))
    response.async_set_speech_slots(values)
    return response


class StartHandler(AsmrIntentHandler):
    """Start a session: a scene in a room, for a number of minutes."""

    intent_type = INTENT_START
    description = (
        "Starts an ASMR wind-down session in a room: dims the lights to a warm glow and "
        "plays relaxing ASMR sounds on the room's speakers, then fades both out at the "
        "end. Optional: the room (or area), the scene and the duration in minutes "
        "(1-720; without one the room's default applies). Scenes: "
        + ", ".join(f"{scene.id} ({scene.name})" for scene in SCENES.values())
        + ". A room may also have mixes of its own: give their name as mix."
    )
    slot_schema = {
        vol.Optional("room"): cv.string,
        vol.Optional("scene"): cv.string,
        vol.Optional("mix"): cv.string,
        vol.Optional("minutes"): MINUTES,
    }

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Start the session and say what plays until when."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        request = StartRequest(
            scene=await _wanted_scene(intent_obj, room, slots),
            minutes=slots.get("minutes", {}).get("value"),
        )
        try:
            ends_at = await room.async_start(request, context=intent_obj.context)
        except HomeAssistantError as err:
            why = await _why(intent_obj, err)
            raise Refusal("start_failed", room=room.name, error=why) from err
        return _reply(
            intent_obj,
            "started",
            room=room.name,
            scene=await _scene_name(intent_obj, room, room.scene),
            until=_spoken_time(ends_at),
        )


class StopHandler(AsmrIntentHandler):
    """Stop a room's session with a fade."""

    intent_type = INTENT_STOP
    description = (
        "Stops the ASMR session in a room: the sound and the lights fade out over the "
        "room's fade-out time. Optional: the room (or area) and the scene (or the "
        "name of the room's mix, as mix) to stop."
    )
    slot_schema = {
        vol.Optional("room"): cv.string,
        vol.Optional("scene"): cv.string,
        vol.Optional("mix"): cv.string,
    }

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Stop the session and say when it ends."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        wanted = await _wanted_scene(intent_obj, room, slots)
        scene = await _scene_name(intent_obj, room, wanted or room.scene)
        if not await room.async_stop(
            fade=True, scene=wanted, context=intent_obj.context
        ):
            raise Refusal("not_playing", scene=scene, room=room.name)
        if room.ends_at is None:
            return _reply(intent_obj, "stopped", scene=scene, room=room.name)
        return _reply(
            intent_obj,
            "fading",
            scene=scene,
            room=room.name,
            until=_spoken_time(room.ends_at),
        )


class ExtendHandler(AsmrIntentHandler):
    """Give a room's session more minutes."""

    intent_type = INTENT_EXTEND
    description = (
        "Extends the running ASMR session in a room by a number of minutes (1-720). "
        "Optional: the room (or area)."
    )
    slot_schema = {vol.Optional("room"): cv.string, vol.Required("minutes"): MINUTES}

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Extend the session and say the new end."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        if room.scene is None:
            raise Refusal("nothing_playing", room=room.name)
        try:
            ends_at = await room.async_extend(
                slots["minutes"]["value"], context=intent_obj.context
            )
        except HomeAssistantError as err:
            why = await _why(intent_obj, err)
            raise Refusal("extend_failed", room=room.name, error=why) from err
        return _reply(
            intent_obj,
            "extended",
            scene=await _scene_name(intent_obj, room, room.scene),
            room=room.name,
            until=_spoken_time(ends_at),
        )
