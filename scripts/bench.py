"""Benchmark the sound engine on one core and print a table against its targets.

    scripts/bench [--seconds 60] [--mp3-seconds 20] [--repeat 3] [--hours 8] [--only ID ...]
                  [--rooms 10]

For every scene and every lone trigger: real-time factor of synthesis (CPU time of
``render``), of synthesis plus MP3 encoding, of the MP3 encoder alone (the same audio,
rendered beforehand), the time sox takes to synthesise the same
length of pink noise into a WAV file (``sox -n -r 48000 -c 2 out.wav synth N pinknoise``,
32-bit WAV in a temporary folder) in the same run, and our time over sox's. Then the latency to the first block (from the
start and from three hours in), the CPU cost of each trigger's ``render_chunk`` alone, and
the peak memory (ru_maxrss) of child processes that stream a 10-minute and an ``--hours``
session of the cheapest scene (pink noise) as WAV bytes that are thrown away. Every scene's
first block in a fresh process (its first use, grain banks built on the way) and the
memory the engine's caches hold once every scene has played are measured in child
processes too. Every timing is the best of ``--repeat`` runs, sox's included: on a
shared machine the slower runs measure the neighbours. The runs go in rounds, every item
once a round, sox right after each of ours, so that a busy spell of the host (they last
seconds to minutes) spoils one round of an item rather than all of its runs.

Everything runs pinned to one CPU with numeric libraries limited to one thread. Last, a
real Home Assistant (on all CPUs) streams MP3 to ``--rooms`` rooms at once: its CPU share
and memory before, in the burst, paced, and after (``scripts/bench_rooms.py``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
import resource
import shutil
import subprocess
import sys
import tempfile
import time

_SINGLE_THREAD = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
}
if any(os.environ.get(key) != value for key, value in _SINGLE_THREAD.items()):
    # Thread limits only take effect before numpy loads: start again with them set.
    os.execve(
        sys.executable, [sys.executable, *sys.argv], {**os.environ, **_SINGLE_THREAD}
    )

sys.path.append(
    str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
)


import bench_rooms  # noqa: E402
import engine  # noqa: E402
from engine.base import ChunkRequest, Placement  # noqa: E402
from engine.scenes import Scene  # noqa: E402

TARGET_RTF = 200.0
TARGET_SOX_RATIO = 2.5
TARGET_MP3_RTF = 20.0
TARGET_FIRST_BLOCK_MS = 100.0
TARGET_MEMORY_MB = 20.0
TARGET_CACHE_MB = 48.0

_CACHE_CHILD = """
import sys
sys.path.append(sys.argv[1])
import engine

def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

before = rss_mb()
for scene in engine.SCENES.values():
    for _ in engine.render(scene, seed=4, stop=48000 * 10):
        pass
print(rss_mb() - before)
"""
"""Resident memory that playing every scene once adds to a process (its caches)."""

_MEMORY_CHILD = """
import resource, sys
sys.path.append(sys.argv[1])
import engine
frames = int(float(sys.argv[2]) * engine.SAMPLE_RATE)
scene = engine.trigger_scene("pink_noise")
total = 0
for piece in engine.encode(engine.render(scene, stop=frames, fade_out_s=30.0), fmt="wav", frames=frames):
    total += len(piece)
assert total == engine.encoded_size("wav", frames)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _cpu(fn: object) -> float:
    """Return the CPU seconds a call takes."""
    began = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - began


def _synth_seconds(scene: Scene, seconds: float) -> float:
    """Return the CPU time of rendering ``seconds`` of a scene."""
    frames = round(seconds * engine.SAMPLE_RATE)

    def run() -> None:
        """Render and drop the blocks."""
        for _ in engine.render(scene, seed=1, stop=frames):
            pass

    return _cpu(run)


def _mp3_seconds(scene: Scene, seconds: float) -> float:
    """Return the CPU time of rendering and MP3-encoding ``seconds`` of a scene."""
    frames = round(seconds * engine.SAMPLE_RATE)

    def run() -> None:
        """Encode and drop the bytes."""
        for _ in engine.encode(
            engine.render(scene, seed=1, stop=frames), fmt="mp3", frames=frames
        ):
            pass

    return _cpu(run)


def _mp3_alone_seconds(scene: Scene, seconds: float) -> float:
    """Return the CPU time of MP3-encoding ``seconds`` of a scene rendered beforehand."""
    frames = round(seconds * engine.SAMPLE_RATE)
    blocks = list(engine.render(scene, seed=1, stop=frames))

    def run() -> None:
        """Encode and drop the bytes."""
        for _ in engine.encode(iter(blocks), fmt="mp3", frames=frames):
            pass

    return _cpu(run)


