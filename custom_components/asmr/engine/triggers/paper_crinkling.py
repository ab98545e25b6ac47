"""Paper crinkling: crackling noise after Houle and Sethna, in crumpling gestures.

A crumpled sheet does not rustle evenly: it gives way in avalanches, each a short crisp
click where a crease snaps, with energies spread over a power law (Houle and Sethna,
"Acoustic emission from crumpling paper", 1996). The clicks are small and many: a hand
squeezing a sheet makes a dense stream of them, hundreds a second, their energy high in
the spectrum (1-8 kHz) where the thin facets ring; none is a boom.

The hands work in gestures (a pure function of time): a re-grip (paper sliding over
paper and skin, a rustle with a few clicks), a squeeze of a second or two (the crackle
thickens and swells as the grip tightens and eases a few times a second), a release (the
sheet springs back with a last scatter of clicks) and a short stillness, then the next
re-grip. Now and then the hands only fiddle, or rest.

Cheap by construction: the dense crackle is cut from two circular textures built once (a
fine one of small avalanches and a sparser one of bigger snaps), whose levels follow the
gesture; a few dozen distinct clicks a second are scattered per chunk on top, each at its
own place around the hands, and a rustle bed follows the hands' motion.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray

from ..base import CHUNK_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..dsp import hash_uniform
from ..events import (
    CONTROL_HOP,
    PAN_WIDTH,
    GrainSet,
    band,
    bed_segment,
    chunk_curve,
    event_buffer,
    filtered,
    grain_set,
    noise_spectrum,
    peak_normalised,
    placed_segment,
    poisson_times,
    ramp,
    scatter_events,
    shaped_noise,
    soft_limit,
    with_wrap,
    wobble,
)
from ..recipe import Band, NoiseBand, Range, SoftLimit
from ..spatial import azimuth_at


@dataclass(frozen=True, kw_only=True, slots=True)
class Clicks:
    """The avalanche clicks: one or a few crease snaps each, ringing in thin facets."""

    grains: int
    """Clicks in the set, from the smallest avalanche to the biggest."""

    grain_frames: int
    """Frames rendered per click."""

    floor_db: float
    """Level below its peak where each click's tail is cut (``grain_set``)."""

    snaps: float
    """Extra crease snaps, on average, in the biggest avalanche."""

    spread_s: float
    """Time the snaps of the smallest avalanche spread over, in seconds."""

    spread_per_size_s: float
    """Extra time the snaps of the biggest avalanche take, in seconds."""

    ring_min_s: float
    """Shortest ring of a snap, in seconds."""

    ring_max_s: float
    """Longest ring of a snap of the smallest avalanche, in seconds."""

    ring_max_per_size_s: float
    """Extra ring the longest snap of the biggest avalanche may have, in seconds."""

    later_level: Range
    """Level of the snaps after the first (linear; the first is 1)."""

    high_pass: Band
    """Range a click's high-pass corner is drawn from, in Hz."""

    low_pass: Band
    """Range a click's low-pass corner is drawn from, in Hz."""

    order: int
    """Steepness of a click's skirts (6 dB per octave per order)."""

    tilt_db_per_octave: Range
    """Range a click's tilt inside its band is drawn from, in dB per octave."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Gesture:
    """How the hands crumple: a re-grip, a squeeze, a release and stillness, over again.

    Each gesture's start and the shares of its parts are hashed from its index.
    """

    period_s: float
    """Average length of one gesture, in seconds."""

    jitter: float
    """How far a gesture's start wanders, in gestures."""

    grip_share: float
    """Share of a gesture the re-grip takes, at least."""

    grip_share_extra: float
    """Share the re-grip may take on top (hashed per gesture)."""

    squeeze_share: float
    """Share of a gesture the squeeze takes, at least."""

    squeeze_share_extra: float
    """Share the squeeze may take on top (hashed per gesture)."""

    strength: float
    """Average strength of a squeeze (linear; 1 is a full squeeze)."""

    swing: float
    """How much firmer and softer a pair of squeezes is than the average (linear)."""

    fiddle_every: int
    """One gesture in this many only fiddles with the sheet."""

    fiddle_level: float
    """Strength of a gesture that only fiddles, against a squeeze (linear)."""

    press_s: float
    """Longest time the grip takes to tighten, in seconds."""

    press_share: float
    """Share of the squeeze the grip takes to tighten, when that is shorter."""

    ease_s: float
    """Time the grip takes to ease at the end of the squeeze, in seconds."""

    swell_depth: float
    """Depth of the swells of the grip during a squeeze (linear, down from 1)."""

    swell_periods_s: tuple[float, ...]
    """Periods of those swells, in seconds."""

    release_level: float
    """Level of the release, against a squeeze (linear)."""

    release_lead_s: float
    """How long before the squeeze ends the release begins, in seconds."""

    release_s: float
    """How long the release runs on after the squeeze, in seconds."""

    regrip_level: float
    """Level of the re-grip, against a squeeze (linear)."""

    regrip_tail_s: float
    """How long the re-grip runs into the squeeze, in seconds."""

    still_level: float
    """Activity while the hands hold still (linear, 1 a full squeeze)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Crackle:
    """A circular texture of avalanche clicks whose level follows the gesture."""

    per_s: float
    """Avalanches per second in the texture (heard at full squeeze)."""

    sizes: Range
    """Which clicks it holds, as shares of the set from the smallest to the biggest."""

    gain: float
    """Level at full squeeze (linear)."""

    power: float
    """Power of the activity its level follows (above 1: heard mostly when squeezed)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Rustle:
    """Paper sliding over paper and skin: a grainy band of noise from all the sheet."""

    noise: NoiseBand
    """The band of the rustle."""

    flutter_frames: int
    """Frames between the knots of its grainy flutter."""

    flutter: Range
    """Level of the flutter at each knot (linear)."""

    gain: float
    """Level at full squeeze (linear)."""

    power: float
    """Power of the activity its level follows (below 1: heard in the lulls too)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Distinct:
    """The distinct clicks scattered on top of the crackle, each at its own place."""

    per_s: float
    """Clicks per second at full squeeze."""

    power: float
    """Power of the activity their rate follows."""

    size_scatter: float
    """Standard deviation of a click's size around its energy's (share of the set)."""

    pan_spread: float
    """Standard deviation of a click's place around the hands (pan, -1..1)."""

    gain: float
    """Level of a click of the smallest energy (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PaperRecipe:
    """A sheet crumpled in the hands: avalanche clicks in gestures over a rustle."""

    energy_exponent: float
    """Exponent of the power law of avalanche energies, ``P(E) ~ E ** -exponent``."""

    energy_range: float
    """Largest avalanche energy over the smallest."""

    clicks: Clicks
    """The avalanche clicks every layer is made of."""

    gesture: Gesture
    """The hands' gestures."""

    fine: Crackle
    """The fine crackle of small avalanches."""

    snaps: Crackle
    """The sparser crackle of bigger snaps."""

    rustle: Rustle
    """The rustle of paper sliding."""

    distinct: Distinct
    """The distinct clicks."""

    hands_periods_s: tuple[float, float]
    """Periods of the slow shifts of the hands, in seconds."""

    hands_shift: float
    """How far the hands shift from the layer's place (pan, -1..1)."""

    limit: SoftLimit
    """The soft limit over rare pile-ups of clicks."""


