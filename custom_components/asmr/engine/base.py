"""Shared building blocks of the sound engine: timing, randomness, trigger records.

The engine renders audio in chunks of ``CHUNK_FRAMES`` frames. A trigger renders one
chunk at a time from ``(seed, index)`` alone: everything that *starts* inside chunk
``index`` (events, noise frames, gestures) is written into a buffer that begins at the
chunk's first frame and may run on for up to ``TAIL_CHUNKS`` more chunks, so sounds ring
on into the following chunks; the buffer ends where the last of them does. The mixer
adds the tails of earlier chunks, which makes any chunk reproducible on its own and lets
a render start at any offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import zlib

import numpy as np
import numpy.random  # noqa: F401  (numpy loads it lazily: load it with the engine, not mid-render)
from numpy.typing import NDArray

SAMPLE_RATE = 48_000
"""Frames per second of every buffer the engine produces."""

CHUNK_FRAMES = 48_000
"""Frames per chunk: the unit of deterministic, random-access rendering (one second)."""

TAIL_CHUNKS = 2
"""How many following chunks a chunk's sounds may ring into."""

BUFFER_FRAMES = CHUNK_FRAMES * (1 + TAIL_CHUNKS)
"""Longest buffer a trigger may return for one chunk: the chunk and its tail chunks."""


def salt_of(name: str) -> int:
    """Return a stable 32-bit number for a name (Python's ``hash`` is salted per run)."""
    return zlib.crc32(name.encode())


def buffer_frames(reach: int, *, at_least: int = CHUNK_FRAMES) -> int:
    """Return the length of a chunk buffer whose sounds end at frame ``reach``.

    At least ``at_least`` (the chunk, or more that a trigger always writes, such as a
    bed's segment) and at most ``BUFFER_FRAMES``, the longest the mixer takes.
    """
    return min(max(at_least, reach), BUFFER_FRAMES)


def silent_chunk() -> NDArray[np.float32]:
    """Return the buffer of a chunk in which nothing starts: one chunk of silence."""
    return np.zeros((CHUNK_FRAMES, 2), dtype=np.float32)


def chunk_rng(seed: int, salt: str, index: int) -> np.random.Generator:
    """Return the random generator of one chunk of one sound source.

    Parameters
    ----------
    seed
        The render's seed (any non-negative integer).
    salt
        A name that separates independent sources (a trigger id, a layer name).
    index
        The chunk index (0 is the chunk that starts at frame 0); negative chunks are
        silent and never asked for.

    """
    words = [seed & 0xFFFFFFFF, seed >> 32, salt_of(salt), index]
    if 0 <= index <= 0xFFFFFFFF:
        # The same 32-bit words numpy would make of the list, without its conversion
        # in Python (about a quarter of the generator's set-up).
        entropy = np.array(words, dtype=np.uint32)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
    return np.random.default_rng(words)


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where a layer sits around the listener's head, and how it moves.

    ``azimuth`` is in degrees: -90 is the left ear, 0 straight ahead, +90 the right ear.
    A close trigger wanders ``sweep`` degrees either side of ``azimuth`` over about
    ``period_s`` seconds (0 = still). Beds ignore placement and stay wide.
    """

    azimuth: float = 0.0
    sweep: float = 0.0
    period_s: float = 0.0


PLACEMENTS: dict[str, Placement] = {
    "close": Placement(azimuth=0.0, sweep=70.0, period_s=22.0),
    "near": Placement(azimuth=0.0, sweep=40.0, period_s=40.0),
    "far": Placement(azimuth=0.0, sweep=10.0, period_s=60.0),
    "wide": Placement(azimuth=0.0, sweep=90.0, period_s=80.0),
}
"""The named placements a listener picks from, by name.

``close``: at the ears, wandering from one to the other every twenty seconds or so (where
a lone close trigger plays). ``near``: in front, within arm's reach, drifting gently
either way. ``far``: ahead across the room, almost still. ``wide``: all around; a bed
stays wide whatever its placement, and a close sound drifts slowly across the whole
field, ear to ear. Moving a calibrated layer between them changes its loudness by under
0.2 LU.
"""


@dataclass(frozen=True, kw_only=True)
class ChunkRequest:
    """What a trigger needs to render one chunk."""

    seed: int
    index: int
    placement: Placement = field(default_factory=Placement)

    @property
    def start_s(self) -> float:
        """Return the time of the chunk's first frame, in seconds from the render start."""
        return self.index * CHUNK_FRAMES / SAMPLE_RATE


@dataclass(frozen=True, kw_only=True)
class Trigger:
    """A procedural sound source.

    ``render_chunk`` returns an ``(n, 2)`` float32 array, ``CHUNK_FRAMES <= n <=
    BUFFER_FRAMES``: the chunk and as much of its tail as rings (the mixer takes the
    frames past ``n`` as silence, so a buffer need not be padded out with zeros).
    Output is deterministic for a request and roughly at the trigger's working level;
    the final loudness calibration is applied by the mixer.
    """

    id: str
    name: str
    close: bool
    render_chunk: Callable[[ChunkRequest], np.ndarray]
    prepare: Callable[[], object] | None = None
    """Builds every bank and table the trigger caches, ahead of use (``warm_up``); None
    when rendering a first chunk builds them all."""