def _sox_seconds(seconds: float) -> float | None:
    """Return the CPU time sox takes to synthesise pink noise, or None without sox."""
    sox = shutil.which("sox")
    if sox is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "out.wav")
        command = [
            sox,
            "-n",
            "-r",
            "48000",
            "-c",
            "2",
            out,
            "synth",
            f"{seconds:g}",
            "pinknoise",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(command, check=True, capture_output=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _first_block_ms(scene: Scene, start_s: float) -> float:
    """Return the wall time to the first block of a render starting at ``start_s``."""
    start = round(start_s * engine.SAMPLE_RATE)
    began = time.perf_counter()
    next(
        engine.render(scene, seed=2, start=start, stop=start + 600 * engine.SAMPLE_RATE)
    )
    return (time.perf_counter() - began) * 1000.0


def _cold_first_block_ms(scene_id: str) -> tuple[float, float]:
    """Return the first-block wall and CPU time (ms) of a scene in a fresh process.

    The process has imported the engine and built nothing: the time covers everything
    the block needs, grain banks included.
    """
    package = str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
    code = (
        "import sys, time; sys.path.append(sys.argv[1]); import engine; "
        "s = engine.SCENES[sys.argv[2]]; t = time.perf_counter(); c = time.process_time(); "
        "next(engine.render(s, stop=48000 * 600)); "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, package, scene_id],
        check=True,
        capture_output=True,
        text=True,
    )
    wall, cpu = (float(v) * 1000.0 for v in result.stdout.split())
    return wall, cpu


def _trigger_ms_per_s(trigger_id: str, chunks: int = 60) -> float:
    """Return the CPU milliseconds ``render_chunk`` needs per second of audio."""
    trigger = engine.TRIGGERS[trigger_id]
    placement = (
        Placement(azimuth=20.0, sweep=60.0, period_s=20.0)
        if trigger.close
        else Placement()
    )
    trigger.render_chunk(
        ChunkRequest(seed=9, index=0, placement=placement)
    )  # warm caches

    def run() -> None:
        """Render the chunks."""
        for index in range(1, chunks + 1):
            trigger.render_chunk(ChunkRequest(seed=9, index=index, placement=placement))

    return _cpu(run) / chunks * 1000.0


def _peak_memory_mb(seconds: float) -> float:
    """Return the peak resident memory (MB) of a child that streams ``seconds`` of audio."""
    package = str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, package, str(seconds)],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(result.stdout.strip()) / 1024.0


def _mark(ok: bool) -> str:
    """Return a verdict cell."""
    return "ok" if ok else "MISS"


