"""Voice: intents to start, stop and extend a room's session.

English sentences for them ship in the repository's ``custom_sentences/en/asmr.yaml``.
The intents also reach LLM-based assistants through their descriptions.
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
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN, MINUTES_MAX, MINUTES_MIN
from .engine import SCENES
from .session import RoomSession, StartRequest

INTENT_START: Final = "AsmrStart"
INTENT_STOP: Final = "AsmrStop"
INTENT_EXTEND: Final = "AsmrExtend"

_MINUTES: Final = vol.All(vol.Coerce(int), vol.Range(min=MINUTES_MIN, max=MINUTES_MAX))


async def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intents (called by Home Assistant's intent integration)."""
    intent.async_register(hass, StartHandler())
    intent.async_register(hass, StopHandler())
    intent.async_register(hass, ExtendHandler())


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
        raise intent.IntentHandleError(f"There is no ASMR room called {wanted}.")
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
    raise intent.IntentHandleError("Which room? Say for example: in the bedroom.")


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
    """An intent of ours: a refusal is spoken as it is, not as a generic error."""

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent; say why when it cannot be done."""
        try:
            return await self._async_handle(intent_obj)
        except intent.IntentHandleError as err:
            response = intent_obj.create_response()
            response.async_set_error(
                intent.IntentResponseErrorCode.FAILED_TO_HANDLE, str(err)
            )
            return response

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Handle the intent."""
        raise NotImplementedError


def _scene_name(scene_id: str | None) -> str:
    """Return the name of a scene as it is said."""
    scene = SCENES.get(scene_id or "")
    return scene.name if scene is not None else "ASMR"


class StartHandler(AsmrIntentHandler):
    """Start a session: a scene in a room, for a number of minutes."""

    intent_type = INTENT_START
    description = (
        "Starts an ASMR wind-down session in a room: dims the lights to a warm glow and "
        "plays relaxing ASMR sounds on the room's speakers, then fades both out at the "
        "end. Optional: the room (or area), the scene and the duration in minutes "
        "(1-720; without one the room's default applies). Scenes: "
        + ", ".join(f"{scene.id} ({scene.name})" for scene in SCENES.values())
    )
    slot_schema = {
        vol.Optional("room"): cv.string,
        vol.Optional("scene"): vol.In(list(SCENES)),
        vol.Optional("minutes"): _MINUTES,
    }

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Start the session and say what plays until when."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        request = StartRequest(
            scene=slots.get("scene", {}).get("value"),
            minutes=slots.get("minutes", {}).get("value"),
        )
        try:
            ends_at = await room.async_start(request, context=intent_obj.context)
        except HomeAssistantError as err:
            raise intent.IntentHandleError(
                f"Could not start the ASMR in {room.name}: {err}"
            ) from err
        response = intent_obj.create_response()
        response.async_set_speech(
            f"Winding down in {room.name} with {_scene_name(room.scene)} "
            f"until {_spoken_time(ends_at)}."
        )
        return response


class StopHandler(AsmrIntentHandler):
    """Stop a room's session with a fade."""

    intent_type = INTENT_STOP
    description = (
        "Stops the ASMR session in a room: the sound and the lights fade out over the "
        "room's fade-out time. Optional: the room (or area) and the scene to stop."
    )
    slot_schema = {
        vol.Optional("room"): cv.string,
        vol.Optional("scene"): vol.In(list(SCENES)),
    }

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Stop the session and say when it ends."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        wanted = slots.get("scene", {}).get("value")
        if room.scene is None or wanted not in (None, room.scene):
            raise intent.IntentHandleError(
                f"{_scene_name(wanted)} is not playing in {room.name}."
            )
        scene = room.scene
        await room.async_stop(fade=True, context=intent_obj.context)
        response = intent_obj.create_response()
        if room.ends_at is None:
            response.async_set_speech(f"Stopped {_scene_name(scene)} in {room.name}.")
        else:
            response.async_set_speech(
                f"Fading out {_scene_name(scene)} in {room.name}; "
                f"it ends at {_spoken_time(room.ends_at)}."
            )
        return response


class ExtendHandler(AsmrIntentHandler):
    """Give a room's session more minutes."""

    intent_type = INTENT_EXTEND
    description = (
        "Extends the running ASMR session in a room by a number of minutes (1-720). "
        "Optional: the room (or area)."
    )
    slot_schema = {vol.Optional("room"): cv.string, vol.Required("minutes"): _MINUTES}

    async def _async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Extend the session and say the new end."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        if room.scene is None:
            raise intent.IntentHandleError(f"Nothing is playing in {room.name}.")
        try:
            ends_at = await room.async_extend(
                slots["minutes"]["value"], context=intent_obj.context
            )
        except HomeAssistantError as err:
            raise intent.IntentHandleError(
                f"Could not extend the ASMR in {room.name}: {err}"
            ) from err
        response = intent_obj.create_response()
        response.async_set_speech(
            f"{_scene_name(room.scene)} in {room.name} now plays until "
            f"{_spoken_time(ends_at)}."
        )
        return response
