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

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import CHUNK_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..dsp import frame_times, hash_uniform, rfft_freqs, spectral_noise, value_noise
from ..events import (
    SEGMENT_FRAMES,
    band,
    bed_segment,
    noise_spectrum,
    ramp,
    shaped_noise,
    with_wrap,
)
from ..recipe import Band, NoiseBand, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class WindRecipe:
    """The wind bed's numbers: its gusts, the air, the leaves and the whistle."""

    gust_half_s: float
    """Average time from a lull to the next gust peak (or back), in seconds."""

    gust_wander: float
    """How far the gusts' clock runs ahead or behind, in lull-to-peak steps."""

    gust_wander_per_s: float
    """Rate of the gusts' clock's wandering (value-noise knots per second)."""

    lull: Range
    """Strength of a lull (0 = dead calm, 1 = the strongest gust)."""

    peak: Range
    """Strength of a gust's peak."""

    flutter_per_s: float
    """Rate of the turbulence on the gusts (value-noise knots per second)."""

    flutter_depth: float
    """Depth of the turbulence, relative to the gust plus ``flutter_floor``."""

    flutter_floor: float
    """Turbulence left in a calm, as a share of the strongest gust's."""

    crossing_s: float
    """How much later the right ear hears the same gust, in seconds."""

    air_gain: float
    """Level of the air in the strongest gust (linear)."""

    lull_level: float
    """Level of the air in a dead calm relative to the strongest gust (linear)."""

    air_floor_hz: float
    """Frequency below which the air's slope flattens, in Hz."""

    air_pivot_hz: float
    """Frequency the air's slope is referred to, in Hz."""

    air_exponent: float
    """Power of frequency the air's amplitude follows above ``air_floor_hz``."""

    air_rolloff_hz: float
    """Corner of the gentle fourth-order roll-off of the air's top, in Hz."""

    air_cut_hz: float
    """Corner of the steep high-pass under the air, in Hz."""

    air_cut_order: int
    """Steepness of that high-pass (6 dB per octave per order)."""

    glide_calm_hz: float
    """Centre of the air's broad resonance in a dead calm, in Hz."""

    glide_ratio: float
    """How far the resonance climbs in the strongest gust (a frequency ratio)."""

    glide_boost: float
    """Height of the resonance above the air's slope (linear, added to 1)."""

    glide_octaves: float
    """Width (standard deviation) of the resonance, in octaves."""

    leaves: NoiseBand
    """The leaves' rustle."""

    leaf_gain: float
    """Level of the leaves in the strongest gust (linear)."""

    leaf_lag_s: float
    """How long the leaves lag the gust, in seconds."""

    whistle_gain: float
    """Height of the whistle's peak over the air (linear, per frame's bin)."""

    whistle_onset: float
    """Gust strength where the whistle begins."""

    whistle_rise: float
    """How fast the whistle grows above its onset (full at onset + 1 / rise)."""

    whistle_hz: float
    """Pitch of the whistle at its onset's calm end (gust 0), in Hz."""

    whistle_hz_per_gust: float
    """How far the whistle's pitch climbs from calm to the strongest gust, in Hz."""

    whistle_swirl_hz: float
    """How far a swirl of the air moves the whistle's pitch, in Hz."""

    whistle_swirl_per_s: float
    """Rate of the swirls that bring the whistle and move it (knots per second)."""


