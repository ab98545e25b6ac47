"""A bounded cache for the engine's grain banks and tables that builds each one once.

``functools.lru_cache`` lets every thread that misses build the value itself: rooms
warming up side by side (each in its own executor thread) would build the same banks
at the same time, holding several copies of their scratch memory at once. A
``SharedCache`` builds a missing value in the first thread that asks for it; the
others asking for the same value meanwhile wait for that build and share its result.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import _CacheInfo, update_wrapper
import threading
from typing import Any, cast

SEGMENTS_KEPT = 64
"""Results a cache of per-session timeline segments keeps: a segment or two for each of
dozens of rooms playing the same trigger at once (each result is a few kilobytes)."""


class _Build:
    """One build in progress: its waiters block on ``done`` and read the outcome."""

    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        """Start a build that has no outcome yet."""
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class SharedCache[**P, R]:
    """A least-recently-used cache of a function's results, built single-flight.

    Parameters
    ----------
    function
        What builds a value from its (hashable) arguments.
    maxsize
        Most results kept (the least recently used go first).

    """

    def __init__(self, function: Callable[P, R], maxsize: int) -> None:
        """Wrap ``function`` with an empty cache of ``maxsize`` results."""
        update_wrapper(self, function)
        self._function = function
        self._maxsize = maxsize
        self._values: OrderedDict[Hashable, R] = OrderedDict()
        self._builds: dict[Hashable, _Build] = {}
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Return the cached result for these arguments, building it once if missing."""
        key: Hashable = (args, tuple(kwargs.items())) if kwargs else args
        with self._lock:
            if key in self._values:
                self._hits += 1
                self._values.move_to_end(key)
                return self._values[key]
            build = self._builds.get(key)
            owner = build is None
            if build is None:
                build = self._builds[key] = _Build()
                self._misses += 1
            else:
                self._hits += 1
        if not owner:
            build.done.wait()
            if build.error is not None:
                raise build.error
            return cast("R", build.value)
        try:
            value = self._function(*args, **kwargs)
        except BaseException as err:
            build.error = err
            raise
        else:
            build.value = value
            with self._lock:
                self._values[key] = value
                while len(self._values) > self._maxsize:
                    self._values.popitem(last=False)
        finally:
            with self._lock:
                del self._builds[key]
            build.done.set()
        return value

    def cache_info(self) -> _CacheInfo:
        """Return the hits, misses, size limit and size of the cache."""
        with self._lock:
            return _CacheInfo(
                self._hits, self._misses, self._maxsize, len(self._values)
            )

    def cache_clear(self) -> None:
        """Forget every cached result and the statistics."""
        with self._lock:
            self._values.clear()
            self._hits = self._misses = 0

    def cache_parameters(self) -> dict[str, Any]:
        """Return the cache's settings (as ``functools.lru_cache`` does)."""
        return {"maxsize": self._maxsize, "typed": False}


def shared_cache[**P, R](
    maxsize: int,
) -> Callable[[Callable[P, R]], SharedCache[P, R]]:
    """Return a decorator caching a builder's results in a ``SharedCache``.

    Parameters
    ----------
    maxsize
        Most results kept.

    """

    def decorate(function: Callable[P, R]) -> SharedCache[P, R]:
        return SharedCache(function, maxsize)

    return decorate
