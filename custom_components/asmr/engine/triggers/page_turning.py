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

import numpy as np
from numpy.typing import NDArray

from ..base import (
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Trigger,
    buffer_frames,
    chunk_rng,
)
from ..cache import SEGMENTS_KEPT, shared_cache
from ..dsp import hash_uniform
from ..events import (
    PAN_WIDTH,
    SEGMENT_FRAMES,
    chunk_curve,
    knot_curve,
    noise_spectrum,
    placed_segment,
    ramp,
    shaped_noise,
    soft_limit,
    with_wrap,
)
from ..recipe import Band, Count, NoiseBand, Range, SoftLimit
from ..spatial import MAX_ITD_FRAMES, azimuth_at, place
from .paper_crinkling import crease_clicks


@dataclass(frozen=True, kw_only=True, slots=True)
class Handling:
    """The hands handling the book between the turns: a grainy rustle, edge ticks."""

    noise: NoiseBand
    """The band of the fingers' rustle on the paper."""

    grain_s: float
    """Step of the stick-slip jitter of the friction's level, in seconds."""

    grain_depth: float
    """Depth of that jitter (linear, down from 1)."""

    ticks_per_s: float
    """Tiny page-edge ticks per second (at the handling's busiest)."""

    tick_clicks: int
    """Ticks are the smallest ``1 / tick_clicks`` of the crease clicks."""

    tick_level: float
    """Level of the loudest tick against the rustle (linear)."""

    tick_spread: Range
    """A tick's level against the loudest's (linear)."""

    rub_s: float
    """Time between the knots of the fingers' movements, in seconds."""

    rest_level: float
    """Level of the handling while the fingers rest, against a rub (linear)."""

    rub_power: float
    """Power that sharpens the rubs out of the rests."""

    gain: float
    """Level of the handling at its busiest (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Turn:
    """A page turned: a slide, lift and travel, the flop and the settling."""

    paces: tuple[float, ...]
    """Paces a reader turns at, as factors on the lengths (above 1: slower)."""

    pace_shares: tuple[float, ...]
    """Share of the turns at each pace."""

    pace_jitter: Range
    """Factor on the pace, turn by turn."""

    slide_s: Range
    """Length of the slide at the usual pace, in seconds."""

    travel_s: Range
    """Length of the travel at the usual pace, in seconds."""

    settle_s: Range
    """Length of the flop and the settling, in seconds."""

    brightness: Range
    """Level of the bright band in the swish and the flop, against the soft band's."""

    lift_at: float
    """Share of the slide after which the page lifts."""

    land_before: float
    """Share of the travel still to go when the page lands."""

    slide_peak: Range
    """Where the slide's friction peaks (share of the slide)."""

    slide_level: float
    """Level of the slide's friction against the swish (linear)."""

    travel_peak: Range
    """Where the page's speed peaks (share of the travel)."""

    ripple_depth: Range
    """Depth of the page's flutter as it travels (linear)."""

    swish_rest: float
    """Level of the soft swish with the page at rest (linear)."""

    swish_speed: float
    """Extra level of the soft swish at the page's full speed (linear)."""

    crinkles: Count
    """Small crease clicks as the page bends up."""

    crinkle_within: int
    """The crinkles come in the first ``1 / crinkle_within`` of the travel."""

    crinkle_clicks: int
    """Crinkles are the smallest ``1 / crinkle_clicks`` of the crease clicks."""

    crinkle_level: Range
    """Level of a crinkle against the swish (linear)."""

    slap_rise_s: Range
    """Rise of the slap as the page lands, in seconds."""

    slap_decay_s: Range
    """Decay time constant of the slap, in seconds."""

    slap_level: Range
    """Level of the slap against the swish (linear)."""

    slap_bright: float
    """Level of the bright band in the slap, against the swish's (linear)."""

    calm_s: float
    """Decay time constant of the rustle as the page settles, in seconds."""

    calm_level: float
    """Level of that rustle against the swish (linear)."""

    level: float
    """Level of a turn against the book's gain (RMS, linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Smoothing:
    """A hand stroking the new page flat, once or twice."""

    strokes: Count
    """Strokes of the hand."""

    stroke_s: Range
    """Length of a stroke, in seconds."""

    peak: Range
    """Where a stroke's speed peaks (share of the stroke)."""

    stroke_level: float
    """Level of the soft band in a stroke (linear)."""

    ripple_depth: float
    """Depth of the flutter of the page under the hand (linear)."""

    bright: float
    """Level of the bright band in a stroke, against the soft band's (linear)."""

    gap_s: Range
    """Pause between two strokes, in seconds."""

    after_s: Range
    """Time from the turn to the smoothing, in seconds."""

    level: float
    """Level of a smoothing against a turn (RMS, linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Thumbing:
    """A thumb running through several pages at once: a run of flicks."""

    every: int
    """One turn in this many is a thumbing instead."""

    run_s: Range
    """Length of the run, in seconds."""

    peak: Range
    """Where the thumb's speed peaks (share of the run)."""

    flicks_per_s: Range
    """Flicks per second at the thumb's full speed."""

    slowest: float
    """Rate and level of the flicks with the thumb at rest, against full speed."""

    bed_level: float
    """Level of the soft rustle under the flicks (linear)."""

    flick_s: float
    """Length of a flick, in seconds."""

    flick_rise_s: Range
    """Rise of a flick's slap, in seconds."""

    flick_decay_s: Range
    """Decay time constant of a flick's slap, in seconds."""

    flick_level: Range
    """Level of a flick at the thumb's full speed (linear)."""

    level: float
    """Level of a thumbing against a turn (RMS, linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PagesRecipe:
    """A book in the hands: handled all along, a page turned every several seconds."""

    period_s: float
    """Average time between page turns, in seconds."""

    jitter_s: float
    """Spread of the turn times after their grid, in seconds."""

    first_s: float
    """Earliest time of the first turn, in seconds."""

    level_swing_db: float
    """Largest loudness difference of a turn from the average, in dB."""

    off_centre_deg: float
    """Azimuth of the book when the layer is placed straight ahead, in degrees."""

    spot_deg: Range
    """Azimuth of a turn around the book, in degrees."""

    soft: NoiseBand
    """The soft band of paper noise: the swish and the flop."""

    bright: NoiseBand
    """The bright band of paper noise: friction and the crisp edge of a flop."""

    ripple_per_s: Range
    """How often a fluttering page ripples, per second."""

    handling: Handling
    """The handling between the turns."""

    turn: Turn
    """A page turn."""

    smoothing: Smoothing
    """A hand smoothing the page."""

    thumbing: Thumbing
    """A thumb running through pages."""

    gain: float
    """Level of a turn (RMS, linear) before its own level and swing."""

    limit: SoftLimit
    """The soft limit over each part."""


RECIPE = PagesRecipe(
    # A reader turns a page every several seconds, never on a beat; the first turn
    # waits until the reader has settled with the book.
    period_s=5.0,
    jitter_s=2.5,
    first_s=2.5,
    # Turns vary in loudness, heard but never a jolt.
    level_swing_db=1.0,
    # A book is held a little to one side, and each turn lands within a few degrees.
    off_centre_deg=12.0,
    spot_deg=Range(low=-8.0, high=8.0),
    # A sheet swishing through the air is a soft band; its edge and friction, bright.
    soft=NoiseBand(band=Band(low_hz=400.0, high_hz=3500.0), tilt_db_per_octave=-1.0),
    bright=NoiseBand(band=Band(low_hz=1800.0, high_hz=9000.0), tilt_db_per_octave=-1.5),
    # A bending sheet ripples 10-25 times a second.
    ripple_per_s=Range(low=10.0, high=25.0),
    handling=Handling(
        # Fingertips on paper: a soft, grainy rustle, no low end.
        noise=NoiseBand(
            band=Band(low_hz=600.0, high_hz=5000.0), tilt_db_per_octave=-1.5
        ),
        # Skin on paper sticks and slips: the friction jitters every few tens of ms.
        grain_s=0.04,
        grain_depth=0.7,
        # Now and then a page edge ticks under a finger: the smallest crease clicks.
        ticks_per_s=4.0,
        tick_clicks=3,
        tick_level=1.0,
        tick_spread=Range(low=0.3, high=1.0),
        # The fingers rub and shift a few times a second, never all still.
        rub_s=0.22,
        rest_level=0.08,
        rub_power=2.0,
        # Far under the turns, at the book's working level (see the turns' gain).
        gain=0.02 * 0.6,
    ),
    turn=Turn(
        # Most turns at an even pace, some brisk, a few slow and careful.
        paces=(1.0, 0.7, 1.35),
        pace_shares=(0.6, 0.25, 0.15),
        pace_jitter=Range(low=0.9, high=1.1),
        # A finger slides under the corner for a few tenths of a second, the page
        # travels over in about half a second to a second and settles in a third.
        slide_s=Range(low=0.2, high=0.4),
        travel_s=Range(low=0.45, high=0.8),
        settle_s=Range(low=0.2, high=0.35),
        # Some pages are crisper than others.
        brightness=Range(low=0.6, high=1.1),
        # The page lifts before the finger has stopped, and lands before it has
        # finished travelling.
        lift_at=0.75,
        land_before=0.15,
        # The friction rises as the finger gets under the corner.
        slide_peak=Range(low=0.6, high=0.8),
        slide_level=0.3,
        # The hand speeds the page up early and lets it fall over.
        travel_peak=Range(low=0.35, high=0.55),
        # The sheet ripples as it sweeps over, and its swish follows the hand's speed.
        ripple_depth=Range(low=0.25, high=0.5),
        swish_rest=0.55,
        swish_speed=0.45,
        # A few small crinkles as the page bends up, early in the travel.
        crinkles=Count(low=3, high=9),
        crinkle_within=3,
        crinkle_clicks=2,
        crinkle_level=Range(low=0.05, high=0.2),
        # An air cushion under the page softens the landing: a rise of several ms,
        # and a slap of paper on paper that dies within a few tens of ms.
        slap_rise_s=Range(low=0.006, high=0.012),
        slap_decay_s=Range(low=0.015, high=0.03),
        slap_level=Range(low=0.7, high=1.0),
        slap_bright=0.5,
        # The page settles with a short, quiet rustle.
        calm_s=0.09,
        calm_level=0.15,
        # The turns are the loudest sounds of the book.
        level=1.0,
    ),
    smoothing=Smoothing(
        # The hand strokes the page flat once or twice, each stroke about half a second.
        strokes=Count(low=1, high=2),
        stroke_s=Range(low=0.35, high=0.6),
        # A palm on paper: a soft rustle with some bright friction, the page fluttering
        # a little under it.
        peak=Range(low=0.3, high=0.6),
        stroke_level=0.28,
        ripple_depth=0.2,
        bright=0.5,
        # The hand lifts briefly between strokes.
        gap_s=Range(low=0.05, high=0.25),
        # It follows the turn within two seconds, and it is quieter than a turn.
        after_s=Range(low=1.4, high=1.9),
        level=0.35,
    ),
    thumbing=Thumbing(
        # One turn in six is a thumb running through the pages for about a second.
        every=6,
        run_s=Range(low=0.7, high=1.5),
        peak=Range(low=0.3, high=0.6),
        # Pages slip past the thumb a dozen to two dozen times a second at its fastest.
        flicks_per_s=Range(low=12.0, high=25.0),
        # At the ends of the run the thumb is slower and the flicks softer; a soft
        # rustle of the pages runs under them.
        slowest=0.4,
        bed_level=0.22,
        # Each page slaps past the thumb: a quick, light slap over within 40 ms.
        flick_s=0.04,
        flick_rise_s=Range(low=0.0008, high=0.002),
        flick_decay_s=Range(low=0.004, high=0.01),
        flick_level=Range(low=0.4, high=1.0),
        # A little quieter than a turn.
        level=0.8,
    ),
    # Levels are set so that the book plays at its working level (0.6 of the
    # calibration's reference) before the table's gain.
    gain=0.11 * 0.6,
    # A part's rare peaks are bent down rather than clipped.
    limit=SoftLimit(knee=0.42, ceiling=0.58),
)
"""The book every scene reads."""

TURN_PERIOD_S = RECIPE.period_s
"""Average time between page turns, in seconds."""

TURN_JITTER_S = RECIPE.jitter_s
"""Spread of the turn times around their grid, in seconds."""

FIRST_TURN_S = RECIPE.first_s
"""Earliest time of the first turn, in seconds: the reader first settles with the book."""

THUMBING_EVERY = RECIPE.thumbing.every
"""One turn in this many is the reader thumbing through several pages instead."""

LEVEL_SWING_DB = RECIPE.level_swing_db
"""Largest loudness difference of a turn from the average, in dB."""

OFF_CENTRE_DEG = RECIPE.off_centre_deg
"""Azimuth of the book when the layer is placed straight ahead, in degrees."""

HANDLING_TICKS_PER_S = RECIPE.handling.ticks_per_s
"""Tiny page-edge ticks per second of the handling between turns (at its busiest)."""

_SALT = "page_turning"
# A part starts at most this long after its grid time (a smoothing within 2 s).
_LOOKBACK_S = TURN_JITTER_S + 2.0
_PLAN_TURNS = 8  # turns planned (and cached) together
_PAGE_BANK_FRAMES = 1 << 18  # 5.5 s
_PART_BANK_FRAMES = 1 << 17  # 2.7 s: a turn reads a fresh stretch of it


@shared_cache(maxsize=1)
def _banks() -> dict[str, NDArray[np.float32]]:
    """Build the paper noise banks once: a soft and a bright band, and the handling."""
    h = RECIPE.handling
    handling = shaped_noise(_PAGE_BANK_FRAMES, noise_spectrum(h.noise), seed=54)
    # Skin on paper sticks and slips: the friction's level jitters every few tens of ms.
    rng = np.random.default_rng(55)
    steps = round(_PAGE_BANK_FRAMES / (h.grain_s * SAMPLE_RATE))
    knots = rng.uniform(1.0 - h.grain_depth, 1.0, steps + 1)
    knots[-1] = knots[0]  # the bank is circular, and so is its jitter
    at = np.arange(_PAGE_BANK_FRAMES) * (steps / _PAGE_BANK_FRAMES)
    jitter = np.interp(at, np.arange(knots.size), knots)
    handling = handling * jitter.astype(np.float32)
    handling /= np.sqrt(np.mean(handling * handling))
    # Now and then a page edge ticks under a finger: tiny crease clicks.
    grains = crease_clicks()
    count = int(h.ticks_per_s * _PAGE_BANK_FRAMES / SAMPLE_RATE)
    for i, at in zip(
        rng.integers(0, grains.size // h.tick_clicks, count),
        rng.integers(0, _PAGE_BANK_FRAMES - 512, count),
        strict=True,
    ):
        click = grains.banks[int(grains.classes[i])][int(grains.rows[i])]
        level = h.tick_level * h.tick_spread.draw_one(rng)
        handling[at : at + click.size] += level * click
    return {
        "soft": shaped_noise(_PART_BANK_FRAMES, noise_spectrum(RECIPE.soft), seed=51),
        "bright": shaped_noise(
            _PART_BANK_FRAMES, noise_spectrum(RECIPE.bright), seed=52
        ),
        "handling": with_wrap(handling),
    }


@dataclass(frozen=True, slots=True)
class _Part:
    """One sound of a turn: what it is and when it starts (absolute frame)."""

    kind: str
    start: int
    turn: int


@shared_cache(maxsize=SEGMENTS_KEPT)
def _plan(seed: int, block: int) -> tuple[_Part, ...]:
    """Return the parts of turns ``block * _PLAN_TURNS`` up to the next block's first.

    Turn ``j`` is due near ``j * TURN_PERIOD_S`` (hashed jitter). One turn in every
    ``THUMBING_EVERY`` is a thumbing, and one single turn of every pair is followed by
    a smoothing (which, hashed): any stretch of a few turns holds the same mix of
    sounds, so its loudness holds too.
    """
    turns = np.arange(block * _PLAN_TURNS, (block + 1) * _PLAN_TURNS)
    due = (
        turns * RECIPE.period_s
        + RECIPE.first_s
        + hash_uniform(seed, _SALT + "/when", turns) * RECIPE.jitter_s
    )
    every = RECIPE.thumbing.every
    thumb = np.floor(every * hash_uniform(seed, _SALT + "/thumbing", turns // every))
    thumbing = turns % every == thumb
    smooth = np.floor(2.0 * hash_uniform(seed, _SALT + "/smoothing", turns // 2))
    smoothing = (turns % 2 == smooth) & ~thumbing
    after = RECIPE.smoothing.after_s
    delay = after.at(hash_uniform(seed, _SALT + "/delay", turns))
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
    span_s = RECIPE.period_s * _PLAN_TURNS
    lo = max(int((first / SAMPLE_RATE - _LOOKBACK_S - RECIPE.first_s) // span_s), 0)
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
    """Return a random ripple of the level around 1, a fluttering page's."""
    hop = int(SAMPLE_RATE / RECIPE.ripple_per_s.draw_one(rng))
    knots = 1.0 + depth * rng.uniform(-1.0, 1.0, n // hop + 2)
    return np.asarray(np.interp(np.arange(n) / hop, np.arange(knots.size), knots))


def _crinkles(
    rng: np.random.Generator, y: NDArray[np.float64], a: int, b: int, count: int
) -> None:
    """Add ``count`` small crease clicks of a bending page between frames ``a`` and ``b``."""
    turn = RECIPE.turn
    grains = crease_clicks()
    ids = rng.integers(0, grains.size // turn.crinkle_clicks, count)
    for i, at in zip(ids, rng.integers(a, b, count), strict=True):
        bank = grains.banks[int(grains.classes[i])]
        click = bank[int(grains.rows[i])]
        m = min(click.size, y.size - at)
        y[at : at + m] += turn.crinkle_level.draw_one(rng) * click[:m]


def _slap(n: int, rise_s: float, tau_s: float) -> NDArray[np.float32]:
    """Return the envelope of a slap of paper on paper: a quick rise, a fast decay."""
    t = np.arange(n, dtype=np.float32) / np.float32(SAMPLE_RATE)
    x = np.minimum(1.0, t / np.float32(rise_s))
    return np.asarray(x * x * (3.0 - 2.0 * x) * np.exp(-t / np.float32(tau_s)))


def _turn(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render one page turn (mono): slide, lift and travel, flop and settle."""
    turn = RECIPE.turn
    banks = _banks()
    pace = rng.choice(turn.paces, p=turn.pace_shares) * turn.pace_jitter.draw_one(rng)
    slide = int(turn.slide_s.draw_one(rng) * pace * SAMPLE_RATE)
    travel = int(turn.travel_s.draw_one(rng) * pace * SAMPLE_RATE)
    settle = int(turn.settle_s.draw_one(rng) * SAMPLE_RATE)
    bright = turn.brightness.draw_one(rng)
    start = int(turn.lift_at * slide)
    land = start + travel - int(turn.land_before * travel)
    y = np.zeros(land + settle)
    # Slide: a finger slips under the corner, a thin friction that rises.
    rise = _bell(slide, turn.slide_peak.draw_one(rng))
    y[:slide] += turn.slide_level * rise * _noise(rng, banks["bright"], slide)
    # Lift and travel: the page bends up, crinkling a little, and sweeps over.
    speed = _bell(travel, turn.travel_peak.draw_one(rng))
    ripple = _flutter(rng, travel, turn.ripple_depth.draw_one(rng))
    swish = _noise(rng, banks["soft"], travel) * (
        turn.swish_rest + turn.swish_speed * speed
    ) + bright * speed * _noise(rng, banks["bright"], travel)
    y[start : start + travel] += speed * ripple * swish
    crinkles = turn.crinkles.draw_one(rng)
    _crinkles(rng, y, start, start + travel // turn.crinkle_within, crinkles)
    # Flop: the page lands, paper slapping paper; then it settles with a rustle.
    # An air cushion under the page softens the landing: a rise of several ms.
    slap = _slap(
        settle, turn.slap_rise_s.draw_one(rng), turn.slap_decay_s.draw_one(rng)
    )
    y[land : land + settle] += (
        turn.slap_level.draw_one(rng)
        * slap
        * (
            _noise(rng, banks["soft"], settle)
            + turn.slap_bright * bright * _noise(rng, banks["bright"], settle)
        )
    )
    calm = np.exp(-np.arange(settle) / (turn.calm_s * SAMPLE_RATE))
    y[land : land + settle] += (
        turn.calm_level * calm * _noise(rng, banks["soft"], settle)
    )
    return y[: land + settle]


def _smoothing(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render a hand stroking the page flat, once or twice (mono)."""
    s = RECIPE.smoothing
    banks = _banks()
    y = np.zeros(int(1.5 * SAMPLE_RATE))  # room for the longest strokes
    at = 0
    for _ in range(s.strokes.draw_one(rng)):
        stroke = int(s.stroke_s.draw_one(rng) * SAMPLE_RATE)
        env = s.stroke_level * _bell(stroke, s.peak.draw_one(rng))
        ripple = _flutter(rng, stroke, s.ripple_depth)
        y[at : at + stroke] += env * ripple * _noise(rng, banks["soft"], stroke)
        y[at : at + stroke] += s.bright * env * _noise(rng, banks["bright"], stroke)
        at += stroke + int(s.gap_s.draw_one(rng) * SAMPLE_RATE)
    return y[:at]


def _thumbing(rng: np.random.Generator) -> NDArray[np.float64]:
    """Render a thumb running through several pages (mono): a run of flicks."""
    th = RECIPE.thumbing
    banks = _banks()
    length = int(th.run_s.draw_one(rng) * SAMPLE_RATE)
    tail = int(th.flick_s * SAMPLE_RATE)
    y = np.zeros(length + tail)
    speed = _bell(length, th.peak.draw_one(rng))
    low, span = th.slowest, 1.0 - th.slowest
    # The pages slip past the thumb ever faster, then slower: flicks by the speed.
    # (Counted a millisecond at a time.)
    ms = SAMPLE_RATE // 1000
    rate = th.flicks_per_s.draw_one(rng) * (low + span * speed[::ms].astype(np.float64))
    phase = np.cumsum(rate) / 1000.0
    flicks = ms * (np.flatnonzero(np.diff(np.floor(phase)) > 0) + 1)
    y[:length] += th.bed_level * speed * _noise(rng, banks["soft"], length)
    for at in flicks:
        slap = _slap(
            tail, th.flick_rise_s.draw_one(rng), th.flick_decay_s.draw_one(rng)
        )
        level = th.flick_level.draw_one(rng) * (low + span * speed[at])
        noise = _noise(rng, banks["bright"], tail) + _noise(rng, banks["soft"], tail)
        y[at : at + tail] += level * slap * noise
    return y


_RENDER = {"turn": _turn, "smoothing": _smoothing, "thumbing": _thumbing}
_PART_LEVEL = {
    "turn": RECIPE.turn.level,
    "smoothing": RECIPE.smoothing.level,
    "thumbing": RECIPE.thumbing.level,
}


def _busy(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return how busy the fingers are at absolute times ``t``, between rest and 1.

    They rub and shift in short movements, a few a second, never all still.
    """
    h = RECIPE.handling
    rubs = knot_curve(t, seed=seed, salt=_SALT + "/rubs", knot_s=h.rub_s)
    return np.asarray(h.rest_level + (1.0 - h.rest_level) * rubs**h.rub_power)


def _handling(request: ChunkRequest, out: NDArray[np.float32]) -> None:
    """Add the hands' handling of the book between the turns (rustle and edge ticks)."""
    rng = chunk_rng(request.seed, _SALT + "/handling", request.index)
    h = RECIPE.handling
    busy = chunk_curve(_busy, request.seed, request.index)
    # The book stays put: one place per chunk (the cross-fades glide between them).
    middle = np.asarray([request.start_s + 0.5])
    azimuth = float(azimuth_at(request.placement, request.seed, middle, salt=_SALT)[0])
    if request.placement.azimuth == 0.0 and request.placement.sweep == 0.0:
        azimuth += RECIPE.off_centre_deg
    angle = (PAN_WIDTH * np.sin(np.radians(azimuth)) + 1.0) * (np.pi / 4.0)
    ears = np.sqrt(2.0) * np.asarray([[np.cos(angle)], [np.sin(angle)]])
    gain = ramp(busy * h.gain)
    placed_segment(out, ((_banks()["handling"], gain),), rng, ears.astype(np.float32))


def _placed_part(request: ChunkRequest, part: _Part) -> NDArray[np.float32]:
    """Return one part of a turn (or of thumbing) at its level, placed: ``(n, 2)``."""
    turn = part.turn
    rng = chunk_rng(request.seed, _SALT + "/" + part.kind, turn)
    # Turns alternate a little louder and softer in pairs, so any stretch of a few
    # turns keeps the same loudness while no two turns sound alike.
    swing = 2.0 * hash_uniform(request.seed, _SALT + "/level", turn // 2) - 1.0
    level_db = RECIPE.level_swing_db * float(swing.item()) * (-1) ** turn
    mono = _RENDER[part.kind](rng)
    # Every part gets its own loudness, give or take the swing: heard, never a jolt.
    rms = float(np.sqrt(np.mean(mono * mono))) + 1e-12
    level = _PART_LEVEL[part.kind] * 10.0 ** (level_db / 20.0)
    mono *= RECIPE.gain * level / rms
    mono[-64:] *= np.linspace(1.0, 0.0, 64)
    sound = np.concatenate([mono, np.zeros(MAX_ITD_FRAMES + 64)]).astype(np.float32)
    soft_limit(sound, knee=RECIPE.limit.knee, ceiling=RECIPE.limit.ceiling)
    when = part.start / SAMPLE_RATE
    azimuth = float(azimuth_at(request.placement, request.seed, when, salt=_SALT))
    if request.placement.azimuth == 0.0 and request.placement.sweep == 0.0:
        azimuth += RECIPE.off_centre_deg
    azimuth += RECIPE.spot_deg.draw_one(rng)
    return place(sound, azimuth)


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
        ``(n, 2)`` float32 chunk buffer, as long as the handling and the parts ring.

    """
    first = request.index * CHUNK_FRAMES
    parts = [
        (part.start - first, _placed_part(request, part))
        for part in _parts_starting(request.seed, first, first + CHUNK_FRAMES)
    ]
    end = max((offset + stereo.shape[0] for offset, stereo in parts), default=0)
    out = np.zeros((2, buffer_frames(end, at_least=SEGMENT_FRAMES)), np.float32)
    _handling(request, out)
    for offset, stereo in parts:
        stop = min(out.shape[1], offset + stereo.shape[0])
        out[:, offset:stop] += stereo[: stop - offset].T
    return out.T


TRIGGER = Trigger(
    id="page_turning", name="Page turning", close=False, render_chunk=render_chunk
)
