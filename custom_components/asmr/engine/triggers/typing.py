"""Typing: someone writing on a keyboard in front of the listener.

Each keystroke is a press (fingertip tick, keycap clack, bottoming-out thock of the case)
and, a log-normal hold time later, a quieter, higher release clack; every key has its
own little modal recipe and a spot across the keyboard (left hand left, right hand
right). The space bar and enter key are deeper and longer, with a stabiliser rattle.
The rhythm is that of prose: words of a few letters at log-normal intervals, a space,
longer pauses after sentences, occasional thinking pauses and bursts of backspace.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..spatial import azimuth_at, head_shadow, place_events
from .tapping import PEAK_CAP, modal_tap, weighted_rms

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.09
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

LETTERS = 30
"""Distinct letter keys in the grain bank."""

VARIANTS = 3
"""Strength variants of every key, softest first."""

SPACE, ENTER, BACKSPACE = LETTERS, LETTERS + 1, LETTERS + 2
"""Bank indices of the special keys."""

KEYBOARD_WIDTH_DEG = 22.0
"""Azimuth span of the keyboard, seen from the listener."""

Bank = tuple[tuple[NDArray[np.float32], ...], ...]
Timeline = tuple[NDArray[np.float64], ...]

_CAP_RATIOS = np.array([1.0, 1.62, 2.37, 3.1, 4.4])
_CASE_RATIOS = np.array([1.0, 1.9, 2.8, 4.1])


def _modal(
    rng: np.random.Generator,
    ratios: NDArray[np.float64],
    f0: float,
    decay_s: float,
    hardness: float,
    strike: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return one modal click of a key part, at most 0.25 s long."""
    return modal_tap(
        rng,
        ratios,
        f0,
        decay_s=decay_s,
        frames=SAMPLE_RATE // 4,
        hardness=hardness,
        strike=strike,
    )


def _rasp(
    rng: np.random.Generator, frames: int, low_hz: float, high_hz: float
) -> NDArray[np.float64]:
    """Return a short band of noise with a quick exponential decay, peak 1."""
    f = np.fft.rfftfreq(frames, 1.0 / SAMPLE_RATE)
    band = (f > low_hz) & (f < high_hz)
    noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(frames)) * band, frames)
    noise *= np.exp(-np.arange(frames) / (rng.uniform(0.003, 0.007) * SAMPLE_RATE))
    noise[:24] *= np.linspace(0.0, 1.0, 24)
    return np.asarray(noise / np.max(np.abs(noise)), dtype=np.float64)


def _key(rng: np.random.Generator, *, big: bool) -> tuple[NDArray[np.float64], ...]:
    """Return one key's press grains (``VARIANTS``, soft to hard) and release grain."""
    frames = int(0.25 * SAMPLE_RATE)
    cap_f0 = float(rng.uniform(900.0, 1500.0) if big else rng.uniform(1700.0, 3400.0))
    case_f0 = float(rng.uniform(220.0, 380.0) if big else rng.uniform(420.0, 950.0))
    case_decay = rng.uniform(0.03, 0.045) if big else rng.uniform(0.018, 0.03)
    cap_strike = rng.uniform(0.3, 1.0, _CAP_RATIOS.size)
    case_strike = rng.uniform(0.3, 1.0, _CASE_RATIOS.size)
    presses: list[NDArray[np.float64]] = []
    for v in range(VARIANTS):
        hardness = (v + rng.uniform(0.2, 0.8)) / VARIANTS
        cap = _modal(rng, _CAP_RATIOS, cap_f0, 0.018, hardness, cap_strike)
        case = _modal(rng, _CASE_RATIOS, case_f0, case_decay, 0.3, case_strike)
        press = np.zeros(frames)
        press[: cap.size] += 0.7 * cap
        # The keycap reaches the bottom a few milliseconds after the fingertip lands.
        lag = int(rng.uniform(0.002, 0.006) * SAMPLE_RATE)
        press[lag : lag + case.size] += (0.8 if big else 0.45) * case[: frames - lag]
        # Plastic on plastic is noisy too: a short rasp of the stem sliding home.
        press[lag : lag + 960] += 0.35 * _rasp(rng, 960, 1500.0, 7000.0)
        if big:
            rattle = _modal(rng, _CAP_RATIOS * 1.4, cap_f0, 0.004, 0.9, cap_strike)
            lag2 = lag + int(rng.uniform(0.006, 0.014) * SAMPLE_RATE)
            press[lag2 : lag2 + rattle.size] += 0.35 * rattle[: frames - lag2]
        press *= min(1.0 / weighted_rms(press), PEAK_CAP / np.max(np.abs(press)))
        presses.append(_trim(press))
    release = _modal(
        rng, _CAP_RATIOS, cap_f0 * rng.uniform(1.1, 1.4), 0.004, 0.8, cap_strike
    )
    release *= 0.45 * min(
        1.0 / weighted_rms(release), PEAK_CAP / np.max(np.abs(release))
    )
    presses.append(_trim(release))
    return tuple(presses)


