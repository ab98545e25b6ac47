"""Measure a real Home Assistant while several rooms stream MP3 at once.

    scripts/bench_rooms.py [--rooms 10] [--port 8139] [--idle-seconds 10]
                           [--burst-timeout 150] [--steady-seconds 60] [--after-seconds 5]

(``scripts/bench --rooms N`` prints the same table after the engine's tables.)

Starts ``hass`` on 127.0.0.1 with a temporary configuration folder: the integration from
this checkout, and one stand-in speaker per room (a media player that takes the stream URL
it is given, shows it as playing and fetches nothing). Onboards a user, adds the rooms
through the config flow over the REST API (the same calls as the integrations page) and
waits until Home Assistant is quiet again. Then it starts a session in every room
(``asmr.start``: rain on the window, the default scene, in the default format, MP3) and
opens each speaker's stream URL with an HTTP reader in this process that reads everything it is given, as MPD
does. The server's pacing does the rest: each response's lead goes out as fast as it is
read (the burst), then it renders a bounded lead ahead of real time (the paced steady
state). The burst ends when every reader has got real time (within 10 %) for 10 s (or at
``--burst-timeout``); the paced window lasts ``--steady-seconds``; then the sessions stop.

Measured from ``/proc/<pid>/stat`` and ``/proc/<pid>/status`` of the Home Assistant
process, per phase: CPU time over wall time (share of one core; all threads, so above 1.0
means more than one core), CPU seconds per second of audio streamed, resident memory
(VmRSS, sampled each second) and its peak since start (VmHWM).

Targets: a paced room costs what the engine needs to synthesise and MP3-encode one second
of the scene per second (measured in a child process on the same machine), plus at most
25 % for the serving; a streaming room adds at most 10 MB; every reader reaches its pace
and then gets real time (0.95-1.05 s of audio per second). The cost per second of audio
holds on a busy machine; reaching the pace and real time needs the CPU to be there.

A default run takes about four minutes. Every process it starts stops when it ends, also
on Ctrl-C, SIGTERM or an error (and Home Assistant gets SIGTERM if this process dies).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
import ctypes
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
from demo import DemoError, login, onboard, wait_until_up

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "custom_components" / "asmr"

BYTES_PER_SECOND = 128_000 // 8
"""Bytes of one second of the stream: MP3 at a constant 128 kbit/s."""
RATE_WINDOW_SECONDS = 10.0
"""The span over which a reader's rate is judged while the burst lasts."""
PACED_BAND = (0.9, 1.1)
"""A reader getting real time within this band over the window has reached its pace."""
QUIET_SHARE = 0.05
"""CPU share under which Home Assistant counts as settled."""
SESSION_MINUTES = 60
"""Length of the sessions: longer than any run, they are stopped at the end."""
SCENE = "rain_on_window"
"""The scene every room plays (the rooms' default one)."""

TARGET_OVERHEAD = 1.25
"""A paced room may cost at most this times the engine's own synthesis + MP3 cost."""
TARGET_ROOM_MB = 10.0
"""Resident memory a streaming room may add, in MB."""
REAL_TIME = (0.95, 1.05)
"""Audio per second a paced reader must get: real time, give or take 5 %."""

_SPEAKER_MANIFEST = {
    "domain": "bench_speakers",
    "name": "Bench speakers",
    "codeowners": [],
    "documentation": "https://www.home-assistant.io/",
    "iot_class": "local_push",
    "requirements": [],
    "version": "1.0.0",
}

