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
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray

from ..base import CHUNK_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    BubbleSizes,
    Foreground,
    GrainSet,
    Swell,
    band,
    bed_segment,
    bubbles,
    chunk_curve,
    event_buffer,
    fade_tail,
    filtered,
    grain_set,
    noise_spectrum,
    peak_normalised,
    poisson_times,
    ramp,
    row_peaks,
    scatter_events,
    shaped_noise,
    soft_limit,
    texture,
    with_wrap,
)
from ..recipe import Band, NoiseBand, Range, SoftLimit


@dataclass(frozen=True, kw_only=True, slots=True)
class Clicks:
    """Droplets striking the ground: short noise bursts of random brightness."""

    grains: int
    """Clicks in the set."""

    grain_frames: int
    """Frames rendered per click."""

    floor_db: float
    """Level below its peak where each click's tail is cut (``grain_set``)."""

    decay_s: Range
    """Range a click's decay time (to 1/e) is drawn from, in seconds."""

    high_pass: Band
    """Range a click's high-pass corner is drawn from, in Hz."""

    low_pass: Band
    """Range a click's low-pass corner is drawn from, in Hz."""

    order: int
    """Steepness of a click's skirts (6 dB per octave per order)."""

    gain: float
    """Level of a foreground click of a drop of median size (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PaneTicks:
    """Droplets striking a window pane: bright ticks with a faint ring of a few modes."""

    grains: int
    """Ticks in the set."""

    grain_frames: int
    """Frames rendered per tick."""

    floor_db: float
    """Level below its peak where each tick's tail is cut (``grain_set``)."""

    high_pass: Band
    """Range a tick's high-pass corner is drawn from, in Hz."""

    low_pass: Band
    """Range a tick's low-pass corner is drawn from, in Hz."""

    order: int
    """Steepness of a tick's skirts (6 dB per octave per order)."""

    decay_s: Range
    """Range a tick's decay time (to 1/e) is drawn from, in seconds."""

    modes: int
    """Modes of the pane that ring after each tick."""

    mode_hz: Band
    """Range a mode's pitch is drawn from, in Hz."""

    mode_decay_s: Range
    """Range a mode's decay time (to 1/e) is drawn from, in seconds."""

    mode_level: Range
    """Range a mode's level is drawn from (linear, against the other modes)."""

    mode_phase_rad: Range
    """Range a mode's starting phase is drawn from, in radians."""

    ring_level: float
    """Peak of the ring against the tick's peak (linear)."""

    gain: float
    """Level of a foreground tick of a drop of median size (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Drizzle:
    """The diffuse drizzle behind the foreground: circular textures of many droplets."""

    per_s: float
    """Droplets per second in each texture (clicks on the ground, ticks on the pane)."""

    ground_bubble_share: float
    """Bubbles per droplet in the drizzle on the ground."""

    ground_bubble_level: float
    """Level of those bubbles against the clicks (linear)."""

    pane_bubble_share: float
    """Bubbles per droplet in the drizzle on the pane."""

    pane_bubble_level: float
    """Level of those bubbles against the ticks (linear)."""

    ground_seed: int
    """Seed of the drizzle on the ground (built once, shared by every render)."""

    pane_seed: int
    """Seed of the drizzle on the pane (built once, shared by every render)."""

    gain: float
    """Level of the drizzle (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Hiss:
    """The hiss of far-off rain: a bright band with some body under it."""

    bright: NoiseBand
    """The bright band of the hiss."""

    body: NoiseBand
    """The body under it."""

    body_level: float
    """Level of the body against the bright band (linear)."""

    seed: int
    """Seed of the hiss (built once, shared by every render)."""

    gain: float
    """Level of the hiss (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RainRecipe:
    """A shower: droplets clicking, ticking on a pane and bubbling, over hiss and drizzle."""

    swell: Swell
    """The shower's slow swell (droplet rate and bed level together)."""

    bubbles: BubbleSizes
    """The bubbles droplets entrain."""

    clicks: Clicks
    """Droplets striking the ground."""

    pane_ticks: PaneTicks
    """Droplets striking a window pane."""

    drops: Foreground
    """The foreground droplets, each placed on its own; their levels are their sizes."""

    bubble_share: float
    """Share of foreground droplets on the ground that entrain a ringing bubble."""

    bubble_lag_frames: int
    """Longest time a bubble rings after its droplet's click, in frames."""

    bubble_level: Range
    """Level of a bubble from the earliest to the latest (linear)."""

    bubble_gain: float
    """Level of a foreground bubble of a drop of median size, at its latest (linear)."""

    glass_share: float
    """Share of droplets that land on a window pane in the default mix."""

    on_glass_share: float
    """Share of droplets that land on the pane in the ``on_glass`` variant."""

    drizzle: Drizzle
    """The drizzle behind the foreground."""

    hiss: Hiss
    """The hiss of far-off rain."""

    limit: SoftLimit
    """The soft limit over rare pile-ups of droplets."""


RECIPE = RainRecipe(
    # The shower swells and eases over several seconds: droplet rate and bed level rise
    # and fall together by up to 0.6 of an octave (a factor of about 0.66-1.5).
    swell=Swell(octaves=0.6, periods_s=(17.0, 9.1, 5.3)),
    # Droplets entrain bubbles of 0.3-3.5 mm, more small ones than large (van den
    # Doel); the largest rings out within 85 ms.
    bubbles=BubbleSizes(
        count=256,
        low_m=0.3e-3,
        high_m=3.5e-3,
        skew=1.6,
        grain_frames=4096,
        floor_db=-40.0,
    ),
    clicks=Clicks(
        # Enough clicks that no repeat is heard; each is over within 11 ms.
        grains=160,
        grain_frames=512,
        floor_db=-40.0,
        # A droplet's impact is a burst of a fraction of a millisecond to a millisecond
        # or so.
        decay_s=Range(low=0.25e-3, high=1.6e-3),
        # Its brightness varies with the drop and where it lands.
        high_pass=Band(low_hz=150.0, high_hz=600.0),
        low_pass=Band(low_hz=1200.0, high_hz=6000.0),
        order=2,
        # Levels are set so that the rain plays at its working level (1.47 of the
        # calibration's reference) before the table's gain: clicks and bubbles lead.
        gain=0.09 * 1.47,
    ),
    pane_ticks=PaneTicks(
        # As many ticks as clicks; the pane's ring needs twice the room (21 ms).
        grains=160,
        grain_frames=1024,
        floor_db=-40.0,
        # Glass is hard: a drop on it ticks brighter and shorter than on the ground.
        high_pass=Band(low_hz=1500.0, high_hz=3500.0),
        low_pass=Band(low_hz=7000.0, high_hz=11000.0),
        order=2,
        decay_s=Range(low=0.12e-3, high=0.5e-3),
        # The pane rings faintly in a few of its modes, high and brief.
        modes=3,
        mode_hz=Band(low_hz=2000.0, high_hz=9000.0),
        mode_decay_s=Range(low=1.0e-3, high=3.5e-3),
        mode_level=Range(low=0.2, high=1.0),
        # Each mode starts anywhere in its cycle.
        mode_phase_rad=Range(low=0.0, high=6.3),
        # The ring sits about 9 dB under the tick.
        ring_level=0.35,
        # A little softer than a click on the ground.
        gain=0.07 * 1.47,
    ),
    # About a hundred droplets a second close by at middle intensity, their levels (by
    # size) spread over about +-4 dB and kept within 0.25-1.9 of the median; each kind
    # of droplet has its own level.
    drops=Foreground(per_s=110.0, gain=1.0, spread=0.5, clip=(0.25, 1.9)),
    # About a third of the droplets on the ground entrain a bubble.
    bubble_share=0.3,
    # The bubble rings within 2 ms of the click, the later the louder.
    bubble_lag_frames=96,
    bubble_level=Range(low=0.5, high=1.0),
    bubble_gain=0.1 * 1.47,
    # By default some droplets land on a window pane close by.
    glass_share=0.3,
    # Rain heard through a window: the pane's ticks close, the rest of the shower
    # outside.
    on_glass_share=0.8,
    drizzle=Drizzle(
        # Several hundred more droplets a second make a diffuse texture.
        per_s=700.0,
        # Few of the far droplets are heard to bubble, and softly; behind a pane's
        # ticks fewer still.
        ground_bubble_share=0.08,
        ground_bubble_level=0.6,
        pane_bubble_share=0.03,
        pane_bubble_level=0.5,
        # Fixed: the textures are built once.
        ground_seed=12,
        pane_seed=13,
        # Far under the foreground, with the hiss.
        gain=0.022 * 1.47,
    ),
    hiss=Hiss(
        # Far-off rain hisses over 0.5-7 kHz, falling gently, with some body below
        # that falls faster, about 7 dB under.
        bright=NoiseBand(
            band=Band(low_hz=500.0, high_hz=7000.0), tilt_db_per_octave=-1.5
        ),
        body=NoiseBand(band=Band(low_hz=60.0, high_hz=500.0), tilt_db_per_octave=-3.0),
        body_level=0.45,
        # Fixed: the hiss is built once.
        seed=11,
        # As loud as the drizzle.
        gain=0.022 * 1.47,
    ),
    # The rare pile-up of loud droplets is bent down rather than left to clip.
    limit=SoftLimit(knee=0.45, ceiling=0.62),
)
"""The rain every scene plays."""

DROPS_PER_S = RECIPE.drops.per_s
"""Average foreground droplets per second (each placed on its own) at middle intensity."""

DRIZZLE_PER_S = RECIPE.drizzle.per_s
"""Droplets per second in the diffuse drizzle texture behind the foreground drops."""

BUBBLE_SHARE = RECIPE.bubble_share
"""Share of surface droplets that entrain a ringing bubble."""

GLASS_SHARE = RECIPE.glass_share
"""Share of droplets that land on a window pane in the default mix."""

ON_GLASS_SHARE = RECIPE.on_glass_share
"""Share of droplets that land on the pane in the ``on_glass`` variant: rain heard through
a window, the pane's ticks close and the rest of the shower outside."""

SWELL = RECIPE.swell
"""The shower's slow swell: droplet rate and bed level rise and fall together, by up to
0.6 of an octave (a factor of about 0.66-1.5)."""

BUBBLES = RECIPE.bubbles
"""Bubbles entrained by droplets: 0.3-3.5 mm, more small ones than large."""

_SALT = "rainfall"
_LIMITED_FRAMES = CHUNK_FRAMES + 8192


def _clicks(rng: np.random.Generator) -> list[NDArray[np.float64]]:
    """Return droplet impacts: short noise bursts of random brightness.

    The draws are taken grain by grain; the filtering and shaping run on the whole stack.
    """
    c = RECIPE.clicks
    count, length = c.grains, c.grain_frames
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
            low_hz=c.high_pass.at(lows),
            high_hz=c.low_pass.at(cuts),
            order=c.order,
        ),
    )
    t = np.arange(length) / SAMPLE_RATE
    y = noise * np.exp(-t / c.decay_s.at(taus))
    y[:, :3] *= np.array([0.3, 0.6, 0.9])
    return list(peak_normalised(fade_tail(y, length // 4)))


def _glass_ticks(rng: np.random.Generator) -> list[NDArray[np.float64]]:
    """Return drops on a window pane: bright ticks with a faint ring of a few pane modes.

    The draws are taken grain by grain; the filtering and shaping run on the whole stack.
    """
    p = RECIPE.pane_ticks
    count, length = p.grains, p.grain_frames
    noise = np.empty((count, length))
    # Per drop: the tick's band and decay, then each pane mode's pitch, decay, level
    # and phase.
    u = np.empty((count, 3 + 4 * p.modes))
    for i in range(count):
        noise[i] = rng.standard_normal(length)
        u[i] = rng.random(3 + 4 * p.modes)
    t = np.arange(length) / SAMPLE_RATE
    tick = filtered(
        noise,
        partial(
            band,
            low_hz=p.high_pass.at(u[:, 0, None]),
            high_hz=p.low_pass.at(u[:, 1, None]),
            order=p.order,
        ),
    ) * np.exp(-t / p.decay_s.at(u[:, 2, None]))
    mode = u[:, 3:].reshape(count, p.modes, 4)
    ring = np.zeros((count, length))
    for k in range(p.modes):
        fs = p.mode_hz.at(mode[:, k, 0, None])
        decays_s = p.mode_decay_s.at(mode[:, k, 1, None])
        amps = p.mode_level.at(mode[:, k, 2, None])
        phases = p.mode_phase_rad.at(mode[:, k, 3, None])
        # A faint ring: its sine and decay in single precision are exact enough and
        # much faster.
        turn = (2.0 * np.pi * fs * t + phases).astype(np.float32)
        decay = np.exp((-t / decays_s).astype(np.float32))
        ring += amps * (np.sin(turn) * decay)
    ring *= (p.ring_level * row_peaks(tick) / (row_peaks(ring) + 1e-12))[:, None]
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
    radii = RECIPE.bubbles.radii(rng)
    clicks = _clicks(rng)
    glass = _glass_ticks(rng)
    drops = bubbles(radii, RECIPE.bubbles.grain_frames, rng)
    sets = {
        "click": grain_set(clicks, floor_db=RECIPE.clicks.floor_db),
        "glass": grain_set(glass, floor_db=RECIPE.pane_ticks.floor_db),
        "bubble": grain_set(drops, floor_db=RECIPE.bubbles.floor_db),
    }
    return {**sets, "all": GrainSet.joined(*sets.values())}


def _beds() -> dict[str, NDArray[np.float32]]:
    """Build the bed banks: far hiss with some body, and drizzle on ground and glass.

    Not kept: only their mixes (``_bed``) are, one per share of window-pane drops.
    """
    banks = _banks()
    h = RECIPE.hiss
    d = RECIPE.drizzle

    def hiss(f: NDArray[np.float64]) -> NDArray[np.float64]:
        bright = noise_spectrum(h.bright)(f)
        body = h.body_level * noise_spectrum(h.body)(f)
        return bright + body

    ground = [
        (banks["click"], d.per_s, 1.0),
        (banks["bubble"], d.ground_bubble_share * d.per_s, d.ground_bubble_level),
    ]
    glass = [
        (banks["glass"], d.per_s, 1.0),
        (banks["bubble"], d.pane_bubble_share * d.per_s, d.pane_bubble_level),
    ]
    return {
        "hiss": shaped_noise(BANK_FRAMES, hiss, seed=h.seed),
        "ground": texture(ground, seed=d.ground_seed)[:BANK_FRAMES],
        "glass": texture(glass, seed=d.pane_seed)[:BANK_FRAMES],
    }


@shared_cache(maxsize=8)
def _bed(glass: float) -> NDArray[np.float32]:
    """Return the whole rain bed (hiss and drizzle) for a share of window-pane drops."""
    beds = _beds()
    hiss_gain = RECIPE.hiss.gain
    drizzle_gain = RECIPE.drizzle.gain
    mix = (
        hiss_gain * beds["hiss"]
        + drizzle_gain * np.sqrt(1.0 - glass) * beds["ground"]
        + drizzle_gain * np.sqrt(glass) * beds["glass"]
    )
    return with_wrap(mix.astype(np.float32))


def _intensity(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the shower's intensity (droplet-rate factor, about 0.66-1.5) at absolute times."""
    return RECIPE.swell.at(t, seed=seed, salt=_SALT + "/swell")


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
        ``(n, 2)`` float32 chunk buffer, as long as its sounds ring (``event_buffer``).

    """
    banks = _banks()
    rng = chunk_rng(request.seed, _SALT, request.index)
    out = event_buffer(banks["all"], lag=RECIPE.bubble_lag_frames)
    level = chunk_curve(_intensity, request.seed, request.index)
    bed = _bed(round(float(np.clip(glass, 0.0, 1.0)), 2))
    bed_segment(out, bed, rng, ramp(np.sqrt(level)))

    drops = RECIPE.drops
    starts = poisson_times(rng, drops.per_s * level[: CHUNK_FRAMES // CONTROL_HOP + 1])
    n = starts.size
    u = rng.random((4, n))
    size = drops.levels(rng, n)
    pans = 2.0 * u[0] - 1.0
    on_glass = u[1] < glass
    # Surface drops play a click; a share of them entrain a bubble just after. The
    # foreground set holds the clicks, then the pane ticks, then the bubbles.
    clicks, ticks = RECIPE.clicks, RECIPE.pane_ticks
    kind = np.where(on_glass, ticks.grains, clicks.grains)
    ids = (u[2] * kind).astype(np.int64) + np.where(on_glass, clicks.grains, 0)
    gains = size * np.where(on_glass, ticks.gain, clicks.gain)
    share = RECIPE.bubble_share
    ringing = ~on_glass & (u[3] < share)
    lag = u[3][ringing] / share
    first_bubble = clicks.grains + ticks.grains
    ids = np.concatenate(
        [ids, first_bubble + (u[2][ringing] * RECIPE.bubbles.count).astype(np.int64)]
    )
    starts = np.concatenate(
        [starts, starts[ringing] + (lag * RECIPE.bubble_lag_frames).astype(np.int64)]
    )
    louder = RECIPE.bubble_level.at(lag)
    gains = np.concatenate(
        [gains, RECIPE.bubble_gain * np.sqrt(size[ringing]) * louder]
    )
    pans = np.concatenate([pans, pans[ringing]])
    batches = banks["all"].events(ids, starts, gains, pans)
    scatter_events(out, batches)
    # The rare pile-up of loud events is bent down rather than left to clip.
    limit = RECIPE.limit
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=limit.knee, ceiling=limit.ceiling)
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
