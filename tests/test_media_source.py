"""Tests for the media browser: the scenes listed, pictured, and playable by URL."""

from __future__ import annotations

from http import HTTPStatus
import logging
import sys
import time

import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.asmr import engine, media_source as media_source_module, stream
from custom_components.asmr.const import DOMAIN
from custom_components.asmr.engine import SAMPLE_RATE, SCENES, encoded_size
from homeassistant.components import media_source
from homeassistant.components.media_player import MediaPlayerState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .common import mpd_status, setup_http, setup_mpd, wait_for

HOUR_OF_MP3 = encoded_size("mp3", 60 * 60 * SAMPLE_RATE)
MP3_BYTES_PER_SECOND = 128_000 // 8


@pytest.fixture
async def browser(hass: HomeAssistant) -> None:
    """Set up the media browser with the integration (no room needed)."""
    assert await async_setup_component(hass, "media_source", {})
    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()


def _is_mp3(data: bytes) -> bool:
    """Return whether bytes open an MP3 file: an ID3 tag or an MPEG frame sync."""
    return data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


async def test_lists_scenes_with_pictures(hass: HomeAssistant, browser: None) -> None:
    """Browsing ASMR Scenes lists every scene, playable, with its picture."""
    root = await media_source.async_browse_media(hass, f"media-source://{DOMAIN}")
    assert root.title == "ASMR Scenes"
    assert root.can_expand
    children = root.children or []
    assert [child.title for child in children] == [s.name for s in SCENES.values()]
    assert all(child.can_play and not child.can_expand for child in children)
    assert children[0].media_content_id == f"media-source://{DOMAIN}/rain_on_window"
    assert children[0].thumbnail == "/api/asmr/picture/rain_on_window.png"