_SPEAKER_PLATFORM = '''
"""Stand-in speakers: each takes a stream URL, shows it as playing and fetches nothing."""

from homeassistant.components.media_player import (
    MediaPlayerEntity,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)


class BenchSpeaker(MediaPlayerEntity):
    """A speaker that plays whatever it is told to, silently."""

    _attr_should_poll = False
    _attr_supported_features = (
        MediaPlayerEntityFeature.PLAY_MEDIA
        | MediaPlayerEntityFeature.VOLUME_SET
        | MediaPlayerEntityFeature.PAUSE
        | MediaPlayerEntityFeature.STOP
    )

    def __init__(self, index):
        """Start idle at 30 % volume."""
        self._attr_name = f"Bench speaker {index}"
        self._attr_unique_id = f"bench_speaker_{index}"
        self._attr_state = MediaPlayerState.IDLE
        self._attr_volume_level = 0.3

    async def async_play_media(self, media_type, media_id, **kwargs):
        """Show the URL as playing."""
        self._attr_media_content_id = media_id
        self._attr_media_content_type = media_type
        self._attr_state = MediaPlayerState.PLAYING
        self.async_write_ha_state()

    async def async_set_volume_level(self, volume):
        """Take the volume."""
        self._attr_volume_level = volume
        self.async_write_ha_state()

    async def async_media_pause(self):
        """Pause."""
        self._attr_state = MediaPlayerState.PAUSED
        self.async_write_ha_state()

    async def async_media_stop(self):
        """Stop and forget the URL."""
        self._attr_state = MediaPlayerState.IDLE
        self._attr_media_content_id = None
        self.async_write_ha_state()


async def async_setup_platform(hass, config, async_add_entities, discovery_info=None):
    """Add the speakers."""
    async_add_entities(BenchSpeaker(i) for i in range(1, config["count"] + 1))
'''

_CONFIGURATION = """
homeassistant:
  name: ASMR rooms bench
  unit_system: metric
  time_zone: UTC
  country: GB
  language: en
  internal_url: http://127.0.0.1:{port}

http:
  server_host: 127.0.0.1
  server_port: {port}

logger:
  default: warning

media_player:
  - platform: bench_speakers
    count: {rooms}
"""

_SCENE_COST_CHILD = """
import sys, time
sys.path.append(sys.argv[1])
import engine
scene = engine.SCENES[sys.argv[2]]
frames = int(float(sys.argv[3]) * engine.SAMPLE_RATE)
for _ in engine.render(scene, seed=1, stop=engine.SAMPLE_RATE * 2):
    pass
began = time.process_time()
blocks = engine.render(scene, seed=1, stop=frames, blocksize=engine.SAMPLE_RATE)
for _ in engine.encode(blocks, fmt="mp3", frames=frames):
    pass
print((time.process_time() - began) / float(sys.argv[3]))
"""
"""CPU seconds the engine takes per second of a scene, synthesised and encoded as MP3."""


class BenchError(Exception):
    """The rooms benchmark could not run."""


@dataclass(frozen=True, kw_only=True)
class Sample:
    """The Home Assistant process at one moment."""

    at: float
    """Monotonic clock, in seconds."""
    cpu_s: float
    """CPU time used so far (user + system, all threads), in seconds."""
    rss_mb: float
    hwm_mb: float


@dataclass(frozen=True, kw_only=True)
class Phase:
    """What the process did between two samples."""

    name: str
    first: Sample
    last: Sample
    peak_rss_mb: float
    audio_s: float = 0.0
    """Seconds of audio the readers received in the phase, all rooms together."""
    ended_early: bool = False
    """Whether the phase ended on its condition, before its longest time."""

    @property
    def seconds(self) -> float:
        """Return the wall time of the phase."""
        return self.last.at - self.first.at

    @property
    def cpu_s(self) -> float:
        """Return the CPU time the process used in the phase."""
        return self.last.cpu_s - self.first.cpu_s

    @property
    def cpu_share(self) -> float:
        """Return the CPU time over wall time (1.0 = one core busy)."""
        return self.cpu_s / max(self.seconds, 1e-9)

    @property
    def cpu_per_audio_s(self) -> float:
        """Return the CPU seconds per second of audio streamed (nan without audio)."""
        return self.cpu_s / self.audio_s if self.audio_s else float("nan")


