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
    CONTROL_HOP,
    PAN_WIDTH,
    GrainSet,
    band,
    bed_segment,
    control_times,
    filtered,
    grain_set,
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
from ..spatial import azimuth_at

FINE_PER_S = 1300.0
"""Small avalanches per second in the fine crackle texture (heard at full squeeze)."""

SNAPS_PER_S = 90.0
"""Bigger avalanches per second in the snap texture."""

DISTINCT_PER_S = 40.0
"""Distinct clicks per second scattered per chunk around the hands, at full squeeze."""

ENERGY_EXPONENT = 1.3
"""Exponent of the power law of avalanche energies, ``P(E) ~ E ** -ENERGY_EXPONENT``."""

ENERGY_RANGE = 30.0
"""Largest avalanche energy over the smallest."""

GESTURE_S = 3.0
"""Average length of one gesture (re-grip, squeeze, release, stillness), in seconds."""

_SALT = "paper_crinkling"
_TEXTURE_FRAMES = 1 << 18  # 5.5 s: chunks cut it at random offsets
_LEVEL = 1.0
_FINE_GAIN = 0.055 * _LEVEL
_SNAP_GAIN = 0.07 * _LEVEL
_CLICK_GAIN = 0.05 * _LEVEL
_RUSTLE_GAIN = 0.022 * _LEVEL
_STILL = 0.03  # activity while the hands hold still: paper is never dead quiet
_LIMITED_FRAMES = CHUNK_FRAMES + 4096
_KNEE, _CEILING = 0.33, 0.48  # soft limit of rare pile-ups of clicks
_SNAPS = 3.0  # extra crease snaps, on average, in the biggest avalanche
_SPREAD_S = 2.0e-3  # time over which the biggest avalanche's snaps follow each other
_LOW_HZ = (2000.0, 3500.0)  # range of a click's high-pass corner: thin facets ring high
_HIGH_HZ = (5000.0, 9000.0)  # range of a click's low-pass corner
_GRAIN_FRAMES = 384
_FIDDLE_LEVEL = 0.7  # strength of a gesture that only fiddles, against a squeeze
_SWING = 0.1  # firmer and softer squeezes in pairs: strength 0.85 +- this
_JITTER = 0.45  # how far a gesture's start wanders, in gestures


def _click(rng: np.random.Generator, size: float, length: int) -> NDArray[np.float64]:
    """Return one avalanche click: one or a few crease snaps, high and crisp.

    ``size`` (0-1) sets how many snaps the avalanche holds and how long each rings.
    """
    t = np.arange(length) / SAMPLE_RATE
    envelope = np.zeros(length)
    snaps = 1 + int(rng.poisson(_SNAPS * size))
    spread = 0.2e-3 + _SPREAD_S * size
    for i, at in enumerate(np.sort(rng.uniform(0.0, spread, snaps))):
        at = 0.0 if i == 0 else at
        tau = rng.uniform(0.06e-3, 0.2e-3 + 0.4e-3 * size)
        level = 1.0 if i == 0 else rng.uniform(0.25, 0.9)
        envelope += level * np.where(t >= at, np.exp(-(t - at) / tau), 0.0)
    y = envelope * rng.standard_normal(length)
    colour = partial(
        band,
        low_hz=rng.uniform(*_LOW_HZ),
        high_hz=rng.uniform(*_HIGH_HZ),
        order=2,
        tilt_db_per_octave=rng.uniform(-2.0, 1.0),
    )
    y = filtered(y, colour)
    y[:3] *= np.array([0.3, 0.6, 0.9])
    return peak_normalised(y)