RECIPE = PaperRecipe(
    # Houle and Sethna measured P(E) ~ E ** -alpha with alpha 1.3-1.6 over at least
    # two decades; here the biggest avalanche holds thirty times the smallest's energy.
    energy_exponent=1.3,
    energy_range=30.0,
    clicks=Clicks(
        # Sizes from the smallest avalanche to the biggest; the longest rings out
        # within 8 ms.
        grains=48,
        grain_frames=384,
        floor_db=-30.0,
        # A small avalanche is one crease snapping; the biggest, about four in 2 ms.
        snaps=3.0,
        spread_s=0.2e-3,
        spread_per_size_s=2.0e-3,
        # Thin facets ring for a fraction of a millisecond, bigger ones a little longer.
        ring_min_s=0.06e-3,
        ring_max_s=0.2e-3,
        ring_max_per_size_s=0.4e-3,
        # The first snap gives way; the ones it sets off are softer.
        later_level=Range(low=0.25, high=0.9),
        # Thin facets ring high: the energy lies at 1-8 kHz, none below.
        high_pass=Band(low_hz=2000.0, high_hz=3500.0),
        low_pass=Band(low_hz=5000.0, high_hz=9000.0),
        order=2,
        tilt_db_per_octave=Range(low=-2.0, high=1.0),
    ),
    gesture=Gesture(
        # A gesture takes about three seconds; no two start on a beat.
        period_s=3.0,
        jitter=0.45,
        # The re-grip takes an eighth to a fifth of it, the squeeze about half.
        grip_share=0.12,
        grip_share_extra=0.1,
        squeeze_share=0.5,
        squeeze_share_extra=0.15,
        # Squeezes alternate firmer and softer in pairs; one gesture in every four only
        # fiddles with the sheet: any few gestures hold the same loudness.
        strength=0.85,
        swing=0.1,
        fiddle_every=4,
        fiddle_level=0.7,
        # The grip tightens within a third of a second and eases in a fifth.
        press_s=0.35,
        press_share=0.3,
        ease_s=0.2,
        # It tightens and eases a few times a second as the fingers work.
        swell_depth=0.25,
        swell_periods_s=(0.31, 0.19, 0.53),
        # Let go, the sheet springs back with a last scatter of clicks.
        release_level=0.35,
        release_lead_s=0.05,
        release_s=0.4,
        # Re-gripping, paper slides over paper and skin.
        regrip_level=0.22,
        regrip_tail_s=0.1,
        # Paper is never dead quiet in the hands.
        still_level=0.03,
    ),
    # A hand squeezing a sheet makes hundreds of small avalanches a second; they
    # thicken quickly as the grip tightens. Levels are set so that the paper plays at
    # its working level (the calibration's reference) before the table's gain.
    fine=Crackle(per_s=1300.0, sizes=Range(low=0.0, high=0.45), gain=0.055, power=1.4),
    # Bigger snaps are sparser and follow the grip more evenly.
    snaps=Crackle(per_s=90.0, sizes=Range(low=0.3, high=1.0), gain=0.07, power=0.9),
    rustle=Rustle(
        # Paper rubbing on paper: a band at 1-7 kHz, falling gently.
        noise=NoiseBand(
            band=Band(low_hz=1000.0, high_hz=7000.0), tilt_db_per_octave=-1.5
        ),
        # It is grainy, not a steady hiss: a fast random flutter (5.3 ms knots).
        flutter_frames=256,
        flutter=Range(low=0.35, high=1.0),
        # Quiet, and heard through the lulls as the hands move.
        gain=0.022,
        power=0.6,
    ),
    distinct=Distinct(
        # A few dozen clicks a second stand out, thickening with the grip.
        per_s=40.0,
        power=1.2,
        # Bigger avalanches ring longer: a click's size follows its energy, roughly.
        size_scatter=0.1,
        # Each sits at its own place around the hands.
        pan_spread=0.3,
        # Over the crackle, never a boom.
        gain=0.05,
    ),
    # The hands shift a little as they work, over several seconds.
    hands_periods_s=(6.1, 2.9),
    hands_shift=0.25,
    # Rare pile-ups of clicks are bent down rather than clipped.
    limit=SoftLimit(knee=0.33, ceiling=0.48),
)
"""The paper every scene crumples."""

