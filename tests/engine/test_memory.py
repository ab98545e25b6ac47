"""Tests that the engine's caches (grain banks, noise tables, plans) stay bounded."""

from __future__ import annotations

from collections.abc import Iterator
import functools
import gc
from pathlib import Path
import subprocess
import sys
import tracemalloc
from typing import Any

import pytest

from custom_components.asmr.engine.base import CHUNK_FRAMES
from custom_components.asmr.engine.cache import SharedCache
from custom_components.asmr.engine.render import render
from custom_components.asmr.engine.scenes import SCENES

CACHE_BUDGET_BYTES = 48 * 2**20
"""What the engine's caches may hold once every scene has played (issue "Sound realism")."""

_PACKAGE = "custom_components.asmr.engine"


def _engine_caches() -> Iterator[Any]:
    """Yield every cache (``lru_cache`` or ``SharedCache``) the engine's modules define."""
    for name, module in sorted(sys.modules.items()):
        if module is None or not (name == _PACKAGE or name.startswith(_PACKAGE + ".")):
            continue
        for value in vars(module).values():
            if (
                isinstance(
                    value,
                    (functools._lru_cache_wrapper, SharedCache),  # noqa: SLF001
                )
                and value.__module__ == name
            ):
                yield value


def _clear_caches() -> None:
    """Empty every engine cache and collect what they held."""
    for cache in _engine_caches():
        cache.cache_clear()
    gc.collect()


def test_every_engine_cache_has_a_size_limit() -> None:
    """No engine cache can grow without bound, however many seeds a process plays."""
    caches = list(_engine_caches())
    assert len(caches) > 10
    unbounded = [
        f"{c.__module__}.{c.__qualname__}"
        for c in caches
        if c.cache_parameters()["maxsize"] is None
    ]
    assert unbounded == []


def test_caches_hold_at_most_48_mb_once_every_scene_has_played() -> None:
    """The banks and tables built to play every scene once add up to at most 48 MB.

    Measured as the memory that emptying the caches gives back, traced from an empty
    start, so it counts what the caches hold and nothing the renders left behind.
    """
    _clear_caches()
    tracemalloc.start()
    try:
        for scene in SCENES.values():
            for _ in render(scene, seed=4, stop=3 * CHUNK_FRAMES):
                pass
        gc.collect()
        held = tracemalloc.get_traced_memory()[0]
        _clear_caches()
        freed = held - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert freed > 8 * 2**20  # the banks were built and measured
    assert freed <= CACHE_BUDGET_BYTES, f"caches hold {freed / 2**20:.1f} MB"


_RSS_CHILD = """
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


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_a_process_grows_at_most_48_mb_playing_every_scene() -> None:
    """A fresh process that plays every scene once holds at most 48 MB more than before.

    The scratch memory of building the banks is given back, so what stays resident is
    the caches themselves (as ``scripts/bench`` measures it).
    """
    package = Path(__file__).resolve().parents[2] / "custom_components" / "asmr"
    result = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(package)],
        check=True,
        capture_output=True,
        text=True,
    )
    grown_mb = float(result.stdout.strip())
    assert grown_mb <= CACHE_BUDGET_BYTES / 2**20, f"grew by {grown_mb:.1f} MB"


_FAULTS_CHILD = """
import resource, sys
sys.path.append(sys.argv[1])
import engine
scene = engine.SCENES["whisper_and_brush"]
blocks = engine.render(scene, seed=1, stop=48000 * 40)
for _ in range(10):
    next(blocks)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in blocks:
    pass
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 30)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="counts Linux page faults")
def test_a_render_reuses_its_scratch_memory_from_chunk_to_chunk() -> None:
    """Rendering does not hand its scratch pages back and fault them in every chunk.

    Each chunk of whisper_and_brush takes and frees several megabytes of scratch; when
    the C library gave them back to the system after every chunk, a second of audio
    cost over 900 page faults (and a third of the render's CPU time).
    """
    package = Path(__file__).resolve().parents[2] / "custom_components" / "asmr"
    result = subprocess.run(
        [sys.executable, "-c", _FAULTS_CHILD, str(package)],
        check=True,
        capture_output=True,
        text=True,
    )
    faults_per_s = float(result.stdout.strip())
    assert faults_per_s < 300, f"{faults_per_s:.0f} page faults per second of audio"


def test_building_the_rain_takes_little_scratch_memory() -> None:
    """Rain's grain banks, the largest, are built with at most 12 MB of scratch memory.

    Every megabyte a first block touches anew is paid for in page faults: a bank
    measured in double precision, or copied to be measured, once took 18 MB.
    """
    from custom_components.asmr.engine.triggers import rainfall  # noqa: PLC0415

    rainfall._banks.cache_clear()  # noqa: SLF001
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rainfall._banks()  # noqa: SLF001
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 12 * 2**20
