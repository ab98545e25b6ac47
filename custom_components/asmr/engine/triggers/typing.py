"""Typing: someone writing on a low-profile keyboard in front of the listener.

A keystroke is a press and, a log-normal hold time later, a release. The press is the
switch giving way (a tiny, sharp tick) and, a few milliseconds later, the keycap
bottoming out: a bright clack of the plastic deck, a burst of noise through the deck's
broad resonances that dies within a few tens of milliseconds (dense, heavily damped
plastic modes blur into noise: nothing rings). The release is a shorter, quieter clack
as the cap springs back. Every key sounds through its own part of the deck and sits at
its own spot across the keyboard (left hand left, right hand right); the space bar and
enter key are heavier, lower and longer, with a stabiliser rattle. Each stroke also
excites the small room the desk stands in: a faint, diffuse tail in both ears.

The rhythm is that of prose: words of a few letters at log-normal intervals, a space,
longer pauses after sentences, occasional thinking pauses and bursts of backspace.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..events import band, soft_limit
from ..spatial import azimuth_at, head_shadow, place_events
from .tapping import (
    add_room,
    burst_frequencies,
    contacts,
    noise_bursts,
    resonance,
    trimmed,
)

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.55
"""Output gain that brings the trigger to its working level (about -20.5 LUFS)."""

LETTERS = 30
"""Distinct letter keys in the grain bank."""

VARIANTS = 3
"""Strength variants of every key, softest first."""

SPACE, ENTER, BACKSPACE = LETTERS, LETTERS + 1, LETTERS + 2
"""Bank indices of the special keys."""

KNEE = 0.5
"""Share of a press's peak above which its first milliseconds are softly compressed."""

RELEASE_LEVEL = 0.3
"""Peak of a key's release relative to its press."""

ROOM_LEVEL = 0.03
"""Amplitude of the room's tail after a keystroke, relative to the keystroke's peak."""

ROOM_RT60_S = 0.35
"""Reverberation time of the room the keyboard is in, in seconds."""

KEYBOARD_WIDTH_DEG = 22.0
"""Azimuth span of the keyboard, seen from the listener."""

GRAIN_S = 0.1
"""Longest keystroke grain, in seconds (every part has died away well before)."""

Bank = tuple[tuple[NDArray[np.float32], ...], ...]
Timeline = tuple[NDArray[np.float64], ...]


def _board(rng: np.random.Generator, f: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the keyboard deck's colour at ``f``: a few broad humps over a flat floor."""
    centres = np.array(
        [
            rng.uniform(2200.0, 3000.0),
            rng.uniform(3800.0, 5200.0),
            rng.uniform(6500.0, 8500.0),
        ]
    )
    weights = np.array([1.0, rng.uniform(0.6, 0.9), rng.uniform(0.4, 0.6)])
    humps = sum(w * resonance(f, c, 1.4) for c, w in zip(centres, weights, strict=True))
    return np.asarray(0.5 + 0.5 * humps)


def _key(
    rng: np.random.Generator, board: NDArray[np.float64], *, big: bool
) -> tuple[NDArray[np.float64], ...]:
    """Return one key's press grains (``VARIANTS``, soft to hard) and release grain."""
    frames = int(GRAIN_S * SAMPLE_RATE)
    f = burst_frequencies(frames)
    # Each key sounds through its own part of the deck: its band moves a little. A long
    # key (space, enter) is heavier: lower, longer, with a stabiliser wire that rattles.
    scale = 0.6 if big else 1.0
    low_hz = 2000.0 * scale * rng.uniform(0.8, 1.2)
    high_hz = 12000.0 * scale * rng.uniform(0.8, 1.2)
    clack_s = rng.uniform(0.012, 0.016) * (1.4 if big else 1.0)
    deck = band(f, low_hz=low_hz, high_hz=high_hz, order=2) * board
    rattles = int(rng.integers(2, 4)) if big else 0

    # A harder stroke is louder (set at placement) and a little drier. The release
    # (the cap springing back against its stop) is a shorter clack; the rattles of the
    # stabiliser wire are shorter still.
    hardness = (np.arange(VARIANTS) + rng.uniform(0.2, 0.8, VARIANTS)) / VARIANTS
    attack = np.concatenate(
        [np.full(VARIANTS, 0.0003), [0.0002], np.full(VARIANTS * rattles, 0.0001)]
    )
    decay = np.concatenate(
        [
            clack_s * (1.15 - 0.3 * hardness),
            [rng.uniform(0.007, 0.009)],
            np.full(VARIANTS * rattles, 0.0015),
        ]
    )
    clacks = noise_bursts(rng, frames, deck, attack_s=attack, decay_s=decay)
    ticks = contacts(rng, frames, np.full(VARIANTS, 0.95))
    grains: list[NDArray[np.float64]] = []
    for v in range(VARIANTS):
        press = np.zeros(frames)
        # The switch gives way under the fingertip: a tiny, sharp tick.
        at = int(rng.uniform(0.001, 0.003) * SAMPLE_RATE)
        press[at:] += 0.15 * ticks[v, : frames - at]
        # A few milliseconds later the cap bottoms out and the deck clacks.
        at += int(rng.uniform(0.002, 0.005) * SAMPLE_RATE)
        press[at:] += clacks[v, : frames - at]
        for r in range(rattles):
            at2 = at + int(rng.uniform(0.004, 0.016) * SAMPLE_RATE)
            press[at2:] += 0.3 * clacks[VARIANTS + 1 + v * rattles + r, : frames - at2]
        press[:4] *= np.linspace(0.0, 1.0, 4)
        # The first milliseconds are bent softly, as the loudest strokes would
        # otherwise stand far above the rest.
        tamed = (press / np.max(np.abs(press))).astype(np.float32)
        soft_limit(tamed, knee=KNEE, ceiling=KNEE + 0.5 * (1.0 - KNEE))
        grains.append(trimmed(tamed.astype(np.float64)))
    grains.append(trimmed(RELEASE_LEVEL * clacks[VARIANTS]))
    return tuple(grains)


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
    board = _board(rng, burst_frequencies(int(GRAIN_S * SAMPLE_RATE)))
    keys = [_key(rng, board, big=False) for _ in range(LETTERS)]
    keys += [
        _key(rng, board, big=True),
        _key(rng, board, big=True),
        _key(rng, board, big=False),
    ]
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
    starts = np.concatenate([press_at, release_at])
    gains = np.concatenate([level, level * 0.8]) * GAIN
    out = place_events(
        BUFFER_FRAMES, events, starts, gains, np.concatenate([az, az]), shadows=lows
    )
    rng = chunk_rng(request.seed, "typing/room", request.index)
    add_room(out, rng, press_at, level * (GAIN * ROOM_LEVEL), rt60_s=ROOM_RT60_S)
    return out


TRIGGER = Trigger(id="typing", name="Typing", close=False, render_chunk=render_chunk)
