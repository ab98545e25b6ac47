"""The trigger registry: every procedural sound source, by its contract id."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger
from . import (
    brown_noise,
    brushing,
    fire_crackling,
    hair_brushing,
    ocean_waves,
    page_turning,
    paper_crinkling,
    pink_noise,
    rainfall,
    scratching,
    stream,
    tapping,
    typing,
    whispering,
    white_noise,
    wind,
)

_MODULES = (
    whispering,
    tapping,
    scratching,
    brushing,
    paper_crinkling,
    typing,
    page_turning,
    hair_brushing,
    rainfall,
    fire_crackling,
    wind,
    ocean_waves,
    stream,
    white_noise,
    pink_noise,
    brown_noise,
)

TRIGGERS: dict[str, Trigger] = {
    module.TRIGGER.id: module.TRIGGER for module in _MODULES
}
"""Every trigger, by id, in the order of the contract."""

TRIGGER_IDS: tuple[str, ...] = tuple(TRIGGERS)
"""Every trigger id, in the order of the contract."""

Renderer = Callable[[ChunkRequest], NDArray[np.float32]]
"""A chunk renderer: ``(n, 2)`` float32 buffer of one chunk and its tail (see ``Trigger``)."""


def _variants(module: ModuleType) -> dict[str, Renderer]:
    """Return the variants a trigger module declares (none: its own sound alone)."""
    declared: dict[str, Renderer] = getattr(module, "VARIANTS", {})
    return dict(declared)


VARIANTS: dict[str, dict[str, Renderer]] = {
    module.TRIGGER.id: variants
    for module in _MODULES
    if (variants := _variants(module))
}
"""The variants of the triggers that have some, by trigger id then variant name.

A trigger module declares them in a ``VARIANTS`` dict of chunk renderers; the first is
the trigger's own sound (its ``render_chunk``), the one a layer without a variant plays.
"""


def variant_names(trigger_id: str) -> tuple[str, ...]:
    """Return the names of a trigger's variants, the default first (none: empty)."""
    return tuple(VARIANTS.get(trigger_id, ()))


def variant_renderer(trigger_id: str, variant: str | None) -> Renderer | None:
    """Return the renderer of a trigger's variant, or ``None`` if there is no such one.

    Parameters
    ----------
    trigger_id
        A trigger id.
    variant
        One of the trigger's variant names, or ``None`` for its own sound.

    """
    trigger = TRIGGERS.get(trigger_id)
    if trigger is None:
        return None
    if variant is None:
        return trigger.render_chunk
    return VARIANTS.get(trigger_id, {}).get(variant)


def calibration_key(trigger_id: str, variant: str | None) -> str:
    """Return the key of a trigger's variant in the calibration table.

    The default variant is the trigger itself (``"rainfall"``); another is
    ``"<trigger>:<variant>"`` (``"rainfall:on_glass"``).
    """
    names = variant_names(trigger_id)
    if variant is None or (names and variant == names[0]):
        return trigger_id
    return f"{trigger_id}:{variant}"


AUDIOSET_CLASSES: dict[str, tuple[str, ...]] = {
    "whispering": ("Whispering",),
    "tapping": ("Tap", "Knock", "Wood block", "Tick"),
    "scratching": ("Scratch", "Scrape", "Rub"),
    "brushing": ("Rustle", "Scrape", "Rub"),
    "paper_crinkling": ("Crumpling, crinkling", "Rustle"),
    "typing": ("Typing", "Computer keyboard", "Typewriter"),
    "page_turning": ("Rustle", "Crumpling, crinkling"),
    "hair_brushing": ("Rustle", "Scrape", "Rub"),
    "rainfall": ("Rain", "Raindrop", "Rain on surface"),
    "fire_crackling": ("Fire", "Crackle"),
    "wind": ("Wind", "Rustling leaves", "Wind noise (microphone)"),
    "ocean_waves": ("Ocean", "Waves, surf"),
    "stream": ("Stream", "Water", "Trickle, dribble", "Gurgling"),
    "white_noise": ("White noise", "Static", "Noise", "Pink noise"),
    "pink_noise": ("Pink noise", "White noise", "Static", "Noise"),
    "brown_noise": ("Noise", "Pink noise", "White noise", "Static"),
}
"""Each trigger's own AudioSet classes, by their display names in YAMNet's class map, the
most specific first: what a person naming the sound would call it (``scripts/hear`` ranks
them in YAMNet's scores of a render)."""
