"""A room's repair issues: what the user is told once, and cleared when it passes."""

from __future__ import annotations

import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DOMAIN

_LOGGER = logging.getLogger(__name__)

ISSUE_KEYS: Final = (
    "targets_unavailable",
    "speaker_dropped",
    "device_failed",
    "stored_session_invalid",
    "format_unavailable",
)
"""The repair issues a room can raise (each issue id is ``{key}_{entry_id}``)."""


class RoomIssues:
    """The repair issues of one room, and the devices whose last call failed."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Start with the failed devices the room's notice names (after a reload)."""
        self._hass = hass
        self._entry = entry
        self._faults: dict[str, str] = {}
        """The devices whose last call failed, with what failed."""
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, f"device_failed_{entry.entry_id}"
        )
        if issue is not None and issue.translation_placeholders:
            named = issue.translation_placeholders
            self._faults = dict.fromkeys(
                filter(None, named.get("entities", "").split(", ")),
                named.get("error", ""),
            )

    @property
    def _room_name(self) -> str:
        """Return the room's name."""
        return str(self._entry.data[CONF_NAME])

    def set(self, key: str, placeholders: dict[str, str] | None) -> None:
        """Raise the room's repair issue ``key`` with these placeholders, or clear it.

        Its id is ``{key}_{entry_id}`` (one of ``ISSUE_KEYS``); the room's name is always
        a placeholder.
        """
        issue_id = f"{key}_{self._entry.entry_id}"
        if placeholders is None:
            ir.async_delete_issue(self._hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"room": self._room_name, **placeholders},
        )

    def clear_all(self) -> None:
        """Clear every repair issue of the room."""
        for key in ISSUE_KEYS:
            self.set(key, None)

    def unavailable(
        self, entity_ids: list[str], key: str = "targets_unavailable"
    ) -> None:
        """Tell the user once which targets could not be used (none: clear it)."""
        self.set(key, {"entities": ", ".join(entity_ids)} if entity_ids else None)

    @callback
    def device_result(
        self, entity_id: str, service: str, error: Exception | None
    ) -> None:
        """Count a device's answer: a failure is logged once and becomes one notice.

        The notice lists the room's devices that failed; a device leaves it as soon as
        it does what it is asked again, and the notice goes when none is left.
        """
        if error is None:
            if self._faults.pop(entity_id, None) is not None:
                _LOGGER.info("%s answers again (%s)", entity_id, service)
                self._update_faults()
            return
        if entity_id in self._faults:
            _LOGGER.debug("%s failed %s again: %r", entity_id, service, error)
            return
        self._faults[entity_id] = f"{service}: {error!r}"
        _LOGGER.warning(
            "%s failed %s for the ASMR session of %s (%r); going on without it",
            entity_id,
            service,
            self._room_name,
            error,
        )
        self._update_faults()

    def _update_faults(self) -> None:
        """Show (or clear) the notice of the devices that failed."""
        self.set(
            "device_failed",
            {
                "entities": ", ".join(sorted(self._faults)),
                "error": next(iter(self._faults.values())),
            }
            if self._faults
            else None,
        )