def main() -> int:
    """Run the benchmark and print the tables; exit 1 if a target is missed."""
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="audio per synthesis run"
    )
    parser.add_argument(
        "--mp3-seconds", type=float, default=20.0, help="audio per MP3 run"
    )
    parser.add_argument(
        "--hours", type=float, default=8.0, help="length of the long stream"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per timing (the best is kept)"
    )
    parser.add_argument("--only", nargs="*", default=None, help="scene or trigger ids")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory runs")
    parser.add_argument(
        "--rooms", type=int, default=10, help="rooms streaming at once (0: skip)"
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    items: list[tuple[str, Scene]] = [
        (f"scene {sid}", s) for sid, s in engine.SCENES.items()
    ]
    items += [(f"trigger {tid}", engine.trigger_scene(tid)) for tid in engine.TRIGGERS]
    if args.only:
        items = [(name, scene) for name, scene in items if scene.id in args.only]
    failures = 0
    sox = _sox_seconds(args.seconds)
    print(
        f"one core, {args.seconds:g} s per synthesis run, {args.mp3_seconds:g} s per MP3 run"
    )
    if sox is None:
        print("sox is not installed (apt-get install sox): no sox comparison")
    else:
        print(f"sox pinknoise into a WAV file: {args.seconds / sox:.0f}x real time")
    print()
    print(
        "| item | synth RTF | synth+mp3 RTF | mp3 alone RTF | sox s | ours s | ours/sox "
        "| verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    repeat = max(1, args.repeat)
    best: dict[str, dict[str, float]] = {name: {} for name, _ in items}
    for _ in range(repeat):
        # Round by round, every item once a round: a busy spell of the host spoils one
        # round of an item, not all of its runs.
        for name, scene in items:
            _synth_seconds(scene, 2.0)  # warm grain banks and caches
            runs = {
                "ours": _synth_seconds(scene, args.seconds),
                "sox": _sox_seconds(args.seconds),
                "mp3": _mp3_seconds(scene, args.mp3_seconds),
                "mp3_alone": _mp3_alone_seconds(scene, args.mp3_seconds),
            }
            for key, value in runs.items():
                if value is not None:
                    best[name][key] = min(best[name].get(key, value), value)
    for name, _ in items:
        ours = best[name]["ours"]
        sox = best[name].get("sox")
        rtf = args.seconds / ours
        mp3_rtf = args.mp3_seconds / best[name]["mp3"]
        ratio = ours / sox if sox else float("nan")
        ok = mp3_rtf >= TARGET_MP3_RTF
        if name.startswith("scene"):
            ok = ok and rtf >= TARGET_RTF and (sox is None or ratio <= TARGET_SOX_RATIO)
        failures += not ok
        sox_cell = f"{sox:.3f}" if sox else "-"
        print(
            f"| {name} | {rtf:.0f}x | {mp3_rtf:.0f}x "
            f"| {args.mp3_seconds / best[name]['mp3_alone']:.0f}x "
            f"| {sox_cell} | {ours:.3f} | {ratio:.2f} | {_mark(ok)} |"
        )
    print()
    print("| trigger | render_chunk CPU ms per s of audio |")
    print("|---|---:|")
    for trigger_id in engine.TRIGGERS:
        if args.only and trigger_id not in args.only:
            continue
        print(f"| {trigger_id} | {_trigger_ms_per_s(trigger_id):.2f} |")
    print()
    print(
        "| scene | first block in a fresh process (first use, banks built) ms "
        "| of it CPU ms | verdict |"
    )
    print("|---|---:|---:|---|")
    scene_ids = [s for s in engine.SCENES if not args.only or s in args.only]
    cold_runs: dict[str, tuple[float, float]] = {}
    for _ in range(repeat):
        for scene_id in scene_ids:
            run = _cold_first_block_ms(scene_id)
            cold_runs[scene_id] = min(cold_runs.get(scene_id, run), run)
    for scene_id in scene_ids:
        cold_ms, cold_cpu_ms = cold_runs[scene_id]
        ok = cold_ms <= TARGET_FIRST_BLOCK_MS
        failures += not ok
        print(f"| {scene_id} | {cold_ms:.0f} | {cold_cpu_ms:.0f} | {_mark(ok)} |")
    print()
    package = str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
    caches = float(
        subprocess.run(
            [sys.executable, "-c", _CACHE_CHILD, package],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    ok = caches <= TARGET_CACHE_MB
    failures += not ok
    print(
        f"memory the engine's caches take once every scene has played: {caches:.1f} MB "
        f"(target <= {TARGET_CACHE_MB:g} MB): {_mark(ok)}"
    )
    heaviest = max(engine.SCENES.values(), key=lambda s: len(s.layers))
    cold, cold_cpu = _cold_first_block_ms(heaviest.id)
    engine.warm_up()
    latencies = [_first_block_ms(heaviest, 0.0), _first_block_ms(heaviest, 3 * 3600.0)]
    ok = max(latencies) <= TARGET_FIRST_BLOCK_MS
    failures += not ok
    print(
        f"first block of {heaviest.id} after warm_up(): {latencies[0]:.1f} ms from the start, "
        f"{latencies[1]:.1f} ms from 3 h in (target <= {TARGET_FIRST_BLOCK_MS:g} ms): {_mark(ok)}"
    )
    print(
        f"first block of {heaviest.id} in a fresh process (grain banks built on the way, "
        f"no warm_up()): {cold:.0f} ms ({cold_cpu:.0f} ms of CPU)"
    )
    if not args.no_memory:
        short = _peak_memory_mb(600.0)
        long = _peak_memory_mb(args.hours * 3600.0)
        ok = long - short <= TARGET_MEMORY_MB
        failures += not ok
        print(
            f"peak memory streaming pink noise as WAV: 10 min {short:.1f} MB, "
            f"{args.hours:g} h {long:.1f} MB (target: within {TARGET_MEMORY_MB:g} MB): {_mark(ok)}"
        )
    if args.rooms:
        print()
        failures += not bench_rooms.run_and_print(args.rooms)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