def _energies(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Return ``n`` avalanche energies from the power law (see ``avalanche_energies``)."""
    k = 1.0 - ENERGY_EXPONENT
    u = rng.random(n)
    return np.asarray((1.0 - u * (1.0 - ENERGY_RANGE**k)) ** (1.0 / k))


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

    Built once (48 grains); page turning uses the small ones for a bending page.
    """
    return _grains()


@shared_cache(maxsize=1)
def _grains() -> GrainSet:
    """Build the avalanche clicks once, ordered from the smallest to the biggest."""
    rng = np.random.default_rng(0x9A9E)
    sizes = np.linspace(0.0, 1.0, 48)
    return grain_set([_click(rng, s, _GRAIN_FRAMES) for s in sizes], floor_db=-30.0)


def _crackle(rate: float, low: float, high: float, seed: int) -> NDArray[np.float32]:
    """Return a circular texture of avalanche clicks of sizes ``low``-``high`` (unit RMS)."""
    grains = _grains()
    rng = np.random.default_rng(seed)
    count = int(rate * _TEXTURE_FRAMES / SAMPLE_RATE)
    energy = _energies(rng, count)
    rank = np.log(energy) / np.log(ENERGY_RANGE)
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
    spectrum = partial(
        band, low_hz=1000.0, high_hz=7000.0, order=2, tilt_db_per_octave=-1.5
    )
    rustle = shaped_noise(_TEXTURE_FRAMES, spectrum, seed=41)
    # Paper rubbing on paper is grainy, not a steady hiss: a fast random flutter.
    rng = np.random.default_rng(42)
    knots = rng.uniform(0.35, 1.0, _TEXTURE_FRAMES // 256 + 1)
    knots[-1] = knots[0]
    flutter = np.interp(
        np.arange(_TEXTURE_FRAMES) / 256.0, np.arange(knots.size), knots
    )
    rustle = rustle * flutter.astype(np.float32)
    return {
        "fine": _crackle(FINE_PER_S, 0.0, 0.45, seed=43),
        "snap": _crackle(SNAPS_PER_S, 0.3, 1.0, seed=44),
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
    a re-grip, a squeeze with a few swells a second, a release, and stillness.

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
    t = np.asarray(t, dtype=np.float64)
    # The gestures in reach, each with three hashed numbers (one hash call in all).
    first = int(np.floor(t[0] / GESTURE_S)) - 1
    span = np.arange(first, int(np.floor(t[-1] / GESTURE_S)) + 2)
    draws = hash_uniform(seed, _SALT + "/gesture", 4 * span[:, None] + np.arange(3))
    starts = GESTURE_S * (span + _JITTER * draws[:, 0])
    j = np.searchsorted(starts, t, side="right") - 1
    begin = starts[j]
    length = starts[j + 1] - begin
    grip_u, squeeze_u = draws[j, 1:3].T
    gesture = span[j]
    u = t - begin
    grip = length * (0.12 + 0.1 * grip_u)
    squeeze = length * (0.5 + 0.15 * squeeze_u)
    # Squeezes alternate firmer and softer in pairs, and one gesture in every four only
    # fiddles with the sheet: any few gestures hold the same loudness, no two alike.
    swing = 2.0 * hash_uniform(seed, _SALT + "/swing", gesture // 2) - 1.0
    strength = 0.85 + _SWING * swing * np.where(gesture % 2 == 0, 1.0, -1.0)
    light = gesture % 4 == np.floor(
        4.0 * hash_uniform(seed, _SALT + "/light", gesture // 4)
    )
    strength = np.where(light, _FIDDLE_LEVEL * strength, strength)
    end = grip + squeeze
    press = _smooth((u - grip) / np.minimum(0.35, 0.3 * squeeze)) * _smooth(
        (end - u) / 0.2
    )
    swell = 0.75 + 0.25 * wobble(
        t, seed=seed, salt=_SALT + "/swell", periods=(0.31, 0.19, 0.53)
    )
    release = 0.35 * _bump(u, end - 0.05, end + 0.4)
    regrip = 0.22 * _bump(u, np.zeros_like(u), grip + 0.1)
    level = strength * (press * swell + release) + regrip * strength
    return np.asarray(np.maximum(level, _STILL))


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
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    t = control_times(request.index)
    act = activity(request.seed, t)
    # The hands sit where the scene places the layer, shifting a little as they work
    # (slowly: one place per chunk, and the cross-fades between chunks glide).
    middle = np.asarray([request.start_s + 0.5])
    azimuth = azimuth_at(request.placement, request.seed, middle, salt=_SALT)
    shift = wobble(middle, seed=request.seed, salt=_SALT + "/hands", periods=(6.1, 2.9))
    hands = float(np.clip(np.sin(np.radians(azimuth[0])) + 0.25 * shift[0], -1.0, 1.0))
    angle = (PAN_WIDTH * hands + 1.0) * (np.pi / 4.0)
    at_hands = np.asarray(
        [[np.cos(angle)], [np.sin(angle)]], dtype=np.float32
    ) * np.float32(np.sqrt(2.0))
    banks = _banks()
    fine, snap, rustle = ramp(
        np.stack(
            [act**1.4 * _FINE_GAIN, act**0.9 * _SNAP_GAIN, act**0.6 * _RUSTLE_GAIN]
        )
    )
    # The crackle sits at the hands: one read of each texture for both ears.
    placed_segment(out, ((banks["fine"], fine), (banks["snap"], snap)), rng, at_hands)
    # The rustle of paper sliding is wider: it comes from the whole sheet.
    bed_segment(out, banks["rustle"], rng, rustle)

    starts = poisson_times(
        rng, DISTINCT_PER_S * act[: CHUNK_FRAMES // CONTROL_HOP + 1] ** 1.2
    )
    energy = _energies(rng, starts.size)
    # Bigger avalanches ring longer: pick a grain by size, with some scatter.
    rank = np.log(energy) / np.log(ENERGY_RANGE) + rng.normal(0.0, 0.1, starts.size)
    grains = _grains()
    ids = (np.clip(rank, 0.0, 0.999) * grains.size).astype(np.int64)
    pans = np.clip(hands + rng.normal(0.0, 0.3, starts.size), -1.0, 1.0)
    gains = _CLICK_GAIN * np.sqrt(energy) * rng.choice([-1.0, 1.0], starts.size)
    scatter_events(out, grains.events(ids, starts, gains, pans))
    # Rare pile-ups of clicks are bent down rather than clipped.
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=_KNEE, ceiling=_CEILING)
    return out.T


TRIGGER = Trigger(
    id="paper_crinkling", name="Paper crinkling", close=False, render_chunk=render_chunk
)
