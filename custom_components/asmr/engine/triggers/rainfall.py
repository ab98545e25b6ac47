"""Rainfall: van den Doel's bubble model over a filtered hiss bed (after Farnell).

Each droplet is an impact click; some entrain an air bubble that rings as a damped
sinusoid whose pitch rises while it decays (van den Doel's model, see
``events.bubble``), its radius setting pitch and decay. Clicks, bubbles and the brighter
ticks of drops on a window pane are precomputed once into banks. Each chunk scatters
about a hundred foreground droplets per second, each with its own grain, level and
place in the stereo field, over a wide bed: a hiss of far-off rain and a drizzle
texture of several hundred more droplets per second. The shower's intensity drifts
slowly (droplet rate and bed level together). ``renderer(glass=...)`` sets how much of
the rain falls on glass; the trigger's default mix has some of both, and its ``VARIANTS``
offer rain mostly on a window pane and rain on open ground.
"""

from __future__ import annotations

from collections.abc import Callable
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
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    BubbleSizes,
    GrainSet,
    Swell,
    band,
    bed_segment,
    bubbles,
    control_times,
    fade_tail,
    filtered,
    grain_set,
    peak_normalised,
    poisson_times,
    ramp,
    scatter_events,
    shaped_noise,
    soft_limit,
    texture,
    with_wrap,
)

DROPS_PER_S = 110.0
"""Average foreground droplets per second (each placed on its own) at middle intensity."""

DRIZZLE_PER_S = 700.0
"""Droplets per second in the diffuse drizzle texture behind the foreground drops."""

BUBBLE_SHARE = 0.3
"""Share of surface droplets that entrain a ringing bubble."""

GLASS_SHARE = 0.3
"""Share of droplets that land on a window pane in the default mix."""

ON_GLASS_SHARE = 0.8
"""Share of droplets that land on the pane in the ``on_glass`` variant: rain heard through
a window, the pane's ticks close and the rest of the shower outside."""

SWELL = Swell(octaves=0.6, periods_s=(17.0, 9.1, 5.3))
"""The shower's slow swell: droplet rate and bed level rise and fall together, by up to
0.6 of an octave (a factor of about 0.66-1.5)."""

BUBBLES = BubbleSizes(
    count=256, low_m=0.3e-3, high_m=3.5e-3, skew=1.6, grain_frames=4096, floor_db=-40.0
)
"""Bubbles entrained by droplets: 0.3-3.5 mm, more small ones than large."""

_SALT = "rainfall"
_CLICKS = 160
_BUBBLES = BUBBLES.count
_LIMITED_FRAMES = CHUNK_FRAMES + 8192
_LEVEL = 1.47
_HISS_GAIN = 0.022 * _LEVEL
_DRIZZLE_GAIN = 0.022 * _LEVEL
_CLICK_GAIN = 0.09 * _LEVEL
_BUBBLE_GAIN = 0.1 * _LEVEL
_GLASS_GAIN = 0.07 * _LEVEL


def _uniform(u: NDArray[np.float64], low: float, high: float) -> NDArray[np.float64]:
    """Return uniform draws between ``low`` and ``high`` from unit draws ``u``."""
    return np.asarray(low + (high - low) * u)


