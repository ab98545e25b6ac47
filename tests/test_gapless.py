"""Extend and stop with a fade change the stream the speaker plays: no new cast, no gap.

The audio of a cast is the scene times the session's envelope (keyframes in the plan);
a change applies only after every frame a stream has rendered, so audio already served
never changes and a ``Range`` request for it gets the same bytes again.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
import logging
import threading
import time
from typing import Any

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from mpd import MPDClient
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from yarl import URL

from custom_components.asmr import casts, stream
from custom_components.asmr.casts import LiveEnvelope, SessionCast
from custom_components.asmr.const import DOMAIN
from custom_components.asmr.engine import SAMPLE_RATE, SCENES
from custom_components.asmr.envelope import Envelope
from custom_components.asmr.plan import Plan
from custom_components.asmr.session import RoomSession
from homeassistant.const import EVENT_CALL_SERVICE
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util

from . import test_stream
from .common import add_room, mpd_status, room_entry, wait_for
from .test_session_mpd import _assert_put_back, _mpd_room

_LOGGER = logging.getLogger(__name__)

# A real HTTP server with a speaker that records its casts.
played = test_stream.played
SR = SAMPLE_RATE
SPEAKER = "media_player.bedroom"

# -- the envelope ------------------------------------------------------------------


def test_session_envelope_fades_in_holds_and_fades_out() -> None:
    """A session's envelope: raised-cosine fade-in, full level, fade-out, silence."""
    env = Envelope.session(fade_in=8 * SR, fade_at=50 * SR, end=60 * SR)
    assert env.gain(0) == 0.0
    assert env.gain(4 * SR) == pytest.approx(0.5)
    assert env.gains(10 * SR, SR) == 1.0  # constant: no per-frame work
    assert env.gain(55 * SR) == pytest.approx(0.5)
    assert env.end == 60 * SR
    assert env.silent_from(60 * SR)
    assert not env.silent_from(60 * SR - 1)
    rise = np.asarray(env.gains(0, 8 * SR))
    assert np.all(np.diff(rise) >= 0)
    assert Envelope.from_data(env.as_data()) == env


@pytest.mark.parametrize(
    "data",
    [
        [],
        [[0, 10, 0.0, 1.5]],
        [[10, 5, 1.0, 0.0], [5, 5, 0.0, 1.0]],
        [[0, -1, 0.0, 1.0]],
        [[0, 1, "x", 1.0]],
        "nonsense",
        [[0]],
    ],
)
def test_malformed_envelope_is_refused(data: Any) -> None:
    """Stored keyframes that make no curve are refused with ValueError."""
    with pytest.raises(ValueError):
        Envelope.from_data(data)


def test_changes_keep_every_frame_before_the_cut() -> None:
    """An extend or a fade from a frame leaves every gain before it as it was."""
    env = Envelope.session(fade_in=8 * SR, fade_at=50 * SR, end=60 * SR)
    for at in (3 * SR + 17, 20 * SR, 52 * SR + 5, 59 * SR):
        before = np.asarray(env.gains(0, at))
        longer = env.extended(at, fade_at=110 * SR, end=120 * SR, recover=5 * SR)
        faded = env.fading(at, at + 10 * SR)
        for changed in (longer, faded):
            assert np.array_equal(np.asarray(changed.gains(0, at)), before)
        assert longer.end == 120 * SR
        assert longer.gain(110 * SR) == 1.0
        assert faded.end == at + 10 * SR
        # No jump at the cut: the new curve starts where the old one was.
        assert longer.gain(at) == pytest.approx(env.gain(at))
        assert faded.gain(at) == pytest.approx(env.gain(at))


