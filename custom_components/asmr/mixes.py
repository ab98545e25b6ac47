"""A room's mixes: scenes its user composed, stored as config subentries of the room.

A mix subentry's title is the mix's name and its data holds the layers (``layers``:
a list of ``{"trigger", "variant", "level_db", "placement"}``). The subentry id is the
mix's scene id, so ``asmr.start`` and the mix's switch name it the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
import json
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry

from .engine import EngineError, MixLayer, Scene, mix_scene

SUBENTRY_MIX: Final = "mix"
CONF_LAYERS: Final = "layers"
CONF_TRIGGER: Final = "trigger"
CONF_VARIANT: Final = "variant"
CONF_LEVEL_DB: Final = "level_db"
CONF_PLACEMENT: Final = "placement"


def mix_layers(data: Mapping[str, Any]) -> list[MixLayer]:
    """Return the layers a mix subentry's data holds."""
    return [
        MixLayer(
            trigger=str(layer[CONF_TRIGGER]),
            variant=layer.get(CONF_VARIANT),
            level_db=float(layer.get(CONF_LEVEL_DB, 0.0)),
            placement=layer.get(CONF_PLACEMENT),
        )
        for layer in data.get(CONF_LAYERS, ())
    ]


def layers_data(layers: Iterable[MixLayer]) -> list[dict[str, Any]]:
    """Return mix layers as a subentry stores them."""
    return [
        {
            CONF_TRIGGER: layer.trigger,
            CONF_VARIANT: layer.variant,
            CONF_LEVEL_DB: layer.level_db,
            CONF_PLACEMENT: layer.placement,
        }
        for layer in layers
    ]


@lru_cache(maxsize=256)
def _scene(subentry_id: str, title: str, layers_json: str) -> Scene | None:
    """Return the scene of one stored mix (None if this version cannot build it)."""
    try:
        return mix_scene(
            id=subentry_id,
            name=title,
            layers=mix_layers({CONF_LAYERS: json.loads(layers_json)}),
        )
    except (EngineError, KeyError, TypeError, ValueError):
        return None


def room_mixes(entry: ConfigEntry) -> tuple[Scene, ...]:
    """Return a room's mixes as scenes, in the order they were made.

    A stored mix this version cannot build (a trigger that went away) is left out.
    """
    scenes = (
        _scene(
            subentry.subentry_id,
            subentry.title,
            json.dumps(list(subentry.data.get(CONF_LAYERS, ())), sort_keys=True),
        )
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_MIX
    )
    return tuple(scene for scene in scenes if scene is not None)
