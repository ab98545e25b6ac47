"""Media browser: the scenes, each with a spectrogram picture, playable on any speaker.

A scene resolves to an hour of its audio (MP3, fading out over the last two minutes)
served by Home Assistant under a signed path, so any media player can fetch it. Each
room with mixes of its own has a folder of them (``{entry_id}``; a mix is
``{entry_id}-{mix_id}``).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from http import HTTPStatus
import re
import secrets
from typing import Final

from aiohttp import web

from homeassistant.components.http.auth import async_sign_path
from homeassistant.components.media_player.const import MediaClass, MediaType
from homeassistant.components.media_source import (
    BrowseMediaSource,
    MediaSource,
    MediaSourceItem,
    PlayMedia,
    Unresolvable,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.hass_dict import HassKey

from .casts import Cast
from .const import DOMAIN
from .engine import (
    DEFAULT_FADE_IN_S,
    FORMATS,
    SAMPLE_RATE,
    SCENES,
    Scene,
    available_formats,
    playable_format,
    render,
)
from .engine.picture import spectrogram_png
from .stream import AsmrStreamView

SCENE_PATH: Final = "/api/asmr/scene"
PICTURE_PATH: Final = "/api/asmr/picture"
PLAY_MINUTES: Final = 60
"""Length of a scene played from the media browser, in minutes."""
FADE_OUT_SECONDS: Final = 120
SIGNATURE_VALID: Final = timedelta(hours=12)
"""How long a resolved URL works: long enough for a night's sleep."""
PICTURE_SECONDS: Final = 20
"""Seconds of a scene drawn in its picture."""
PICTURE_SEED: Final = 1
AUDIO_FORMAT: Final = "mp3"
"""The format the media browser plays, where it can be encoded (else WAV)."""
_SEED: Final = re.compile(r"[0-9]{1,10}")
"""A seed as ``async_resolve_media`` writes it (ASCII digits, below 2**31)."""

DATA_PICTURES: HassKey[dict[str, asyncio.Future[bytes]]] = HassKey(f"{DOMAIN}_pictures")


async def async_get_media_source(hass: HomeAssistant) -> MediaSource:
    """Set up the scenes' media source and the views that serve it."""
    hass.http.register_view(SceneAudioView())
    hass.http.register_view(ScenePictureView())
    return AsmrMediaSource()


def find_scene(hass: HomeAssistant, key: str) -> Scene | None:
    """Return the scene a media id names: a built-in id, or ``{entry_id}-{mix_id}``."""
    if key in SCENES:
        return SCENES[key]
    entry_id, _, mix_id = key.partition("-")
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN or not mix_id:
        return None
    if entry.state is not ConfigEntryState.LOADED:
        return None
    return next((mix for mix in entry.runtime_data.mixes if mix.id == mix_id), None)


def scene_cast(scene: str | Scene, seed: int, audio_format: str = AUDIO_FORMAT) -> Cast:
    """Return the media browser's default-length cast of a scene."""
    return Cast(
        scene=SCENES[scene] if isinstance(scene, str) else scene,
        seed=seed,
        start=0,
        stop=PLAY_MINUTES * 60 * SAMPLE_RATE,
        fade_in_s=DEFAULT_FADE_IN_S,
        fade_out_s=FADE_OUT_SECONDS,
        audio_format=audio_format,
    )