def test_extend_in_the_first_frames_of_a_fade_stays_up() -> None:
    """An extend as the fade-out begins holds the sound up to the new fade, no jump."""
    env = Envelope.session(fade_in=8 * SR, fade_at=600 * SR, end=660 * SR)
    for at in (600 * SR + 1, 600 * SR + 100, 600 * SR + SR // 2):
        longer = env.extended(at, fade_at=1140 * SR, end=1200 * SR, recover=5 * SR)
        held = np.asarray(longer.gains(at, 540 * SR))
        assert held.min() >= 0.99
        steps = np.abs(np.diff(np.asarray(longer.gains(at, 600 * SR))))
        assert steps.max() < 1e-3
        assert longer.end == 1200 * SR


def test_live_envelope_changes_only_after_what_was_rendered() -> None:
    """A change lands on the first frame no stream has rendered, never before now."""
    env = Envelope.session(fade_in=SR, fade_at=50 * SR, end=60 * SR)
    live = LiveEnvelope(env, lambda: 0)
    live.claim(0, 10 * SR)
    assert live.committed == 10 * SR
    new, at = live.change(2 * SR, lambda e, at: e.fading(at, at + 5 * SR))
    assert at == 10 * SR
    assert new.end == 15 * SR
    _, at = live.change(30 * SR, lambda e, at: e.fading(at, at + 5 * SR))
    assert at == 30 * SR
    assert live.claim(40 * SR, SR) is None  # silent: nothing to render


def test_a_probe_of_the_file_end_does_not_hold_changes_back() -> None:
    """Frames far past what plays (a player probing the file's end) do not commit."""
    playing = [20 * SR]
    live = LiveEnvelope(
        Envelope.session(fade_in=SR, fade_at=3000 * SR, end=3600 * SR),
        lambda: playing[0],
    )
    live.claim(20 * SR, SR)  # the speaker's stream
    live.claim(7000 * SR, SR)  # a probe of the end of the file
    assert live.committed == 21 * SR
    playing[0] = 30 * SR
    live.claim(5 * SR, SR)  # a Range request for audio already served
    assert live.committed == 21 * SR
    _, at = live.change(playing[0], lambda e, at: e.fading(at, at + 5 * SR))
    assert at == 30 * SR


def _plan(**changes: Any) -> Plan:
    """Return a stored plan (as data) of a one-hour session, with some changes."""
    now = dt_util.utcnow().replace(microsecond=0)
    data = {
        "scene": "pink_noise",
        "seed": 3,
        "token": "A1b2C3d4E5f6G7h8I9j0K1l2",
        "started_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        "volume": 30,
        "brightness": 15,
        "color_temp_kelvin": 2200,
        "dim_seconds": 30,
        "fade_out_seconds": 60,
        "end_action": "off",
        "audio_format": "wav",
        "avoid": [],
        "lights_before": {},
        "volumes_before": {},
        "released": [],
        "end_reason": "timer",
        **changes,
    }
    return Plan.from_dict(data)


def test_plan_stores_its_envelope() -> None:
    """The envelope is stored with the plan; a plan stored without one gets its timing's."""
    plan = _plan()
    assert plan.envelope == plan.timed_envelope()
    assert plan.envelope.end == plan.frame_at(plan.ends_at)
    plan.envelope = plan.envelope.fading(10 * SR, 20 * SR)
    again = Plan.from_dict(plan.as_dict())
    assert again.envelope == plan.envelope
    with pytest.raises(ValueError):
        _plan(envelope=[[0, 10, 0.0, 2.0]])


def test_cast_audio_already_rendered_never_changes() -> None:
    """A cast rendered, then extended: the frames it rendered are the same again."""
    env = Envelope.session(fade_in=2 * SR, fade_at=6 * SR, end=8 * SR)
    live = LiveEnvelope(env, lambda: 0)
    cast = SessionCast(
        scene=SCENES["pink_noise"],
        seed=5,
        start=0,
        stop=20 * SR,
        fade_in_s=0.0,
        fade_out_s=0.0,
        audio_format="wav",
        envelope=live,
    )
    first = cast.blocks_from(0)
    served = np.concatenate([next(first) for _ in range(5)])
    first.close()  # type: ignore[attr-defined]
    live.change(
        0, lambda e, at: e.extended(at, fade_at=14 * SR, end=16 * SR, recover=SR)
    )
    again = np.concatenate(list(cast.blocks_from(0)))
    assert np.array_equal(again[: 5 * SR], served)
    # The audio goes on to the new end, then silence to the cast's horizon.
    assert np.abs(again[10 * SR : 11 * SR]).max() > 0.01
    assert not again[16 * SR :].any()


def test_a_cast_starts_from_silence_wherever_it_starts() -> None:
    """A cast fades in over its own ``fade_in_s`` from its first frame, mid-session too.

    A speaker that joins (or comes back, or resumes after a restart) while the session
    plays at full level starts from silence; past the fade-in, and for a Range request
    that starts there, the audio is the session's as it would be without it.
    """
    live = LiveEnvelope(
        Envelope.session(fade_in=0, fade_at=60 * SR, end=70 * SR), lambda: 0
    )

    def cast(fade_in_s: float) -> SessionCast:
        return SessionCast(
            scene=SCENES["pink_noise"],
            seed=5,
            start=20 * SR,
            stop=30 * SR,
            fade_in_s=fade_in_s,
            fade_out_s=0.0,
            audio_format="wav",
            envelope=live,
        )

    plain = np.concatenate(list(cast(0.0).blocks_from(0)))
    faded = np.concatenate(list(cast(3.0).blocks_from(0)))
    assert faded.shape == plain.shape
    level = [
        float(np.abs(faded[k * SR // 10 : (k + 1) * SR // 10]).max()) for k in range(30)
    ]
    assert level[0] < 0.01 * float(np.abs(plain[: SR // 10]).max())
    assert all(b >= 0.8 * a for a, b in zip(level, level[1:], strict=False))
    assert np.array_equal(faded[3 * SR :], plain[3 * SR :])
    assert np.array_equal(
        np.concatenate(list(cast(3.0).blocks_from(4 * SR))), plain[4 * SR :]
    )


def test_cast_renders_nothing_where_the_envelope_is_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the envelope's end a cast yields silence without rendering the scene."""
    rendered: list[int] = []
    real = casts.render

    def spy(*args: Any, **kwargs: Any) -> Any:
        rendered.append(kwargs["start"])
        return real(*args, **kwargs)

    monkeypatch.setattr(casts, "render", spy)
    live = LiveEnvelope(Envelope.session(fade_in=0, fade_at=SR, end=2 * SR), lambda: 0)
    cast = SessionCast(
        scene=SCENES["pink_noise"],
        seed=5,
        start=0,
        stop=3600 * SR,
        fade_in_s=0.0,
        fade_out_s=0.0,
        audio_format="wav",
        envelope=live,
    )
    blocks = cast.blocks_from(0)
    for _ in range(600):
        next(iter(blocks))
    assert rendered == [0]


# -- through Home Assistant's HTTP server, with a speaker that records its casts ----------


async def _start(
    hass: HomeAssistant, played: list[ServiceCall], **options: Any
) -> tuple[str, RoomSession]:
    """Add a room, start pink noise in it; return the URL cast and the room's session."""
    entry = await add_room(hass, room_entry(lights=[], speakers=[SPEAKER], **options))
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "pink_noise"},
        blocking=True,
    )
    await hass.async_block_till_done()
    return str(played[-1].data["media_content_id"]), entry.runtime_data


@pytest.mark.parametrize("audio_format", ["wav", "mp3"])
async def test_extend_keeps_the_stream_and_its_bytes(
    hass: HomeAssistant, played: list[ServiceCall], audio_format: str
) -> None:
    """Extend casts nothing new; served byte ranges read the same before and after."""
    url, room = await _start(hass, played, audio_format=audio_format, minutes=1)
    ranges = ["bytes=0-99999", "bytes=50000-149999"]
    async with aiohttp.ClientSession() as client:
        size = int((await client.head(url)).headers["Content-Length"])
        before = []
        for range_ in ranges:
            async with client.get(url, headers={"Range": range_}) as response:
                assert response.status == 206
                before.append(await response.read())
        end_before = room.ends_at
        assert end_before is not None
        await hass.services.async_call(
            DOMAIN,
            "extend",
            {"config_entry_id": room.entry.entry_id, "minutes": 30},
            blocking=True,
        )
        assert len(played) == 1  # the speaker plays on: no new cast
        assert room.ends_at == end_before + timedelta(minutes=30)
        plan = room.plan
        assert plan is not None
        assert plan.envelope.end == plan.frame_at(plan.ends_at)
        assert int((await client.head(url)).headers["Content-Length"]) == size
        for range_, bytes_before in zip(ranges, before, strict=True):
            async with client.get(url, headers={"Range": range_}) as response:
                assert await response.read() == bytes_before


async def test_stop_with_fade_fades_the_stream_within_its_lead(
    hass: HomeAssistant, played: list[ServiceCall]
) -> None:
    """A reader of the live stream hears the fade begin within the short lead."""
    url, room = await _start(hass, played, audio_format="wav", fade_out_seconds=4)
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        begun = time.monotonic()
        received = bytearray()
        while time.monotonic() - begun < 12:  # past the burst
            received += await response.content.read(1 << 16)
        plan = room.plan
        assert plan is not None
        now_frame = plan.frame_at(dt_util.utcnow())
        await hass.services.async_call(
            DOMAIN, "stop", {"config_entry_id": room.entry.entry_id}, blocking=True
        )
        assert len(played) == 1
        plan = room.plan
        assert plan is not None
        fade_from = plan.envelope.change_at
        lead = (fade_from - now_frame) / SR
        assert 0 <= lead <= stream.LIVE_AHEAD_SECONDS + 1.5, f"fade {lead:.1f} s later"
        assert plan.envelope.end == fade_from + 4 * SR
        want = 44 + (plan.envelope.end + 2 * SR - room_start(url)) * 4
        while len(received) < want:
            chunk = await response.content.read(1 << 16)
            assert chunk
            received += chunk
    audio = np.frombuffer(bytes(received[44:want]), dtype="<i2").reshape(-1, 2)
    start = room_start(url)

    def level(at: int) -> float:
        piece = audio[at - start : at - start + SR // 4].astype(np.float64)
        return float(np.sqrt(np.mean(piece**2)))

    full = level(fade_from - SR)
    assert level(fade_from + 2 * SR) < 0.7 * full  # half-way through the fade
    assert level(plan.envelope.end) == 0.0


def room_start(url: str) -> int:
    """Return the session frame a cast URL starts at (``{n}-{frame}.{ext}``)."""
    return int(URL(url).name.split("-", 1)[1].split(".")[0])


async def test_restart_resumes_the_envelope(
    hass: HomeAssistant,
    played: list[ServiceCall],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A session stopped with a fade, then restarted mid-fade, resumes the same fade."""
    _url, room = await _start(hass, played, audio_format="wav", fade_out_seconds=120)
    freezer.tick(timedelta(minutes=5))
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": room.entry.entry_id}, blocking=True
    )
    plan = room.plan
    assert plan is not None
    fading = plan.envelope
    entry = room.entry
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(seconds=30))
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    resumed = entry.runtime_data.plan
    assert resumed is not None
    assert resumed.envelope == fading
    assert entry.runtime_data.phase == "fading"
    url = str(played[-1].data["media_content_id"])
    assert room_start(url) == resumed.frame_at(dt_util.utcnow())
    cast = casts.cast_registry(hass).lookup(resumed.token, URL(url).name)
    assert isinstance(cast, SessionCast)
    assert cast.envelope.envelope == fading


# -- a real MPD: the played position across an extend, the fade of a stop -------------


@dataclass
class _Sample:
    """One look at MPD: when, what it plays and where in it."""

    at: float
    file: str
    elapsed: float


class _Sampler:
    """Ask MPD every 100 ms what it plays and where, in a thread of its own."""

    def __init__(self, port: int) -> None:
        """Connect to MPD (the thread starts with ``start``)."""
        self.port = port
        self.samples: list[_Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        """Begin sampling."""
        self._thread.start()

    def stop(self) -> None:
        """End sampling."""
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        client = MPDClient()
        client.connect("127.0.0.1", self.port)
        try:
            while not self._stop.is_set():
                status = client.status()
                song = client.currentsong()
                if status.get("state") == "play" and "elapsed" in status:
                    self.samples.append(
                        _Sample(
                            time.monotonic(),
                            str(song.get("file", "")),
                            float(status["elapsed"]),
                        )
                    )
                self._stop.wait(0.1)
        finally:
            client.disconnect()

    def positions(self) -> list[tuple[float, float]]:
        """Return (wall time, session position in s) of each sample."""
        return [
            (s.at, room_start(s.file) / SR + s.elapsed)
            for s in self.samples
            if "/api/asmr/stream/" in s.file
        ]

    def largest_gap(self, since: float, until: float) -> float:
        """Return the longest silence between two samples, in seconds.

        Between two samples, the wall time that passed minus the audio that played:
        about zero while the speaker plays on. Across a change of stream the audio that
        played is the new stream's elapsed time (the old one's last tenth of a second
        is not seen: the silence may be overstated by up to one interval).
        """
        points = [
            s
            for s in self.samples
            if since <= s.at <= until and "/api/asmr/stream/" in s.file
        ]
        worst = 0.0
        for a, b in zip(points, points[1:], strict=False):
            played = b.elapsed - a.elapsed if a.file == b.file else b.elapsed
            worst = max(worst, (b.at - a.at) - played)
        return worst


@pytest.mark.timeout(240)
@pytest.mark.parametrize("audio_format", ["wav", "mp3"])
async def test_mpd_plays_on_across_extend_and_fades_on_stop(
    hass: HomeAssistant, mpd_server: int, free_port: int, audio_format: str
) -> None:
    """On a real MPD: extend keeps the URL and the played position, stop fades in it.

    Measured: the largest stall of MPD's played position (sampled every 100 ms)
    across an extend, and, for comparison, across an extend past the cast's horizon,
    which casts a new URL as every extend did before.
    """
    casts_sent: list[Any] = []

    def record(event: Any) -> None:
        if event.data.get("service") == "play_media":
            casts_sent.append(event.data)

    hass.bus.async_listen(EVENT_CALL_SERVICE, record)
    speaker, entry_id = await _mpd_room(
        hass, mpd_server, free_port, fade_out_seconds=6, audio_format=audio_format
    )
    room: RoomSession = hass.config_entries.async_get_entry(entry_id).runtime_data
    sampler = _Sampler(mpd_server)
    sampler.start()
    ended = async_capture_events(hass, "asmr_session_ended")
    try:
        await wait_for(
            hass,
            lambda: float(mpd_status(mpd_server).get("elapsed", 0)) >= 3,
            what="MPD playing for 3 s",
        )
        sent = len(casts_sent)
        url = str(hass.states.get(speaker).attributes["media_content_id"])
        end_before = room.ends_at
        assert end_before is not None

        before = time.monotonic()
        await asyncio.sleep(2)
        await hass.services.async_call(
            DOMAIN, "extend", {"config_entry_id": entry_id, "minutes": 1}, blocking=True
        )
        await asyncio.sleep(4)
        after = time.monotonic()
        gap = sampler.largest_gap(before, after)
        _LOGGER.info(
            "MPD (%s): largest silence across an extend: %.3f s", audio_format, gap
        )
        assert len(casts_sent) == sent  # no new play_media
        assert room.ends_at == end_before + timedelta(minutes=1)
        status = await hass.async_add_executor_job(mpd_status, mpd_server)
        assert status["state"] == "play"
        assert gap < 0.5, f"played position stood still {gap:.2f} s"
        assert {s.file for s in sampler.samples if s.at >= before} == {url}

        # An extend past the horizon casts a new URL: the gap it costs, for the record.
        before = time.monotonic()
        await hass.services.async_call(
            DOMAIN,
            "extend",
            {"config_entry_id": entry_id, "minutes": 720},
            blocking=True,
        )
        assert len(casts_sent) == sent + 1
        await wait_for(
            hass,
            lambda: bool(sampler.samples) and sampler.samples[-1].file != url,
            what="MPD playing the new cast",
        )
        await asyncio.sleep(3)
        recast_gap = sampler.largest_gap(before - 1, time.monotonic())
        _LOGGER.info(
            "MPD (%s): largest silence across a re-cast: %.3f s",
            audio_format,
            recast_gap,
        )
        url = sampler.samples[-1].file

        # Stop with a fade: heard within the lead, in the same stream, then the end.
        await asyncio.sleep(12)  # past the new cast's burst
        position = sampler.positions()[-1]
        played_now = position[1] + (time.monotonic() - position[0])
        await hass.services.async_call(
            DOMAIN, "stop", {"config_entry_id": entry_id}, blocking=True
        )
        plan = room.plan
        assert plan is not None
        fade_from = plan.envelope.change_at / SR
        delay = fade_from - played_now
        _LOGGER.info(
            "MPD (%s): the fade of a stop begins %.2f s after the stop",
            audio_format,
            delay,
        )
        assert delay <= stream.LIVE_AHEAD_SECONDS + 2, f"fade {delay:.1f} s later"
        await _assert_put_back(hass, speaker, mpd_server)
        assert len(casts_sent) == sent + 1
        assert [e.data["reason"] for e in ended] == ["stopped"]
        assert {s.file for s in sampler.samples if s.at >= position[0]} <= {url}
    finally:
        sampler.stop()
