"""Fire crackling: a soft roar, sparse sharp crackles, resin pops and a faint hiss.

- Roar: soft low noise of flame turbulence (mostly 40-110 Hz) whose level flickers
  gently as the flames lick (a slow swell and quick licks, apart in each ear).
- Crackles: short broadband clicks (wood fibres snapping as they dry and char): a train
  of micro-clicks a fraction of a millisecond each, over at most 10 ms, with a faint
  ring; about a dozen a second with silence between them, Pareto-distributed sizes,
  and now and then a little burst a few tens of milliseconds apart, as a piece of wood
  splits. Each crackle has its own place across the stereo field.
- Pops: rare louder snaps of resin pockets bursting: a sharp crack with a short woody
  thump, sometimes followed by a brief jet of escaping gas.
- Hiss: a quiet bed of escaping gas whose level wanders slowly; it never becomes the
  dense bright hiss of rain.
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
from ..events import (
    BANK_FRAMES,
    GrainSet,
    band,
    bed_segment,
    chunk_curve,
    filtered,
    grain_set,
    knot_curve,
    noise_spectrum,
    peak_normalised,
    ramp,
    scatter_events,
    shaped_noise,
    soft_limit,
    with_wrap,
    wobble,
)
from ..recipe import Band, Count, NoiseBand, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class Crackles:
    """Wood fibres snapping as they dry and char: lone crackles and little bursts."""

    bursts_per_s: float
    """Little bursts of crackles per second (a piece of wood splitting)."""

    lone_per_s: float
    """Crackles per second outside the bursts."""

    burst_p: float
    """A burst holds 1 + Geometric(p) crackles."""

    burst_gap_s: float
    """Mean gap between the crackles of a burst, in seconds."""

    pareto: float
    """Tail index of the crackles' sizes (Pareto)."""

    lone_size: float
    """Size of a lone crackle against a burst's (linear)."""

    gain: float
    """Level of a crackle of size 1 (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CrackleGrains:
    """The crackles' grains: trains of broadband micro-clicks with a faint ring."""

    grains: int
    """Crackles in the set."""

    grain_frames: int
    """Frames rendered per crackle."""

    floor_db: float
    """Level below its peak where each crackle's tail is cut (``grain_set``)."""

    noise: Band
    """Band of the micro-clicks' noise, in Hz."""

    jumps: Count
    """Micro-clicks in one crackle."""

    spread_s: Range
    """Range the time a crackle's micro-clicks spread over is drawn from, in seconds."""

    later_level: Range
    """Level of the micro-clicks after the first (linear; the first is 1)."""

    click_decay_s: Range
    """Range a micro-click's decay time (to 1/e) is drawn from, in seconds."""

    ring_hz: Band
    """Range the centre of a crackle's ring is drawn from, in Hz (evenly in octaves)."""

    ring_skirt: float
    """Corners of the ring's band: its centre divided and multiplied by this (linear)."""

    ring_decay_s: Range
    """Range the ring's decay time (to 1/e) is drawn from, in seconds."""

    ring_level: Range
    """Range the ring's peak against the micro-clicks' peak is drawn from (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PopGrains:
    """The pops' grains: a sharp crack, a woody thump and at times a jet of gas."""

    grains: int
    """Pops in the set."""

    grain_frames: int
    """Frames rendered per pop."""

    floor_db: float
    """Level below its peak where each pop's tail is cut (``grain_set``)."""

    crack: Band
    """Band of the crack's noise, in Hz."""

    crack_decay_s: Range
    """Range the crack's decay time (to 1/e) is drawn from, in seconds."""

    thump_hz: Band
    """Range the thump's starting pitch is drawn from, in Hz."""

    thump_sag: float
    """Share by which the thump's phase falls behind by the grain's end (its pitch
    sags by twice that)."""

    thump_decay_s: Range
    """Range the thump's decay time (to 1/e) is drawn from, in seconds."""

    thump_level: float
    """Peak of the thump against the crack's peak (linear)."""

    jet_share: float
    """Share of pops that release a jet of gas."""

    jet: Band
    """Band of the jet's noise, in Hz."""

    jet_delay_s: Range
    """Range the time from the crack to the jet is drawn from, in seconds."""

    jet_rise_s: float
    """Time the jet takes to rise, in seconds."""

    jet_decay_s: Range
    """Range the jet's decay time (to 1/e) is drawn from, in seconds."""

    jet_level: float
    """Level of the jet's noise (its RMS before it rises and decays) against the
    crack's peak (linear)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FireRecipe:
    """A fire: a soft roar that flickers, crackles, resin pops and a faint hiss."""

    crackles: Crackles
    """The crackles."""

    crackle_grains: CrackleGrains
    """The crackles' grains."""

    pops_per_s: float
    """Resin pops per second."""

    pop_gain: float
    """Level of the loudest pop (linear)."""

    pop_grains: PopGrains
    """The pops' grains."""

    swell_periods_s: tuple[float, ...]
    """Periods of the flames' slow swell, in seconds."""

    lick_s: float
    """Time between the flames' licks, in seconds."""

    lick_db: float
    """Depth of the licks, either way, in dB."""

    roar: NoiseBand
    """The roar's band."""

    roar_upper: NoiseBand
    """The faint upper reach of the roar."""

    roar_upper_level: float
    """Level of that upper reach against the roar's band (linear)."""

    roar_gain: float
    """Level of the roar (linear)."""

    hiss: NoiseBand
    """The hiss's band."""

    hiss_gain: float
    """Level of the hiss (linear)."""