def _trim(grain: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return a grain cut where it has decayed below -60 dB of its peak, faded out."""
    loud = np.flatnonzero(np.abs(grain) > 1e-3 * np.max(np.abs(grain)))
    end = int(loud[-1]) + 1 if loud.size else grain.size
    out = grain[: max(end, 64)].copy()
    tail = min(out.size // 4, 240)
    out[-tail:] *= np.linspace(1.0, 0.0, tail)
    return out


@lru_cache(maxsize=1)
def grain_bank() -> tuple[Bank, Bank]:
    """Return the cached keystroke grains and their far-ear lowpasses.

    Returns
    -------
    tuple
        ``(grains, shadows)``: ``grains[key]`` holds ``VARIANTS`` presses (soft to hard)
        and the release, float32, for the letter keys ``0 .. LETTERS - 1`` and then
        ``SPACE``, ``ENTER`` and ``BACKSPACE``.

    """
    rng = chunk_rng(0, "typing-bank", 0)
    keys = [_key(rng, big=False) for _ in range(LETTERS)]
    keys += [_key(rng, big=True), _key(rng, big=True), _key(rng, big=False)]
    grains = tuple(tuple(g.astype(np.float32) for g in key) for key in keys)
    for key in grains:
        for grain in key:
            grain.flags.writeable = False
    shadows = tuple(tuple(head_shadow(g) for g in key) for key in grains)
    return grains, shadows


def _key_spot(key: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return where each key sits across the keyboard, from -0.5 (left) to 0.5 (right)."""
    spot = (key % 10) / 9.0 - 0.5
    spot = np.where(key == SPACE, 0.0, spot)
    spot = np.where(key == ENTER, 0.45, spot)
    return np.where(key == BACKSPACE, 0.5, spot)


@lru_cache(maxsize=4)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return one segment's keystrokes: press time (s), hold (s), key, strength."""
    rng = chunk_rng(seed, "typing/segment", segment)
    end = SEGMENT_S * (segment + 1)
    t = SEGMENT_S * segment + rng.uniform(0.0, 0.3)
    times: list[float] = []
    keys: list[int] = []
    tempo = rng.uniform(0.85, 1.2)
    words_left = int(rng.integers(1, 10))
    while t < end:
        if rng.uniform() < 0.06:
            for _ in range(int(rng.integers(1, 5))):
                times.append(t)
                keys.append(BACKSPACE)
                t += rng.uniform(0.1, 0.16)
        letters = int(np.clip(rng.poisson(3.8) + 1, 1, 11))
        word = rng.integers(0, LETTERS, letters)
        gaps = rng.lognormal(np.log(0.13 * tempo), 0.35, letters)
        for key, gap in zip(word, gaps, strict=True):
            times.append(t)
            keys.append(int(key))
            t += float(gap)
        words_left -= 1
        if words_left <= 0:
            times.append(t)
            keys.append(ENTER if rng.uniform() < 0.25 else SPACE)
            t += float(rng.lognormal(np.log(1.1), 0.35))
            tempo = rng.uniform(0.85, 1.2)
            words_left = int(rng.integers(4, 12))
        else:
            times.append(t)
            keys.append(SPACE)
            t += float(rng.lognormal(np.log(0.2 * tempo), 0.4))
            if rng.uniform() < 0.07:
                t += rng.uniform(1.0, 2.2)
    n = len(times)
    hold = rng.lognormal(np.log(0.085), 0.3, n)
    strength = np.clip(rng.lognormal(0.0, 0.15, n), 0.65, 1.3)
    strength *= np.where(np.asarray(keys) >= LETTERS, 1.1, 1.0)
    when = np.asarray(times)
    keep = when < end
    return (
        when[keep],
        hold[keep],
        np.asarray(keys, dtype=np.float64)[keep],
        strength[keep],
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the keystrokes that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement (kept in front: the centre is
        limited to 30 degrees either side and the sweep is damped).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` stereo keystrokes.

    """
    t0 = request.start_s
    times, hold, key_f, strength = _timeline(request.seed, request.index // SEGMENT_S)
    mine = (times >= t0) & (times < t0 + 1.0)
    if not mine.any():
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    grains, shadows = grain_bank()
    key = key_f[mine].astype(np.int64)
    level = strength[mine]
    variant = np.clip((level - 0.7) * 5.0, 0, VARIANTS - 1).astype(np.int64)
    press_at = np.round((times[mine] - t0) * SAMPLE_RATE).astype(np.int64)
    release_at = press_at + np.round(hold[mine] * SAMPLE_RATE).astype(np.int64)
    placement = request.placement
    centre = float(np.clip(placement.azimuth, -30.0, 30.0))
    wander = azimuth_at(placement, request.seed, times[mine], salt="typing")
    az = (
        centre
        + 0.25 * (wander - placement.azimuth)
        + KEYBOARD_WIDTH_DEG * _key_spot(key)
    )
    events = [grains[k][v] for k, v in zip(key, variant, strict=True)]
    events += [grains[k][VARIANTS] for k in key]
    lows = [shadows[k][v] for k, v in zip(key, variant, strict=True)]
    lows += [shadows[k][VARIANTS] for k in key]
    return place_events(
        BUFFER_FRAMES,
        events,
        np.concatenate([press_at, release_at]),
        np.concatenate([level, level * 0.8]) * GAIN,
        np.concatenate([az, az]),
        shadows=lows,
    )


TRIGGER = Trigger(id="typing", name="Typing", close=False, render_chunk=render_chunk)
