"""A small spectrogram picture (PNG) of a render, in pure numpy and zlib.

Time runs left to right, frequency bottom to top on a log scale (40 Hz to 20 kHz), level
is colour (dark violet to pale yellow over ``DYNAMIC_RANGE_DB``).
"""

from __future__ import annotations

from collections.abc import Iterable
import struct
import zlib

import numpy as np
from numpy.typing import NDArray

from .base import SAMPLE_RATE

WINDOW_FRAMES = 2048
"""Frames analysed for each column."""

LOW_HZ = 40.0
"""Frequency of the bottom row, in Hz."""

HIGH_HZ = 20_000.0
"""Frequency of the top row, in Hz."""

DYNAMIC_RANGE_DB = 80.0
"""Levels this far below the loudest cell are drawn black."""

GRID_HZ = (100.0, 1_000.0, 10_000.0)
"""Frequencies marked by the optional grid, in Hz."""

GRID_SECONDS = 5.0
"""Time between the optional grid's vertical lines, in seconds."""

GRID_OPACITY = 0.35
"""How strongly a grid line lightens the pixels under it (0 to 1)."""

_ANCHORS = np.array(
    [
        [0, 0, 4],
        [40, 11, 84],
        [101, 21, 110],
        [159, 42, 99],
        [212, 72, 66],
        [245, 125, 21],
        [250, 193, 39],
        [252, 255, 164],
    ],
    dtype=np.float64,
)


def _colours(level: NDArray[np.float64]) -> NDArray[np.uint8]:
    """Return RGB colours for levels in [0, 1], shape ``level.shape + (3,)``."""
    pos = np.clip(level, 0.0, 1.0) * (len(_ANCHORS) - 1)
    low = np.minimum(pos.astype(np.intp), len(_ANCHORS) - 2)
    frac = (pos - low)[..., None]
    rgb = _ANCHORS[low] * (1.0 - frac) + _ANCHORS[low + 1] * frac
    return np.asarray(np.rint(rgb), dtype=np.uint8)


def png_bytes(rgb: NDArray[np.uint8]) -> bytes:
    """Return an 8-bit RGB PNG of a ``(height, width, 3)`` image."""
    height, width, _ = rgb.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        """Return one PNG chunk with its length and CRC."""
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = np.concatenate(
        [np.zeros((height, 1), dtype=np.uint8), rgb.reshape(height, -1)], axis=1
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def _row_bins(height: int) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Return the first and one-past-last FFT bin of each row, bottom row first."""
    edges = LOW_HZ * (HIGH_HZ / LOW_HZ) ** (np.arange(height + 1) / height)
    bins = edges * WINDOW_FRAMES / SAMPLE_RATE
    lo = np.floor(bins[:-1]).astype(np.intp)
    hi = np.maximum(np.ceil(bins[1:]).astype(np.intp), lo + 1)
    return lo, hi


def spectrogram_png(
    blocks: Iterable[NDArray[np.float32]],
    *,
    frames: int,
    width: int = 256,
    height: int = 128,
    grid: bool = False,
) -> bytes:
    """Draw the spectrogram of a stream of blocks as a PNG.

    Parameters
    ----------
    blocks
        ``(n, 2)`` float32 blocks holding ``frames`` frames in all.
    frames
        Total length of the stream, in frames (sets where the columns fall).
    width, height
        Size of the picture in pixels.
    grid
        Also draw faint lines at ``GRID_HZ`` and every ``GRID_SECONDS``.

    Returns
    -------
    bytes
        The PNG file. Memory use does not grow with the length of the stream.

    """
    if frames < 1 or width < 1 or height < 2:
        raise ValueError("a spectrogram needs frames >= 1, width >= 1 and height >= 2")
    centres = ((np.arange(width) + 0.5) * frames / width).astype(np.int64)
    window = np.hanning(WINDOW_FRAMES)
    lo, hi = _row_bins(height)
    power = np.full((height, width), 1e-20)
    held = np.zeros(0)
    held_from = 0  # absolute frame of held[0]
    column = 0
    seen = 0
    for block in blocks:
        mono = np.asarray(block, dtype=np.float64).mean(axis=1)
        held = np.concatenate([held, mono])
        seen += mono.shape[0]
        while column < width and (
            centres[column] + WINDOW_FRAMES // 2 <= seen or seen >= frames
        ):
            begin = centres[column] - WINDOW_FRAMES // 2 - held_from
            seg = np.zeros(WINDOW_FRAMES)
            a, b = max(begin, 0), min(begin + WINDOW_FRAMES, held.shape[0])
            if b > a:
                seg[a - begin : b - begin] = held[a:b]
            spec = np.abs(np.fft.rfft(seg * window)) ** 2
            sums = np.concatenate([[0.0], np.cumsum(spec)])
            power[:, column] = (sums[hi] - sums[lo]) / (hi - lo) + 1e-20
            column += 1
        keep_from = (centres[column] if column < width else seen) - WINDOW_FRAMES // 2
        drop = max(0, min(keep_from - held_from, held.shape[0]))
        held = held[drop:]
        held_from += drop
    db = 10.0 * np.log10(power)
    level = (db - (db.max() - DYNAMIC_RANGE_DB)) / DYNAMIC_RANGE_DB
    rgb = _colours(level[::-1])
    if grid:
        rgb = _with_grid(rgb, frames=frames)
    return png_bytes(rgb)


def _with_grid(rgb: NDArray[np.uint8], *, frames: int) -> NDArray[np.uint8]:
    """Return a picture lightened along the grid's frequency and time lines."""
    height, width, _ = rgb.shape
    mask = np.zeros((height, width), dtype=bool)
    for hz in GRID_HZ:
        row = int(height * np.log(hz / LOW_HZ) / np.log(HIGH_HZ / LOW_HZ))
        if 0 <= row < height:
            mask[height - 1 - row] = True
    step = GRID_SECONDS * SAMPLE_RATE
    for mark in np.arange(step, frames, step):
        mask[:, min(int(mark * width / frames), width - 1)] = True
    out = rgb.astype(np.float64)
    out[mask] += (255.0 - out[mask]) * GRID_OPACITY
    return np.asarray(np.rint(out), dtype=np.uint8)
