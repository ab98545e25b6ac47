"""The mixer: a scene's layers rendered chunk by chunk into one stream of stereo blocks.

Rendering is deterministic from ``(scene, seed)`` and random-access: a render that starts
at frame ``start`` yields exactly the frames a render from 0 would have yielded there. Each
output chunk depends only on the layer chunks that can sound in it and on a bounded window
of the mix around it (the limiter looks 80 ms either side), never on the whole history, so
memory stays flat however long a session lasts.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
import ctypes
from dataclasses import dataclass
from functools import _lru_cache_wrapper, lru_cache
import math
import sys
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    TAIL_CHUNKS,
    ChunkRequest,
    Placement,
    salt_of,
)
from .cache import SharedCache
from .dsp import db_to_gain, mix64, raised_cosine
from .loudness import TP_HALF_TAPS, TRUE_PEAK_CEILING_DBTP, true_peak_kernel
from .scenes import (
    EngineError,
    Scene,
    UnknownTriggerError,
    calibrated_gain_db,
    layer_renderer,
)
from .triggers import TRIGGERS, VARIANTS

DEFAULT_FADE_IN_S = 3.0
"""Length of the session's gentle fade-in, in seconds."""

LIMIT_BLOCK = 480
"""Frames per limiter gain step (10 ms)."""

# The limiter aims 0.15 dB under the ceiling: a margin for the 10 ms gain interpolation.
_CEILING = float(10.0 ** ((TRUE_PEAK_CEILING_DBTP - 0.15) / 20.0))
# Blocks whose sample peak stays 3 dB under the ceiling cannot reach it between samples
# (natural sounds overshoot between samples by well under 1 dB).
_SCAN_FLOOR = _CEILING * 10.0 ** (-3.0 / 20.0)
# A block's need is held this many blocks either side, then averaged over fewer.
_HOLD_BLOCKS = 4
_SMOOTH_BLOCKS = 3
_REACH = (
    _HOLD_BLOCKS + _SMOOTH_BLOCKS + 1
)  # blocks either side that shape a chunk's gain
_BLOCKS_PER_CHUNK = CHUNK_FRAMES // LIMIT_BLOCK
_TAIL_PIECES = 16  # a tail chunk is added up to its last sounding sixteenth


@dataclass(frozen=True, slots=True)
class _LayerPlan:
    """One layer, ready to render: its chunk renderer, seed, placement and linear gain."""

    render_chunk: Callable[[ChunkRequest], NDArray[np.float32]]
    seed: int
    placement: Placement
    gain: np.float32


def layer_seed(seed: int, position: int, trigger_id: str) -> int:
    """Return the seed of one layer: independent per layer position and trigger."""
    mixed = mix64(
        np.asarray(
            [seed ^ (salt_of(f"{position}:{trigger_id}") << 20)], dtype=np.uint64
        )
    )
    return int(mixed[0]) & 0x3FFFFFFFFFFFFFFF


def _plan(scene: Scene, seed: int) -> list[_LayerPlan]:
    """Return the render plan of a scene's layers."""
    plans = []
    scene_gain = scene.gain_db
    for position, layer in enumerate(scene.layers):
        try:
            render_chunk = layer_renderer(layer)
        except EngineError as err:
            raise type(err)(f"scene {scene.id!r}: {err}") from None
        gain_db = layer.level_db + calibrated_gain_db(layer)
        plans.append(
            _LayerPlan(
                render_chunk=render_chunk,
                seed=layer_seed(seed, position, layer.trigger),
                placement=layer.placement,
                gain=np.float32(db_to_gain(gain_db + scene_gain)),
            )
        )
    return plans


