"""Voice: intents to start, stop and extend a room's session.

English sentences for them ship in the repository's ``custom_sentences/en/asmr.yaml``.
The intents also reach LLM-based assistants through their descriptions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import voluptuous as vol

from homeassistant.core import HomeAssistant, callback
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


@callback
def async_setup_intents(hass: HomeAssistant) -> None:
    """Register the integration's intents."""
    intent.async_register(hass, StartHandler())
    intent.async_register(hass, StopHandler())
    intent.async_register(hass, ExtendHandler())


def _spoken_time(moment: datetime) -> str:
    """Return a local time as it is said, like 23:30."""
    return dt_util.as_local(moment).strftime("%H:%M")


def _room(intent_obj: intent.Intent, slots: dict[str, Any]) -> RoomSession:
    """Return the room a sentence names, or the only one, or the satellite's."""
    hass = intent_obj.hass
    rooms: list[RoomSession] = [
        entry.runtime_data for entry in hass.config_entries.async_loaded_entries(DOMAIN)
    ]
    wanted = slots.get("room", {}).get("value")
    if wanted is None and intent_obj.device_id is not None:
        device = dr.async_get(hass).async_get(intent_obj.device_id)
        if device is not None and device.area_id is not None:
            area = ar.async_get(hass).async_get_area(device.area_id)
            wanted = area.name if area is not None else None
    if wanted is None:
        if len(rooms) == 1:
            return rooms[0]
        raise intent.IntentHandleError("Which room? Say for example: in the bedroom.")
    name = str(wanted).casefold().removeprefix("the ").strip()
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
    raise intent.IntentHandleError(f"There is no ASMR room called {wanted}.")


class StartHandler(intent.IntentHandler):
    """Start a session: a scene in a room, for a number of minutes."""

    intent_type = INTENT_START
    description = (
        "Starts an ASMR wind-down session in a room: dims the lights to a warm glow and "
        "plays relaxing ASMR sounds on the room's speakers until the end. Scenes: "
        + ", ".join(f"{scene.id} ({scene.name})" for scene in SCENES.values())
    )
    slot_schema = {
        vol.Optional("room"): cv.string,
        vol.Optional("scene"): vol.In(list(SCENES)),
        vol.Optional("minutes"): _MINUTES,
    }

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
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
            raise intent.IntentHandleError(str(err)) from err
        scene = SCENES[room.scene or ""]
        response = intent_obj.create_response()
        response.async_set_speech(
            f"Winding down in {room.name} with {scene.name} until {_spoken_time(ends_at)}."
        )
        return response


class StopHandler(intent.IntentHandler):
    """Stop a room's session with a fade."""

    intent_type = INTENT_STOP
    description = "Stops the ASMR session in a room, fading the sound and lights out."
    slot_schema = {vol.Optional("room"): cv.string}

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Stop the session and say so."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        await room.async_stop(fade=True, context=intent_obj.context)
        response = intent_obj.create_response()
        response.async_set_speech(f"Stopping the ASMR in {room.name}.")
        return response


class ExtendHandler(intent.IntentHandler):
    """Give a room's session more minutes."""

    intent_type = INTENT_EXTEND
    description = "Extends the running ASMR session in a room by a number of minutes."
    slot_schema = {vol.Optional("room"): cv.string, vol.Required("minutes"): _MINUTES}

    async def async_handle(self, intent_obj: intent.Intent) -> intent.IntentResponse:
        """Extend the session and say the new end."""
        slots = self.async_validate_slots(intent_obj.slots)
        room = _room(intent_obj, slots)
        try:
            ends_at = await room.async_extend(
                slots["minutes"]["value"], context=intent_obj.context
            )
        except HomeAssistantError as err:
            raise intent.IntentHandleError(str(err)) from err
        response = intent_obj.create_response()
        response.async_set_speech(
            f"{room.name} now winds down until {_spoken_time(ends_at)}."
        )
        return response
