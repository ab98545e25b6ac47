"""Fire crackling: Farnell's fire, made of a roar, a hiss and crackles.

- Lapping roar: low-passed noise whose level flickers as the flames lick (slow and
  fast wobbles, apart in each ear).
- Hiss: high-passed noise with a fast, peaky amplitude (gas escaping from the wood).
- Crackles: short bright impulses ringing at a random pitch, with power-law sizes,
  clustered in time (a burst of small cracks as a piece of wood splits), plus rare
  louder, lower pops. Each crackle gets its own place across the stereo field.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np
from numpy.typing import NDArray

from ..base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Trigger,
    chunk_rng,
)
from ..dsp import hash_uniform
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    CONTROL_POINTS,
    GrainSet,
    band,
    bed_segment,
    control_times,
    filtered,
    grain_set,
    knot_curve,
    peak_normalised,
    ramp,
    scatter_events,
    shaped_noise,
    soft_limit,
    with_wrap,
    wobble,
)

CLUSTERS_PER_S = 2.2
"""Bursts of crackles per second."""

LONE_CRACKLES_PER_S = 14.0
"""Small crackles per second outside the bursts."""

POPS_PER_S = 0.22
"""Loud pops per second."""

_SALT = "fire_crackling"
_LIMITED_FRAMES = CHUNK_FRAMES * 3 // 2 + 4096
_LEVEL = 1.06
_ROAR_GAIN = 0.08 * _LEVEL
_HISS_GAIN = 0.007 * _LEVEL
_CRACKLE_GAIN = 0.08 * _LEVEL
_POP_GAIN = 0.16 * _LEVEL
_KNOTS_PER_CHUNK = CHUNK_FRAMES // CONTROL_HOP


def _crackle(rng: np.random.Generator, length: int) -> NDArray[np.float64]:
    """Return one crackle: a snap ringing briefly around a random pitch."""
    t = np.arange(length) / SAMPLE_RATE
    centre = 10.0 ** rng.uniform(np.log10(1500.0), np.log10(9000.0))
    width = rng.uniform(1.2, 1.8)
    ring = filtered(
        rng.standard_normal(length),
        partial(band, low_hz=centre / width, high_hz=centre * width, order=2),
    )
    y = ring * np.exp(-t / rng.uniform(0.4e-3, 3.0e-3))
    snap = filtered(
        rng.standard_normal(length), partial(band, low_hz=800.0, high_hz=12000.0)
    )
    y += (
        rng.uniform(0.2, 0.8)
        * snap
        * np.exp(-t / 0.15e-3)
        * np.std(y)
        / np.std(snap[:16])
    )
    y[:3] *= np.array([0.3, 0.6, 0.9])
    return peak_normalised(y)


def _pop(rng: np.random.Generator, length: int) -> NDArray[np.float64]:
    """Return one pop: a thump with a woody resonance and a bright edge."""
    t = np.arange(length) / SAMPLE_RATE
    f0 = rng.uniform(180.0, 700.0)
    body = np.sin(2.0 * np.pi * f0 * t * (1.0 - 0.15 * t / t[-1])) * np.exp(
        -t / rng.uniform(4e-3, 12e-3)
    )
    edge = filtered(
        rng.standard_normal(length), partial(band, low_hz=1500.0, high_hz=10000.0)
    ) * np.exp(-t / rng.uniform(0.5e-3, 2e-3))
    y = body + rng.uniform(0.3, 0.8) * edge / (np.max(np.abs(edge)) + 1e-12)
    y[:8] *= np.linspace(0.0, 1.0, 8)
    return peak_normalised(y)


@lru_cache(maxsize=1)
def _banks() -> dict[str, GrainSet]:
    """Build the crackle and pop grains once (fixed seed)."""
    rng = np.random.default_rng(0xF12E)
    return {
        "crackle": grain_set([_crackle(rng, 1024) for _ in range(384)], floor_db=-40.0),
        "pop": grain_set([_pop(rng, 4096) for _ in range(64)], floor_db=-45.0),
    }


@lru_cache(maxsize=1)
def _beds() -> dict[str, NDArray[np.float32]]:
    """Build the roar and hiss noise banks once."""

    def roar(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return band(
            f, low_hz=35.0, high_hz=220.0, order=2, tilt_db_per_octave=-2.0
        ) + 0.08 * band(
            f, low_hz=220.0, high_hz=900.0, order=2, tilt_db_per_octave=-4.0
        )

    def hiss(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return band(f, low_hz=2000.0, high_hz=7500.0, order=2)

    return {
        "roar": with_wrap(shaped_noise(BANK_FRAMES, roar, seed=21)),
        "hiss": with_wrap(shaped_noise(BANK_FRAMES, hiss, seed=22)),
    }


def _flicker(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the flames' level (left, right) at absolute times: slow swell, quick licks."""
    out = np.empty((2, t.size))
    common = wobble(t, seed=seed, salt=_SALT + "/swell", periods=(11.0, 5.1))
    for ear in range(2):
        licks = (
            2.0 * knot_curve(t, seed=seed, salt=f"{_SALT}/lick{ear}", knot_s=0.17) - 1.0
        )
        out[ear] = 10.0 ** ((2.5 * common + 3.0 * licks) / 20.0)
    return out