async def test_scene_resolves_to_signed_audio(
    hass: HomeAssistant, browser: None, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A scene resolves to a signed URL that plays an hour of MP3 without logging in."""
    played = await media_source.async_resolve_media(
        hass, f"media-source://{DOMAIN}/rain_on_window", None
    )
    assert played.mime_type == "audio/mpeg"
    url = URL(played.url)
    assert url.path.startswith("/api/asmr/scene/rain_on_window/")
    assert "authSig" in url.query

    client = await hass_client_no_auth()
    response = await client.get(played.url)
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"] == "audio/mpeg"
    assert response.content_length == HOUR_OF_MP3
    head = await response.content.readexactly(4096)
    response.close()
    assert _is_mp3(head)

    response = await client.get(played.url, headers={"Range": "bytes=384000-"})
    assert response.status == HTTPStatus.PARTIAL_CONTENT
    assert response.content_length == HOUR_OF_MP3 - 384000
    response.close()

    response = await client.get(url.path)  # the same path, unsigned
    assert response.status == HTTPStatus.UNAUTHORIZED


async def test_scene_resolves_to_a_format_that_works_here(
    hass: HomeAssistant,
    browser: None,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without libsndfile and ffmpeg the media browser plays WAV instead of MP3."""
    monkeypatch.setitem(sys.modules, "soundfile", None)
    engine.use_ffmpeg(None)
    try:
        played = await media_source.async_resolve_media(
            hass, f"media-source://{DOMAIN}/pink_noise", None
        )
        assert played.mime_type == "audio/wav"
        assert URL(played.url).path.endswith(".wav")
        client = await hass_client_no_auth()
        response = await client.get(played.url)
        assert response.status == HTTPStatus.OK
        assert await response.content.readexactly(4) == b"RIFF"
        response.close()
    finally:
        engine.use_ffmpeg("ffmpeg")


async def test_unknown_scene_is_unresolvable(
    hass: HomeAssistant, browser: None
) -> None:
    """Resolving a scene that does not exist says so."""
    with pytest.raises(media_source.Unresolvable):
        await media_source.async_resolve_media(
            hass, f"media-source://{DOMAIN}/rain_on_mars", None
        )


async def test_picture_is_a_png(
    hass: HomeAssistant, browser: None, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """A scene's picture is a PNG, drawn once and served again from the cache."""
    client = await hass_client_no_auth()
    response = await client.get("/api/asmr/picture/fireside_pages.png")
    assert response.status == HTTPStatus.OK
    assert response.headers["Content-Type"] == "image/png"
    png = await response.read()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    again = await client.get("/api/asmr/picture/fireside_pages.png")
    assert await again.read() == png
    missing = await client.get("/api/asmr/picture/rain_on_mars.png")
    assert missing.status == HTTPStatus.NOT_FOUND


async def test_a_picture_that_failed_is_drawn_again(
    hass: HomeAssistant,
    browser: None,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A picture whose drawing failed is not kept: the next request draws it again."""
    drawn = media_source_module.scene_picture
    attempts: list[str] = []

    def flaky(scene_id: str) -> bytes:
        attempts.append(scene_id)
        if len(attempts) == 1:
            raise MemoryError
        return drawn(scene_id)

    monkeypatch.setattr(media_source_module, "scene_picture", flaky)
    client = await hass_client_no_auth()
    failed = await client.get("/api/asmr/picture/ocean_night.png")
    assert failed.status == HTTPStatus.INTERNAL_SERVER_ERROR
    again = await client.get("/api/asmr/picture/ocean_night.png")
    assert again.status == HTTPStatus.OK
    assert (await again.read()).startswith(b"\x89PNG")
    assert attempts == ["ocean_night", "ocean_night"]


async def test_scene_plays_on_a_real_speaker(
    hass: HomeAssistant, mpd_server: int, free_port: int
) -> None:
    """Played from the media browser, a scene streams to a real MPD speaker."""
    await setup_http(hass, free_port)
    assert await async_setup_component(hass, "media_source", {})
    assert await async_setup_component(hass, DOMAIN, {})
    speaker = await setup_mpd(hass, mpd_server)
    await hass.services.async_call(
        "media_player",
        "play_media",
        {
            "entity_id": speaker,
            "media_content_id": f"media-source://{DOMAIN}/forest_stream",
            "media_content_type": "music",
        },
        blocking=True,
    )
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == MediaPlayerState.PLAYING,
        refresh=speaker,
        what="speaker playing",
    )
    status: dict[str, str] = {}

    def heard() -> bool:
        status.update(mpd_status(mpd_server))
        return float(status.get("elapsed", 0)) > 1.0

    await wait_for(hass, heard, what="MPD playing past the first second")
    assert status["state"] == "play"
    assert "error" not in status
    playing = hass.states.get(speaker).attributes["media_content_id"]
    assert "/api/asmr/scene/forest_stream/" in playing
    await hass.services.async_call(
        "media_player", "media_stop", {"entity_id": speaker}, blocking=True
    )


@pytest.mark.parametrize(
    "path",
    [
        "/api/asmr/scene/%C3%A9%C3%A9%C3%A9/1.mp3",
        "/api/asmr/scene/rain_on_window/%D9%A1%D9%A2.mp3",
        "/api/asmr/scene/rain_on_window/" + "9" * 5000 + ".mp3",
    ],
)
async def test_scene_audio_bad_names_are_not_found(
    hass: HomeAssistant,
    browser: None,
    hass_client: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    path: str,
) -> None:
    """A logged-in user asking for a scene or seed that cannot exist gets 404."""
    client = await hass_client()
    response = await client.get(path)
    assert response.status == HTTPStatus.NOT_FOUND
    assert await response.read() == b""
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_scene_audio_is_paced_and_capped(
    hass: HomeAssistant,
    browser: None,
    hass_client_no_auth: ClientSessionGenerator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The media browser's audio is paced like a session's, four readers per URL."""
    monkeypatch.setattr(stream, "BURST_SECONDS", 2.0, raising=False)
    monkeypatch.setattr(stream, "AHEAD_SECONDS", 1.0, raising=False)
    played = await media_source.async_resolve_media(
        hass, f"media-source://{DOMAIN}/rain_on_window", None
    )
    client = await hass_client_no_auth()
    begun = time.monotonic()
    response = await client.get(played.url)
    received = 0
    while time.monotonic() - begun < 3:
        received += len(await response.content.read(1 << 16))
    elapsed = time.monotonic() - begun
    assert received / MP3_BYTES_PER_SECOND <= 2.0 + 1.0 + elapsed
    others = [await client.get(played.url) for _ in range(3)]
    assert [r.status for r in others] == [HTTPStatus.OK] * 3
    refused = await client.get(played.url)
    assert refused.status == HTTPStatus.TOO_MANY_REQUESTS
    for each in (response, *others, refused):
        each.close()
