"""Tests that every scene has a translated name and an icon, and en.json is current."""

from __future__ import annotations

import json
from pathlib import Path

from custom_components.asmr.engine import SCENES, TRIGGERS

PACKAGE = Path(__file__).parent.parent / "custom_components" / "asmr"


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
