"""A switch per scene: on starts that scene in the room, off stops it with a fade.

The room's own mixes have a switch each too, named after the mix and kept with its
subentry (deleting the mix removes it); a mix made later gets its switch at once.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .engine import SCENES, Scene
from .entity import AsmrEntity
from .session import AsmrConfigEntry, RoomSession

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch for every scene of the library and every mix of the room."""
    room = entry.runtime_data
    async_add_entities(SceneSwitch(room, scene) for scene in SCENES.values())
    added: set[str] = set()

    @callback
    def add_mixes() -> None:
        for mix in room.mixes:
            if mix.id not in added:
                added.add(mix.id)
                async_add_entities([MixSwitch(room, mix)], config_subentry_id=mix.id)

    add_mixes()
    entry.async_on_unload(room.async_add_listener(add_mixes))


class SceneSwitch(AsmrEntity, SwitchEntity):
    """A scene in a room."""

    def __init__(self, room: RoomSession, scene: Scene) -> None:
        """Initialise the switch of one scene."""
        super().__init__(room, f"scene-{scene.id}")
        self.scene_id = scene.id
        self._attr_translation_key = scene.id

    @property
    def is_on(self) -> bool:
        """Return whether this scene is running in the room."""
        return self.room.scene == self.scene_id

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start this scene with the room's defaults, unless it plays already."""
        await self.room.async_play(self.scene_id, context=self._context)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop this scene with a fade, if it is the one running."""
        await self.room.async_stop(
            fade=True, scene=self.scene_id, context=self._context
        )


class MixSwitch(SceneSwitch):
    """One of the room's own mixes, named as its maker named it."""

    def __init__(self, room: RoomSession, mix: Scene) -> None:
        """Initialise the switch of one mix."""
        super().__init__(room, mix)
        self._attr_translation_key = None
        self._attr_name = mix.name
        self._attr_icon = mix.icon
        self._attr_extra_state_attributes = {"scene_id": mix.id}

    @property
    def name(self) -> str:
        """Return the mix's name as it is now (it may have been renamed)."""
        mix = self.room.catalogue.get(self.scene_id)
        return mix.name if mix is not None else str(self._attr_name)

    @property
    def icon(self) -> str | None:
        """Return the mix's icon as it is now."""
        mix = self.room.catalogue.get(self.scene_id)
        return mix.icon if mix is not None else self._attr_icon
