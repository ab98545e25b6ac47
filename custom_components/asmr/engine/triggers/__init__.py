"""The trigger registry: every procedural sound source, by its contract id."""

from __future__ import annotations

from ..base import Trigger
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
