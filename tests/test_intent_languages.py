"""Tests for voice in German, French, Spanish and Dutch: sentences, sessions, replies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
import json
from pathlib import Path
import shutil

from freezegun.api import FrozenDateTimeFactory
from hassil import Intents, recognize
import pytest
import yaml

from custom_components.asmr.engine import SCENES
from custom_components.asmr.intent import REPLIES, reply_language
from custom_components.asmr.session import Phase, RoomSession
from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import intent, llm
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .common import BED_LIGHT, add_room, room_entry, setup_lights

ROOT = Path(__file__).parent.parent
SENTENCES = ROOT / "custom_sentences"
TRANSLATIONS = ROOT / "custom_components" / "asmr" / "translations"


@dataclass(frozen=True, kw_only=True)
class Language:
    """What a user of one language says to a room, and what they hear back."""

    code: str
    room: str
    start: str  # starts ocean_night for 20 minutes in the room
    extend: str  # adds 10 minutes
    stop: str
    start_verb: str  # followed by a scene's name, starts it
    said: tuple[str, ...]  # words of the language in every reply to a running session


LANGUAGES = (
    Language(
        code="de",
        room="Schlafzimmer",
        start="Spiele Meer bei Nacht im Schlafzimmer für 20 Minuten",
        extend="Noch 10 Minuten im Schlafzimmer",
        stop="Stoppe das ASMR im Schlafzimmer",
        start_verb="starte",
        said=("im Raum Schlafzimmer", "Uhr"),
    ),
    Language(
        code="fr",
        room="Chambre",
        start="Joue l'océan la nuit dans la chambre pendant 20 minutes",
        extend="10 minutes de plus dans la chambre",
        stop="Arrête l'ASMR dans la chambre",
        start_verb="lance",
        said=("dans la pièce Chambre",),
    ),
    Language(
        code="es",
        room="Dormitorio",
        start="Pon el mar de noche en el dormitorio durante 20 minutos",
        extend="10 minutos más en el dormitorio",
        stop="Para el ASMR en el dormitorio",
        start_verb="pon",
        said=("en la habitación Dormitorio",),
    ),
    Language(
        code="nl",
        room="Slaapkamer",
        start="Speel zee bij nacht in de slaapkamer voor 20 minuten",
        extend="Nog 10 minuten in de slaapkamer",
        stop="Stop de ASMR in de slaapkamer",
        start_verb="start",
        said=("in Slaapkamer",),
    ),
)
BY_CODE = {language.code: language for language in LANGUAGES}


def _scene_names(code: str) -> dict[str, str]:
    """Return the scenes' names in a language's translations, by scene id."""
    strings = json.loads((TRANSLATIONS / f"{code}.json").read_text(encoding="utf-8"))
    return {
        scene_id: entity["name"]
        for scene_id, entity in strings["entity"]["switch"].items()
    }


@pytest.fixture(params=[language.code for language in LANGUAGES])
async def room(
    request: pytest.FixtureRequest, hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> tuple[Language, RoomSession]:
    """Give Assist a room named in a language (a demo light) and that language's sentences."""
    language = BY_CODE[request.param]
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await hass.config.async_update(time_zone="UTC")
    target = Path(hass.config.path("custom_sentences", language.code))
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(SENTENCES / language.code / "asmr.yaml", target / "asmr.yaml")
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    assert await async_setup_component(hass, "conversation", {})
    await setup_lights(hass)
    entry = await add_room(
        hass, room_entry(name=language.room, lights=[BED_LIGHT], fade_out_seconds=60)
    )
    return language, entry.runtime_data


async def _say(
    hass: HomeAssistant, text: str, language: str
) -> tuple[intent.IntentResponse, str]:
    """Say a sentence to the default agent; return its answer and the spoken text."""
    result = await conversation.async_converse(hass, text, None, Context(), language)
    await hass.async_block_till_done()
    response = result.response
    return response, str(response.speech["plain"]["speech"])


async def test_start_extend_stop_in_language(
    hass: HomeAssistant, room: tuple[Language, RoomSession]
) -> None:
    """A scene named in the language starts, extends and stops, answered in that language."""
    language, session = room
    scene = _scene_names(language.code)["ocean_night"]
    now = dt_util.utcnow()

    response, speech = await _say(hass, language.start, language.code)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, speech
    assert session.scene == "ocean_night"
    assert session.ends_at == now + timedelta(minutes=20)
    assert speech == REPLIES[language.code]["started"].format(
        scene=scene, room=language.room, until="21:20"
    )
    assert all(word in speech for word in language.said), speech

    response, speech = await _say(hass, language.extend, language.code)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, speech
    assert session.ends_at == now + timedelta(minutes=30)
    assert speech == REPLIES[language.code]["extended"].format(
        scene=scene, room=language.room, until="21:30"
    )
    assert all(word in speech for word in language.said), speech

    response, speech = await _say(hass, language.stop, language.code)
    assert response.response_type is intent.IntentResponseType.ACTION_DONE, speech
    assert session.phase is Phase.FADING
    assert session.ends_at == now + timedelta(minutes=1)
    assert speech == REPLIES[language.code]["fading"].format(
        scene=scene, room=language.room, until="21:01"
    )
    assert scene in speech


async def test_refusal_in_language(
    hass: HomeAssistant, room: tuple[Language, RoomSession]
) -> None:
    """Extending an idle room says why in the language, and starts nothing."""
    language, session = room
    response, speech = await _say(hass, language.extend, language.code)
    assert response.response_type is intent.IntentResponseType.ERROR
    assert speech == REPLIES[language.code]["nothing_playing"].format(
        room=language.room
    )
    assert session.scene is None


