"""Tests of the engine's single-flight cache of grain banks and tables."""

from __future__ import annotations

from collections.abc import Iterator
import sys
import threading
import time

import pytest

from custom_components.asmr.engine.cache import SharedCache, shared_cache
from custom_components.asmr.engine.render import warm_up

_PACKAGE = "custom_components.asmr.engine"
_THREADS = 6


def _shared_caches() -> Iterator[tuple[str, SharedCache[..., object]]]:
    """Yield every ``SharedCache`` the engine's loaded modules define, by name."""
    for name, module in sorted(sys.modules.items()):
        if module is None or not name.startswith(_PACKAGE + "."):
            continue
        for value in vars(module).values():
            if isinstance(value, SharedCache) and value.__module__ == name:
                yield f"{name}.{getattr(value, '__qualname__', '')}", value


def _builds_of_warm_up(trigger_ids: list[str], threads: int) -> dict[str, int]:
    """Return how often each cache built something while threads warmed up at once."""
    for _, cache in _shared_caches():
        cache.cache_clear()
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def room() -> None:
        start.wait()
        try:
            warm_up(trigger_ids)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)

    workers = [threading.Thread(target=room) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return {name: cache.cache_info().misses for name, cache in _shared_caches()}


def test_rooms_warming_up_at_once_build_each_bank_once() -> None:
    """Concurrent warm_up calls build every bank and table exactly as often as one does."""
    triggers = ["hair_brushing", "tapping", "rainfall", "fire_crackling"]
    alone = _builds_of_warm_up(triggers, 1)
    together = _builds_of_warm_up(triggers, _THREADS)
    assert sum(alone.values()) > 5
    assert together == alone


def test_concurrent_callers_wait_for_one_build_and_share_its_result() -> None:
    """Threads missing the same key at once run the builder once and get the same value."""
    calls: list[int] = []
    entered = threading.Event()
    release = threading.Event()

    @shared_cache(maxsize=2)
    def build(key: int) -> list[int]:
        calls.append(key)
        entered.set()
        release.wait(5.0)
        return [key]

    results: list[list[int]] = []
    workers = [
        threading.Thread(target=lambda: results.append(build(7))) for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    assert entered.wait(5.0)
    time.sleep(0.05)  # the other callers are waiting now
    release.set()
    for worker in workers:
        worker.join()
    assert calls == [7]
    assert len(results) == 5
    assert all(result is results[0] for result in results)
    info = build.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 4, 1)


def test_a_failed_build_reaches_its_waiters_and_is_not_cached() -> None:
    """A builder's error is raised to every caller; the next call tries again."""
    attempts: list[int] = []

    @shared_cache(maxsize=1)
    def build(key: int) -> int:
        attempts.append(key)
        if len(attempts) == 1:
            raise ValueError("first build fails")
        return key * 2

    with pytest.raises(ValueError, match="first build fails"):
        build(3)
    assert build(3) == 6
    assert attempts == [3, 3]


def test_the_least_recently_used_result_goes_first() -> None:
    """The cache keeps at most ``maxsize`` results, dropping the least recently used."""
    calls: list[int] = []

    @shared_cache(maxsize=2)
    def build(key: int) -> int:
        calls.append(key)
        return key

    for key in (1, 2, 1, 3, 1, 2):
        build(key)
    assert calls == [1, 2, 3, 2]
    assert build.cache_info().currsize == 2
    assert build.cache_parameters() == {"maxsize": 2, "typed": False}
    build.cache_clear()
    assert build.cache_info().currsize == 0
