"""Diagnostics for ASMR Scenes: a room's settings and its session."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .engine import encoders
from .session import AsmrConfigEntry

TO_REDACT = {"token"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AsmrConfigEntry
) -> dict[str, Any]:
    """Return a room's configuration and the state of its session."""
    room = entry.runtime_data
    plan = room.plan
    return {
        "data": dict(entry.data),
        "options": dict(entry.options),
        "phase": room.phase.value,
        "plan": async_redact_data(plan.as_dict(), TO_REDACT) if plan else None,
        "audio_encoders": encoders(),
    }