RECIPE = FireRecipe(
    crackles=Crackles(
        # About a dozen crackles a second, with silence between them.
        bursts_per_s=1.5,
        lone_per_s=7.0,
        # A burst holds about four crackles, a few tens of milliseconds apart.
        burst_p=0.35,
        burst_gap_s=0.03,
        # Mostly small crackles, now and then a big one.
        pareto=2.0,
        lone_size=0.8,
        gain=0.12 * 1.8,
    ),
    crackle_grains=CrackleGrains(
        # Enough crackles that no repeat is heard; the longest is over within 16 ms.
        grains=192,
        grain_frames=768,
        floor_db=-40.0,
        # Snapping fibres are broadband: no low end, all the way up.
        noise=Band(low_hz=600.0, high_hz=14000.0),
        # A crack runs through the wood in up to ten jumps within 10 ms.
        jumps=Count(low=1, high=10),
        spread_s=Range(low=0.3e-3, high=10e-3),
        # The first jump is the loudest.
        later_level=Range(low=0.2, high=0.8),
        # Each jump is a click of a fraction of a millisecond.
        click_decay_s=Range(low=0.06e-3, high=0.3e-3),
        # The splinter rings faintly at 1.8-6 kHz, in a band about an octave wide,
        # for a millisecond or two, 9-20 dB under the clicks.
        ring_hz=Band(low_hz=1800.0, high_hz=6000.0),
        ring_skirt=1.5,
        ring_decay_s=Range(low=0.5e-3, high=2.0e-3),
        ring_level=Range(low=0.1, high=0.35),
    ),
    # A resin pocket bursts every five seconds or so.
    pops_per_s=0.2,
    pop_gain=0.25 * 1.8,
    pop_grains=PopGrains(
        # A few dozen pops are plenty for one every five seconds or so; a jet of gas
        # needs the room (85 ms).
        grains=32,
        grain_frames=4096,
        floor_db=-45.0,
        # The pocket bursts with a sharp broadband crack under a millisecond long.
        crack=Band(low_hz=500.0, high_hz=14000.0),
        crack_decay_s=Range(low=0.2e-3, high=0.8e-3),
        # The wood answers with a short thump whose pitch sags as it dies, 6 dB
        # under the crack.
        thump_hz=Band(low_hz=250.0, high_hz=800.0),
        thump_sag=0.1,
        thump_decay_s=Range(low=3e-3, high=8e-3),
        thump_level=0.5,
        # Some pockets go on to release a brief hissing jet of gas a few milliseconds
        # after the crack, rising in 4 ms and dying within a few tens of ms, far under
        # the crack.
        jet_share=0.4,
        jet=Band(low_hz=2500.0, high_hz=9000.0),
        jet_delay_s=Range(low=0.004, high=0.012),
        jet_rise_s=0.004,
        jet_decay_s=Range(low=0.02, high=0.05),
        jet_level=0.08,
    ),
    # The flames swell over several seconds and lick several times a second, 2.5 dB
    # either way, apart in each ear.
    swell_periods_s=(11.0, 5.1),
    lick_s=0.17,
    lick_db=2.5,
    # Flame turbulence roars low, mostly at 40-110 Hz, its upper reach to 1.2 kHz
    # falling steeply and 34 dB under.
    roar=NoiseBand(band=Band(low_hz=40.0, high_hz=110.0), tilt_db_per_octave=-1.0),
    roar_upper=NoiseBand(
        band=Band(low_hz=110.0, high_hz=1200.0), tilt_db_per_octave=-4.0
    ),
    roar_upper_level=0.02,
    # Escaping gas hisses at 2.5-8 kHz.
    hiss=NoiseBand(band=Band(low_hz=2500.0, high_hz=8000.0)),
    # Levels are set so that the fire plays at its working level (1.8 of the
    # calibration's reference) before the table's gain: a soft roar, a hiss far under.
    roar_gain=0.04 * 1.8,
    hiss_gain=0.002 * 1.8,
)
"""The fire every scene plays."""