@dataclass(kw_only=True)
class Result:
    """What a run measured."""

    rooms: int
    phases: list[Phase]
    engine_cost: float
    """CPU seconds the engine alone takes per second of the scene (synthesis + MP3)."""
    reader_rates: list[float]
    """Seconds of audio each reader received per second over the paced window."""
    bytes_read: int
    load_average: tuple[float, float, float]

    def phase(self, name: str) -> Phase:
        """Return a phase by name."""
        return next(p for p in self.phases if p.name == name)

    @property
    def caught_up(self) -> bool:
        """Return whether every response reached its pace within the burst's time."""
        return self.phase("burst").ended_early

    @property
    def real_time(self) -> bool:
        """Return whether every reader got real time while paced."""
        low, high = REAL_TIME
        return all(low <= rate <= high for rate in self.reader_rates)

    @property
    def room_share(self) -> float:
        """Return the CPU share one room costs when paced, above the idle process.

        The paced phase's CPU per second of audio times one second of audio per second:
        a process starved of CPU (readers below real time) still gives the cost.
        """
        paced, idle = self.phase("paced"), self.phase("idle")
        return (paced.cpu_s - idle.cpu_share * paced.seconds) / max(paced.audio_s, 1e-9)

    @property
    def room_mb(self) -> float:
        """Return the resident memory one streaming room adds, in MB."""
        return (
            self.phase("paced").peak_rss_mb - self.phase("idle").last.rss_mb
        ) / self.rooms

    @property
    def ok(self) -> bool:
        """Return whether the run meets the targets."""
        return (
            self.caught_up
            and self.real_time
            and self.room_share <= TARGET_OVERHEAD * self.engine_cost
            and self.room_mb <= TARGET_ROOM_MB
        )


def sample(pid: int) -> Sample:
    """Return the CPU time and resident memory of a process now."""
    at = time.monotonic()
    stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    # Fields after the command name (which may hold spaces): utime and stime are the
    # 14th and 15th fields of the line, the 12th and 13th after the name.
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])
    memory: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            memory[key] = int(value.split()[0]) / 1024.0
    return Sample(
        at=at,
        cpu_s=ticks / os.sysconf("SC_CLK_TCK"),
        rss_mb=memory["VmRSS"],
        hwm_mb=memory["VmHWM"],
    )