RECIPE = WindRecipe(
    # Gusts rise and fall over a couple of seconds: noticed within five.
    gust_half_s=2.2,
    # Gusts never keep step: a rise or a fall lasts 1.6 to 3.3 s.
    gust_wander=0.6,
    gust_wander_per_s=0.08,
    # Lulls fall to a near calm; gusts peak between two-thirds and full strength.
    lull=Range(low=0.0, high=0.25),
    peak=Range(low=0.65, high=1.0),
    # A faint turbulence, stronger in the gusts.
    flutter_per_s=1.6,
    flutter_depth=0.05,
    flutter_floor=0.3,
    # The wind crosses the listener's head: the right ear follows the left.
    crossing_s=0.5,
    # Calibrated so that the bed plays at its working level before the table's gain.
    air_gain=0.13,
    # A calm still moves some air: 10 dB under the strongest gust.
    lull_level=0.3,
    # Moving air is dark: its amplitude falls as f ** -1.5 (9 dB per octave) above
    # about 200 Hz, flat below, and its top rolls off above 3 kHz.
    air_floor_hz=220.0,
    air_pivot_hz=300.0,
    air_exponent=-1.5,
    air_rolloff_hz=3000.0,
    # Wind in the open is heard in the air and the leaves, not as booms on a microphone.
    air_cut_hz=170.0,
    air_cut_order=8,
    # The air's resonance glides from 400 Hz in a lull to 1.2 kHz in a strong gust.
    glide_calm_hz=400.0,
    glide_ratio=3.0,
    glide_boost=1.5,
    glide_octaves=0.5,
    # Leaves knocking together: 0.7-4 kHz, a little darker at the top.
    leaves=NoiseBand(band=Band(low_hz=700.0, high_hz=4000.0), tilt_db_per_octave=-1.5),
    leaf_gain=0.02,
    # The leaves answer the gust a little after it reaches them.
    leaf_lag_s=0.25,
    # A soft, narrow whistle in some strong gusts.
    whistle_gain=6.0 * 0.13,
    # Only strong gusts whistle, past an edge or through a gap.
    whistle_onset=0.7,
    whistle_rise=4.0,
    # The whistle's pitch rises with the wind's speed: 650 Hz to 1.3 kHz.
    whistle_hz=650.0,
    whistle_hz_per_gust=650.0,
    whistle_swirl_hz=90.0,
    whistle_swirl_per_s=0.2,
)
"""Wind: gusts of moving air through leaves."""

HOP = 1920
"""Frame hop of the spectral synthesis, in frames (frames are 80 ms)."""

LEVELS = 128
"""Steps of the gust strength in the precomputed band shapes."""

CROSSING_S = RECIPE.crossing_s
"""How much later the right ear hears the same gust, in seconds."""

LEAF_HOP = 240
"""Frames between the knots of the leaves' grainy level (5 ms)."""