CLUSTERS_PER_S = RECIPE.crackles.bursts_per_s
"""Little bursts of crackles per second."""

LONE_CRACKLES_PER_S = RECIPE.crackles.lone_per_s
"""Crackles per second outside the bursts."""

POPS_PER_S = RECIPE.pops_per_s
"""Resin pops per second."""

_SALT = "fire_crackling"
_LIMITED_FRAMES = CHUNK_FRAMES * 3 // 2 + 4096
_HISS_BANK_FRAMES = 1 << 17  # the faint hiss needs no long bank


def _crackles(rng: np.random.Generator, count: int, length: int) -> NDArray[np.float64]:
    """Return crackles: trains of broadband micro-clicks as fibres crack, a brief ring.

    A crack runs through the wood in jumps: one to ten clicks, each a fraction of a
    millisecond of broadband noise, spread over up to 10 ms, the first the loudest; the
    splinter rings faintly for a millisecond or two. Shape ``(count, length)``, each
    with a peak of 1.
    """
    g = RECIPE.crackle_grains
    t = np.arange(length) / SAMPLE_RATE
    noise = filtered(
        rng.standard_normal((count, length)),
        partial(band, low_hz=g.noise.low_hz, high_hz=g.noise.high_hz),
    )
    # Jump j of crackle i starts at at[i, j] (unused jumps get no level).
    max_jumps = g.jumps.high
    jumps = g.jumps.draw(rng, count)
    spread = g.spread_s.draw(rng, count)
    at = np.sort(rng.uniform(0.0, 1.0, (count, max_jumps)), axis=1) * spread[:, None]
    at[:, 0] = 0.0
    level = g.later_level.draw(rng, (count, max_jumps))
    level[:, 0] = 1.0
    level[np.arange(max_jumps)[None, :] >= jumps[:, None]] = 0.0
    decay = g.click_decay_s.draw(rng, (count, max_jumps))
    # Jump by jump, for the crackles that make that jump.
    envelope = np.zeros((count, length))
    for j in range(max_jumps):
        rows = np.flatnonzero(jumps > j)
        dt = t[None, :] - at[rows, j, None]
        click = np.where(
            dt >= 0.0, np.exp(-np.maximum(dt, 0.0) / decay[rows, j, None]), 0.0
        )
        envelope[rows] += level[rows, j, None] * click
    y = envelope * noise
    centre = 10.0 ** rng.uniform(
        np.log10(g.ring_hz.low_hz), np.log10(g.ring_hz.high_hz), count
    )
    ring_noise = rng.standard_normal((count, length))
    n = 1 << int(np.ceil(np.log2(length * 2)))
    f = np.maximum(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE), 1.0)[None, :]
    c = centre[:, None]
    # Second-order skirts a factor ``ring_skirt`` (about 0.6 of an octave) either side
    # of each crackle's centre.
    k = g.ring_skirt
    skirts = 1.0 / np.sqrt((1.0 + (c / k / f) ** 4) * (1.0 + (f / (c * k)) ** 4))
    ring_decay = g.ring_decay_s.draw(rng, (count, 1))
    ring = np.fft.irfft(np.fft.rfft(ring_noise, n, axis=-1) * skirts, n, axis=-1)[
        :, :length
    ] * np.exp(-t[None, :] / ring_decay)
    ring_level = g.ring_level.draw(rng, (count, 1))
    y = peak_normalised(y) + ring_level * peak_normalised(ring)
    y[:, :2] *= np.array([0.5, 0.85])
    return peak_normalised(y)


