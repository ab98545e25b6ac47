"""Wind bed: gusts of moving air through leaves, with an occasional soft whistle.

A gust strength ``g(t)`` in [0, 1] drives everything. It swells and falls: knots on a
time axis that runs a little faster or slower (so each rise or fall lasts 1.6 to 3.3 s,
never in step) alternate between lulls and gust peaks of random heights, joined by
raised-cosine ramps, with a faint flutter of turbulence on top. From it:

- Air: dark noise falling 9 dB per octave from about 200 Hz, with a broad resonance that
  glides from 400 Hz in a lull to 1.2 kHz in a strong gust, swelling by about 10 dB.
  Below 150 Hz it is cut steeply: wind in the open is heard in the air and the leaves,
  not as booms on a microphone.
- Leaves: a soft rustle (0.7-4 kHz noise with a grainy, quickly changing level) that
  grows with the square of the gust and lags it slightly.
- Whistle: a soft narrow peak that glides with the gust, in some strong gusts only.

The right ear follows the left half a second later, as if the wind crossed the listener,
and each ear has its own noise: the bed is wide.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import CHUNK_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..dsp import frame_times, hash_uniform, rfft_freqs, spectral_noise, value_noise
from ..events import SEGMENT_FRAMES, band, bed_segment, ramp, shaped_noise, with_wrap

HOP = 1920
"""Frame hop of the spectral synthesis, in frames (frames are 80 ms)."""

LEVELS = 128
"""Steps of the gust strength in the precomputed band shapes."""

CROSSING_S = 0.5
"""How much later the right ear hears the same gust, in seconds."""

GUST_HALF_S = 2.2
"""Average time from a lull to the next gust peak (or back), in seconds."""

LULL_LEVEL = 0.3
"""Level of the air in a dead calm relative to the strongest gust (linear)."""

LEAF_HOP = 240
"""Frames between the knots of the leaves' grainy level (5 ms)."""