def scene_cost(scene_id: str = SCENE, seconds: float = 20.0) -> float:
    """Return the CPU seconds per second the engine takes to play a scene as MP3."""
    result = subprocess.run(
        [sys.executable, "-c", _SCENE_COST_CHILD, str(PACKAGE), scene_id, str(seconds)],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise BenchError(
            f"the engine cannot render {scene_id}: {result.stderr[-2000:]}"
        )
    return float(result.stdout.strip())


def write_config(folder: Path, *, rooms: int, port: int) -> None:
    """Write a configuration folder: the integration, stand-in speakers, onboarding."""
    components = folder / "custom_components"
    speakers = components / "bench_speakers"
    speakers.mkdir(parents=True)
    (components / "asmr").symlink_to(PACKAGE)
    (speakers / "__init__.py").write_text('"""Stand-in speakers."""\n')
    (speakers / "manifest.json").write_text(json.dumps(_SPEAKER_MANIFEST))
    (speakers / "media_player.py").write_text(_SPEAKER_PLATFORM.lstrip())
    (folder / "configuration.yaml").write_text(
        _CONFIGURATION.format(port=port, rooms=rooms).lstrip()
    )
    # Onboarding's location step marked done: it would add integrations that need the
    # internet (weather, radio, cloud text-to-speech).
    storage = folder / ".storage"
    storage.mkdir()
    (storage / "onboarding").write_text(
        json.dumps(
            {
                "version": 4,
                "minor_version": 1,
                "key": "onboarding",
                "data": {"done": ["core_config"]},
            }
        )
    )


def _stop_with_parent() -> None:
    """Have the child get SIGTERM if this process dies (Linux), so nothing is left behind."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_hass(folder: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start Home Assistant on a configuration folder, in its own process group."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "homeassistant",
                "--config",
                str(folder),
                "--skip-pip",
            ],
            # Run from the configuration folder, without PYTHONPATH: a checkout on the
            # path (``-m`` puts the working folder there) would hide its custom_components.
            cwd=folder,
            env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_stop_with_parent,  # noqa: PLW1509
        )
    # scripts/bench pins itself to one CPU; Home Assistant runs on all of them.
    with contextlib.suppress(OSError):
        os.sched_setaffinity(process.pid, range(os.cpu_count() or 1))
    return process


def stop_hass(process: subprocess.Popen[bytes]) -> None:
    """Stop Home Assistant: SIGTERM, then SIGKILL after 30 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def port_is_free(port: int) -> bool:
    """Return whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@dataclass(eq=False)
class Reader:
    """An HTTP reader of one stream that reads everything it is given, as MPD does."""

    url: str
    started: float = 0.0
    """Monotonic time of the request."""
    received: int = 0
    error: str | None = None
    history: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, bytes received) once per monitoring tick."""

    async def run(self, session: aiohttp.ClientSession) -> None:
        """Read the stream to its end (or until cancelled)."""
        self.started = time.monotonic()
        try:
            async with session.get(self.url) as response:
                if response.status != 200:
                    self.error = f"HTTP {response.status}"
                    return
                async for chunk in response.content.iter_any():
                    self.received += len(chunk)
        except (aiohttp.ClientError, TimeoutError) as err:
            self.error = repr(err)

    def note(self, now: float) -> None:
        """Remember how much has been received by now."""
        self.history.append((now, self.received))

    def paced(self, now: float) -> bool:
        """Return whether the reader gets real time now (the server's pacing binds).

        The server's lead (how much a response sends as fast as it is read, how far
        ahead it renders) is its own business: the reader only sees its rate fall
        from "as fast as rendered" to real time.
        """
        if now - self.started < RATE_WINDOW_SECONDS + 1:
            return False
        low, high = PACED_BAND
        return low <= self.rate(now - RATE_WINDOW_SECONDS) <= high

    def rate(self, since: float) -> float:
        """Return the seconds of audio received per second since a moment."""
        first = next((h for h in self.history if h[0] >= since), self.history[-1])
        now, received = self.history[-1]
        if now <= first[0]:
            return float("nan")
        return (received - first[1]) / BYTES_PER_SECOND / (now - first[0])


class Bench:
    """One run against a Home Assistant process already started."""

    def __init__(self, pid: int, url: str, rooms: int) -> None:
        """Keep what the run needs."""
        self.pid = pid
        self.url = url
        self.rooms = rooms
        self.headers: dict[str, str] = {}
        self.entries: list[str] = []

    async def _json(
        self,
        session: aiohttp.ClientSession,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """Call Home Assistant's REST API and return the answer's JSON."""
        async with session.request(
            method, f"{self.url}{path}", json=body, headers=self.headers
        ) as response:
            if response.status >= 400:
                raise BenchError(
                    f"{method} {path}: {response.status} {await response.text()}"
                )
            return await response.json()

    async def log_in(self, session: aiohttp.ClientSession, timeout: float) -> None:
        """Onboard, log in and wait for the speakers."""
        username, password = "bench", "asmr-bench"
        await wait_until_up(session, self.url, timeout)
        await onboard(session, self.url, username, password)
        token = await login(session, self.url, username, password)
        self.headers = {"Authorization": f"Bearer {token}"}
        speakers = [f"media_player.bench_speaker_{i}" for i in range(1, self.rooms + 1)]
        deadline = time.monotonic() + timeout
        while True:
            states = await self._json(session, "GET", "/api/states")
            if {s["entity_id"] for s in states}.issuperset(speakers):
                break
            if time.monotonic() > deadline:
                raise BenchError("the stand-in speakers did not appear")
            await asyncio.sleep(1)

    async def add_rooms(self, session: aiohttp.ClientSession) -> None:
        """Add one room per stand-in speaker through the config flow."""
        for index in range(1, self.rooms + 1):
            speaker = f"media_player.bench_speaker_{index}"
            form = await self._json(
                session,
                "POST",
                "/api/config/config_entries/flow",
                {"handler": "asmr", "show_advanced_options": False},
            )
            result = await self._json(
                session,
                "POST",
                f"/api/config/config_entries/flow/{form['flow_id']}",
                {"name": f"Bench room {index}", "lights": [], "speakers": [speaker]},
            )
            if result.get("type") != "create_entry":
                raise BenchError(f"adding room {index} failed: {result}")
            self.entries.append(result["result"]["entry_id"])

    async def window(
        self,
        name: str,
        seconds: float,
        *,
        readers: list[Reader] | None = None,
        first: Sample | None = None,
        until: Callable[[float], bool] | None = None,
    ) -> Phase:
        """Sample the process once a second for ``seconds``; return the phase.

        ``readers`` note their progress every second; ``until`` (given the time) ends the
        phase early when it returns true; ``first`` is the phase's first sample, if taken.
        """
        readers = readers or []
        first = first or sample(self.pid)
        received = sum(r.received for r in readers)
        peak = first.rss_mb
        end = first.at + seconds
        ended = False
        while not ended and (now := time.monotonic()) < end:
            await asyncio.sleep(min(1.0, end - now))
            now = time.monotonic()
            peak = max(peak, sample(self.pid).rss_mb)
            for reader in readers:
                reader.note(now)
            ended = until is not None and until(now)
        last = sample(self.pid)
        return Phase(
            name=name,
            first=first,
            last=last,
            peak_rss_mb=max(peak, last.rss_mb),
            audio_s=(sum(r.received for r in readers) - received) / BYTES_PER_SECOND,
            ended_early=ended,
        )

    async def settle(self, longest: float) -> None:
        """Wait until the process is quiet (below 5 % of a core over 2 s), at most ``longest``.

        Each room warms its scene up when it is set up; the idle window starts after.
        """
        end = time.monotonic() + longest
        before = sample(self.pid)
        while time.monotonic() < end:
            await asyncio.sleep(2.0)
            now = sample(self.pid)
            if (now.cpu_s - before.cpu_s) / (now.at - before.at) < QUIET_SHARE:
                return
            before = now

    async def call_all(
        self, session: aiohttp.ClientSession, service: str, data: dict[str, Any]
    ) -> None:
        """Call an ``asmr`` action for every room at once."""
        await asyncio.gather(
            *(
                self._json(
                    session,
                    "POST",
                    f"/api/services/asmr/{service}",
                    {"config_entry_id": entry, **data},
                )
                for entry in self.entries
            )
        )

    async def stream_urls(self, session: aiohttp.ClientSession) -> list[str]:
        """Return the stream URL each stand-in speaker was told to play."""
        urls: list[str] = []
        for index in range(1, self.rooms + 1):
            for _ in range(60):
                state = await self._json(
                    session, "GET", f"/api/states/media_player.bench_speaker_{index}"
                )
                url = state["attributes"].get("media_content_id") or ""
                if "/api/asmr/stream/" in url:
                    urls.append(url)
                    break
                await asyncio.sleep(0.5)
            else:
                raise BenchError(f"bench speaker {index} was given no stream")
        return urls

    async def run(
        self,
        *,
        timeout: float,
        settle: float,
        idle: float,
        burst_timeout: float,
        steady: float,
        after: float,
    ) -> tuple[list[Phase], list[Reader]]:
        """Provision, then measure the idle, burst, paced and after phases."""
        async with aiohttp.ClientSession() as session:
            await self.log_in(session, timeout)
            await self.settle(settle)
            phases = [await self.window("start", 0.0)]
            await self.add_rooms(session)
            await self.settle(settle)
            phases.append(await self.window("setup", 0.0, first=phases[0].last))
            phases.append(await self.window("idle", idle))
            began = sample(self.pid)
            await self.call_all(
                session, "start", {"scene": SCENE, "minutes": SESSION_MINUTES}
            )
            readers = [Reader(url) for url in await self.stream_urls(session)]
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0),
                timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
            ) as streams:
                tasks = [asyncio.create_task(r.run(streams)) for r in readers]
                try:
                    phases.append(
                        await self.window(
                            "burst",
                            burst_timeout,
                            readers=readers,
                            first=began,
                            until=lambda now: all(r.paced(now) for r in readers),
                        )
                    )
                    phases.append(await self.window("paced", steady, readers=readers))
                    # A stream that failed or ended while its session lasted is a fault
                    # (at the stop, the server drops them all on purpose).
                    if failed := [
                        f"{r.url.rsplit('/', 1)[-1]}: {r.error or 'ended early'}"
                        for r, task in zip(readers, tasks, strict=True)
                        if task.done()
                    ]:
                        raise BenchError(f"streams failed: {failed}")
                    await self.call_all(session, "stop", {"fade": False})
                    await asyncio.wait(tasks, timeout=15)
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
            phases.append(await self.window("after", after))
        return phases, readers


