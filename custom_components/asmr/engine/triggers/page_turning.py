"""Page turning: someone reading, turning a page every several seconds.

A turn has three parts, each from band-limited paper noise shaped by the gesture:

- lift: the page's corner is raised, a soft swish that rises and brightens;
- slide: the page sweeps over, brushy paper noise whose level and brightness follow the
  hand's speed (a bell-shaped profile), with faint friction ticks;
- settle: the page lands, a soft flap with a little thump of air under it.

Turns come at irregular intervals of several seconds (a pure function of time: turn
``j`` is due near ``j * TURN_PERIOD_S`` with a hashed jitter), and vary in pace (a
careful turn, a quick flip), weight, brightness and level; now and then the reader
smooths the page down after it lands. Each turn sits slightly off centre, at the layer's
placement plus a small random offset.
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
from ..events import band, shaped_noise, soft_limit
from ..spatial import MAX_ITD_FRAMES, azimuth_at, place

TURN_PERIOD_S = 6.5
"""Average time between page turns, in seconds."""

TURN_JITTER_S = 4.0
"""Spread of the turn times around their grid, in seconds."""

SKIP_SHARE = 0.1
"""Share of turns that do not happen (a longer read)."""

LEVEL_SWING_DB = 1.0
"""Largest loudness difference of a turn from the average, in dB."""

OFF_CENTRE_DEG = 12.0
"""Azimuth of the book when the layer is placed straight ahead, in degrees."""

_SALT = "page_turning"
_LEVEL = 1.0
_GAIN = 0.079 * _LEVEL
_MAX_TURN_FRAMES = 2 * CHUNK_FRAMES
_PROBE_FRAMES = 8192
_PAGE_BANK_FRAMES = 1 << 18  # 5.5 s: reads along random time warps never repeat


@lru_cache(maxsize=1)
def _banks() -> dict[str, NDArray[np.float32]]:
    """Build the paper noise banks once: a dull and a bright band, and a low air band."""
    return {
        "dull": shaped_noise(
            _PAGE_BANK_FRAMES, partial(band, low_hz=250.0, high_hz=2500.0), seed=51
        ),
        "bright": shaped_noise(
            _PAGE_BANK_FRAMES,
            partial(band, low_hz=1800.0, high_hz=9000.0, tilt_db_per_octave=-1.5),
            seed=52,
        ),
        "air": shaped_noise(
            _PAGE_BANK_FRAMES, partial(band, low_hz=60.0, high_hz=450.0), seed=53
        ),
    }


def _turn_starts(seed: int, index: int) -> list[tuple[int, int]]:
    """Return ``(turn number, start frame in the chunk)`` of the turns due in chunk ``index``."""
    start_s = index * CHUNK_FRAMES / SAMPLE_RATE
    end_s = start_s + CHUNK_FRAMES / SAMPLE_RATE
    lo = int(np.floor((start_s - TURN_JITTER_S) / TURN_PERIOD_S)) - 1
    hi = int(np.ceil(end_s / TURN_PERIOD_S)) + 1
    turns = np.arange(lo, hi + 1)
    due = (
        turns * TURN_PERIOD_S
        + hash_uniform(seed, _SALT + "/when", turns) * TURN_JITTER_S
    )
    skip = hash_uniform(seed, _SALT + "/skip", turns) < SKIP_SHARE
    pick = (due >= start_s) & (due < end_s) & ~skip & (turns >= 0)
    frames = np.floor((due[pick] - start_s) * SAMPLE_RATE).astype(np.int64)
    return [(int(j), int(f)) for j, f in zip(turns[pick], frames, strict=True)]


def _bell(n: int, skew: float) -> NDArray[np.float64]:
    """Return a smooth 0-1-0 speed profile of ``n`` frames, its peak at ``skew`` (0-1)."""
    u = (np.arange(n) + 0.5) / n
    warped = u ** (np.log(0.5) / np.log(skew))
    return np.asarray(np.sin(np.pi * warped) ** 2)


def _noise(
    rng: np.random.Generator, bank: NDArray[np.float32], n: int
) -> NDArray[np.float64]:
    """Return ``n`` frames of a bank read from a random offset along a random time warp.

    The read runs a little faster or slower than real time and sways around that pace
    (linear interpolation): two turns never share their noise even when they read the
    same stretch of the bank, and the pace shifts the paper's colour a little as well.
    """
    rate = rng.uniform(0.85, 1.18)
    sway_hz = rng.uniform(1.5, 4.0)
    depth = rng.uniform(80.0, 200.0)
    t = np.arange(n)
    pos = rate * t + depth * np.sin(
        (2.0 * np.pi * sway_hz / SAMPLE_RATE) * t + rng.uniform(0, 7)
    )
    pos -= pos.min()
    pos += rng.integers(0, bank.size - int(pos.max()) - 2)
    idx = pos.astype(np.int64)
    frac = pos - idx
    return np.asarray(bank[idx] + (bank[idx + 1] - bank[idx]) * frac)


@lru_cache(maxsize=8)
def _k_weighting(n_fft: int) -> NDArray[np.float64]:
    """Return the power response of BS.1770's K-weighting (48 kHz biquads) on a spectrum."""
    z = np.exp(-1j * np.pi * np.arange(n_fft // 2 + 1) / (n_fft // 2))
    shelf = np.polyval(
        [1.19839281085285, -2.69169618940638, 1.53512485958697], z
    ) / np.polyval([0.73248077421585, -1.69065929318241, 1.0], z)
    highpass = np.polyval([1.0, -2.0, 1.0], z) / np.polyval(
        [0.99007225036621, -1.99004745483398, 1.0], z
    )
    return np.asarray(np.abs(shelf * highpass) ** 2)


def _gated_energy(y: NDArray[np.float64], probe: int) -> float:
    """Return a turn's loudness as BS.1770 gates it: mean K-weighted energy of its loud blocks.

    Blocks are 400 ms every 100 ms, also those that only overlap the turn's edges; those
    more than 10 dB below the mean are left out, as the relative gate would. The
    K-weighting is taken as the ratio it gives on a probe of the loudest part (starting
    at frame ``probe``), which is all the turn's colour needs.
    """
    block, hop = SAMPLE_RATE * 2 // 5, SAMPLE_RATE // 10
    segment = y[probe : probe + _PROBE_FRAMES]
    spectrum = np.abs(np.fft.rfft(segment, _PROBE_FRAMES)) ** 2
    weighting = float(
        np.sum(spectrum * _k_weighting(_PROBE_FRAMES)) / (np.sum(spectrum) + 1e-20)
    )
    padded = np.concatenate([np.zeros(block), y, np.zeros(block)])
    power = np.cumsum(np.concatenate([[0.0], padded**2]))
    starts = np.arange(0, padded.size - block + 1, hop)
    energy = (power[starts + block] - power[starts]) / block
    energy = energy[energy > 1e-12 * energy.max()]
    loud = energy[energy > 0.1 * energy.mean()]
    return weighting * float(loud.mean()) + 1e-12


def _turn(rng: np.random.Generator, level_db: float) -> NDArray[np.float32]:
    """Render one page turn (mono) at a loudness, with its own pace, weight and brightness."""
    banks = _banks()
    pace = rng.choice([1.0, 0.6, 1.5], p=[0.7, 0.2, 0.1]) * rng.uniform(0.85, 1.15)
    lift = int(rng.uniform(0.18, 0.32) * pace * SAMPLE_RATE)
    slide = int(rng.uniform(0.45, 0.8) * pace * SAMPLE_RATE)
    settle = int(rng.uniform(0.12, 0.2) * SAMPLE_RATE)
    bright = rng.uniform(0.5, 1.2)
    weight = rng.uniform(0.5, 1.2)
    room = _MAX_TURN_FRAMES - MAX_ITD_FRAMES - 64
    slide = min(slide, room - lift - settle)
    total = lift + slide + settle
    stroke = int(rng.uniform(0.4, 0.7) * SAMPLE_RATE)
    gap = int(rng.uniform(0.15, 0.4) * SAMPLE_RATE)
    # Now and then the reader smooths the page down, when the turn leaves room for it.
    smooth = rng.random() < 0.3 and total + gap + stroke <= room
    n = (total + gap + stroke if smooth else total) + MAX_ITD_FRAMES + 64
    y = np.zeros(n)

    # Lift: a swell that rises and brightens, easing off as the slide takes over.
    rise = _bell(lift, rng.uniform(0.65, 0.8))
    y[:lift] += (
        0.35
        * rise
        * (
            _noise(rng, banks["dull"], lift)
            + bright * rise * _noise(rng, banks["bright"], lift)
        )
    )
    # Slide: overlaps the end of the lift; level and brightness follow the hand's speed.
    start = int(0.7 * lift)
    speed = _bell(slide + lift - start, rng.uniform(0.35, 0.6))
    m = speed.size
    brush = _noise(rng, banks["dull"], m) * (
        0.6 + 0.4 * speed
    ) + bright * speed * _noise(rng, banks["bright"], m)
    y[start : start + m] += speed * brush
    ticks = rng.poisson(25.0 * pace)
    at = start + (rng.random(ticks) * m).astype(np.int64)
    y[at] += rng.normal(0.0, 0.6, ticks) * speed[at - start] * bright
    # Settle: a short flap and a thump of air.
    land = start + m - settle // 3
    t = np.arange(settle) / SAMPLE_RATE
    flap = np.exp(-t / rng.uniform(0.02, 0.04)) * np.sin(
        0.5 * np.pi * np.minimum(1.0, t / rng.uniform(0.008, 0.014))
    )
    y[land : land + settle] += (
        0.8
        * flap
        * (
            _noise(rng, banks["dull"], settle)
            + 0.2 * bright * _noise(rng, banks["bright"], settle)
        )
    )
    y[land : land + settle] += 0.9 * weight * flap * _noise(rng, banks["air"], settle)
    if smooth:
        s0 = land + settle + gap
        stroke_env = 0.25 * _bell(stroke, rng.uniform(0.3, 0.7))
        y[s0 : s0 + stroke] += stroke_env * _noise(rng, banks["dull"], stroke)
    y[-64:] *= np.linspace(1.0, 0.0, 64)
    # Every turn gets the same loudness, give or take a dB: heard, never a jolt.
    probe = max(0, start + m // 2 - _PROBE_FRAMES // 2)
    level = 10.0 ** (level_db / 20.0) / np.sqrt(_gated_energy(y, probe))
    return np.asarray(y * level, dtype=np.float32)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the page turns that begin in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and placement (where the book is; each turn lands within a
        few degrees of it, and slightly off centre when the layer is straight ahead).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    out = np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    for turn, start in _turn_starts(request.seed, request.index):
        rng = chunk_rng(request.seed, _SALT + "/turn", turn)
        # Turns alternate a little louder and softer in pairs, so any stretch of a few
        # turns keeps the same loudness while no two turns sound alike.
        swing = (
            2.0 * float(hash_uniform(request.seed, _SALT + "/level", turn // 2).item())
            - 1.0
        )
        mono = _turn(rng, LEVEL_SWING_DB * swing * (-1) ** turn) * np.float32(_GAIN)
        soft_limit(mono, knee=0.42, ceiling=0.58)
        when = request.start_s + start / SAMPLE_RATE
        azimuth = float(azimuth_at(request.placement, request.seed, when, salt=_SALT))
        if request.placement.azimuth == 0.0 and request.placement.sweep == 0.0:
            azimuth += OFF_CENTRE_DEG
        azimuth += rng.uniform(-8.0, 8.0)
        stereo = place(mono, azimuth)
        end = min(BUFFER_FRAMES, start + stereo.shape[0])
        out[start:end] += stereo[: end - start]
    return out


TRIGGER = Trigger(
    id="page_turning", name="Page turning", close=False, render_chunk=render_chunk
)
