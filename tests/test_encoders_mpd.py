"""Without libsndfile, as on Home Assistant OS: MP3 through ffmpeg, else WAV, on a real MPD.

soundfile is hidden from the integration (``import soundfile`` fails, as where musl has
no libsndfile), and the real MPD plays what the session serves.
"""

from __future__ import annotations

from collections.abc import Iterator
import sys

import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.asmr import engine
from custom_components.asmr.const import DOMAIN
from homeassistant.components.media_player import ATTR_MEDIA_CONTENT_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from .common import add_room, mpd_status, room_entry, setup_http, setup_mpd, wait_for


@pytest.fixture
def without_libsndfile(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``import soundfile`` fail for the integration's encoder chain."""
    monkeypatch.setitem(sys.modules, "soundfile", None)
    engine.use_ffmpeg("ffmpeg")
    yield
    engine.use_ffmpeg("ffmpeg")


async def _play(hass: HomeAssistant, mpd_port: int, http_port: int) -> tuple[str, str]:
    """Start a session on the real MPD; return the room's entry id and the speaker."""
    await setup_http(hass, http_port)
    speaker = await setup_mpd(hass, mpd_port)
    entry = await add_room(
        hass,
        room_entry(lights=[], speakers=[speaker], minutes=5, audio_format="mp3"),
    )
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "pink_noise", "volume": 20},
        blocking=True,
    )
    await hass.async_block_till_done()
    await wait_for(
        hass,
        lambda: mpd_status(mpd_port).get("state") == "play"
        and float(mpd_status(mpd_port).get("elapsed", 0)) > 1.0,
        what="MPD plays the session",
        timeout=30,
    )
    return entry.entry_id, speaker


@pytest.mark.timeout(120)
async def test_mp3_through_ffmpeg_plays_on_mpd(
    hass: HomeAssistant,
    without_libsndfile: None,
    mpd_server: int,
    free_port: int,
    hass_client: ClientSessionGenerator,
) -> None:
    """Without libsndfile the room's MP3 is encoded by ffmpeg, and MPD plays it."""
    entry_id, speaker = await _play(hass, mpd_server, free_port)
    status = mpd_status(mpd_server)
    assert status["bitrate"] == "128"  # MPD decodes a 128 kbit/s MP3
    assert status["audio"] == "48000:24:2"  # through its MP3 decoder
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID].endswith(".mp3")
    entry = hass.config_entries.async_get_entry(entry_id)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["audio_encoders"]["mp3"] == "ffmpeg"
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"format_unavailable_{entry_id}")
        is None
    )
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
    )


@pytest.mark.timeout(120)
async def test_wav_when_neither_libsndfile_nor_ffmpeg(
    hass: HomeAssistant,
    without_libsndfile: None,
    mpd_server: int,
    free_port: int,
) -> None:
    """With no MP3 encoder at all the session plays WAV, and the user is told once."""
    assert await async_setup_component(
        hass, "ffmpeg", {"ffmpeg": {"ffmpeg_bin": "/nonexistent/ffmpeg"}}
    )
    entry_id, speaker = await _play(hass, mpd_server, free_port)
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID].endswith(".wav")
    assert mpd_status(mpd_server)["audio"] == "48000:16:2"  # 16-bit PCM: the WAV
    issue = ir.async_get(hass).async_get_issue(DOMAIN, f"format_unavailable_{entry_id}")
    assert issue is not None
    assert issue.translation_placeholders == {
        "room": "Bedroom",
        "format": "mp3",
        "used": "wav",
    }
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
    )
    engine.use_ffmpeg("ffmpeg")
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry_id, "scene": "pink_noise"},
        blocking=True,
    )
    assert (
        ir.async_get(hass).async_get_issue(DOMAIN, f"format_unavailable_{entry_id}")
        is None
    )  # MP3 works again: the notice goes
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
    )