def _pops(rng: np.random.Generator, count: int, length: int) -> NDArray[np.float64]:
    """Return resin pops: a sharp crack, a woody thump and at times a jet of gas.

    Shape ``(count, length)``, each with a peak of 1.
    """
    p = RECIPE.pop_grains
    t = np.arange(length) / SAMPLE_RATE
    f0 = rng.uniform(p.thump_hz.low_hz, p.thump_hz.high_hz, (count, 1))
    body = np.sin(2.0 * np.pi * f0 * t * (1.0 - p.thump_sag * t / t[-1])) * np.exp(
        -t / p.thump_decay_s.draw(rng, (count, 1))
    )
    crack = filtered(
        rng.standard_normal((count, length)),
        partial(band, low_hz=p.crack.low_hz, high_hz=p.crack.high_hz),
    ) * np.exp(-t / p.crack_decay_s.draw(rng, (count, 1)))
    y = p.thump_level * peak_normalised(body) + peak_normalised(crack)
    # Some pops release a short jet of gas a few milliseconds after the crack.
    jet = filtered(
        rng.standard_normal((count, length)),
        partial(band, low_hz=p.jet.low_hz, high_hz=p.jet.high_hz),
    )
    start = p.jet_delay_s.draw(rng, (count, 1))
    since = np.maximum(t - start, 0.0)
    env = np.clip((t - start) / p.jet_rise_s, 0.0, 1.0) * np.exp(
        -since / p.jet_decay_s.draw(rng, (count, 1))
    )
    has_jet = rng.random((count, 1)) < p.jet_share
    y += (
        has_jet * p.jet_level * jet * env / (np.std(jet, axis=1, keepdims=True) + 1e-12)
    )
    y[:, :4] *= np.linspace(0.3, 1.0, 4)
    return peak_normalised(y)


@shared_cache(maxsize=1)
def _banks() -> dict[str, GrainSet]:
    """Build the crackle and pop grains once (fixed seed)."""
    c, p = RECIPE.crackle_grains, RECIPE.pop_grains
    rng = np.random.default_rng(0xF12E)
    return {
        "crackle": grain_set(
            list(_crackles(rng, c.grains, c.grain_frames)), floor_db=c.floor_db
        ),
        "pop": grain_set(
            list(_pops(rng, p.grains, p.grain_frames)), floor_db=p.floor_db
        ),
    }


@shared_cache(maxsize=1)
def _beds() -> dict[str, NDArray[np.float32]]:
    """Build the roar and hiss noise banks once."""

    def roar(f: NDArray[np.float64]) -> NDArray[np.float64]:
        upper = RECIPE.roar_upper_level * noise_spectrum(RECIPE.roar_upper)(f)
        return noise_spectrum(RECIPE.roar)(f) + upper

    hiss = noise_spectrum(RECIPE.hiss)
    return {
        "roar": with_wrap(shaped_noise(BANK_FRAMES, roar, seed=21)),
        "hiss": with_wrap(shaped_noise(_HISS_BANK_FRAMES, hiss, seed=22)),
    }


