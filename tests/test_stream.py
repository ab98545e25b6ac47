"""Tests for the session stream served by a real HTTP server: auth, pacing, caps, close."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import logging
import os
from pathlib import Path
import random
import sys
import threading
import time
import tracemalloc
from typing import Any

import aiohttp
import numpy as np
from numpy.typing import NDArray
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service
from yarl import URL

from custom_components.asmr import casts, stream
from custom_components.asmr.const import DOMAIN
from custom_components.asmr.engine import (
    SAMPLE_RATE,
    encoders,
    render as engine_render,
    use_ffmpeg,
)
from custom_components.asmr.engine.encode import ENCODER_FFMPEG
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component

from .common import add_room, mpd_status, room_entry, setup_http, setup_mpd, wait_for
from .engine.helpers import dying_ffmpeg

SPEAKER = "media_player.bedroom"
WAV_BYTES_PER_SECOND = SAMPLE_RATE * 2 * 2
WAV_HEADER = 44
MP3_BYTES_PER_SECOND = 128_000 // 8


@pytest.fixture
async def played(
    hass: HomeAssistant, socket_enabled: None, free_port: int
) -> list[ServiceCall]:
    """Serve Home Assistant on 127.0.0.1; give rooms a speaker that records its casts."""
    await setup_http(hass, free_port)
    # Set up first: a room's own media player would bring the real services later.
    assert await async_setup_component(hass, "media_player", {})
    hass.states.async_set(SPEAKER, "idle", {"volume_level": 0.6})
    async_mock_service(hass, "media_player", "volume_set")
    async_mock_service(hass, "media_player", "media_stop")
    calls: list[ServiceCall] = async_mock_service(hass, "media_player", "play_media")
    return calls


@pytest.fixture
def paced(monkeypatch: pytest.MonkeyPatch) -> tuple[float, float]:
    """Lower the pacing to a 2-s burst and 1 s ahead of real time."""
    monkeypatch.setattr(stream, "BURST_SECONDS", 2.0, raising=False)
    monkeypatch.setattr(stream, "AHEAD_SECONDS", 1.0, raising=False)
    return 2.0, 1.0


class RenderSpy:
    """Count the renders a stream starts and the audio frames they yield."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Wrap the render function that casts stream from."""
        self.calls = 0
        self.frames = 0
        self.each: list[int] = []
        """Frames yielded by each render, in the order they began."""
        real: Callable[..., Iterator[NDArray[np.float32]]] = engine_render

        def spy(*args: Any, **kwargs: Any) -> Iterator[NDArray[np.float32]]:
            self.calls += 1
            self.each.append(0)
            call = len(self.each) - 1
            for block in real(*args, **kwargs):
                self.frames += block.shape[0]
                self.each[call] += block.shape[0]
                yield block

        monkeypatch.setattr(casts, "render", spy)

    @property
    def seconds(self) -> float:
        """Return the seconds of audio rendered so far."""
        return self.frames / SAMPLE_RATE


async def _start(
    hass: HomeAssistant,
    played: list[ServiceCall],
    name: str = "Bedroom",
    speakers: list[str] | None = None,
    **options: Any,
) -> str:
    """Add a room, start a session in it, and return the URL it cast."""
    entry = await add_room(
        hass,
        room_entry(name=name, lights=[], speakers=speakers or [SPEAKER], **options),
    )
    return await _cast(hass, played, entry)


async def _cast(
    hass: HomeAssistant, played: list[ServiceCall], entry: ConfigEntry
) -> str:
    """Start pink noise in a room and return the URL it cast."""
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "pink_noise"},
        blocking=True,
    )
    await hass.async_block_till_done()
    return str(played[-1].data["media_content_id"])


def _token(url: str) -> str:
    """Return the session token a stream URL carries."""
    return URL(url).parts[4]