def _hiss_level(seed: int, index: int) -> NDArray[np.float64]:
    """Return the hiss's fast, peaky level at the control points of a chunk (left, right)."""
    knots = index * _KNOTS_PER_CHUNK + np.arange(CONTROL_POINTS)
    out = np.empty((2, CONTROL_POINTS))
    for ear in range(2):
        u = hash_uniform(seed, f"{_SALT}/hiss{ear}", knots)
        out[ear] = 0.25 + 1.6 * u**3
    return out


def crackle_events(
    rng: np.random.Generator, rate_scale: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Draw one chunk's crackles: bursts of cracks a few milliseconds apart, and lone ones.

    Parameters
    ----------
    rng
        The chunk's generator.
    rate_scale
        How lively the fire is (1 = average): scales the rates of bursts and lone cracks.

    Returns
    -------
    tuple
        ``starts`` (frames from the chunk start), ``sizes`` (linear, Pareto-distributed,
        at most 3) and ``pans`` (-1..1), each ``(e,)``.

    """
    clusters = rng.poisson(CLUSTERS_PER_S * rate_scale)
    counts = 1 + rng.geometric(0.22, clusters)
    centre = rng.integers(0, CHUNK_FRAMES, clusters)
    total = int(counts.sum())
    owner = np.repeat(np.arange(clusters), counts)
    # Inside a burst cracks follow each other after short exponential gaps.
    gaps = rng.exponential(0.022 * SAMPLE_RATE, total)
    run = np.cumsum(gaps)
    before = np.concatenate([[0.0], run])[np.cumsum(counts) - counts]
    offsets = run - np.repeat(before, counts)
    burst_starts = centre[owner] + offsets.astype(np.int64)
    burst_pans = np.repeat(rng.uniform(-0.9, 0.9, clusters), counts) + rng.normal(
        0, 0.15, total
    )
    burst_sizes = rng.pareto(2.0, total) + 1.0
    burst_sizes *= np.repeat(rng.uniform(0.5, 1.2, clusters), counts)
    lone = rng.poisson(LONE_CRACKLES_PER_S * rate_scale)
    starts = np.concatenate([burst_starts, rng.integers(0, CHUNK_FRAMES, lone)])
    sizes = np.concatenate([burst_sizes, 0.45 * (rng.pareto(2.0, lone) + 1.0)])
    pans = np.concatenate([burst_pans, rng.uniform(-1.0, 1.0, lone)])
    keep = starts < CHUNK_FRAMES + CHUNK_FRAMES // 2
    return starts[keep], np.minimum(sizes[keep], 3.0), np.clip(pans[keep], -1.0, 1.0)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of a crackling fire.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the fire is wide).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    beds = _beds()
    banks = _banks()
    flicker = _flicker(request.seed, control_times(request.index))
    bed_segment(out, beds["roar"], rng, ramp(flicker * _ROAR_GAIN))
    bed_segment(
        out,
        beds["hiss"],
        rng,
        ramp(_hiss_level(request.seed, request.index) * flicker * _HISS_GAIN),
    )

    activity = float(np.mean(flicker))
    starts, sizes, pans = crackle_events(rng, activity)
    crackle = banks["crackle"]
    pop = banks["pop"]
    pops = rng.poisson(POPS_PER_S * activity)
    batches = [
        *crackle.events(
            rng.integers(0, crackle.size, starts.size),
            starts,
            _CRACKLE_GAIN * sizes,
            pans,
        ),
        *pop.events(
            rng.integers(0, pop.size, pops),
            rng.integers(0, CHUNK_FRAMES, pops),
            _POP_GAIN * rng.uniform(0.5, 1.0, pops),
            rng.uniform(-0.8, 0.8, pops),
        ),
    ]
    scatter_events(out, batches)
    # The rare pile-up of loud events is bent down rather than left to clip.
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=0.45, ceiling=0.62)
    return out.T


TRIGGER = Trigger(
    id="fire_crackling", name="Fire crackling", close=False, render_chunk=render_chunk
)