_GAIN = 0.13
_LEAF_GAIN = 0.02
_WHISTLE_GAIN = 6.0 * _GAIN
_LEAF_BANK_FRAMES = 1 << 18
_LEAF_LAG_S = 0.25
_LEAF_POINTS = SEGMENT_FRAMES // LEAF_HOP + 1
_LEAF_KNOTS_PER_CHUNK = CHUNK_FRAMES // LEAF_HOP
_LAG_KNOTS = round(_LEAF_LAG_S * SAMPLE_RATE / LEAF_HOP)
_CROSSING_KNOTS = round(CROSSING_S * SAMPLE_RATE / LEAF_HOP)
_GRID_BEFORE = _LAG_KNOTS + _CROSSING_KNOTS
# Grid points at the noise frames' centres (left ear): ``(HOP * k + frame / 2)``.
_FRAME_POINTS = (
    _GRID_BEFORE + (HOP * np.arange(CHUNK_FRAMES // HOP) + (2 * HOP) // 2) // LEAF_HOP
)


@lru_cache(maxsize=1)
def _band_table() -> NDArray[np.float32]:
    """Return the air's amplitude spectrum at each gust level, level included.

    Shape ``(LEVELS, bins)``: row ``q`` is the band at gust strength ``q / (LEVELS - 1)``,
    scaled by that gust's loudness.
    """
    f = np.maximum(rfft_freqs(2 * HOP).astype(np.float64), 1.0)
    g = np.linspace(0.0, 1.0, LEVELS)[:, None]
    # -9 dB per octave above 220 Hz (flat below), gently rolled off above 3 kHz.
    air = (np.maximum(f, 220.0) / 300.0) ** -1.5 / np.sqrt(1.0 + (f / 3000.0) ** 4)
    centre = 400.0 * 3.0**g
    glide = 1.0 + 1.5 * np.exp(-0.5 * (np.log2(f / centre) / 0.5) ** 2)
    shape = air * glide * band(f, low_hz=170.0, order=8)
    shape /= np.sqrt(np.mean(shape**2, axis=1, keepdims=True))
    shape *= _GAIN * (LULL_LEVEL + (1.0 - LULL_LEVEL) * g**2)  # gusts are louder
    return np.asarray(shape, dtype=np.float32)


@lru_cache(maxsize=1)
def _leaf_bank() -> NDArray[np.float32]:
    """Return the leaves' noise bank (cut by ``bed_segment``)."""

    def leaves(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return band(f, low_hz=700.0, high_hz=4000.0, order=2, tilt_db_per_octave=-1.5)

    return with_wrap(shaped_noise(_LEAF_BANK_FRAMES, leaves, seed=0x1EAF))


def gust(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the gust strength in [0, 1] at absolute times ``t`` (seconds, any shape).

    Knots at whole steps of a warped time alternate between lulls (0 to 0.25) and peaks
    (0.65 to 1); the warp (a slow value noise whose slope stays below the steady rate)
    keeps the time running forwards while each rise or fall lasts 1.6 to 3.3 s. A
    faint flutter, stronger in the gusts, rides on top.
    """
    tt = np.asarray(t, dtype=np.float64)
    tau = tt / GUST_HALF_S + 0.6 * value_noise(
        tt, seed=seed, salt="wind:pace", rate_hz=0.08
    )
    k = np.floor(tau).astype(np.int64)
    frac = tau - k
    first = int(k.min())
    knots = np.arange(first, int(k.max()) + 2)
    u = hash_uniform(seed, "wind:height", knots)
    heights = np.where(knots % 2 == 1, 0.65 + 0.35 * u, 0.25 * u)
    a = heights[k - first]
    b = heights[k - first + 1]
    g = a + (b - a) * (0.5 - 0.5 * np.cos(np.pi * frac))
    flutter = value_noise(tt, seed=seed, salt="wind:flutter", rate_hz=1.6, octaves=2)
    return np.asarray(np.clip(g + 0.05 * (0.3 + g) * flutter, 0.0, 1.0))


def chunk_gusts(
    seed: int, index: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the gust strength one chunk needs, computed once for the air and leaves.

    Parameters
    ----------
    seed, index
        The render's seed and the chunk index.

    Returns
    -------
    tuple
        ``frames``: the gust at each noise frame's centre, ``(CHUNK_FRAMES // HOP, 2)``
        (left ear, right ear ``CROSSING_S`` later); ``grid``: the gust every
        ``LEAF_HOP`` frames from ``_GRID_BEFORE`` points before the chunk start to the
        end of its bed segment, which the leaves read.

    """
    knots = index * _LEAF_KNOTS_PER_CHUNK + np.arange(-_GRID_BEFORE, _LEAF_POINTS)
    grid = gust(seed, np.asarray(knots * (LEAF_HOP / SAMPLE_RATE), dtype=np.float64))
    frames = np.stack(
        [grid[_FRAME_POINTS], grid[_FRAME_POINTS - _CROSSING_KNOTS]], axis=1
    )
    return frames, grid


def _leaf_levels(
    seed: int, index: int, grid: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Return the leaves' gain over one bed segment, shape ``(2, SEGMENT_FRAMES)``."""
    knots = index * _LEAF_KNOTS_PER_CHUNK + np.arange(_LEAF_POINTS)
    left = _GRID_BEFORE - _LAG_KNOTS
    right = left - _CROSSING_KNOTS
    g = np.stack([grid[left : left + _LEAF_POINTS], grid[right : right + _LEAF_POINTS]])
    # Leaves knock together: a fresh random level every 5 ms, apart in each ear.
    grain = hash_uniform(seed, "wind:leaf", 2 * knots + np.arange(2)[:, None])
    # Branches sway a few times a second: the rustle comes and goes in waves. The right
    # ear hears other branches: the same curve, read a long way off in time.
    t = knots * (LEAF_HOP / SAMPLE_RATE)
    sway = value_noise(
        np.stack([t, t + 1000.0]), seed=seed, salt="wind:sway", rate_hz=3.0
    )
    return ramp(
        _LEAF_GAIN * g**2 * (0.65 + 0.35 * sway) * (0.7 + 0.6 * grain**2), hop=LEAF_HOP
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the wind that starts in one chunk.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the bed stays wide).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` decorrelated stereo wind.

    """
    seed = request.seed
    strength, grid = chunk_gusts(seed, request.index)
    rows = np.rint(strength * (LEVELS - 1)).astype(np.intp)
    mag = _band_table()[rows]  # (frames, 2, bins), a fresh array
    # The whistle: a narrow peak that glides with the gust, in some strong gusts only.
    t = frame_times(request.index, HOP)
    swirl = value_noise(
        np.stack([t, t - CROSSING_S], axis=1),
        seed=seed,
        salt="wind:whistle",
        rate_hz=0.2,
    )
    whistle = np.clip((strength - 0.7) * 4.0, 0.0, 1.0) * np.clip(2.0 * swirl, 0.0, 1.0)
    if whistle.any():
        hz = 650.0 + 650.0 * strength + 90.0 * swirl
        centre = np.rint(hz / rfft_freqs(2 * HOP)[1]).astype(np.intp)
        frames = np.arange(mag.shape[0])[:, None]
        ears = np.arange(2)[None, :]
        for offset, weight in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            mag[frames, ears, centre + offset] += (
                weight * _WHISTLE_GAIN * whistle
            ).astype(np.float32)
    rng = chunk_rng(seed, "wind", request.index)
    out = spectral_noise(rng, mag, hop=HOP)
    bed_segment(out.T, _leaf_bank(), rng, _leaf_levels(seed, request.index, grid))
    return out


TRIGGER = Trigger(id="wind", name="Wind", close=False, render_chunk=render_chunk)