FINE_PER_S = RECIPE.fine.per_s
"""Small avalanches per second in the fine crackle texture (heard at full squeeze)."""

SNAPS_PER_S = RECIPE.snaps.per_s
"""Bigger avalanches per second in the snap texture."""

DISTINCT_PER_S = RECIPE.distinct.per_s
"""Distinct clicks per second scattered per chunk around the hands, at full squeeze."""

ENERGY_EXPONENT = RECIPE.energy_exponent
"""Exponent of the power law of avalanche energies, ``P(E) ~ E ** -ENERGY_EXPONENT``."""

ENERGY_RANGE = RECIPE.energy_range
"""Largest avalanche energy over the smallest."""

GESTURE_S = RECIPE.gesture.period_s
"""Average length of one gesture (re-grip, squeeze, release, stillness), in seconds."""

_SALT = "paper_crinkling"
_TEXTURE_FRAMES = 1 << 18  # 5.5 s: chunks cut it at random offsets
_LIMITED_FRAMES = CHUNK_FRAMES + 4096


def _click(rng: np.random.Generator, size: float, length: int) -> NDArray[np.float64]:
    """Return one avalanche click: one or a few crease snaps, high and crisp.

    ``size`` (0-1) sets how many snaps the avalanche holds and how long each rings.
    """
    c = RECIPE.clicks
    t = np.arange(length) / SAMPLE_RATE
    envelope = np.zeros(length)
    snaps = 1 + int(rng.poisson(c.snaps * size))
    spread = c.spread_s + c.spread_per_size_s * size
    for i, at in enumerate(np.sort(rng.uniform(0.0, spread, snaps))):
        at = 0.0 if i == 0 else at
        tau = rng.uniform(c.ring_min_s, c.ring_max_s + c.ring_max_per_size_s * size)
        level = 1.0 if i == 0 else c.later_level.draw_one(rng)
        envelope += level * np.where(t >= at, np.exp(-(t - at) / tau), 0.0)
    y = envelope * rng.standard_normal(length)
    colour = partial(
        band,
        low_hz=rng.uniform(c.high_pass.low_hz, c.high_pass.high_hz),
        high_hz=rng.uniform(c.low_pass.low_hz, c.low_pass.high_hz),
        order=c.order,
        tilt_db_per_octave=c.tilt_db_per_octave.draw_one(rng),
    )
    y = filtered(y, colour)
    y[:3] *= np.array([0.3, 0.6, 0.9])
    return peak_normalised(y)