async def _until(check: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait in real time until ``check`` holds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)
    assert check(), what


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Return the ERROR (or worse) records logged so far."""
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_limits_follow_the_design() -> None:
    """Pacing is 120 s burst then 120 s ahead; 4 responses per token, 16 in all.

    A token of a room of more than two speakers allows two responses for each.

    A running session's stream, whose audio can still change, keeps a short lead: a
    10 s burst, then 5 s ahead of real time.
    """
    assert stream.BURST_SECONDS == 120
    assert stream.AHEAD_SECONDS == 120
    assert stream.LIVE_BURST_SECONDS == 10
    assert stream.LIVE_AHEAD_SECONDS == 5
    assert stream.MAX_RESPONSES_PER_TOKEN == 4
    assert stream.RESPONSES_PER_SPEAKER == 2
    assert stream.MAX_RESPONSES == 16


async def test_non_ascii_token_is_not_found(
    hass: HomeAssistant, played: list[ServiceCall], caplog: pytest.LogCaptureFixture
) -> None:
    """A token that is not ASCII is an unknown token: 404, no traceback."""
    url = await _start(hass, played, audio_format="mp3")
    base = str(URL(url).origin())
    async with aiohttp.ClientSession() as client:
        for method in ("GET", "HEAD"):
            async with client.request(
                method, f"{base}/api/asmr/stream/%C3%A9%C3%A9%C3%A9/0-0.mp3"
            ) as response:
                assert response.status == 404
                assert await response.read() == b""
    assert _errors(caplog) == []


async def test_stream_is_paced(
    hass: HomeAssistant, played: list[ServiceCall], paced: tuple[float, float]
) -> None:
    """A reader that pulls as fast as it can gets the burst, then real time plus ahead."""
    burst, ahead = paced
    url = await _start(hass, played, audio_format="wav", minutes=5)
    worst = float("-inf")
    audio = elapsed = 0.0
    async with aiohttp.ClientSession() as client:
        begun = time.monotonic()
        async with client.get(url) as response:
            assert response.status == 200
            received = 0
            while elapsed < 6:
                received += len(await response.content.read(1 << 16))
                elapsed = time.monotonic() - begun
                audio = max(received - WAV_HEADER, 0) / WAV_BYTES_PER_SECOND
                worst = max(worst, audio - elapsed)
    assert worst <= burst + ahead, f"{worst:.2f} s ahead of real time"
    assert audio >= elapsed - 2, f"{audio:.2f} s of audio in {elapsed:.2f} s"


async def test_stalled_reader_holds_only_the_pacing_window(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A speaker that opens the stream and reads nothing costs no more than the window."""
    burst, ahead = paced
    spy = RenderSpy(monkeypatch)
    url = await _start(hass, played, audio_format="mp3", minutes=30)
    async with aiohttp.ClientSession() as client:
        begun = time.monotonic()
        async with client.get(url) as response:
            assert response.status == 200
            await asyncio.sleep(3)
            elapsed = time.monotonic() - begun
            assert spy.seconds <= max(burst, ahead + elapsed) + 1, (
                f"{spy.seconds:.1f} s rendered in {elapsed:.1f} s"
            )


