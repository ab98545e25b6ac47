"""A switch per scene: on starts that scene in the room, off stops it with a fade."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .engine import SCENES, Scene
from .entity import AsmrEntity
from .plan import StartRequest
from .session import AsmrConfigEntry, RoomSession

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch for every scene of the library."""
    async_add_entities(
        SceneSwitch(entry.runtime_data, scene) for scene in SCENES.values()
    )


class SceneSwitch(AsmrEntity, SwitchEntity):
    """A scene in a room."""

    def __init__(self, room: RoomSession, scene: Scene) -> None:
        """Initialise the switch of one scene."""
        super().__init__(room, f"scene-{scene.id}")
        self.scene = scene
        self._attr_translation_key = scene.id

    @property
    def is_on(self) -> bool:
        """Return whether this scene is running in the room."""
        return self.room.scene == self.scene.id

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start this scene with the room's defaults."""
        await self.room.async_start(
            StartRequest(scene=self.scene.id), context=self._context
        )

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop this scene with a fade, if it is the one running."""
        await self.room.async_stop(
            fade=True, scene=self.scene.id, context=self._context
        )