def _energies(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Return ``n`` avalanche energies from the power law (see ``avalanche_energies``)."""
    k = 1.0 - RECIPE.energy_exponent
    u = rng.random(n)
    return np.asarray((1.0 - u * (1.0 - RECIPE.energy_range**k)) ** (1.0 / k))


def avalanche_energies(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Draw avalanche energies from the truncated power law of crumpling paper.

    Parameters
    ----------
    rng
        A random generator.
    n
        How many energies to draw.

    Returns
    -------
    NDArray[np.float64]
        ``(n,)`` energies between 1 and ``ENERGY_RANGE``, with density
        ``E ** -ENERGY_EXPONENT``.

    """
    return _energies(rng, n)


def crease_clicks() -> GrainSet:
    """Return the avalanche clicks of creasing paper, from the smallest to the biggest.

    Built once (``RECIPE.clicks``); page turning uses the small ones for a bending page.
    """
    return _grains()


@shared_cache(maxsize=1)
def _grains() -> GrainSet:
    """Build the avalanche clicks once, ordered from the smallest to the biggest."""
    c = RECIPE.clicks
    rng = np.random.default_rng(0x9A9E)
    sizes = np.linspace(0.0, 1.0, c.grains)
    return grain_set(
        [_click(rng, s, c.grain_frames) for s in sizes], floor_db=c.floor_db
    )


def _crackle(crackle: Crackle, seed: int) -> NDArray[np.float32]:
    """Return a circular texture of a crackle's avalanche clicks (unit RMS)."""
    grains = _grains()
    rng = np.random.default_rng(seed)
    count = int(crackle.per_s * _TEXTURE_FRAMES / SAMPLE_RATE)
    energy = _energies(rng, count)
    rank = np.log(energy) / np.log(RECIPE.energy_range)
    low, high = crackle.sizes.low, crackle.sizes.high
    ids = np.clip(
        ((low + (high - low) * rank) * grains.size).astype(np.int64), 0, grains.size - 1
    )
    starts = rng.integers(0, _TEXTURE_FRAMES, count)
    gains = np.sqrt(energy) * rng.choice([-1.0, 1.0], count)
    mixed = np.zeros(_TEXTURE_FRAMES + 8192)
    for batch in grains.events(ids, starts, gains, np.zeros(count)):
        length = batch.bank.shape[1]
        positions = (batch.starts[:, None] + np.arange(length)).ravel()
        weights = (batch.bank[batch.ids] * batch.gains[:, None]).ravel()
        mixed += np.bincount(positions, weights, minlength=mixed.size)
    # Clicks that run past the end come round to the start: the texture is circular.
    acc = mixed[:_TEXTURE_FRAMES].copy()
    acc[: mixed.size - _TEXTURE_FRAMES] += mixed[_TEXTURE_FRAMES:]
    acc /= np.sqrt(np.mean(acc * acc)) + 1e-12
    return with_wrap(acc.astype(np.float32))


@shared_cache(maxsize=1)
def _banks() -> dict[str, NDArray[np.float32]]:
    """Build the fine and snap crackle textures and the rustle once."""
    r = RECIPE.rustle
    rustle = shaped_noise(_TEXTURE_FRAMES, noise_spectrum(r.noise), seed=41)
    # Paper rubbing on paper is grainy, not a steady hiss: a fast random flutter.
    rng = np.random.default_rng(42)
    knots = r.flutter.draw(rng, _TEXTURE_FRAMES // r.flutter_frames + 1)
    knots[-1] = knots[0]
    flutter = np.interp(
        np.arange(_TEXTURE_FRAMES) / float(r.flutter_frames),
        np.arange(knots.size),
        knots,
    )
    rustle = rustle * flutter.astype(np.float32)
    return {
        "fine": _crackle(RECIPE.fine, seed=43),
        "snap": _crackle(RECIPE.snaps, seed=44),
        "rustle": with_wrap(
            (rustle / np.sqrt(np.mean(rustle * rustle))).astype(np.float32)
        ),
    }


def _smooth(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return a smoothstep of ``x`` clipped to 0-1."""
    u = np.clip(x, 0.0, 1.0)
    return np.asarray(u * u * (3.0 - 2.0 * u))


def _bump(
    u: NDArray[np.float64], a: NDArray[np.float64], b: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return a raised-sine bump that is 0 outside ``[a, b]`` and 1 at its middle."""
    w = np.clip((u - a) / np.maximum(b - a, 1e-6), 0.0, 1.0)
    return np.asarray(np.sin(np.pi * w) ** 2)


def activity(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return how hard the hands crumple (0-1) at absolute times ``t`` (seconds).

    Gesture ``j`` starts near ``j * GESTURE_S`` (hashed jitter) and runs to the next:
    a re-grip, a squeeze with a few swells a second, a release, and stillness (the
    shape is ``RECIPE.gesture``).

    Parameters
    ----------
    seed
        The render's seed.
    t
        ``(n,)`` absolute times in seconds, ascending.

    Returns
    -------
    NDArray[np.float64]
        ``(n,)`` activity.

    """
    g = RECIPE.gesture
    t = np.asarray(t, dtype=np.float64)
    # The gestures in reach, each with three hashed numbers (one hash call in all).
    first = int(np.floor(t[0] / g.period_s)) - 1
    span = np.arange(first, int(np.floor(t[-1] / g.period_s)) + 2)
    draws = hash_uniform(seed, _SALT + "/gesture", 4 * span[:, None] + np.arange(3))
    starts = g.period_s * (span + g.jitter * draws[:, 0])
    # Each gesture's timing and strength, once per gesture (the last only bounds).
    length = np.diff(starts)
    grip = length * (g.grip_share + g.grip_share_extra * draws[:-1, 1])
    squeeze = length * (g.squeeze_share + g.squeeze_share_extra * draws[:-1, 2])
    press_s = np.minimum(g.press_s, g.press_share * squeeze)
    end = grip + squeeze
    gesture = span[:-1]
    # Squeezes alternate firmer and softer in pairs, and one gesture in every few only
    # fiddles with the sheet: any few gestures hold the same loudness, no two alike.
    swing = 2.0 * hash_uniform(seed, _SALT + "/swing", gesture // 2) - 1.0
    strength = g.strength + g.swing * swing * np.where(gesture % 2 == 0, 1.0, -1.0)
    every = g.fiddle_every
    light = gesture % every == np.floor(
        every * hash_uniform(seed, _SALT + "/light", gesture // every)
    )
    strength = np.where(light, g.fiddle_level * strength, strength)
    # Then, at every time, where it is in its gesture.
    j = np.searchsorted(starts, t, side="right") - 1
    u = t - starts[j]
    grip, end, strength = grip[j], end[j], strength[j]
    press = _smooth((u - grip) / press_s[j]) * _smooth((end - u) / g.ease_s)
    swell = (1.0 - g.swell_depth) + g.swell_depth * wobble(
        t, seed=seed, salt=_SALT + "/swell", periods=g.swell_periods_s
    )
    release = g.release_level * _bump(u, end - g.release_lead_s, end + g.release_s)
    regrip = g.regrip_level * _bump(u, np.zeros_like(u), grip + g.regrip_tail_s)
    level = strength * (press * swell + release) + regrip * strength
    return np.asarray(np.maximum(level, g.still_level))


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of paper being crumpled.

    Parameters
    ----------
    request
        Seed, chunk index and placement (where the hands hold the paper; the clicks
        spread around it).

    Returns
    -------
    NDArray[np.float32]
        ``(n, 2)`` float32 chunk buffer, as long as its sounds ring (``event_buffer``).

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    grains = _grains()
    out = event_buffer(grains)
    act = chunk_curve(activity, request.seed, request.index)
    # The hands sit where the scene places the layer, shifting a little as they work
    # (slowly: one place per chunk, and the cross-fades between chunks glide).
    middle = np.asarray([request.start_s + 0.5])
    azimuth = azimuth_at(request.placement, request.seed, middle, salt=_SALT)
    shift = wobble(
        middle, seed=request.seed, salt=_SALT + "/hands", periods=RECIPE.hands_periods_s
    )
    hands = float(
        np.clip(
            np.sin(np.radians(azimuth[0])) + RECIPE.hands_shift * shift[0], -1.0, 1.0
        )
    )
    angle = (PAN_WIDTH * hands + 1.0) * (np.pi / 4.0)
    at_hands = np.asarray(
        [[np.cos(angle)], [np.sin(angle)]], dtype=np.float32
    ) * np.float32(np.sqrt(2.0))
    banks = _banks()
    layers = (RECIPE.fine, RECIPE.snaps, RECIPE.rustle)
    fine, snap, rustle = ramp(np.stack([act**x.power * x.gain for x in layers]))
    # The crackle sits at the hands: one read of each texture for both ears.
    placed_segment(out, ((banks["fine"], fine), (banks["snap"], snap)), rng, at_hands)
    # The rustle of paper sliding is wider: it comes from the whole sheet.
    bed_segment(out, banks["rustle"], rng, rustle)

    d = RECIPE.distinct
    starts = poisson_times(
        rng, d.per_s * act[: CHUNK_FRAMES // CONTROL_HOP + 1] ** d.power
    )
    n = starts.size
    energy = _energies(rng, n)
    # Bigger avalanches ring longer: pick a grain by size, with some scatter.
    rank = np.log(energy) / np.log(RECIPE.energy_range) + rng.normal(
        0.0, d.size_scatter, n
    )
    ids = (np.clip(rank, 0.0, 0.999) * grains.size).astype(np.int64)
    pans = np.clip(hands + rng.normal(0.0, d.pan_spread, n), -1.0, 1.0)
    gains = d.gain * np.sqrt(energy) * rng.choice([-1.0, 1.0], n)
    scatter_events(out, grains.events(ids, starts, gains, pans))
    # Rare pile-ups of clicks are bent down rather than clipped.
    limit = RECIPE.limit
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=limit.knee, ceiling=limit.ceiling)
    return out.T


TRIGGER = Trigger(
    id="paper_crinkling", name="Paper crinkling", close=False, render_chunk=render_chunk
)
