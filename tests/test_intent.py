"""Tests for voice: Home Assistant's conversation agent with built-in and custom sentences."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.asmr.const import DOMAIN
from homeassistant.components import conversation
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import (
    area_registry as ar,
    device_registry as dr,
    intent,
    llm,
)
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import BED_LIGHT, COLOUR_LIGHT, add_room, room_entry, setup_lights

SENTENCES = Path(__file__).parent.parent / "custom_sentences" / "en" / "asmr.yaml"
SWITCH = "switch.bedroom_rain_on_the_window"


@pytest.fixture
async def bedroom(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """Give Assist a Bedroom room (a demo light, no speaker) and our sentences."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await hass.config.async_update(time_zone="UTC")
    target = Path(hass.config.path("custom_sentences", "en"))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(SENTENCES, target / "asmr.yaml")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})
    await setup_lights(hass)
    entry = await add_room(hass, room_entry(lights=[BED_LIGHT], fade_out_seconds=60))
    return entry.entry_id


async def _say(hass: HomeAssistant, text: str) -> intent.IntentResponse:
    """Say a sentence to the default agent; return its answer."""
    result = await conversation.async_converse(hass, text, None, Context(), "en")
    await hass.async_block_till_done()
    return result.response


def _speech(response: intent.IntentResponse) -> str:
    """Return the spoken text of an answer."""
    return str(response.speech["plain"]["speech"])


def _phase(hass: HomeAssistant) -> str:
    """Return the bedroom's phase sensor."""
    return hass.states.get("sensor.bedroom_phase").state


async def test_builtin_sentence_turns_scene_on(
    hass: HomeAssistant, bedroom: str
) -> None:
    """Home Assistant's own HassTurnOn/HassTurnOff drive a scene's switch by its name."""
    result = await conversation.async_converse(
        hass, "turn on bedroom rain on the window", None, Context(), "en"
    )
    await hass.async_block_till_done()
    response = result.response
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, _speech(
        response
    )
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_ON
    assert hass.states.get(SWITCH).state == STATE_ON
    assert _phase(hass) == "playing"

    response = await _say(hass, "turn off bedroom rain on the window")
    assert response.intent is not None
    assert response.intent.intent_type == intent.INTENT_TURN_OFF
    assert _phase(hass) == "fading"


async def test_turn_on_scene_by_its_own_name(hass: HomeAssistant, bedroom: str) -> None:
    """Saying 'turn on rain on the window' starts it; 'turn off ...' fades it out."""
    response = await _say(hass, "turn on rain on the window")
    assert _speech(response) == (
        "Winding down in Bedroom with Rain on the window until 21:45."
    )
    assert hass.states.get(SWITCH).state == STATE_ON

    response = await _say(hass, "turn off rain on the window in the bedroom")
    assert _speech(response) == (
        "Fading out Rain on the window in Bedroom; it ends at 21:01."
    )
    assert _phase(hass) == "fading"


async def test_wind_down_for_minutes_names_scene_and_end(
    hass: HomeAssistant, bedroom: str
) -> None:
    """Saying 'wind down in the bedroom for 30 minutes' starts the default scene."""
    response = await _say(hass, "wind down in the bedroom for 30 minutes")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, _speech(
        response
    )
    assert _speech(response) == (
        "Winding down in Bedroom with Rain on the window until 21:30."
    )
    assert hass.states.get(SWITCH).state == STATE_ON
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end == dt_util.utcnow() + timedelta(minutes=30)


async def test_start_named_scene(hass: HomeAssistant, bedroom: str) -> None:
    """A scene can be named in the sentence."""
    response = await _say(hass, "play ocean at night in the bedroom for 20 minutes")
    assert "Ocean at night until 21:20" in _speech(response)
    assert hass.states.get("switch.bedroom_ocean_at_night").state == STATE_ON


async def test_extend_says_new_end(hass: HomeAssistant, bedroom: str) -> None:
    """Saying '10 more minutes in the bedroom' moves the end and says it."""
    await _say(hass, "wind down in the bedroom for 30 minutes")
    response = await _say(hass, "10 more minutes in the bedroom")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, _speech(
        response
    )
    assert _speech(response) == "Rain on the window in Bedroom now plays until 21:40."
    end = dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
    assert end == dt_util.utcnow() + timedelta(minutes=40)


