"""Tapping: fingertips and nails tapping on wood, plastic and glass, close to the ears.

Modal synthesis in the FoleyAutomatic manner: every tap is a short contact noise burst
plus a sum of exponentially damped sinusoids whose frequency ratios and decay times
follow the material (wood: inharmonic, short; plastic: denser, medium; glass: sparse,
bright, long ringing). A cached bank holds several objects per material, each struck
in several ways (strike point, nail or fingertip hardness). Taps come in clusters: quick
nail runs, slow single taps and double taps, on one object at one spot around the head,
with varied strength; the object and the spot change from cluster to cluster.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..spatial import azimuth_at, place_events

SEGMENT_S = 6
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.078
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

OBJECTS = 10
"""Objects per material in the grain bank."""

STRIKES = 4
"""Ways each object is struck (strike point and hardness), darkest first."""

MATERIALS: dict[
    str, tuple[tuple[float, ...], tuple[float, float], float, float, float]
] = {
    # partial ratios, fundamental range (Hz), decay of the fundamental (s), grain (s), level
    "wood": ((1.0, 2.76, 5.40, 8.93, 13.3), (260.0, 900.0), 0.08, 0.45, 1.0),
    "plastic": ((1.0, 1.72, 2.61, 3.93, 5.18, 6.70), (450.0, 1500.0), 0.1, 0.5, 1.08),
    "glass": ((1.0, 2.32, 4.25, 6.63, 9.38), (900.0, 2600.0), 0.3, 0.9, 0.92),
}
"""Modal recipe of each material."""

PEAK_CAP = 4.5
"""Highest grain peak relative to its loudness (the punchiest taps are tamed to this)."""

Bank = tuple[NDArray[np.float32], ...]
Timeline = tuple[NDArray[np.float64], ...]


def modal_tap(
    rng: np.random.Generator,
    ratios: NDArray[np.float64],
    f0: float,
    *,
    decay_s: float,
    frames: int,
    hardness: float,
    strike: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return one modal impact: damped partials plus a contact burst.

    Parameters
    ----------
    rng
        Generator for the small random detuning, decays and the burst.
    ratios
        ``(k,)`` partial frequencies relative to ``f0`` (those above 16 kHz are dropped).
    f0
        Lowest partial, in Hz.
    decay_s
        Decay time constant of the lowest partial; higher partials die faster.
    frames
        Longest length; the grain ends after about seven decay times, faded out.
    hardness
        0 (soft fingertip, dull) to 1 (nail, bright contact).
    strike
        ``(k,)`` amplitude of each partial set by where the object is struck.

    Returns
    -------
    NDArray[np.float64]
        The grain, its body peak-normalised to 1.

    """
    t = np.arange(frames) / SAMPLE_RATE
    freqs = f0 * ratios * rng.uniform(0.985, 1.015, ratios.size)
    freqs = freqs[freqs < 16000.0]
    k = freqs.size
    taus = decay_s * (freqs / f0) ** -0.8 * rng.uniform(0.7, 1.3, k)
    # A softer contact (longer, fingertip) excites fewer high partials.
    contact_s = 0.0004 + 0.0025 * (1.0 - hardness)
    amps = strike[:k] * np.abs(np.sinc(freqs * contact_s)) / (freqs / f0) ** 0.5
    phases = rng.uniform(-0.3, 0.3, k)
    modes = np.sin(2.0 * np.pi * freqs[:, None] * t + phases[:, None]) * np.exp(
        -t / taus[:, None]
    )
    body = amps @ modes
    burst_n = int(SAMPLE_RATE * (0.001 + 0.003 * rng.uniform()))
    burst = rng.standard_normal(burst_n) * np.exp(-np.arange(burst_n) / (burst_n / 4.0))
    smooth = round(2 + 8 * (1.0 - hardness))
    burst = np.convolve(burst, np.ones(smooth) / smooth, mode="same")
    burst = np.convolve(burst, np.ones(smooth + 2) / (smooth + 2), mode="same")
    grain = body / np.max(np.abs(body))
    grain[:burst_n] += (0.15 + 0.25 * hardness) * burst / np.max(np.abs(burst))
    grain[:4] *= np.linspace(0.0, 1.0, 4)
    # Past about six decay times (-52 dB) the ring is lost: end there, or fade out early.
    length = min(frames, int(6.0 * float(taus.max()) * SAMPLE_RATE))
    grain = grain[:length]
    tail = length // 4
    grain[-tail:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, tail))
    return np.asarray(grain, dtype=np.float64)


def weighted_rms(grain: NDArray[np.float64]) -> float:
    """Return a grain's RMS over a 0.2 s window, high-shelved like BS.1770's K-weighting.

    Parameters
    ----------
    grain
        ``(n,)`` sound.

    Returns
    -------
    float
        The RMS a 0.2 s window holding the whole grain would have, weighted +4 dB above
        about 1.5 kHz, which is roughly how loud the grain sounds.

    """
    f = np.fft.rfftfreq(grain.size, 1.0 / SAMPLE_RATE)
    shelf = (1.0 + 1.58 * (f / 1500.0) ** 2) / (1.0 + (f / 1500.0) ** 2)
    power = np.sum(np.abs(np.fft.rfft(grain)) ** 2 * shelf) / grain.size
    return float(np.sqrt(power / (0.2 * SAMPLE_RATE)))


