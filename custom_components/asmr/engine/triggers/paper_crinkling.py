"""Paper crinkling: crackling noise after Houle and Sethna, in crumpling gestures.

A crumpled sheet does not rustle evenly: it gives way in avalanches, each a short
broadband click, with energies spread over a power law (Houle and Sethna, "Acoustic
emission from crumpling paper", 1996). Here avalanches come in bursts of a few clicks
milliseconds apart; bigger ones last longer; every click has its own spectral colour
(the facet that snapped). The hands crumple in gestures: seconds of squeezing (activity
swelling and easing a few times a second) and pauses between, a pure function of time.
A faint rustle of paper rubbing on paper follows the same gestures.
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
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    PAN_WIDTH,
    GrainSet,
    band,
    bed_segment,
    control_times,
    filtered,
    grain_set,
    knot_curve,
    peak_normalised,
    poisson_times,
    ramp,
    scatter_events,
    shaped_noise,
    soft_limit,
    with_wrap,
    wobble,
)
from ..spatial import azimuth_at

AVALANCHES_PER_S = 450.0
"""Avalanches per second at full squeeze."""

ENERGY_EXPONENT = 1.3
"""Exponent of the power law of avalanche energies, ``P(E) ~ E ** -ENERGY_EXPONENT``."""

ENERGY_RANGE = 40.0
"""Largest avalanche energy over the smallest."""

_SALT = "paper_crinkling"
_LEVEL = 2.3
_CLICK_GAIN = 0.02 * _LEVEL
_RUSTLE_GAIN = 0.03 * _LEVEL
_GRAINS = 512
_LIMITED_FRAMES = CHUNK_FRAMES + 4096


def _click(
    rng: np.random.Generator, duration_s: float, length: int
) -> NDArray[np.float64]:
    """Return one avalanche: a few snaps within ``duration_s``, with a random colour."""
    t = np.arange(length) / SAMPLE_RATE
    y = np.zeros(length)
    spikes = 1 + int(duration_s / 1.2e-3 * rng.uniform(0.5, 1.0))
    for at in np.sort(rng.uniform(0.0, duration_s, spikes)):
        tau = rng.uniform(0.08e-3, 0.5e-3)
        y += rng.uniform(0.3, 1.0) * np.where(t >= at, np.exp(-(t - at) / tau), 0.0)
    y *= rng.standard_normal(length)
    colour = partial(
        band,
        low_hz=rng.uniform(300.0, 3000.0),
        high_hz=rng.uniform(2500.0, 11000.0),
        order=int(rng.integers(1, 3)),
        tilt_db_per_octave=rng.uniform(-3.0, 2.0),
    )
    y = filtered(y, colour)
    y[:3] *= np.array([0.3, 0.6, 0.9])
    return peak_normalised(y)


@lru_cache(maxsize=1)
def _grains() -> GrainSet:
    """Build the avalanche clicks once, ordered from the shortest to the longest."""
    rng = np.random.default_rng(0x9A9E)
    durations = np.sort(10.0 ** rng.uniform(np.log10(0.1e-3), np.log10(6e-3), _GRAINS))
    return grain_set([_click(rng, d, 1024) for d in durations], floor_db=-34.0)


@lru_cache(maxsize=1)
def _rustle() -> NDArray[np.float32]:
    """Build the rustle noise bank once."""
    spectrum = partial(
        band, low_hz=1200.0, high_hz=8000.0, order=2, tilt_db_per_octave=-1.0
    )
    return with_wrap(shaped_noise(BANK_FRAMES, spectrum, seed=41))


def _activity(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return how hard the hands crumple (0-1) at absolute times: gestures and pauses."""
    gesture = knot_curve(t, seed=seed, salt=_SALT + "/gesture", knot_s=0.55)
    on = np.clip((gesture - 0.3) / 0.35, 0.0, 1.0) ** 1.5
    squeeze = 0.55 + 0.45 * wobble(
        t, seed=seed, salt=_SALT + "/squeeze", periods=(0.37, 0.23)
    )
    return np.asarray(on * squeeze)


def avalanche_energies(rng: np.random.Generator, n: int) -> NDArray[np.float64]:
    """Draw avalanche energies from the truncated power law of crumpling paper.

    Parameters
    ----------
    rng
        The chunk's generator.
    n
        How many energies to draw.

    Returns
    -------
    NDArray[np.float64]
        ``(n,)`` energies between 1 and ``ENERGY_RANGE``, with density
        ``E ** -ENERGY_EXPONENT``.

    """
    k = 1.0 - ENERGY_EXPONENT
    u = rng.random(n)
    return np.asarray((1.0 - u * (1.0 - ENERGY_RANGE**k)) ** (1.0 / k))


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
    activity = _activity(request.seed, t)
    # The hands sit where the scene places the layer, shifting a little as they work.
    azimuth = azimuth_at(request.placement, request.seed, t, salt=_SALT)
    hands = np.clip(
        np.sin(np.radians(azimuth))
        + 0.25
        * wobble(t, seed=request.seed, salt=_SALT + "/hands", periods=(6.1, 2.9)),
        -1.0,
        1.0,
    )
    angle = (PAN_WIDTH * hands + 1.0) * (np.pi / 4.0)
    ears = np.stack([np.cos(angle), np.sin(angle)]) * np.sqrt(2.0)
    bed_segment(out, _rustle(), rng, ramp(ears * activity**0.7 * _RUSTLE_GAIN))

    parents = poisson_times(
        rng, AVALANCHES_PER_S * activity[: CHUNK_FRAMES // CONTROL_HOP + 1]
    )
    counts = 1 + rng.geometric(0.45, parents.size)
    starts = np.repeat(parents, counts)
    starts += rng.exponential(0.004 * SAMPLE_RATE, starts.size).astype(np.int64)
    energy = avalanche_energies(rng, starts.size)
    # Bigger avalanches last longer: pick a grain by size, with some scatter.
    rank = np.log(energy) / np.log(ENERGY_RANGE) + rng.normal(0.0, 0.12, starts.size)
    grains = _grains()
    ids = (np.clip(rank, 0.0, 0.999) * grains.size).astype(np.int64)
    centre = np.interp(starts, CONTROL_HOP * np.arange(t.size), hands)
    pans = np.clip(centre + rng.normal(0.0, 0.3, starts.size), -1.0, 1.0)
    scatter_events(out, grains.events(ids, starts, _CLICK_GAIN * np.sqrt(energy), pans))
    # Rare pile-ups of big avalanches are bent down rather than clipped.
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=0.4, ceiling=0.58)
    return out.T


TRIGGER = Trigger(
    id="paper_crinkling", name="Paper crinkling", close=False, render_chunk=render_chunk
)
