"""Tests that every scene has a name and an icon, and every translation is complete and current."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from custom_components.asmr.engine import SCENES, TRIGGERS

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "custom_components" / "asmr"
LANGUAGES = ("de", "es", "fr", "nl")


def _translations() -> ModuleType:
    """Import scripts/translations.py, the generator of translations/*.json."""
    spec = importlib.util.spec_from_file_location(
        "translations", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translations = _translations()


def _load(path: Path) -> dict[str, Any]:
    """Return a JSON file's object."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_every_scene_has_name_and_icon() -> None:
    """Each scene switch has a name in strings.json and an icon in icons.json."""
    strings = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
    icons = json.loads((PACKAGE / "icons.json").read_text(encoding="utf-8"))
    assert set(strings["entity"]["switch"]) == set(SCENES)
    assert set(icons["entity"]["switch"]) == set(SCENES)
    assert set(strings["selector"]["scene"]["options"]) == set(SCENES)
    assert set(strings["selector"]["trigger"]["options"]) == set(TRIGGERS)
    for scene in SCENES.values():
        assert strings["entity"]["switch"][scene.id]["name"] == scene.name
        assert icons["entity"]["switch"][scene.id]["default"] == scene.icon


def test_services_yaml_lists_every_scene() -> None:
    """The start action's scene picker offers every scene."""
    text = (PACKAGE / "services.yaml").read_text(encoding="utf-8")
    for scene_id in SCENES:
        assert f"- {scene_id}\n" in text


def test_every_language_has_a_source() -> None:
    """German, Spanish, French and Dutch are translated, and nothing else half-way."""
    assert translations.languages() == list(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_source_matches_strings(language: str) -> None:
    """A language's source has exactly strings.json's keys and the English placeholders."""
    english = _load(PACKAGE / "strings.json")
    source = _load(ROOT / "scripts" / "translations" / f"{language}.json")
    assert translations.problems(english, source) == []


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_translation_file_is_current(language: str) -> None:
    """translations/<language>.json is what scripts/translations.py generates now."""
    target = PACKAGE / "translations" / f"{language}.json"
    assert target.read_text(encoding="utf-8") == translations.render(language), (
        f"translations/{language}.json is stale: run scripts/lint"
    )


def test_check_names_missing_extra_and_placeholder_problems() -> None:
    """The check reports a missing key, an unknown key and a changed placeholder."""
    english = {
        "config": {"step": {"user": {"title": "Change {name}", "description": "Hi"}}},
        "issues": {
            "x": {"title": "[%key:component::asmr::config::step::user::title%]"}
        },
    }
    source = {
        "config": {"step": {"user": {"title": "{room} ändern", "extra": "Mehr"}}},
        "issues": {
            "x": {"title": "[%key:component::asmr::config::step::user::title%]"}
        },
    }
    assert translations.problems(english, source) == [
        "missing key config::step::user::description",
        "key config::step::user::extra is not in strings.json",
        "config::step::user::title has placeholders ['room'], the English ['name']",
        "issues::x::title has placeholders ['room'], the English ['name']",
    ]