@lru_cache(maxsize=1)
def grain_bank() -> dict[str, Bank]:
    """Return the cached taps of every material: ``OBJECTS * STRIKES`` grains each.

    Returns
    -------
    dict
        Material name to its grains; grain ``o * STRIKES + s`` is object ``o`` struck
        the ``s``-th way (brighter for larger ``s``). Grains are float32, scaled to equal
        loudness times the material's level (the punchiest held to ``PEAK_CAP``). The
        far-ear lowpass is left to placement: caching it too would double the memory.

    """
    banks: dict[str, Bank] = {}
    for name, (ratios, (lo, hi), decay_s, grain_s, level) in MATERIALS.items():
        rng = chunk_rng(0, "tapping-bank:" + name, 0)
        frames = int(grain_s * SAMPLE_RATE)
        r = np.asarray(ratios)
        grains: list[NDArray[np.float32]] = []
        for _ in range(OBJECTS):
            f0 = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
            obj_ratios = r * np.concatenate(
                [[1.0], rng.uniform(0.96, 1.04, r.size - 1)]
            )
            obj_decay = decay_s * rng.uniform(0.8, 1.25)
            for s in range(STRIKES):
                strike = rng.uniform(0.2, 1.0, r.size)
                strike[0] = 1.0
                hardness = (s + rng.uniform(0.0, 1.0)) / STRIKES
                g = modal_tap(
                    rng,
                    obj_ratios,
                    f0,
                    decay_s=obj_decay,
                    frames=frames,
                    hardness=hardness,
                    strike=strike,
                )
                g *= level * min(1.0 / weighted_rms(g), PEAK_CAP / np.max(np.abs(g)))
                grain = g.astype(np.float32)
                grain.flags.writeable = False
                grains.append(grain)
        banks[name] = tuple(grains)
    return banks


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return one segment's taps: time (s), material, grain, strength, cluster spot."""
    rng = chunk_rng(seed, "tapping/segment", segment)
    clusters = 24
    # Kinds (0 nail run, 1 single taps, 2 double taps) are dealt from shuffled decks of
    # four, so every few seconds hold a similar mix and the level stays steady.
    kind = rng.permuted(np.tile([0, 0, 1, 2], (clusters // 4, 1)), axis=1).ravel()
    count = np.where(
        kind == 0, rng.integers(6, 10, clusters), rng.integers(3, 6, clusters)
    )
    count = np.where(kind == 2, count * 2, count)
    taps = int(count.sum())
    of = np.repeat(np.arange(clusters), count)
    pos = np.arange(taps) - np.repeat(np.cumsum(count) - count, count)
    run_step = rng.uniform(0.035, 0.08, clusters)[of] * (
        1.0 + rng.normal(0.0, 0.12, taps)
    )
    single_step = rng.uniform(0.25, 0.6, clusters)[of] * rng.uniform(0.8, 1.25, taps)
    double_step = np.where(
        pos % 2 == 1, rng.uniform(0.08, 0.14, taps), single_step * 1.3
    )
    step = np.choose(kind[of], [run_step, single_step, double_step])
    step[np.cumsum(count) - 1] = rng.uniform(0.2, 0.5, clusters)
    times = SEGMENT_S * segment + 0.05 + np.concatenate([[0.0], np.cumsum(step)[:-1]])
    material = rng.choice(3, clusters, p=[0.45, 0.38, 0.17])[of]
    obj = rng.integers(0, OBJECTS, clusters)[of]
    # Runs sweep through four fingers: a repeating stress pattern with human wobble.
    finger = np.where(kind[of] == 0, 0.65 + 0.2 * np.cos(np.pi * pos / 2.0), 1.0)
    finger *= np.where(kind[of] == 1, 1.1, 1.0)
    strength = np.clip(
        rng.uniform(0.7, 1.0, clusters)[of] * finger * rng.lognormal(0.0, 0.15, taps),
        0.2,
        1.2,
    )
    # Harder taps sound brighter; nail runs are brighter still than fingertip taps.
    nails = np.where(kind[of] == 0, 1.0, 0.0)
    strike_of = np.clip(
        np.round(strength / 1.2 * (STRIKES - 1) + nails + rng.normal(0.0, 0.8, taps)),
        0,
        STRIKES - 1,
    )
    grain = obj * STRIKES + strike_of
    spot = rng.normal(0.0, 15.0, clusters)[of] + rng.normal(0.0, 3.0, taps)
    keep = times < SEGMENT_S * (segment + 1)
    return (
        times[keep],
        material[keep].astype(np.float64),
        grain[keep].astype(np.float64),
        strength[keep],
        spot[keep],
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the taps that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` stereo taps placed around the head.

    """
    t0 = request.start_s
    times, material, grain, strength, spot = _timeline(
        request.seed, request.index // SEGMENT_S
    )
    mine = (times >= t0) & (times < t0 + 1.0)
    if not mine.any():
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    banks = grain_bank()
    names = tuple(MATERIALS)
    grains = [
        banks[names[int(m)]][int(g)]
        for m, g in zip(material[mine], grain[mine], strict=True)
    ]
    starts = np.round((times[mine] - t0) * SAMPLE_RATE).astype(np.int64)
    az = azimuth_at(request.placement, request.seed, times[mine], salt="tapping")
    gains = strength[mine] * GAIN
    return place_events(BUFFER_FRAMES, grains, starts, gains, az + spot[mine])


TRIGGER = Trigger(id="tapping", name="Tapping", close=True, render_chunk=render_chunk)
