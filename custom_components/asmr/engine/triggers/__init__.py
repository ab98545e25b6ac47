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