_LEAF_BANK_FRAMES = 1 << 18
_LEAF_POINTS = SEGMENT_FRAMES // LEAF_HOP + 1
_LEAF_KNOTS_PER_CHUNK = CHUNK_FRAMES // LEAF_HOP
_LAG_KNOTS = round(RECIPE.leaf_lag_s * SAMPLE_RATE / LEAF_HOP)
_CROSSING_KNOTS = round(CROSSING_S * SAMPLE_RATE / LEAF_HOP)
_GRID_BEFORE = _LAG_KNOTS + _CROSSING_KNOTS
# Grid points at the noise frames' centres (left ear): ``(HOP * k + frame / 2)``.
_FRAME_POINTS = (
    _GRID_BEFORE + (HOP * np.arange(CHUNK_FRAMES // HOP) + (2 * HOP) // 2) // LEAF_HOP
)


@shared_cache(maxsize=1)
def _band_table() -> NDArray[np.float32]:
    """Return the air's amplitude spectrum at each gust level, level included.

    Shape ``(LEVELS, bins)``: row ``q`` is the band at gust strength ``q / (LEVELS - 1)``,
    scaled by that gust's loudness.
    """
    r = RECIPE
    f = np.maximum(rfft_freqs(2 * HOP).astype(np.float64), 1.0)
    g = np.linspace(0.0, 1.0, LEVELS)[:, None]
    air = (np.maximum(f, r.air_floor_hz) / r.air_pivot_hz) ** r.air_exponent / np.sqrt(
        1.0 + (f / r.air_rolloff_hz) ** 4
    )
    centre = r.glide_calm_hz * r.glide_ratio**g
    glide = 1.0 + r.glide_boost * np.exp(
        -0.5 * (np.log2(f / centre) / r.glide_octaves) ** 2
    )
    shape = air * glide * band(f, low_hz=r.air_cut_hz, order=r.air_cut_order)
    shape /= np.sqrt(np.mean(shape**2, axis=1, keepdims=True))
    lull = r.lull_level
    shape *= r.air_gain * (lull + (1.0 - lull) * g**2)  # gusts are louder
    return np.asarray(shape, dtype=np.float32)


@shared_cache(maxsize=1)
def _leaf_bank() -> NDArray[np.float32]:
    """Return the leaves' noise bank (cut by ``bed_segment``)."""
    leaves = noise_spectrum(RECIPE.leaves)
    return with_wrap(shaped_noise(_LEAF_BANK_FRAMES, leaves, seed=0x1EAF))


def gust(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the gust strength in [0, 1] at absolute times ``t`` (seconds, any shape).

    Knots at whole steps of a warped time alternate between lulls (0 to 0.25) and peaks
    (0.65 to 1); the warp (a slow value noise whose slope stays below the steady rate)
    keeps the time running forwards while each rise or fall lasts 1.6 to 3.3 s. A
    faint flutter, stronger in the gusts, rides on top.
    """
    r = RECIPE
    tt = np.asarray(t, dtype=np.float64)
    tau = tt / r.gust_half_s + r.gust_wander * value_noise(
        tt, seed=seed, salt="wind:pace", rate_hz=r.gust_wander_per_s
    )
    k = np.floor(tau).astype(np.int64)
    frac = tau - k
    first = int(k.min())
    knots = np.arange(first, int(k.max()) + 2)
    u = hash_uniform(seed, "wind:height", knots)
    heights = np.where(
        knots % 2 == 1,
        r.peak.at(u),
        r.lull.at(u),
    )
    a = heights[k - first]
    b = heights[k - first + 1]
    g = a + (b - a) * (0.5 - 0.5 * np.cos(np.pi * frac))
    flutter = value_noise(
        tt, seed=seed, salt="wind:flutter", rate_hz=r.flutter_per_s, octaves=2
    )
    return np.asarray(
        np.clip(g + r.flutter_depth * (r.flutter_floor + g) * flutter, 0.0, 1.0)
    )


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
        RECIPE.leaf_gain * g**2 * (0.65 + 0.35 * sway) * (0.7 + 0.6 * grain**2),
        hop=LEAF_HOP,
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
        ``(n, 2)`` decorrelated stereo wind: the chunk and the fades into the next.

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
        rate_hz=RECIPE.whistle_swirl_per_s,
    )
    rise = (strength - RECIPE.whistle_onset) * RECIPE.whistle_rise
    whistle = np.clip(rise, 0.0, 1.0) * np.clip(2.0 * swirl, 0.0, 1.0)
    if whistle.any():
        hz = (
            RECIPE.whistle_hz
            + RECIPE.whistle_hz_per_gust * strength
            + RECIPE.whistle_swirl_hz * swirl
        )
        centre = np.rint(hz / rfft_freqs(2 * HOP)[1]).astype(np.intp)
        frames = np.arange(mag.shape[0])[:, None]
        ears = np.arange(2)[None, :]
        for offset, weight in ((-1, 0.5), (0, 1.0), (1, 0.5)):
            mag[frames, ears, centre + offset] += (
                weight * RECIPE.whistle_gain * whistle
            ).astype(np.float32)
    rng = chunk_rng(seed, "wind", request.index)
    # As long as the leaves' bed segment runs (the gusts' noise ends a hop after the chunk).
    out = spectral_noise(
        rng, mag, hop=HOP, length=max(SEGMENT_FRAMES, CHUNK_FRAMES + HOP)
    )
    bed_segment(out.T, _leaf_bank(), rng, _leaf_levels(seed, request.index, grid))
    return out


TRIGGER = Trigger(id="wind", name="Wind", close=False, render_chunk=render_chunk)