async def test_long_stream_memory_is_flat(
    hass: HomeAssistant, played: list[ServiceCall], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading two minutes of WAV at full speed holds a few blocks, not the file."""
    monkeypatch.setattr(stream, "BURST_SECONDS", 600.0, raising=False)
    url = await _start(hass, played, audio_format="wav", minutes=3)
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        await response.content.readexactly(WAV_BYTES_PER_SECOND * 4)  # warm caches
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            left = WAV_BYTES_PER_SECOND * 120
            while left > 0:
                left -= len(await response.content.read(min(left, 1 << 16)))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak - before < 8 * 2**20, f"{(peak - before) / 2**20:.1f} MiB held"


async def test_fifth_response_per_token_is_refused(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four responses per session token stream; a fifth gets 429 and renders nothing."""
    spy = RenderSpy(monkeypatch)
    url = await _start(hass, played, audio_format="mp3")
    async with aiohttp.ClientSession() as client:
        open_ = [await client.get(url) for _ in range(4)]
        assert [r.status for r in open_] == [200] * 4
        for response in open_:
            await response.content.readexactly(1024)
        assert spy.calls == 4
        async with client.get(url) as fifth:
            assert fifth.status == 429
            assert await fifth.read() == b""
        head = await client.head(url)  # headers only: no render, not counted
        assert head.status == 200
        await asyncio.sleep(0.3)
        assert spy.calls == 4

        open_.pop().close()
        await _until(
            lambda: stream.active_responses(hass, _token(url)) == 3,
            "a closed response frees its place",
        )
        again = await client.get(url)
        assert again.status == 200
        again.close()
        for response in open_:
            response.close()
        await _until(lambda: stream.active_responses(hass) == 0, "all closed")


async def test_a_room_of_many_speakers_streams_to_each(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past four speakers, a session's token allows two responses for each speaker.

    Every speaker of a room of six gets its stream (and each could be cast again while
    its old response lingers); one response past that is refused.
    """
    RenderSpy(monkeypatch)
    room = [f"media_player.speaker_{k}" for k in range(6)]
    for speaker in room:
        hass.states.async_set(speaker, "idle", {"volume_level": 0.5})
    url = await _start(hass, played, speakers=room, audio_format="mp3")
    async with aiohttp.ClientSession() as client:
        open_ = [await client.get(url) for _ in range(12)]
        assert [r.status for r in open_] == [200] * 12
        async with client.get(url) as refused:
            assert refused.status == 429
        for response in open_:
            response.close()
        await _until(lambda: stream.active_responses(hass) == 0, "all closed")


async def test_global_cap_is_refused_with_503(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past the cap on all streams together, one more response gets 503."""
    monkeypatch.setattr(stream, "MAX_RESPONSES", 5, raising=False)
    spy = RenderSpy(monkeypatch)
    bedroom = await _start(hass, played, audio_format="mp3")
    nursery = await _start(hass, played, name="Nursery", audio_format="mp3")
    async with aiohttp.ClientSession() as client:
        open_ = [await client.get(bedroom) for _ in range(4)]
        open_.append(await client.get(nursery))
        assert [r.status for r in open_] == [200] * 5
        for response in open_:
            await response.content.readexactly(1024)
        async with client.get(nursery) as refused:
            assert refused.status == 503
            assert await refused.read() == b""
        await asyncio.sleep(0.3)
        assert spy.calls == 5
        for response in open_:
            response.close()
        await _until(lambda: stream.active_responses(hass) == 0, "all closed")


async def test_streams_render_on_one_thread_per_cpu(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many responses play, their audio is made on at most one thread per CPU.

    Each thread that renders keeps a render's scratch memory (several MB); on Home
    Assistant's shared executor, ten rooms would hold ten of them.
    """
    threads: set[str] = set()
    real: Callable[..., Iterator[NDArray[np.float32]]] = engine_render

    def spy(*args: Any, **kwargs: Any) -> Iterator[NDArray[np.float32]]:
        for block in real(*args, **kwargs):
            threads.add(threading.current_thread().name)
            yield block

    monkeypatch.setattr(casts, "render", spy)
    urls = [
        await _start(hass, played, name=name, audio_format="mp3")
        for name in ("Bedroom", "Nursery", "Study")
    ]
    async with aiohttp.ClientSession() as client:
        open_ = [await client.get(url) for url in urls for _ in range(3)]
        assert [r.status for r in open_] == [200] * 9
        for response in open_:
            await response.content.readexactly(MP3_BYTES_PER_SECOND)
        for response in open_:
            response.close()
        await _until(lambda: stream.active_responses(hass) == 0, "all closed")
    assert threads
    assert all(name.startswith(f"{DOMAIN}_sound") for name in threads), threads
    assert len(threads) <= (os.cpu_count() or 1)


async def _read_until_closed(response: aiohttp.ClientResponse) -> int:
    """Read a response until the server ends it; return the bytes read."""
    received = 0
    try:
        while data := await response.content.read(1 << 16):
            received += len(data)
    except aiohttp.ClientPayloadError:
        pass
    return received


async def test_closing_a_token_ends_its_responses(
    hass: HomeAssistant, played: list[ServiceCall], paced: tuple[float, float]
) -> None:
    """Closing a session's token ends its responses in flight, not the others'."""
    bedroom = await _start(hass, played, audio_format="wav", minutes=5)
    nursery = await _start(hass, played, name="Nursery", audio_format="wav", minutes=5)
    async with aiohttp.ClientSession() as client:
        ours = [await client.get(bedroom) for _ in range(2)]
        other = await client.get(nursery)
        for response in (*ours, other):
            await response.content.readexactly(WAV_BYTES_PER_SECOND)
        stream.async_close_streams(hass, _token(bedroom))
        async with asyncio.timeout(3):
            sizes = await asyncio.gather(*(_read_until_closed(r) for r in ours))
        assert all(size < 60 * WAV_BYTES_PER_SECOND for size in sizes)
        await _until(
            lambda: stream.active_responses(hass, _token(bedroom)) == 0,
            "no response left for the closed token",
        )
        assert stream.active_responses(hass, _token(nursery)) == 1
        await other.content.readexactly(WAV_BYTES_PER_SECOND)  # still streaming
        other.close()
        await _until(lambda: stream.active_responses(hass) == 0, "all closed")


async def test_session_end_closes_its_responses(
    hass: HomeAssistant, played: list[ServiceCall], paced: tuple[float, float]
) -> None:
    """Stopping a session ends its responses in flight at once."""
    url = await _start(hass, played, audio_format="wav", minutes=5)
    entry_id = hass.config_entries.async_entries(DOMAIN)[0].entry_id
    async with aiohttp.ClientSession() as client:
        response = await client.get(url)
        await response.content.readexactly(WAV_BYTES_PER_SECOND)
        await hass.services.async_call(
            DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
        )
        async with asyncio.timeout(3):
            await _read_until_closed(response)
        await _until(
            lambda: stream.active_responses(hass, _token(url)) == 0,
            "no response left for the ended session",
        )
        async with client.get(url) as again:
            assert again.status == 404


_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_LATIN1 = "".join(chr(c) for c in range(0x20, 0x100) if c != 0x7F)


def _random_range(rng: random.Random) -> str | None:
    """Return a Range header as a careless or hostile client might send it (or none)."""
    kind = rng.randrange(7)

    def number() -> str:
        return str(rng.choice([0, 1, 383, 384, 385, rng.randrange(2**70)]))

    if kind == 0:
        return None
    if kind == 1:
        return f"bytes={number()}-{number()}"
    if kind == 2:
        return f"bytes={number()}-"
    if kind == 3:
        return f"bytes=-{number()}"
    if kind == 4:
        return "bytes=" + "9" * rng.randrange(4000, 6000) + "-"
    if kind == 5:
        return rng.choice(
            ["bytes=", "bytes=-", "bytes=0-1,5-9", "items=0-9", "bytes=١٢-", "bytes=-0"]
        )
    return "".join(rng.choices(_LATIN1, k=rng.randrange(41))).strip()


def _random_token(rng: random.Random, real: str) -> str:
    """Return a token that is not a running session's: forged, over-long or not ASCII."""
    while True:
        kind = rng.randrange(4)
        if kind == 0:  # forged, the right length
            token = "".join(rng.choices(_URLSAFE, k=len(real)))
        elif kind == 1:
            token = "".join(rng.choices(_URLSAFE, k=rng.randrange(1, 65)))
        elif kind == 2:  # over-long
            token = "".join(rng.choices(_URLSAFE, k=rng.randrange(65, 3000)))
        else:  # not ASCII
            token = "".join(
                chr(
                    rng.choice(
                        [rng.randrange(0xA0, 0x800), rng.randrange(0x800, 0xD800)]
                    )
                )
                for _ in range(rng.randrange(1, 40))
            )
        if token != real:
            return token


async def test_bad_tokens_and_ranges_get_no_audio(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Forged, expired, foreign, non-ASCII and over-long tokens get 404 and no audio."""
    bedroom = await _start(hass, played, audio_format="wav", minutes=5)
    nursery = await _start(hass, played, name="Nursery", audio_format="wav", minutes=5)
    nursery_entry = hass.config_entries.async_entries(DOMAIN)[1]
    # A second cast in the nursery, under a name the bedroom does not have: an extend
    # past the horizon of the cast playing casts again.
    await hass.services.async_call(
        DOMAIN,
        "extend",
        {"config_entry_id": nursery_entry.entry_id, "minutes": 720},
        blocking=True,
    )
    nursery_second = str(played[-1].data["media_content_id"])
    assert URL(nursery_second).name != URL(bedroom).name
    expired = await _start(hass, played, name="Study", audio_format="wav")
    study_entry = hass.config_entries.async_entries(DOMAIN)[2]
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": study_entry.entry_id, "fade": False},
        blocking=True,
    )
    base = str(URL(bedroom).origin())
    real = _token(bedroom)
    rng = random.Random(11)
    cases: list[tuple[str, str]] = []
    for _ in range(1000):
        kind = rng.randrange(10)
        if kind == 0:  # the session has ended
            cases.append((_token(expired), URL(expired).name))
        elif kind == 1:  # a cast of another room under this room's token
            cases.append((real, URL(nursery_second).name))
        elif kind == 2:  # a cast this room never made
            cases.append((_token(nursery), f"{rng.randrange(2, 99)}-0.wav"))
        else:  # forged, over-long, not ASCII
            cases.append((_random_token(rng, real), URL(bedroom).name))
    async with aiohttp.ClientSession() as client:
        for token, cast_name in cases:
            method = rng.choice(["GET", "HEAD"])
            range_ = _random_range(rng)
            headers = {"Range": range_} if range_ is not None else {}
            url = URL(base).with_path(f"/api/asmr/stream/{token}/{cast_name}")
            async with client.request(method, url, headers=headers) as response:
                assert response.status == 404, (
                    token[:80],
                    cast_name,
                    (range_ or "")[:80],
                )
                assert await response.read() == b""
    assert _errors(caplog) == []


async def test_random_ranges_on_a_real_stream(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Any Range header on a running stream gets 200, 206 or 416, never an error."""
    url = await _start(hass, played, audio_format="mp3", minutes=5)
    rng = random.Random(5)
    cases = [
        (rng.choice(["GET", "HEAD", "HEAD"]), _random_range(rng)) for _ in range(300)
    ]
    async with aiohttp.ClientSession() as client:
        size = int((await client.head(url)).headers["Content-Length"])
        for method, range_ in cases:
            headers = {"Range": range_} if range_ is not None else {}
            async with client.request(method, url, headers=headers) as response:
                assert response.status in (200, 206, 416), (range_ or "")[:80]
                if response.status == 416:
                    assert response.headers["Content-Range"] == f"bytes */{size}"
                    assert await response.read() == b""
                elif response.status == 206:
                    first, last = map(
                        int,
                        response.headers["Content-Range"]
                        .removeprefix("bytes ")
                        .split("/")[0]
                        .split("-"),
                    )
                    assert 0 <= first <= last < size
                    assert response.content_length == last - first + 1
                if method == "GET" and response.status != 416:
                    await response.content.read(512)
    assert _errors(caplog) == []


@pytest.mark.timeout(120)
async def test_real_speaker_plays_a_paced_stream(
    hass: HomeAssistant,
    mpd_server: int,
    free_port: int,
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """MPD (which pulls as fast as it is served) plays on while only the window renders."""
    burst, ahead = paced
    spy = RenderSpy(monkeypatch)
    await setup_http(hass, free_port)
    speaker = await setup_mpd(hass, mpd_server)
    entry = await add_room(
        hass, room_entry(lights=[], speakers=[speaker], audio_format="wav", minutes=20)
    )
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "pink_noise"},
        blocking=True,
    )
    begun = time.monotonic()
    status: dict[str, str] = {}

    def played_for(seconds: float) -> bool:
        status.update(mpd_status(mpd_server))
        return float(status.get("elapsed", 0)) >= seconds

    await wait_for(hass, lambda: played_for(8), what="MPD playing for 8 s")
    elapsed = time.monotonic() - begun
    assert status["state"] == "play"
    assert "error" not in status
    # MPD opens the stream several times while it probes its decoders: each response
    # is paced on its own.
    longest = max(spy.each) / SAMPLE_RATE
    assert longest <= max(burst, ahead + elapsed) + 1, (
        f"{longest:.1f} s rendered in {elapsed:.1f} s by one of {spy.calls} responses"
    )
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": entry.entry_id, "fade": False},
        blocking=True,
    )


async def test_an_encoder_that_dies_ends_the_stream_and_says_so(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Ffmpeg killed mid-stream ends the response early, with an error in the log.

    The speaker then stops, and the session casts it again; before, the stream went on
    as silence to its full length and nothing was logged.
    """
    fake = dying_ffmpeg(tmp_path)
    monkeypatch.setitem(sys.modules, "soundfile", None)
    entry = await add_room(
        hass, room_entry(lights=[], speakers=[SPEAKER], audio_format="mp3")
    )
    use_ffmpeg(str(fake))  # after the setup, which sets Home Assistant's ffmpeg
    try:
        assert encoders()["mp3"] == ENCODER_FFMPEG
        url = await _cast(hass, played, entry)
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            async with asyncio.timeout(15):
                received = await _read_until_closed(response)
        assert 0 < received < 30 * MP3_BYTES_PER_SECOND
        await _until(lambda: stream.active_responses(hass) == 0, "the stream closed")
        assert any("ffmpeg stopped" in message for message in _errors(caplog))
    finally:
        use_ffmpeg("ffmpeg")