class AsmrMediaSource(MediaSource):
    """The built-in scenes as a media source."""

    name = "ASMR Scenes"

    def __init__(self) -> None:
        """Initialise the media source."""
        super().__init__(DOMAIN)

    async def async_resolve_media(self, item: MediaSourceItem) -> PlayMedia:
        """Return a signed URL that plays an hour of a scene."""
        if find_scene(item.hass, item.identifier) is None:
            raise Unresolvable(f"No ASMR scene called {item.identifier!r}")
        seed = secrets.randbits(31)
        audio_format = playable_format(AUDIO_FORMAT)
        path = f"{SCENE_PATH}/{item.identifier}/{seed}.{audio_format}"
        url = async_sign_path(item.hass, path, SIGNATURE_VALID, use_content_user=True)
        return PlayMedia(url, FORMATS[audio_format][0])

    async def async_browse_media(self, item: MediaSourceItem) -> BrowseMediaSource:
        """Return the scenes and a folder per room with mixes, or a room's mixes."""
        rooms = [
            entry
            for entry in item.hass.config_entries.async_loaded_entries(DOMAIN)
            if entry.runtime_data.mixes
        ]
        if item.identifier:
            room = next((e for e in rooms if e.entry_id == item.identifier), None)
            if room is None:
                raise Unresolvable(f"No ASMR room with mixes {item.identifier!r}")
            return _folder(
                room.entry_id,
                room.title,
                [
                    _playable(f"{room.entry_id}-{mix.id}", mix.name, None)
                    for mix in room.runtime_data.mixes
                ],
            )
        return _folder(
            None,
            self.name,
            [
                *(
                    _playable(scene.id, scene.name, f"{PICTURE_PATH}/{scene.id}.png")
                    for scene in SCENES.values()
                ),
                *(
                    BrowseMediaSource(
                        domain=DOMAIN,
                        identifier=room.entry_id,
                        media_class=MediaClass.DIRECTORY,
                        media_content_type=MediaType.MUSIC,
                        title=room.title,
                        can_play=False,
                        can_expand=True,
                    )
                    for room in rooms
                ),
            ],
        )


def _folder(
    identifier: str | None, title: str, children: list[BrowseMediaSource]
) -> BrowseMediaSource:
    """Return a folder of the media browser."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.DIRECTORY,
        media_content_type=MediaType.MUSIC,
        title=title,
        can_play=False,
        can_expand=True,
        children_media_class=MediaClass.MUSIC,
        children=children,
    )


def _playable(identifier: str, title: str, thumbnail: str | None) -> BrowseMediaSource:
    """Return a scene or mix of the media browser."""
    return BrowseMediaSource(
        domain=DOMAIN,
        identifier=identifier,
        media_class=MediaClass.MUSIC,
        media_content_type=FORMATS[playable_format(AUDIO_FORMAT)][0],
        title=title,
        can_play=True,
        can_expand=False,
        thumbnail=thumbnail,
    )


class SceneAudioView(AsmrStreamView):
    """Serve an hour of a scene to signed paths and logged-in users.

    The URL is ``/api/asmr/scene/{scene_id}/{seed}.mp3``; the seed makes every fetch of
    one URL (``HEAD``, ``Range``) give the same bytes.
    """

    url = SCENE_PATH + "/{token}/{name}"
    name = "api:asmr:scene"
    requires_auth = True

    def find_cast(self, hass: HomeAssistant, token: str, name: str) -> Cast | None:
        """Return the cast a URL names: ``token`` is the scene, ``name`` the seed."""
        seed, _, extension = name.partition(".")
        if extension not in available_formats() or not _SEED.fullmatch(seed):
            return None
        scene = find_scene(hass, token)
        if scene is None:
            return None
        return scene_cast(scene, int(seed) % 2**31, extension)

    def stream_key(self, token: str, name: str) -> str:
        """Return what the per-stream cap counts responses by: the URL's path."""
        return f"{SCENE_PATH}/{token}/{name}"


class ScenePictureView(HomeAssistantView):
    """Serve a scene's spectrogram picture (public: it shows a built-in scene)."""

    url = PICTURE_PATH + "/{scene_id}.png"
    name = "api:asmr:picture"
    requires_auth = False

    async def get(self, request: web.Request, scene_id: str) -> web.Response:
        """Return the picture, drawn once per scene off the event loop."""
        if scene_id not in SCENES:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        hass = request.app[KEY_HASS]
        pictures = hass.data.setdefault(DATA_PICTURES, {})
        if scene_id not in pictures:
            pictures[scene_id] = asyncio.ensure_future(
                hass.async_add_executor_job(scene_picture, scene_id)
            )
        drawing = pictures[scene_id]
        try:
            png = await asyncio.shield(drawing)
        except Exception:
            if pictures.get(scene_id) is drawing:  # the next request draws it again
                del pictures[scene_id]
            raise
        return web.Response(
            body=png,
            content_type="image/png",
            headers={"Cache-Control": "public, max-age=86400"},
        )


def scene_picture(scene_id: str) -> bytes:
    """Return the spectrogram PNG of the first seconds of a scene."""
    frames = PICTURE_SECONDS * SAMPLE_RATE
    blocks = render(SCENES[scene_id], seed=PICTURE_SEED, stop=frames, fade_in_s=0)
    return spectrogram_png(blocks, frames=frames, width=256, height=128)