def _clicks(
    rng: np.random.Generator, count: int, length: int
) -> list[NDArray[np.float64]]:
    """Return droplet impacts: short noise bursts of random brightness.

    The draws are taken grain by grain; the filtering and shaping run on the whole stack.
    """
    u = np.empty((count, 3))
    noise = np.empty((count, length))
    for i in range(count):
        u[i] = rng.random(3)
        noise[i] = rng.standard_normal(length)
    taus, cuts, lows = (u[:, k, None] for k in range(3))
    noise = filtered(
        noise,
        partial(
            band,
            low_hz=_uniform(lows, 150.0, 600.0),
            high_hz=_uniform(cuts, 1200.0, 6000.0),
            order=2,
        ),
    )
    t = np.arange(length) / SAMPLE_RATE
    y = noise * np.exp(-t / _uniform(taus, 0.25e-3, 1.6e-3))
    y[:, :3] *= np.array([0.3, 0.6, 0.9])
    return list(peak_normalised(fade_tail(y, length // 4)))


def _glass_ticks(
    rng: np.random.Generator, count: int, length: int
) -> list[NDArray[np.float64]]:
    """Return drops on a window pane: bright ticks with a faint ring of a few pane modes.

    The draws are taken grain by grain; the filtering and shaping run on the whole stack.
    """
    noise = np.empty((count, length))
    # Per drop: the tick's band and decay, then three pane modes (pitch, decay,
    # level, phase).
    u = np.empty((count, 15))
    for i in range(count):
        noise[i] = rng.standard_normal(length)
        u[i] = rng.random(15)
    t = np.arange(length) / SAMPLE_RATE
    tick = filtered(
        noise,
        partial(
            band,
            low_hz=_uniform(u[:, 0, None], 1500.0, 3500.0),
            high_hz=_uniform(u[:, 1, None], 7000.0, 11000.0),
            order=2,
        ),
    ) * np.exp(-t / _uniform(u[:, 2, None], 0.12e-3, 0.5e-3))
    mode = u[:, 3:].reshape(count, 3, 4)
    ring = np.zeros((count, length))
    for k in range(3):
        fs = _uniform(mode[:, k, 0, None], 2000.0, 9000.0)
        decays_s = _uniform(mode[:, k, 1, None], 1.0e-3, 3.5e-3)
        amps = _uniform(mode[:, k, 2, None], 0.2, 1.0)
        phases = _uniform(mode[:, k, 3, None], 0.0, 6.3)
        # A faint ring: its sine and decay in single precision are exact enough and
        # much faster.
        turn = (2.0 * np.pi * fs * t + phases).astype(np.float32)
        decay = np.exp((-t / decays_s).astype(np.float32))
        ring += amps * (np.sin(turn) * decay)
    ring *= (
        0.35
        * np.max(np.abs(tick), axis=1, keepdims=True)
        / (np.max(np.abs(ring), axis=1, keepdims=True) + 1e-12)
    )
    y = tick + ring
    y[:, :4] *= np.array([0.2, 0.5, 0.8, 0.95])
    return list(peak_normalised(fade_tail(y, length // 4)))


@shared_cache(maxsize=1)
def _banks() -> dict[str, GrainSet]:
    """Build the grains once (fixed seed): impact clicks, glass ticks and bubbles.

    Each kind has its own set (for the drizzle textures), and ``"all"`` holds them in
    one set, clicks first, then glass ticks, then bubbles (for the foreground drops).
    """
    rng = np.random.default_rng(0x5A1F)
    radii = BUBBLES.radii(rng)
    clicks = _clicks(rng, _CLICKS, 512)
    glass = _glass_ticks(rng, _CLICKS, 1024)
    drops = bubbles(radii, BUBBLES.grain_frames, rng)
    sets = {
        "click": grain_set(clicks, floor_db=-40.0),
        "glass": grain_set(glass, floor_db=-40.0),
        "bubble": grain_set(drops, floor_db=BUBBLES.floor_db),
    }
    return {**sets, "all": GrainSet.joined(*sets.values())}


def _beds() -> dict[str, NDArray[np.float32]]:
    """Build the bed banks: far hiss with some body, and drizzle on ground and glass.

    Not kept: only their mixes (``_bed``) are, one per share of window-pane drops.
    """
    banks = _banks()

    def hiss(f: NDArray[np.float64]) -> NDArray[np.float64]:
        bright = band(f, low_hz=500.0, high_hz=7000.0, tilt_db_per_octave=-1.5)
        body = 0.45 * band(f, low_hz=60.0, high_hz=500.0, tilt_db_per_octave=-3.0)
        return bright + body

    ground = [
        (banks["click"], DRIZZLE_PER_S, 1.0),
        (banks["bubble"], 0.08 * DRIZZLE_PER_S, 0.6),
    ]
    glass = [
        (banks["glass"], DRIZZLE_PER_S, 1.0),
        (banks["bubble"], 0.03 * DRIZZLE_PER_S, 0.5),
    ]
    return {
        "hiss": shaped_noise(BANK_FRAMES, hiss, seed=11),
        "ground": texture(ground, seed=12)[:BANK_FRAMES],
        "glass": texture(glass, seed=13)[:BANK_FRAMES],
    }


@shared_cache(maxsize=8)
def _bed(glass: float) -> NDArray[np.float32]:
    """Return the whole rain bed (hiss and drizzle) for a share of window-pane drops."""
    beds = _beds()
    mix = (
        _HISS_GAIN * beds["hiss"]
        + _DRIZZLE_GAIN * np.sqrt(1.0 - glass) * beds["ground"]
        + _DRIZZLE_GAIN * np.sqrt(glass) * beds["glass"]
    )
    return with_wrap(mix.astype(np.float32))


def _intensity(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the shower's intensity (droplet-rate factor, about 0.66-1.5) at absolute times."""
    return SWELL.at(t, seed=seed, salt=_SALT + "/swell")


def render_rain(
    request: ChunkRequest, *, glass: float = GLASS_SHARE
) -> NDArray[np.float32]:
    """Render one chunk of rain.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: rain is all around).
    glass
        Share of droplets that land on a window pane (0 = open ground, 1 = only glass).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    banks = _banks()
    rng = chunk_rng(request.seed, _SALT, request.index)
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    level = _intensity(request.seed, control_times(request.index))
    bed = _bed(round(float(np.clip(glass, 0.0, 1.0)), 2))
    bed_segment(out, bed, rng, ramp(np.sqrt(level)))

    starts = poisson_times(rng, DROPS_PER_S * level[: CHUNK_FRAMES // CONTROL_HOP + 1])
    n = starts.size
    u = rng.random((4, n))
    size = np.exp(0.5 * rng.standard_normal(n)).clip(0.25, 1.9)
    pans = 2.0 * u[0] - 1.0
    on_glass = u[1] < glass
    # Surface drops play a click; a share of them entrain a bubble just after.
    ids = (u[2] * _CLICKS).astype(np.int64) + np.where(on_glass, _CLICKS, 0)
    gains = size * np.where(on_glass, _GLASS_GAIN, _CLICK_GAIN)
    ringing = ~on_glass & (u[3] < BUBBLE_SHARE)
    spread = u[3][ringing] / BUBBLE_SHARE
    ids = np.concatenate(
        [ids, 2 * _CLICKS + (u[2][ringing] * _BUBBLES).astype(np.int64)]
    )
    starts = np.concatenate(
        [starts, starts[ringing] + (spread * 96.0).astype(np.int64)]
    )
    gains = np.concatenate(
        [gains, _BUBBLE_GAIN * np.sqrt(size[ringing]) * (0.5 + 0.5 * spread)]
    )
    pans = np.concatenate([pans, pans[ringing]])
    batches = banks["all"].events(ids, starts, gains, pans)
    scatter_events(out, batches)
    # The rare pile-up of loud events is bent down rather than left to clip.
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=0.45, ceiling=0.62)
    return out.T


def renderer(*, glass: float) -> Callable[[ChunkRequest], NDArray[np.float32]]:
    """Return a rain renderer with a given share of window-pane droplets (see ``render_rain``)."""
    return partial(render_rain, glass=glass)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of rain with the default mix of ground and window drops."""
    return render_rain(request)


TRIGGER = Trigger(
    id="rainfall", name="Rainfall", close=False, render_chunk=render_chunk
)

VARIANTS: dict[str, Callable[[ChunkRequest], NDArray[np.float32]]] = {
    "mixed": render_chunk,
    "on_glass": renderer(glass=ON_GLASS_SHARE),
    "on_ground": renderer(glass=0.0),
}
"""The rain a scene can pick: ``mixed`` (the default: ground with some window drops),
``on_glass`` (mostly drops on a window pane) and ``on_ground`` (open ground only)."""