def run(
    *,
    rooms: int = 10,
    port: int = 8139,
    timeout: float = 300.0,
    settle: float = 60.0,
    idle: float = 10.0,
    burst_timeout: float = 150.0,
    steady: float = 60.0,
    after: float = 5.0,
) -> Result:
    """Start Home Assistant with ``rooms`` rooms, stream them all and measure it."""
    if port == 8123:
        raise BenchError("port 8123 is the demo's: choose another")
    if not port_is_free(port):
        raise BenchError(f"something already listens on 127.0.0.1:{port}")
    engine_cost = scene_cost()
    folder = Path(tempfile.mkdtemp(prefix="asmr-bench-rooms-"))
    log = folder / "hass.out"
    process: subprocess.Popen[bytes] | None = None
    previous = signal.getsignal(signal.SIGTERM)

    def terminated(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    try:
        write_config(folder, rooms=rooms, port=port)
        process = start_hass(folder, log)
        bench = Bench(process.pid, f"http://127.0.0.1:{port}", rooms)
        try:
            phases, readers = asyncio.run(
                bench.run(
                    timeout=timeout,
                    settle=settle,
                    idle=idle,
                    burst_timeout=burst_timeout,
                    steady=steady,
                    after=after,
                )
            )
        except (BenchError, DemoError, aiohttp.ClientError, OSError) as err:
            full_log = folder / "home-assistant.log"
            tail = (full_log if full_log.exists() else log).read_text(errors="replace")
            raise BenchError("\n".join([str(err), *tail.splitlines()[-30:]])) from err
        paced = next(p for p in phases if p.name == "paced")
        return Result(
            rooms=rooms,
            phases=phases,
            engine_cost=engine_cost,
            reader_rates=[r.rate(paced.first.at) for r in readers],
            bytes_read=sum(r.received for r in readers),
            load_average=os.getloadavg(),
        )
    finally:
        if process is not None:
            stop_hass(process)
        signal.signal(signal.SIGTERM, previous)
        shutil.rmtree(folder, ignore_errors=True)


def print_table(result: Result) -> None:
    """Print a run's figures as bench's tables do."""
    print(
        f"| {result.rooms} rooms streaming MP3 (Home Assistant process) | wall s "
        "| CPU, share of one core | audio s per s, all rooms | CPU s per s of audio "
        "| RSS MB at end | peak RSS MB | VmHWM MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    labels = {
        "start": "Home Assistant started, no rooms yet",
        "setup": f"{result.rooms} rooms added through the config flow, settled",
        "idle": "before the sessions (rooms set up, idle)",
        "burst": "burst (each stream's lead as fast as read, until all are paced)",
        "paced": "paced steady state"
        if result.caught_up
        else "steady window (NOT paced yet: still catching up on the burst)",
        "after": "after the sessions stopped",
    }
    start = result.phases[0].last
    print(
        f"| {labels['start']} | - | - | - | - | {start.rss_mb:.0f} | - "
        f"| {start.hwm_mb:.0f} |"
    )
    for phase in result.phases[1:]:
        streamed = phase.audio_s / phase.seconds if phase.audio_s else 0.0
        per_audio = f"{phase.cpu_per_audio_s:.4f}" if phase.audio_s else "-"
        print(
            f"| {labels[phase.name]} | {phase.seconds:.0f} | {phase.cpu_share:.3f} "
            f"| {streamed:.2f} | {per_audio} | {phase.last.rss_mb:.0f} "
            f"| {phase.peak_rss_mb:.0f} | {phase.last.hwm_mb:.0f} |"
        )
    target = TARGET_OVERHEAD * result.engine_cost
    rates = " ".join(f"{rate:.2f}" for rate in result.reader_rates)
    print()
    print(
        f"a paced room costs {result.room_share:.4f} of a core (the engine alone, "
        f"synthesis + MP3 of {SCENE}: {result.engine_cost:.4f}; target <= "
        f"{TARGET_OVERHEAD:g}x that = {target:.4f}): "
        f"{_mark(result.room_share <= target)}"
    )
    print(
        f"a streaming room adds {result.room_mb:.1f} MB of resident memory "
        f"(target <= {TARGET_ROOM_MB:g} MB): {_mark(result.room_mb <= TARGET_ROOM_MB)}"
    )
    print(
        f"every response reached its pace: {_mark(result.caught_up)}; audio per second "
        f"each reader got while paced (target {REAL_TIME[0]:g}-{REAL_TIME[1]:g}): "
        f"{rates}: {_mark(result.real_time)}"
    )
    print(
        f"{result.bytes_read / 2**20:.1f} MiB read in all; load average at the end "
        f"{result.load_average[0]:.2f} on {os.cpu_count()} CPUs"
    )


def _mark(ok: bool) -> str:
    """Return a verdict cell."""
    return "ok" if ok else "MISS"


def run_and_print(rooms: int = 10, port: int = 8139, **durations: float) -> bool:
    """Run with ``rooms`` rooms (``durations``: those of ``run``), print the table.

    Return whether the targets are met; a run that cannot start prints why and fails.
    """
    try:
        result = run(rooms=rooms, port=port, **durations)
    except BenchError as err:
        print(f"{rooms} rooms streaming MP3: could not run: {err}")
        return False
    print_table(result)
    return result.ok


def main() -> int:
    """Run the rooms benchmark and print its table; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(prog="scripts/bench_rooms.py", description=__doc__)
    parser.add_argument("--rooms", type=int, default=10, help="rooms streaming at once")
    parser.add_argument("--port", type=int, default=8139, help="Home Assistant's port")
    parser.add_argument(
        "--idle-seconds", type=float, default=10.0, help="idle window before sessions"
    )
    parser.add_argument(
        "--burst-timeout",
        type=float,
        default=150.0,
        help="longest wait for every response to reach its pace",
    )
    parser.add_argument(
        "--steady-seconds", type=float, default=60.0, help="paced window"
    )
    parser.add_argument(
        "--after-seconds", type=float, default=5.0, help="window after the stop"
    )
    args = parser.parse_args()
    try:
        ok = run_and_print(
            args.rooms,
            port=args.port,
            idle=args.idle_seconds,
            burst_timeout=args.burst_timeout,
            steady=args.steady_seconds,
            after=args.after_seconds,
        )
    except KeyboardInterrupt:
        print("interrupted; Home Assistant stopped", file=sys.stderr)
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
