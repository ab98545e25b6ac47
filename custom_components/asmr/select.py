"""The room's default scene, the one "wind down" and the media player's play start."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .engine import SCENES
from .entity import AsmrEntity
from .session import AsmrConfigEntry

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's default scene select."""
    async_add_entities([DefaultSceneSelect(entry.runtime_data, "default_scene")])


class DefaultSceneSelect(AsmrEntity, SelectEntity):
    """Which scene the room starts by default (its options' ``scene``)."""

    _attr_translation_key = "default_scene"
    _attr_entity_category = EntityCategory.CONFIG
    _attr_options = list(SCENES)

    @property
    def current_option(self) -> str:
        """Return the room's default scene."""
        return self.room.defaults.scene

    async def async_select_option(self, option: str) -> None:
        """Make a scene the room's default."""
        await self.room.async_set_default_scene(option)
