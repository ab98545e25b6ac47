"""The room's default scene, the one "wind down" and the media player's play start.

The built-in scenes are offered by id (their names are translated); the room's mixes by
name, as their maker named them.
"""

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
    """Add the room's default scene select and its mixer's mix select."""
    async_add_entities(
        [
            DefaultSceneSelect(entry.runtime_data, "default_scene"),
            MixerSelect(entry.runtime_data, "mixer"),
        ]
    )


class DefaultSceneSelect(AsmrEntity, SelectEntity):
    """Which scene the room starts by default (its options' ``scene``)."""

    _attr_translation_key = "default_scene"
    _attr_entity_category = EntityCategory.CONFIG

    @property
    def options(self) -> list[str]:
        """Return the built-in scenes' ids, then the room's mixes' names."""
        return [*SCENES, *(mix.name for mix in self.room.mixes)]

    @property
    def current_option(self) -> str:
        """Return the room's default scene."""
        scene = self.room.defaults.scene
        mix = next((mix for mix in self.room.mixes if mix.id == scene), None)
        return mix.name if mix is not None else scene

    async def async_select_option(self, option: str) -> None:
        """Make a scene the room's default."""
        scene = None if option in SCENES else self.room.scene_named(option)
        await self.room.async_set_default_scene(option if scene is None else scene.id)
        self.async_write_ha_state()


class MixerSelect(AsmrEntity, SelectEntity):
    """Which of the room's mixes the mixer's layer levels show and change."""

    _attr_translation_key = "mixer"

    @property
    def available(self) -> bool:
        """Return whether the room has a mix."""
        return self.room.mixer is not None

    @property
    def options(self) -> list[str]:
        """Return the names of the room's mixes."""
        return [mix.name for mix in self.room.mixes]

    @property
    def current_option(self) -> str | None:
        """Return the name of the mix the mixer shows."""
        mix = self.room.mixer
        return mix.name if mix is not None else None

    async def async_select_option(self, option: str) -> None:
        """Show a mix in the mixer."""
        mix = self.room.scene_named(option)
        self.room.set_mixer(option if mix is None else mix.id)
