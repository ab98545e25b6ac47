"""The room's buttons: wind down (start the default scene), stop, and extend."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import AsmrEntity
from .plan import StartRequest
from .session import AsmrConfigEntry, RoomSession

PARALLEL_UPDATES = 0


async def _stop(room: RoomSession, context: Context | None) -> None:
    """Stop the running session with its fade-out; nothing when idle."""
    if room.plan is not None:
        await room.async_stop(fade=True, context=context)


@dataclass(frozen=True, kw_only=True)
class AsmrButtonEntityDescription(ButtonEntityDescription):
    """Describes a button of a room."""

    press_fn: Callable[[RoomSession, Context | None], Awaitable[object]]


BUTTONS: tuple[AsmrButtonEntityDescription, ...] = (
    AsmrButtonEntityDescription(
        key="wind_down",
        translation_key="wind_down",
        press_fn=lambda room, context: room.async_start(
            StartRequest(), context=context
        ),
    ),
    AsmrButtonEntityDescription(key="stop", translation_key="stop", press_fn=_stop),
    AsmrButtonEntityDescription(
        key="extend",
        translation_key="extend",
        press_fn=lambda room, context: room.async_extend(
            room.defaults.extend_minutes, context=context
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's buttons."""
    async_add_entities(
        AsmrButton(entry.runtime_data, description) for description in BUTTONS
    )


class AsmrButton(AsmrEntity, ButtonEntity):
    """A button of a room."""

    entity_description: AsmrButtonEntityDescription

    def __init__(
        self, room: RoomSession, description: AsmrButtonEntityDescription
    ) -> None:
        """Initialise the button."""
        super().__init__(room, description.key)
        self.entity_description = description

    async def async_press(self) -> None:
        """Do what the button says."""
        await self.entity_description.press_fn(self.room, self._context)
