"""Page turning: a book in the hands, read and leafed through.

The hands never quite leave the book: fingers rest on the page and rub its edge, the
thumb shifts. That handling is a soft, grainy paper rustle in short movements, with now
and then a tiny tick of a page edge, and it goes on between the turns.

Every several seconds (a pure function of time: turn ``j`` is due near
``j * TURN_PERIOD_S`` with a hashed jitter) a page turns:

- slide: a finger slides under the page's corner, a thin rising friction;
- lift and travel: the page bends up (a few small crinkles as it flexes) and sweeps
  over, a swish whose level and brightness follow the hand's speed, fluttering as the
  sheet ripples;
- flop and settle: the page lands, a soft slap of paper on paper (mid and high, no
  thump), and a short rustle as it settles;
- smoothing: often the reader strokes the new page flat, once or twice.

Now and then the reader thumbs through several pages at once instead: a quick run of
flicks, each page slapping past the thumb. Turns vary in pace, weight, brightness and
level; each sits slightly off centre, at the layer's placement plus a small offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

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
from ..cache import shared_cache
from ..dsp import hash_uniform
from ..events import (
    PAN_WIDTH,
    band,
    control_times,
    knot_curve,
    placed_segment,
    ramp,
    shaped_noise,
    soft_limit,
    with_wrap,
)
from ..spatial import MAX_ITD_FRAMES, azimuth_at, place
from .paper_crinkling import crease_clicks

TURN_PERIOD_S = 5.0
"""Average time between page turns, in seconds."""

TURN_JITTER_S = 2.5
"""Spread of the turn times around their grid, in seconds."""

FIRST_TURN_S = 2.5
"""Earliest time of the first turn, in seconds: the reader first settles with the book."""

THUMBING_EVERY = 6
"""One turn in this many is the reader thumbing through several pages instead."""

LEVEL_SWING_DB = 1.0
"""Largest loudness difference of a turn from the average, in dB."""

OFF_CENTRE_DEG = 12.0
"""Azimuth of the book when the layer is placed straight ahead, in degrees."""

HANDLING_TICKS_PER_S = 4.0
"""Tiny page-edge ticks per second of the handling between turns (at its busiest)."""

_SALT = "page_turning"
_LEVEL = 0.6
_TURN_GAIN = 0.11 * _LEVEL
_HANDLING_GAIN = 0.02 * _LEVEL
_LOOKBACK_S = TURN_JITTER_S + 2.0  # a part starts at most this long after its grid time
_PLAN_TURNS = 8  # turns planned (and cached) together
_PAGE_BANK_FRAMES = 1 << 18  # 5.5 s
_PART_BANK_FRAMES = 1 << 17  # 2.7 s: a turn reads a fresh stretch of it
_RUB_S = 0.22  # knots of the fingers' movements: a rub every fraction of a second
_RUB_FLOOR = 0.08  # handling level while the fingers rest, against a rub
_RUB_POWER = 2.0  # sharpens the rubs out of the rests
_TICK_LEVEL = 1.0  # page-edge ticks against the handling rustle
_GRAIN_S = 0.04  # stick-slip jitter of the handling friction, its step
_GRAIN_DEPTH = 0.7  # and its depth
_HANDLING_BAND = (600.0, 5000.0, -1.5)  # high-pass, low-pass (Hz), tilt (dB/octave)


@shared_cache(maxsize=1)
def _banks() -> dict[str, NDArray[np.float32]]:
    """Build the paper noise banks once: a soft and a bright band, and the handling."""
    handling = shaped_noise(
        _PAGE_BANK_FRAMES,
        partial(
            band,
            low_hz=_HANDLING_BAND[0],
            high_hz=_HANDLING_BAND[1],
            tilt_db_per_octave=_HANDLING_BAND[2],
        ),
        seed=54,
    )
    # Skin on paper sticks and slips: the friction's level jitters every few tens of ms.
    rng = np.random.default_rng(55)
    steps = round(_PAGE_BANK_FRAMES / (_GRAIN_S * SAMPLE_RATE))
    knots = rng.uniform(1.0 - _GRAIN_DEPTH, 1.0, steps + 1)
    knots[-1] = knots[0]  # the bank is circular, and so is its jitter
    at = np.arange(_PAGE_BANK_FRAMES) * (steps / _PAGE_BANK_FRAMES)
    jitter = np.interp(at, np.arange(knots.size), knots)
    handling = handling * jitter.astype(np.float32)
    handling /= np.sqrt(np.mean(handling * handling))
    # Now and then a page edge ticks under a finger: tiny crease clicks.
    grains = crease_clicks()
    count = int(HANDLING_TICKS_PER_S * _PAGE_BANK_FRAMES / SAMPLE_RATE)
    for i, at in zip(
        rng.integers(0, grains.size // 3, count),
        rng.integers(0, _PAGE_BANK_FRAMES - 512, count),
        strict=True,
    ):
        click = grains.banks[int(grains.classes[i])][int(grains.rows[i])]
        handling[at : at + click.size] += _TICK_LEVEL * rng.uniform(0.3, 1.0) * click
    return {
        "soft": shaped_noise(
            _PART_BANK_FRAMES,
            partial(band, low_hz=400.0, high_hz=3500.0, tilt_db_per_octave=-1.0),
            seed=51,
        ),
        "bright": shaped_noise(
            _PART_BANK_FRAMES,
            partial(band, low_hz=1800.0, high_hz=9000.0, tilt_db_per_octave=-1.5),
            seed=52,
        ),
        "handling": with_wrap(handling),
    }


@dataclass(frozen=True, slots=True)
class _Part:
    """One sound of a turn: what it is and when it starts (absolute frame)."""

    kind: str
    start: int
    turn: int


@shared_cache(maxsize=32)
def _plan(seed: int, block: int) -> tuple[_Part, ...]:
    """Return the parts of turns ``block * _PLAN_TURNS`` up to the next block's first.

    Turn ``j`` is due near ``j * TURN_PERIOD_S`` (hashed jitter). One turn in every
    ``THUMBING_EVERY`` is a thumbing, and one single turn of every pair is followed by
    a smoothing (which, hashed): any stretch of a few turns holds the same mix of
    sounds, so its loudness holds too.
    """
    turns = np.arange(block * _PLAN_TURNS, (block + 1) * _PLAN_TURNS)
    due = (
        turns * TURN_PERIOD_S
        + FIRST_TURN_S
        + hash_uniform(seed, _SALT + "/when", turns) * TURN_JITTER_S
    )
    thumb = np.floor(
        THUMBING_EVERY
        * hash_uniform(seed, _SALT + "/thumbing", turns // THUMBING_EVERY)
    )
    thumbing = turns % THUMBING_EVERY == thumb
    smooth = np.floor(2.0 * hash_uniform(seed, _SALT + "/smoothing", turns // 2))
    smoothing = (turns % 2 == smooth) & ~thumbing
    delay = 1.4 + 0.5 * hash_uniform(seed, _SALT + "/delay", turns)
    parts = []
    for j, at_s, thumbs, smooths, wait in zip(
        turns.tolist(),
        due.tolist(),
        thumbing.tolist(),
        smoothing.tolist(),
        delay.tolist(),
        strict=True,
    ):
        at = int(at_s * SAMPLE_RATE)
        parts.append(_Part("thumbing" if thumbs else "turn", at, j))
        if smooths:
            parts.append(_Part("smoothing", at + int(wait * SAMPLE_RATE), j))
    return tuple(parts)


def _parts_starting(seed: int, first: int, end: int) -> list[_Part]:
    """Return the parts that start in frames ``[first, end)``."""
    span_s = TURN_PERIOD_S * _PLAN_TURNS
    lo = max(int((first / SAMPLE_RATE - _LOOKBACK_S - FIRST_TURN_S) // span_s), 0)
    hi = max(int((end / SAMPLE_RATE) // span_s), 0)
    return [
        part
        for block in range(lo, hi + 1)
        for part in _plan(seed, block)
        if first <= part.start < end
    ]


def _bell(n: int, skew: float) -> NDArray[np.float32]:
    """Return a smooth 0-1-0 speed profile of ``n`` frames, its peak at ``skew`` (0-1)."""
    u = (np.arange(n, dtype=np.float32) + np.float32(0.5)) / np.float32(n)
    x = np.minimum(u / np.float32(skew), (1.0 - u) / np.float32(1.0 - skew))
    return np.asarray(x * x * (3.0 - 2.0 * x))


def _noise(
    rng: np.random.Generator, bank: NDArray[np.float32], n: int
) -> NDArray[np.float32]:
    """Return ``n`` frames of a bank from a random offset (a fresh stretch of paper noise)."""
    o = int(rng.integers(0, bank.size - n))
    return bank[o : o + n]


def _flutter(rng: np.random.Generator, n: int, depth: float) -> NDArray[np.float64]:
    """Return a random ripple of the level around 1, 10-25 times a second."""
    hop = int(SAMPLE_RATE / rng.uniform(10.0, 25.0))
    knots = 1.0 + depth * rng.uniform(-1.0, 1.0, n // hop + 2)
    return np.asarray(np.interp(np.arange(n) / hop, np.arange(knots.size), knots))


def _crinkles(
    rng: np.random.Generator, y: NDArray[np.float64], a: int, b: int, count: int
) -> None:
    """Add ``count`` small crease clicks of a bending page between frames ``a`` and ``b``."""
    grains = crease_clicks()
    ids = rng.integers(0, grains.size // 2, count)
    for i, at in zip(ids, rng.integers(a, b, count), strict=True):
        bank = grains.banks[int(grains.classes[i])]
        click = bank[int(grains.rows[i])]
        m = min(click.size, y.size - at)
        y[at : at + m] += rng.uniform(0.05, 0.2) * click[:m]


def _slap(n: int, rise_s: float, tau_s: float) -> NDArray[np.float32]:
    """Return the envelope of a slap of paper on paper: a quick rise, a fast decay."""
    t = np.arange(n, dtype=np.float32) / np.float32(SAMPLE_RATE)
    x = np.minimum(1.0, t / np.float32(rise_s))
    return np.asarray(x * x * (3.0 - 2.0 * x) * np.exp(-t / np.float32(tau_s)))


def _turn(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render one page turn (mono): slide, lift and travel, flop and settle."""
    banks = _banks()
    pace = rng.choice([1.0, 0.7, 1.35], p=[0.6, 0.25, 0.15]) * rng.uniform(0.9, 1.1)
    slide = int(rng.uniform(0.2, 0.4) * pace * SAMPLE_RATE)
    travel = int(rng.uniform(0.45, 0.8) * pace * SAMPLE_RATE)
    settle = int(rng.uniform(0.2, 0.35) * SAMPLE_RATE)
    bright = rng.uniform(0.6, 1.1)
    start = int(0.75 * slide)
    land = start + travel - int(0.15 * travel)
    y = np.zeros(land + settle)
    # Slide: a finger slips under the corner, a thin friction that rises.
    rise = _bell(slide, rng.uniform(0.6, 0.8))
    y[:slide] += 0.3 * rise * _noise(rng, banks["bright"], slide)
    # Lift and travel: the page bends up, crinkling a little, and sweeps over.
    speed = _bell(travel, rng.uniform(0.35, 0.55))
    ripple = _flutter(rng, travel, rng.uniform(0.25, 0.5))
    swish = _noise(rng, banks["soft"], travel) * (
        0.55 + 0.45 * speed
    ) + bright * speed * _noise(rng, banks["bright"], travel)
    y[start : start + travel] += speed * ripple * swish
    _crinkles(rng, y, start, start + travel // 3, int(rng.integers(3, 10)))
    # Flop: the page lands, paper slapping paper; then it settles with a rustle.
    # An air cushion under the page softens the landing: a rise of several ms.
    slap = _slap(settle, rng.uniform(0.006, 0.012), rng.uniform(0.015, 0.03))
    y[land : land + settle] += (
        rng.uniform(0.7, 1.0)
        * slap
        * (
            _noise(rng, banks["soft"], settle)
            + 0.5 * bright * _noise(rng, banks["bright"], settle)
        )
    )
    calm = np.exp(-np.arange(settle) / (0.09 * SAMPLE_RATE))
    y[land : land + settle] += 0.15 * calm * _noise(rng, banks["soft"], settle)
    return y[: land + settle]


def _smoothing(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render a hand stroking the page flat, once or twice (mono)."""
    banks = _banks()
    y = np.zeros(int(1.5 * SAMPLE_RATE))
    at = 0
    for _ in range(int(rng.integers(1, 3))):
        stroke = int(rng.uniform(0.35, 0.6) * SAMPLE_RATE)
        env = 0.28 * _bell(stroke, rng.uniform(0.3, 0.6))
        ripple = _flutter(rng, stroke, 0.2)
        y[at : at + stroke] += env * ripple * _noise(rng, banks["soft"], stroke)
        y[at : at + stroke] += 0.5 * env * _noise(rng, banks["bright"], stroke)
        at += stroke + int(rng.uniform(0.05, 0.25) * SAMPLE_RATE)
    return y[:at]


def _thumbing(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render a thumb running through several pages (mono): a run of flicks."""
    banks = _banks()
    length = int(rng.uniform(0.7, 1.5) * SAMPLE_RATE)
    tail = int(0.04 * SAMPLE_RATE)
    y = np.zeros(length + tail)
    speed = _bell(length, rng.uniform(0.3, 0.6))
    # The pages slip past the thumb ever faster, then slower: flicks by the speed.
    # (Counted a millisecond at a time.)
    ms = SAMPLE_RATE // 1000
    rate = rng.uniform(12.0, 25.0) * (0.4 + 0.6 * speed[::ms].astype(np.float64))
    phase = np.cumsum(rate) / 1000.0
    flicks = ms * (np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1)
    y[:length] += 0.22 * speed * _noise(rng, banks["soft"], length)
    for at in flicks:
        slap = _slap(tail, rng.uniform(0.0008, 0.002), rng.uniform(0.004, 0.01))
        level = rng.uniform(0.4, 1.0) * (0.4 + 0.6 * speed[at])
        noise = _noise(rng, banks["bright"], tail) + _noise(rng, banks["soft"], tail)
        y[at : at + tail] += level * slap * noise
    return y


_RENDER = {"turn": _turn, "smoothing": _smoothing, "thumbing": _thumbing}
_PART_LEVEL = {"turn": 1.0, "smoothing": 0.35, "thumbing": 0.8}


def _handling(request: ChunkRequest, out: NDArray[np.float32]) -> None:
    """Add the hands' handling of the book between the turns (rustle and edge ticks)."""
    rng = chunk_rng(request.seed, _SALT + "/handling", request.index)
    t = control_times(request.index)
    # The fingers rub and shift in short movements, a few a second, never all still.
    rubs = knot_curve(t, seed=request.seed, salt=_SALT + "/rubs", knot_s=_RUB_S)
    busy = _RUB_FLOOR + (1.0 - _RUB_FLOOR) * rubs**_RUB_POWER
    # The book stays put: one place per chunk (the cross-fades glide between them).
    middle = np.asarray([request.start_s + 0.5])
    azimuth = float(azimuth_at(request.placement, request.seed, middle, salt=_SALT)[0])
    if request.placement.azimuth == 0.0 and request.placement.sweep == 0.0:
        azimuth += OFF_CENTRE_DEG
    angle = (PAN_WIDTH * np.sin(np.radians(azimuth)) + 1.0) * (np.pi / 4.0)
    ears = np.sqrt(2.0) * np.asarray([[np.cos(angle)], [np.sin(angle)]])
    gain = ramp(busy * _HANDLING_GAIN)
    placed_segment(out, ((_banks()["handling"], gain),), rng, ears.astype(np.float32))


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of a book in the hands: the handling and the turns that start in it.

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
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    _handling(request, out)
    first = request.index * CHUNK_FRAMES
    for part in _parts_starting(request.seed, first, first + CHUNK_FRAMES):
        offset = part.start - first
        turn = part.turn
        rng = chunk_rng(request.seed, _SALT + "/" + part.kind, turn)
        # Turns alternate a little louder and softer in pairs, so any stretch of a few
        # turns keeps the same loudness while no two turns sound alike.
        swing = 2.0 * hash_uniform(request.seed, _SALT + "/level", turn // 2) - 1.0
        level_db = LEVEL_SWING_DB * float(swing.item()) * (-1) ** turn
        mono = _RENDER[part.kind](rng)
        # Every part gets its own loudness, give or take the swing: heard, never a jolt.
        rms = float(np.sqrt(np.mean(mono * mono))) + 1e-12
        level = _PART_LEVEL[part.kind] * 10.0 ** (level_db / 20.0)
        mono *= _TURN_GAIN * level / rms
        mono[-64:] *= np.linspace(1.0, 0.0, 64)
        sound = np.concatenate([mono, np.zeros(MAX_ITD_FRAMES + 64)]).astype(np.float32)
        soft_limit(sound, knee=0.42, ceiling=0.58)
        when = part.start / SAMPLE_RATE
        azimuth = float(azimuth_at(request.placement, request.seed, when, salt=_SALT))
        if request.placement.azimuth == 0.0 and request.placement.sweep == 0.0:
            azimuth += OFF_CENTRE_DEG
        azimuth += rng.uniform(-8.0, 8.0)
        stereo = place(sound, azimuth)
        end = min(BUFFER_FRAMES, offset + stereo.shape[0])
        out[:, offset:end] += stereo[: end - offset].T
    return out.T


TRIGGER = Trigger(
    id="page_turning", name="Page turning", close=False, render_chunk=render_chunk
)