async def test_stop_fades_out(hass: HomeAssistant, bedroom: str) -> None:
    """Saying 'stop the asmr in the bedroom' fades out and says when it ends."""
    await _say(hass, "wind down in the bedroom for 30 minutes")
    response = await _say(hass, "stop the asmr in the bedroom")
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, _speech(
        response
    )
    assert _speech(response) == (
        "Fading out Rain on the window in Bedroom; it ends at 21:01."
    )
    assert _phase(hass) == "fading"
    assert hass.states.get(SWITCH).state == STATE_ON  # still fading out


async def test_extend_without_session_is_explained(
    hass: HomeAssistant, bedroom: str
) -> None:
    """Extending an idle room answers with an error that says why."""
    response = await _say(hass, "10 more minutes in the bedroom")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert _speech(response) == "Nothing is playing in Bedroom."
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_unknown_room_is_explained(hass: HomeAssistant, bedroom: str) -> None:
    """A room that does not exist is named in the answer."""
    response = await _say(hass, "wind down in the attic")
    assert response.response_type is intent.IntentResponseType.ERROR
    assert _speech(response) == "There is no ASMR room called attic."


@pytest.mark.parametrize(
    ("sentence", "intent_type"),
    [
        ("help me sleep", "AsmrStart"),
        ("start the fireside scene in the bedroom", "AsmrStart"),
        ("play ocean for 20 minutes", "AsmrStart"),
        ("extend the asmr by 15 minutes", "AsmrExtend"),
        ("continue the wind down in the bedroom for 5 more minutes", "AsmrExtend"),
        ("end the wind down", "AsmrStop"),
        ("turn off rain on the window", "AsmrStop"),
    ],
)
async def test_sentence_variants(
    hass: HomeAssistant, bedroom: str, sentence: str, intent_type: str
) -> None:
    """The shipped sentences recognise the phrasings the README lists."""
    response = await _say(hass, sentence)
    assert response.intent is not None, _speech(response)
    assert response.intent.intent_type == intent_type, _speech(response)


async def test_room_by_area_of_satellite(hass: HomeAssistant, bedroom: str) -> None:
    """With two rooms, the satellite's area picks the room, and areas name rooms."""
    await add_room(hass, room_entry(name="Nursery", lights=[COLOUR_LIGHT]))
    areas = ar.async_get(hass)
    devices = dr.async_get(hass)
    loft = areas.async_create("Loft")
    room_device = devices.async_get_device({(DOMAIN, bedroom)})
    assert room_device is not None
    devices.async_update_device(room_device.id, area_id=loft.id)
    satellite = devices.async_get_or_create(
        config_entry_id=bedroom, identifiers={("test", "satellite")}
    )
    devices.async_update_device(satellite.id, area_id=loft.id)

    response = await _say(hass, "wind down in the nursery")
    assert "in Nursery" in _speech(response)
    result = await conversation.async_converse(
        hass, "10 more minutes", None, Context(), "en", device_id=satellite.id
    )
    assert _speech(result.response) == "Nothing is playing in Bedroom."
    response = await _say(hass, "wind down in the loft for 20 minutes")
    assert _speech(response) == (
        "Winding down in Bedroom with Rain on the window until 21:20."
    )
    response = await _say(hass, "help me sleep")
    assert _speech(response) == "Which room? Say for example: in the bedroom."


async def test_intents_reach_llm_assistants(hass: HomeAssistant, bedroom: str) -> None:
    """Home Assistant's Assist API offers the intents as described tools to LLMs."""
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test",
            context=Context(),
            language="en",
            assistant=conversation.DOMAIN,
            device_id=None,
        ),
    )
    tools = {tool.name: tool for tool in api.tools}
    assert {"AsmrStart", "AsmrStop", "AsmrExtend"} <= tools.keys()
    assert "Rain on the window" in (tools["AsmrStart"].description or "")
    result = await api.async_call_tool(
        llm.ToolInput(tool_name="AsmrStart", tool_args={"minutes": 20})
    )
    assert result["speech"]["plain"]["speech"] == (
        "Winding down in Bedroom with Rain on the window until 21:20."
    )