def _flicker(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the flames' level (left, right) at absolute times: slow swell, quick licks."""
    out = np.empty((2, t.size))
    common = wobble(t, seed=seed, salt=_SALT + "/swell", periods=RECIPE.swell_periods_s)
    for ear in range(2):
        licks = (
            2.0
            * knot_curve(t, seed=seed, salt=f"{_SALT}/lick{ear}", knot_s=RECIPE.lick_s)
            - 1.0
        )
        out[ear] = 10.0 ** ((2.0 * common + RECIPE.lick_db * licks) / 20.0)
    return out


def _hiss_level(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the hiss's slowly wandering level at absolute times (left, right)."""
    out = np.empty((2, t.size))
    for ear in range(2):
        out[ear] = 0.4 + 1.2 * knot_curve(
            t, seed=seed, salt=f"{_SALT}/hiss{ear}", knot_s=0.6
        )
    return out


def crackle_events(
    rng: np.random.Generator, rate_scale: float
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Draw one chunk's crackles: lone ones and little bursts a few tens of ms apart.

    Parameters
    ----------
    rng
        The chunk's generator.
    rate_scale
        How lively the fire is (1 = average): scales the rates of bursts and lone cracks.

    Returns
    -------
    tuple
        ``starts`` (frames from the chunk start), ``sizes`` (linear, Pareto-distributed,
        at most 3) and ``pans`` (-1..1), each ``(e,)``.

    """
    c = RECIPE.crackles
    clusters = rng.poisson(c.bursts_per_s * rate_scale)
    counts = 1 + rng.geometric(c.burst_p, clusters)
    centre = rng.integers(0, CHUNK_FRAMES, clusters)
    total = int(counts.sum())
    owner = np.repeat(np.arange(clusters), counts)
    # Inside a burst cracks follow each other after short exponential gaps.
    gaps = rng.exponential(c.burst_gap_s * SAMPLE_RATE, total)
    run = np.cumsum(gaps)
    before = np.concatenate([[0.0], run])[np.cumsum(counts) - counts]
    offsets = run - np.repeat(before, counts)
    burst_starts = centre[owner] + offsets.astype(np.int64)
    burst_pans = np.repeat(rng.uniform(-0.9, 0.9, clusters), counts) + rng.normal(
        0, 0.15, total
    )
    burst_sizes = rng.pareto(c.pareto, total) + 1.0
    burst_sizes *= np.repeat(rng.uniform(0.4, 1.0, clusters), counts)
    lone = rng.poisson(c.lone_per_s * rate_scale)
    starts = np.concatenate([burst_starts, rng.integers(0, CHUNK_FRAMES, lone)])
    sizes = np.concatenate(
        [burst_sizes, c.lone_size * (rng.pareto(c.pareto, lone) + 1.0)]
    )
    pans = np.concatenate([burst_pans, rng.uniform(-1.0, 1.0, lone)])
    keep = starts < CHUNK_FRAMES + CHUNK_FRAMES // 2
    return starts[keep], np.minimum(sizes[keep], 3.0), np.clip(pans[keep], -1.0, 1.0)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of a crackling fire.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the fire is wide).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    # The whole tail: a burst of cracks may run on past the chunk by any length.
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    beds = _beds()
    banks = _banks()
    flicker = chunk_curve(_flicker, request.seed, request.index)
    bed_segment(out, beds["roar"], rng, ramp(flicker * RECIPE.roar_gain))
    bed_segment(
        out,
        beds["hiss"],
        rng,
        ramp(chunk_curve(_hiss_level, request.seed, request.index) * RECIPE.hiss_gain),
    )

    activity = float(np.mean(flicker))
    starts, sizes, pans = crackle_events(rng, activity)
    crackle = banks["crackle"]
    pop = banks["pop"]
    pops = rng.poisson(RECIPE.pops_per_s * activity)
    batches = [
        *crackle.events(
            rng.integers(0, crackle.size, starts.size),
            starts,
            RECIPE.crackles.gain * sizes,
            pans,
        ),
        *pop.events(
            rng.integers(0, pop.size, pops),
            rng.integers(0, CHUNK_FRAMES, pops),
            RECIPE.pop_gain * rng.uniform(0.5, 1.0, pops),
            rng.uniform(-0.8, 0.8, pops),
        ),
    ]
    scatter_events(out, batches)
    # The rare pile-up of loud events is bent down rather than left to clip.
    for ear in range(2):
        soft_limit(out[ear, :_LIMITED_FRAMES], knee=0.5, ceiling=0.66)
    return out.T


TRIGGER = Trigger(
    id="fire_crackling", name="Fire crackling", close=False, render_chunk=render_chunk
)