class _Envelope:
    """The session envelope: raised-cosine fade-in from frame 0, fade-out ending at stop."""

    def __init__(self, fade_in: int, fade_out: int, stop: int) -> None:
        """Keep the fade lengths (frames) and the end frame."""
        self.fade_in = fade_in
        self.fade_out = fade_out
        self.stop = stop

    def apply(self, audio: NDArray[np.float32], first: int) -> None:
        """Scale ``audio`` (whose frame 0 is absolute frame ``first``) in place."""
        n = audio.shape[0]
        if self.fade_in and first < self.fade_in:
            ramp = raised_cosine(self.fade_in)
            end = min(n, self.fade_in - first)
            audio[:end] *= ramp[first : first + end, None]
        out_begin = self.stop - self.fade_out
        if self.fade_out and first + n > out_begin:
            ramp = raised_cosine(self.fade_out, rising=False)
            lo = max(0, out_begin - first)
            hi = min(n, self.stop - first)
            if hi > lo:
                audio[lo:hi] *= ramp[
                    first + lo - out_begin : first + hi - out_begin, None
                ]
        if first + n > self.stop:
            audio[max(0, self.stop - first) :] = 0.0  # the session is over


def _block_peaks(mix: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the sample peak of each 10 ms block of a chunk, over both channels."""
    return np.asarray(np.abs(mix).reshape(_BLOCKS_PER_CHUNK, -1).max(axis=1))


def _true_peaks(
    window: NDArray[np.float32], blocks: NDArray[np.intp]
) -> NDArray[np.float32]:
    """Return the oversampled peak of the given blocks of ``window`` (context must exist).

    Only samples above ``_SCAN_FLOOR`` can have an inter-sample peak near the ceiling, so
    the interpolation runs on the intervals either side of those samples alone.
    """
    frames = blocks[:, None] * LIMIT_BLOCK + np.arange(LIMIT_BLOCK)
    which, offset, channel = np.nonzero(np.abs(window[frames]) > _SCAN_FLOOR)
    at = frames[which, offset]
    taps = np.arange(-TP_HALF_TAPS, TP_HALF_TAPS + 1)
    around = window[at[:, None] + taps, channel[:, None]]  # (candidates, 2 * half + 1)
    kernel = true_peak_kernel()
    # Interpolated points between each sample and the next, and the previous and it.
    after = np.abs(around[:, 1:] @ kernel).max(axis=1)
    before = np.abs(around[:, :-1] @ kernel).max(axis=1)
    peak = np.maximum(np.abs(around[:, TP_HALF_TAPS]), np.maximum(after, before))
    out = np.zeros(blocks.shape[0], dtype=np.float32)
    np.maximum.at(out, which, peak)
    return out


def _gain_curve(need: NDArray[np.float32]) -> NDArray[np.float32]:
    """Turn per-block needs around a chunk into a smooth per-frame gain for the chunk.

    ``need`` covers the chunk's blocks and ``_REACH`` blocks either side. A running
    minimum over ``_HOLD_BLOCKS`` either side, a moving average over ``_SMOOTH_BLOCKS``
    either side (fewer, so every block's average stays at or under its own need and its
    neighbours'), then linear interpolation between block centres: no frame gets more
    gain than its block needs, and the gain moves in ramps of tens of milliseconds.
    """
    h, s = _HOLD_BLOCKS, _SMOOTH_BLOCKS
    held = np.lib.stride_tricks.sliding_window_view(need, 2 * h + 1).min(axis=1)
    kernel = np.full(2 * s + 1, 1.0 / (2 * s + 1))
    smooth = np.convolve(held, kernel, mode="valid")
    # smooth[i] belongs to block i - 1 of the chunk (one block of margin either side).
    centres = (np.arange(smooth.size) - 1) * LIMIT_BLOCK + LIMIT_BLOCK // 2
    curve = np.interp(np.arange(CHUNK_FRAMES), centres, smooth)
    return np.asarray(curve, dtype=np.float32)


def _limit(
    chunks: tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]],
    peaks: NDArray[np.float32],
    first_block: int,
    cache: dict[int, float],
) -> NDArray[np.float32]:
    """Return the middle of three consecutive mixed chunks with the limiter's gain applied.

    ``peaks`` holds the sample peak of every block of the three, ``first_block`` the
    absolute index of the first; ``cache`` keeps true peaks of blocks already measured.
    """
    mid = chunks[1]
    lo = _BLOCKS_PER_CHUNK - _REACH
    hi = 2 * _BLOCKS_PER_CHUNK + _REACH
    hot = lo + np.flatnonzero(peaks[lo:hi] > _SCAN_FLOOR)
    if hot.size == 0:
        return mid
    window = np.concatenate(chunks)
    missing = np.asarray(
        [b for b in hot if first_block + int(b) not in cache], dtype=np.intp
    )
    if missing.size:
        for b, tp in zip(missing, _true_peaks(window, missing), strict=True):
            cache[first_block + int(b)] = float(tp)
    need = np.ones(hi - lo, dtype=np.float32)
    tps = np.asarray([cache[first_block + int(b)] for b in hot])
    need[hot - lo] = np.minimum(1.0, _CEILING / np.maximum(tps, 1e-12))
    if need.min() >= 1.0:
        return mid
    curve = _gain_curve(need)
    return np.asarray(mid * curve[:, None], dtype=np.float32)


class _MallInfo(ctypes.Structure):
    """glibc's ``struct mallinfo2``: the allocator's statistics, in bytes."""

    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


@lru_cache(maxsize=1)
def _allocator() -> tuple[Callable[[int], int], Callable[[], _MallInfo]] | None:
    """Return glibc's ``malloc_trim`` and ``mallinfo2``, or None under another C library."""
    try:
        libc = ctypes.CDLL(None)
        trim, info = libc.malloc_trim, libc.mallinfo2
    except (AttributeError, OSError, TypeError):
        return None
    info.restype = _MallInfo
    return trim, info


_SCRATCH_BYTES = 8 << 20
"""A block whose freeing sets glibc's trim threshold to 16 MB, above the scratch one
chunk of a render takes and frees (6-8 MB)."""


@lru_cache(maxsize=1)
def keep_scratch_memory() -> None:
    """Let glibc keep a render's per-chunk scratch memory mapped (elsewhere a no-op).

    glibc gives the top of its heap back to the system whenever more than its trim
    threshold is free there; the threshold is twice the mmap threshold, which starts at
    128 KB and rises to the size of any mmap-ed block that is freed. A render frees
    several megabytes of scratch after every chunk: with the thresholds still low, each
    chunk hands its pages back and faults them in again (about 900 page faults and a
    third of the CPU time per second of whisper_and_brush). Freeing one 8 MB block
    raises the thresholds once, as a large bank build does; the trims after bank builds
    (``release_free_memory``) still give their memory back.
    """
    if _allocator() is None:
        return
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(_SCRATCH_BYTES))


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (glibc; elsewhere a no-op).

    Building grain banks and noise tables takes large scratch arrays; once freed, glibc
    keeps that memory mapped for later use unless the heap is trimmed, so a process that
    has built its banks would hold far more than the banks themselves.
    """
    allocator = _allocator()
    if allocator is not None:
        allocator[0](0)


@lru_cache(maxsize=1)
def _engine_caches() -> tuple[Callable[[], Any], ...]:
    """Return the ``cache_info`` of every cache the engine's modules keep."""
    package = __name__.rpartition(".")[0]
    return tuple(
        value.cache_info
        for name, module in list(sys.modules.items())
        if module is not None and name.startswith(package + ".")
        for value in vars(module).values()
        if isinstance(value, (_lru_cache_wrapper, SharedCache))
        and value.__module__ == name
    )


def _builds() -> int:
    """Return how often the engine's caches have had to build something."""
    return sum(info().misses for info in _engine_caches())


def warm_up(trigger_ids: Iterable[str] | None = None) -> None:
    """Build the triggers' cached grain banks and tables ahead of the first session.

    A trigger builds its banks on first use (up to about half a second each); calling
    this once at start-up, off the event loop, keeps a session's first block fast.
    Rooms warming up at once in their own threads share the work: each bank is built
    by the first thread that needs it while the others wait for it (``SharedCache``).

    Parameters
    ----------
    trigger_ids
        Triggers to prepare, each with its variants (default: all).

    """
    for trigger_id in TRIGGERS if trigger_ids is None else trigger_ids:
        trigger = TRIGGERS.get(trigger_id)
        if trigger is None:
            raise UnknownTriggerError(f"unknown trigger {trigger_id!r}")
        if trigger.prepare is not None:
            trigger.prepare()
        renderers = {trigger.render_chunk, *VARIANTS.get(trigger_id, {}).values()}
        for render_chunk in renderers:
            render_chunk(ChunkRequest(seed=0, index=0, placement=_WARM_PLACEMENT))
    release_free_memory()


_WARM_PLACEMENT = Placement(azimuth=30.0, sweep=30.0, period_s=20.0)


def _validate(
    seed: int,
    start: int,
    stop: int,
    fade_in_s: float,
    fade_out_s: float,
    blocksize: int,
) -> None:
    """Raise ``EngineError`` for arguments a render cannot honour."""
    for name, value in (
        ("seed", seed),
        ("start", start),
        ("stop", stop),
        ("blocksize", blocksize),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise EngineError(f"{name} must be an integer, got {value!r}")
    if not 0 <= seed < 2**63:
        raise EngineError(f"seed must be between 0 and 2**63 - 1, got {seed}")
    if start < 0:
        raise EngineError(f"start must be >= 0 frames, got {start}")
    if stop <= start:
        raise EngineError(f"stop ({stop}) must be after start ({start})")
    if blocksize < 1:
        raise EngineError(f"blocksize must be >= 1 frame, got {blocksize}")
    for name, seconds in (("fade_in_s", fade_in_s), ("fade_out_s", fade_out_s)):
        if not math.isfinite(seconds) or seconds < 0.0:
            raise EngineError(
                f"{name} must be a finite number of seconds >= 0, got {seconds!r}"
            )


def render(
    scene: Scene,
    *,
    seed: int = 0,
    stop: int,
    start: int = 0,
    fade_in_s: float = DEFAULT_FADE_IN_S,
    fade_out_s: float = 0.0,
    blocksize: int = CHUNK_FRAMES,
) -> Generator[NDArray[np.float32]]:
    """Render a scene as a stream of stereo blocks.

    Parameters
    ----------
    scene
        What to play (see ``scenes.resolve_scene`` and ``scenes.trigger_scene``).
    seed
        Seed of the render (>= 0): the same seed gives the same audio.
    stop
        Absolute frame where the render ends (exclusive); the fade-out ends here.
    start
        Absolute frame of the first frame yielded.
    fade_in_s
        Raised-cosine fade-in from absolute frame 0, in seconds.
    fade_out_s
        Raised-cosine fade-out ending exactly at ``stop``, in seconds.
    blocksize
        Frames per yielded block (the last one may be shorter).

    Yields
    ------
    NDArray[np.float32]
        ``(n, 2)`` read-only blocks covering frames ``[start, stop)`` in order, true
        peak at most ``TRUE_PEAK_CEILING_DBTP``.

    Raises
    ------
    EngineError
        For a bad argument or a scene that names an unknown trigger (raised on the call,
        before the first block).

    """
    _validate(seed, start, stop, fade_in_s, fade_out_s, blocksize)
    keep_scratch_memory()
    plans = _plan(scene, int(seed))
    fade_in = round(fade_in_s * SAMPLE_RATE)
    fade_out = min(round(fade_out_s * SAMPLE_RATE), int(stop))
    envelope = _Envelope(fade_in, fade_out, int(stop))
    chunks = _released(_chunks(plans, envelope, int(start), int(stop)))
    return _reblock(chunks, int(blocksize))


def _released(
    chunks: Iterator[NDArray[np.float32]],
) -> Iterator[NDArray[np.float32]]:
    """Yield the chunks, giving back the scratch memory of banks built for the render.

    The first chunk builds whatever banks and tables the layers were missing; if it
    built any, the heap's free pages are handed back before the chunk is yielded, and
    again when the render ends (its working memory is free then too). A render that
    built nothing leaves the heap as it is: trimming it would only have its pages
    faulted in again.
    """
    before = _builds()
    first = True
    built = False
    try:
        for chunk in chunks:
            if first:
                first = False
                built = _builds() != before
                if built:
                    release_free_memory()
            yield chunk
    finally:
        if built:
            release_free_memory()


def _chunks(
    plans: list[_LayerPlan], envelope: _Envelope, start: int, stop: int
) -> Iterator[NDArray[np.float32]]:
    """Yield the limited output, one chunk at a time, trimmed to ``[start, stop)``."""
    first_out = start // CHUNK_FRAMES
    last_out = (stop - 1) // CHUNK_FRAMES
    # Mixed chunk j is complete once layer chunks j - TAIL_CHUNKS .. j are added in; the
    # limiter needs complete chunks k - 1 .. k + 1 to finish output chunk k.
    pending = _Pending()
    complete: dict[int, tuple[NDArray[np.float32], NDArray[np.float32]]] = {}
    true_peaks: dict[int, float] = {}
    silence = (
        np.zeros((CHUNK_FRAMES, 2), dtype=np.float32),
        np.zeros(_BLOCKS_PER_CHUNK, dtype=np.float32),
    )
    next_layer_chunk = max(0, first_out - 1 - TAIL_CHUNKS)

    for k in range(first_out, last_out + 1):
        while next_layer_chunk <= k + 1:
            _add_layer_chunk(plans, next_layer_chunk, pending)
            next_layer_chunk += 1
        for j in (k - 1, k, k + 1):
            if j in complete:
                continue
            if j < 0:
                complete[j] = silence
                continue
            mix = pending.pop(j)
            envelope.apply(mix, j * CHUNK_FRAMES)
            complete[j] = (mix, _block_peaks(mix))
        around = (complete[k - 1][0], complete[k][0], complete[k + 1][0])
        peaks = np.concatenate([complete[j][1] for j in (k - 1, k, k + 1)])
        out = _limit(around, peaks, (k - 1) * _BLOCKS_PER_CHUNK, true_peaks)
        lo = max(start - k * CHUNK_FRAMES, 0)
        hi = min(stop - k * CHUNK_FRAMES, CHUNK_FRAMES)
        piece = out[lo:hi]
        piece.flags.writeable = False  # later chunks still read it as limiter context
        yield piece
        del complete[k - 1]
        for block in [b for b in true_peaks if b < k * _BLOCKS_PER_CHUNK]:
            del true_peaks[block]


class _Pending:
    """Mixed chunks still receiving layers, kept as (frames, 2) and as (2, frames) sums.

    Triggers hand over either interleaved buffers (C order) or planar ones (the transpose
    of a C-ordered ``(2, frames)`` array); each kind is summed in its own layout so every
    add runs over contiguous memory, and a chunk pays for one transposition at most.
    """

    def __init__(self) -> None:
        """Start with nothing pending."""
        self._interleaved: dict[int, NDArray[np.float32]] = {}
        self._planar: dict[int, NDArray[np.float32]] = {}
        self._scratch = np.empty((CHUNK_FRAMES, 2), dtype=np.float32)
        self._scratch_planar = np.empty((2, CHUNK_FRAMES), dtype=np.float32)

    def add(
        self,
        index: int,
        part: NDArray[np.float32],
        gain: np.float32,
        *,
        planar: bool,
        tail: bool,
    ) -> None:
        """Add ``gain * part`` to pending chunk ``index``; ``part`` is (2, frames) if planar.

        ``part`` covers the chunk's first frames: all of them, or (the last piece of a
        short tail) fewer.
        """
        sums, scratch = (
            (self._planar, self._scratch_planar)
            if planar
            else (self._interleaved, self._scratch)
        )
        end = part.shape[-1] if planar else part.shape[0]
        target = sums.get(index)
        if target is None:
            if end == CHUNK_FRAMES:
                sums[index] = np.multiply(part, gain, dtype=np.float32, order="C")
                return
            shape = (2, CHUNK_FRAMES) if planar else (CHUNK_FRAMES, 2)
            target = sums[index] = np.zeros(shape, dtype=np.float32)
        elif tail and end == CHUNK_FRAMES:
            # Most whole tails die out early: add only up to the last sounding sixteenth.
            if planar:
                sounding = part.reshape(2, _TAIL_PIECES, -1).any(axis=(0, 2))
            else:
                sounding = part.reshape(_TAIL_PIECES, -1).any(axis=1)
            if not sounding.any():
                return
            end = (int(np.flatnonzero(sounding)[-1]) + 1) * (
                CHUNK_FRAMES // _TAIL_PIECES
            )
        if planar:
            target[:, :end] += np.multiply(
                part[:, :end], gain, out=scratch[:, :end], dtype=np.float32
            )
        else:
            target[:end] += np.multiply(
                part[:end], gain, out=scratch[:end], dtype=np.float32
            )

    def pop(self, index: int) -> NDArray[np.float32]:
        """Return pending chunk ``index`` as one (frames, 2) array and forget it."""
        mix = self._interleaved.pop(index, None)
        planar = self._planar.pop(index, None)
        if planar is None:
            return np.zeros((CHUNK_FRAMES, 2), dtype=np.float32) if mix is None else mix
        # Channel by channel: numpy copies a transposed 2-D view several times slower.
        if mix is None:
            mix = np.empty((CHUNK_FRAMES, 2), dtype=np.float32)
            for ear in range(2):
                np.add(planar[ear], np.float32(0.0), out=mix[:, ear])
        else:
            for ear in range(2):
                mix[:, ear] += planar[ear]
        return mix


def _add_layer_chunk(plans: list[_LayerPlan], k: int, pending: _Pending) -> None:
    """Render every layer's chunk ``k`` and add it and its tail into the pending mix."""
    for plan in plans:
        audio = plan.render_chunk(
            ChunkRequest(seed=plan.seed, index=k, placement=plan.placement)
        )
        frames = audio.shape[0]
        if not CHUNK_FRAMES <= frames <= BUFFER_FRAMES or audio.shape[1:] != (2,):
            raise EngineError(
                f"a trigger returned {audio.shape} for chunk {k}: expected (n, 2)"
                f" with {CHUNK_FRAMES} <= n <= {BUFFER_FRAMES}"
            )
        planar = not audio.flags.c_contiguous and audio.T.flags.c_contiguous
        layout = audio.T if planar else audio
        for j in range(-(-frames // CHUNK_FRAMES)):
            if planar:
                part = layout[:, j * CHUNK_FRAMES : (j + 1) * CHUNK_FRAMES]
            else:
                part = layout[j * CHUNK_FRAMES : (j + 1) * CHUNK_FRAMES]
            pending.add(k + j, part, plan.gain, planar=planar, tail=j > 0)


def _reblock(
    chunks: Iterator[NDArray[np.float32]], blocksize: int
) -> Generator[NDArray[np.float32]]:
    """Yield ``blocksize``-frame blocks (the last may be shorter) from variable pieces."""
    carry: list[NDArray[np.float32]] = []
    held = 0
    for piece in chunks:
        if not carry and piece.shape[0] == blocksize:
            yield piece
            continue
        carry.append(piece)
        held += piece.shape[0]
        while held >= blocksize:
            joined = np.concatenate(carry) if len(carry) > 1 else carry[0]
            for begin in range(0, joined.shape[0] - blocksize + 1, blocksize):
                yield joined[begin : begin + blocksize]
            rest = joined.shape[0] % blocksize
            carry = [joined[joined.shape[0] - rest :]] if rest else []
            held = rest
    if held:
        yield np.concatenate(carry) if len(carry) > 1 else carry[0]