async def test_a_failed_start_says_why_in_language(
    hass: HomeAssistant, room: tuple[Language, RoomSession]
) -> None:
    """Why a start failed is said in the language too, not in English."""
    language, session = room
    hass.states.async_set(BED_LIGHT, "unavailable")
    response, speech = await _say(hass, language.start, language.code)
    assert response.response_type is intent.IntentResponseType.ERROR
    strings = json.loads(
        (TRANSLATIONS / f"{language.code}.json").read_text(encoding="utf-8")
    )
    why = strings["exceptions"]["no_targets_available"]["message"].format(
        room=language.room
    )
    assert speech == REPLIES[language.code]["start_failed"].format(
        room=language.room, error=why.rstrip(".")
    )
    assert session.scene is None


async def _llm_start(
    hass: HomeAssistant, language: str, **args: object
) -> tuple[str, bool]:
    """Call the start tool as an LLM assistant would; return its speech, and if it failed."""
    api = await llm.async_get_api(
        hass,
        llm.LLM_API_ASSIST,
        llm.LLMContext(
            platform="test",
            context=Context(),
            language=language,
            assistant=conversation.DOMAIN,
            device_id=None,
        ),
    )
    result = await api.async_call_tool(
        llm.ToolInput(tool_name="AsmrStart", tool_args=args)
    )
    return result["speech"]["plain"]["speech"], result["response_type"] == "error"


async def test_llm_tool_names_a_scene_as_the_user_does(
    hass: HomeAssistant, room: tuple[Language, RoomSession]
) -> None:
    """A scene given by its name in the language starts it; an unknown one is refused.

    An assistant passes on what the user said ("Meer bei Nacht"), not the scene's id.
    """
    language, session = room
    name = _scene_names(language.code)["ocean_night"]
    speech, failed = await _llm_start(hass, language.code, scene=name.upper())
    assert not failed, speech
    assert session.scene == "ocean_night"
    speech, failed = await _llm_start(hass, language.code, scene="Zzz")
    assert failed
    assert speech == REPLIES[language.code]["unknown_scene"].format(
        scene="Zzz", room=language.room
    )
    assert session.scene == "ocean_night"


async def test_llm_tool_answers_in_language(
    hass: HomeAssistant, room: tuple[Language, RoomSession]
) -> None:
    """An LLM assistant in the language hears the room's default scene in it too."""
    language, session = room
    speech, failed = await _llm_start(hass, language.code, minutes=20)
    scene = _scene_names(language.code)["rain_on_window"]
    assert not failed
    assert session.scene == "rain_on_window"
    assert speech == REPLIES[language.code]["started"].format(
        scene=scene, room=language.room, until="21:20"
    )


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_every_scene_by_its_translated_name(language: Language) -> None:
    """Each scene starts by the name the language's UI shows for it."""
    path = SENTENCES / language.code / "asmr.yaml"
    intents = Intents.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    for scene_id, name in _scene_names(language.code).items():
        result = recognize(f"{language.start_verb} {name}", intents)
        assert result is not None, name
        assert result.intent.name == "AsmrStart", name
        assert result.entities["scene"].value == scene_id, name
    assert set(_scene_names(language.code)) == set(SCENES)


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.code)
def test_sentences_cover_the_english_intents(language: Language) -> None:
    """Every language has sentences for the intents English has, and reply texts."""
    english = yaml.safe_load((SENTENCES / "en" / "asmr.yaml").read_text("utf-8"))
    own = yaml.safe_load((SENTENCES / language.code / "asmr.yaml").read_text("utf-8"))
    assert own["language"] == language.code
    assert set(own["intents"]) == set(english["intents"])
    assert REPLIES[language.code].keys() == REPLIES["en"].keys()
    assert reply_language(f"{language.code}-XX") == language.code


@pytest.mark.parametrize(
    ("code", "sentence", "intent_type"),
    [
        ("de", "Hilf mir beim Einschlafen", "AsmrStart"),
        ("de", "Schalte das weiße Rauschen im Schlafzimmer ein", "AsmrStart"),
        ("de", "Verlängere die Sitzung um 15 Minuten", "AsmrExtend"),
        ("de", "Beende die Entspannung", "AsmrStop"),
        ("fr", "Aide-moi à m'endormir", "AsmrStart"),
        ("fr", "Mets du bruit blanc dans la chambre", "AsmrStart"),
        ("fr", "Prolonge la session de 15 minutes", "AsmrExtend"),
        ("fr", "Éteins la pluie sur la fenêtre", "AsmrStop"),
        ("es", "Ayúdame a dormir", "AsmrStart"),
        ("es", "Enciende el ruido blanco en el dormitorio", "AsmrStart"),
        ("es", "Prolonga la sesión 15 minutos", "AsmrExtend"),
        ("es", "Apaga la lluvia en la ventana", "AsmrStop"),
        ("nl", "Help me in slaap vallen", "AsmrStart"),
        ("nl", "Zet witte ruis aan in de slaapkamer", "AsmrStart"),
        ("nl", "Verleng de sessie met 15 minuten", "AsmrExtend"),
        ("nl", "Zet regen op het raam uit", "AsmrStop"),
    ],
)
def test_sentence_variants(code: str, sentence: str, intent_type: str) -> None:
    """The shipped sentences recognise the usual phrasings of each language."""
    path = SENTENCES / code / "asmr.yaml"
    intents = Intents.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    result = recognize(sentence, intents)
    assert result is not None
    assert result.intent.name == intent_type
