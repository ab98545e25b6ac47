"""The room as a media player: the scenes as sources, the session as what is playing.

It lets the media control card show the session's progress to its end, and lets Assist's
built-in media sentences ("pause", "stop", "set the volume") and voice assistants that
expose media players work on a room. It only translates into session calls.
"""

from __future__ import annotations

from datetime import datetime

from homeassistant.components.media_player import (
    MediaPlayerDeviceClass,
    MediaPlayerEntity,
)
from homeassistant.components.media_player.const import (
    MediaPlayerEntityFeature,
    MediaPlayerState,
    MediaType,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .engine import SCENES
from .entity import AsmrEntity
from .plan import StartRequest
from .session import AsmrConfigEntry

PARALLEL_UPDATES = 0

PICTURE_URL = "/api/asmr/picture/{scene}.png"
"""Where the media browser serves a scene's spectrogram picture."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: AsmrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the room's media player."""
    async_add_entities([RoomMediaPlayer(entry.runtime_data, "player")])


class RoomMediaPlayer(AsmrEntity, MediaPlayerEntity):
    """A room's ASMR sessions as one media player."""

    _attr_translation_key = "player"
    _attr_device_class = MediaPlayerDeviceClass.SPEAKER
    _attr_media_content_type = MediaType.MUSIC
    _attr_supported_features = (
        MediaPlayerEntityFeature.SELECT_SOURCE
        | MediaPlayerEntityFeature.PLAY
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP
        | MediaPlayerEntityFeature.TURN_ON
        | MediaPlayerEntityFeature.TURN_OFF
        | MediaPlayerEntityFeature.VOLUME_SET
    )

    @property
    def source_list(self) -> list[str]:
        """Return the names of the scenes the room plays: built-in, then its mixes."""
        return [scene.name for scene in self.room.catalogue.values()]

    @property
    def state(self) -> MediaPlayerState:
        """Return playing while a session runs (fading included), else idle."""
        return MediaPlayerState.PLAYING if self.room.plan else MediaPlayerState.IDLE

    @property
    def source(self) -> str | None:
        """Return the running scene's name."""
        scene = self.room.catalogue.get(self.room.scene or "")
        return scene.name if scene is not None else None

    @property
    def media_title(self) -> str | None:
        """Return the running scene's name."""
        return self.source

    @property
    def media_content_id(self) -> str | None:
        """Return the running scene's id."""
        return self.room.scene

    @property
    def entity_picture(self) -> str | None:
        """Return the running scene's spectrogram picture."""
        scene = self.room.scene
        return PICTURE_URL.format(scene=scene) if scene in SCENES else None

    @property
    def volume_level(self) -> float:
        """Return the session's volume (the room's default when idle), 0..1."""
        return self.room.volume / 100

    @property
    def media_duration(self) -> int | None:
        """Return the session's length in seconds, start to scheduled end."""
        plan = self.room.plan
        if plan is None:
            return None
        return round((plan.ends_at - plan.started_at).total_seconds())

    @property
    def media_position(self) -> int | None:
        """Return the position at ``media_position_updated_at``: the session's start."""
        return 0 if self.room.plan else None

    @property
    def media_position_updated_at(self) -> datetime | None:
        """Return when the session started; the frontend counts on from there."""
        plan = self.room.plan
        return plan.started_at if plan else None

    async def async_select_source(self, source: str) -> None:
        """Start the scene with this name, unless it plays already."""
        scene = self.room.scene_named(source)
        if scene is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_source",
                translation_placeholders={"source": source},
            )
        await self.room.async_play(scene.id, context=self._context)

    async def async_media_play(self) -> None:
        """Start the room's default scene, unless a session runs."""
        if self.room.plan is None:
            await self.room.async_start(StartRequest(), context=self._context)

    async def async_turn_on(self) -> None:
        """Start the room's default scene, unless a session runs."""
        await self.async_media_play()

    async def async_media_stop(self) -> None:
        """Stop the session with its fade-out."""
        if self.room.plan is not None:
            await self.room.async_stop(fade=True, context=self._context)

    async def async_media_pause(self) -> None:
        """Stop the session with its fade-out (a session does not pause)."""
        await self.async_media_stop()

    async def async_turn_off(self) -> None:
        """Stop the session with its fade-out."""
        await self.async_media_stop()

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the session's volume (and the speakers' now)."""
        await self.room.async_set_volume(max(1, round(volume * 100)))
