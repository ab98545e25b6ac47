"""Tapping: fingertips and nails tapping on wood, plastic and glass, close to the ears.

A tap is an impact: a contact burst whose brightness is set by what strikes (a nail is
hard and brief, a fingertip soft and a few milliseconds long), then the struck object's
answer. Objects held in a hand or lying on a table are heavily damped, so the answer is
short: a burst of noise shaped by the object's broad body resonances, and a few low
modes, all gone within some tens of milliseconds (wood is dull and quick, plastic a
little brighter, glass bright with the longest, still brief, ring). Nothing rings on
like a bell. Each tap also wakes a faint, diffuse tail of the room, different in each
ear.

A cached bank holds several objects per material, each struck in several ways (strike
point, nail or fingertip). Taps come in clusters: quick four-finger nail runs, slow
single taps and double taps, on one object at one spot around the head, with varied
strength; the object and the spot change from cluster to cluster. ASMR tapping is
near-continuous: clusters follow each other after a short breath.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Trigger,
    chunk_rng,
    salt_of,
)
from ..events import band, ramp, shaped_noise, soft_limit, with_wrap
from ..spatial import azimuth_at, place_events

SEGMENT_S = 6
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.465
"""Output gain that brings the trigger to its working level (about -21.5 LUFS)."""

OBJECTS = 10
"""Objects per material in the grain bank."""

STRIKES = 4
"""Ways each object is struck, darkest (soft fingertip) first, brightest (nail) last."""

GRAIN_S = 0.09
"""Longest tap grain, in seconds (every tap has died away by then)."""

BURST_MARGIN = 1024
"""Frames of an FFT frame beyond a noise burst, where the filter's lead and tail fall."""

MATERIALS: dict[str, tuple[tuple[float, float], float, tuple[float, float], float]] = {
    # lowest mode (Hz), its decay (s), body resonance range (Hz), level
    "wood": ((170.0, 520.0), 0.012, (500.0, 2600.0), 1.0),
    "plastic": ((380.0, 1100.0), 0.009, (900.0, 4200.0), 1.0),
    "glass": ((1300.0, 3200.0), 0.016, (2200.0, 7000.0), 0.9),
}
"""Recipe of each material: its lowest mode, how fast that dies, where its body sounds."""

MODE_LEVEL = 0.5
"""Peak of an object's low modes relative to its body burst."""

BODY_DECAY_S = 0.008
"""Decay time constant of the body burst (wood's is 40 % longer: it is duller)."""

ATTACK_S = 0.002
"""Rise time of the body burst under a soft fingertip (a nail's is five times quicker)."""

KNEE = 0.4
"""Share of a tap's peak above which its first milliseconds are softly compressed."""

STRENGTH_POWER = 0.6
"""How much of the strength of a tap reaches its level (the rest only its brightness)."""

ROOM_LEVEL = 0.025
"""Amplitude of the room's tail after a tap, relative to the tap's peak (taps are close)."""

ROOM_RT60_S = 0.35
"""Reverberation time of the room, in seconds."""

Bank = tuple[NDArray[np.float32], ...]
Timeline = tuple[NDArray[np.float64], ...]


def resonance(
    f: NDArray[np.float64], centre_hz: float, q: float
) -> NDArray[np.float64]:
    """Return the magnitude of a second-order band-pass (peak 1) at frequencies ``f``."""
    x = np.maximum(f, 1.0) / centre_hz
    return np.asarray(1.0 / np.sqrt(1.0 + q * q * (x - 1.0 / x) ** 2))


def burst_frequencies(frames: int) -> NDArray[np.float64]:
    """Return the FFT bin frequencies (Hz) that ``noise_bursts`` of ``frames`` use."""
    size = 1 << int(np.ceil(np.log2(frames + BURST_MARGIN)))
    return np.asarray(np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE))


def noise_bursts(
    rng: np.random.Generator,
    frames: int,
    gains: NDArray[np.float64],
    *,
    attack_s: NDArray[np.float64],
    decay_s: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return bursts of noise with a quick rise and an exponential decay, then filtered.

    The envelope shapes the excitation (the force of the impact, rough at a fine
    scale) and the struck object's response filters it, so an onset is as bright as
    the response lets it be and no brighter. The filter is zero phase; its short
    lead before the onset falls in the unused end of the FFT frame and is dropped.

    Parameters
    ----------
    rng
        Generator of the noise.
    frames
        Length of each burst.
    gains
        Amplitude response at ``burst_frequencies(frames)``: ``(bins,)`` for all
        bursts or ``(n, bins)`` one per burst.
    attack_s, decay_s
        ``(n,)`` rise and decay time constants, in seconds.

    Returns
    -------
    NDArray[np.float64]
        ``(n, frames)`` bursts, each with a peak of 1.

    """
    bins = np.shape(gains)[-1]
    size = 2 * (bins - 1)
    attack = np.asarray(attack_s, dtype=np.float64)[:, None]
    decay = np.asarray(decay_s, dtype=np.float64)[:, None]
    count = attack.shape[0]
    # exp(-t / tau) at every frame, as running products of the per-frame factor.
    rise = np.cumprod(
        np.broadcast_to(np.exp(-1.0 / (attack * SAMPLE_RATE)), (count, frames)), axis=1
    )
    fall = np.cumprod(
        np.broadcast_to(np.exp(-1.0 / (decay * SAMPLE_RATE)), (count, frames)), axis=1
    )
    excitation = np.zeros((count, size))
    excitation[:, 1:frames] = rng.standard_normal((count, frames))[:, 1:] * (
        (1.0 - rise[:, :-1]) * fall[:, :-1]
    )
    bursts = np.fft.irfft(np.fft.rfft(excitation) * gains, size)[:, :frames]
    return np.asarray(bursts / (np.max(np.abs(bursts), axis=1, keepdims=True) + 1e-12))


def damped_modes(
    rng: np.random.Generator,
    freqs: NDArray[np.float64],
    taus: NDArray[np.float64],
    amps: NDArray[np.float64],
    frames: int,
) -> NDArray[np.float64]:
    """Return a sum of exponentially damped sinusoids, each starting from zero.

    Parameters
    ----------
    rng
        Generator of small phase offsets.
    freqs, taus, amps
        ``(k,)`` frequencies (Hz), decay time constants (s) and amplitudes of the modes.
    frames
        Length of the result.

    Returns
    -------
    NDArray[np.float64]
        ``(frames,)`` sum of the modes.

    """
    phases = rng.uniform(-0.2, 0.2, freqs.size)
    # Each mode turns and shrinks by the same complex factor every frame.
    step = np.exp(-1.0 / (taus * SAMPLE_RATE) + 2j * np.pi * freqs / SAMPLE_RATE)
    turns = np.cumprod(np.broadcast_to(step[:, None], (freqs.size, frames)), axis=1)
    modes = (turns / step[:, None] * np.exp(1j * phases)[:, None]).imag
    return np.asarray(amps @ modes)


def contacts(
    rng: np.random.Generator, frames: int, hardness: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return the contact bursts of strikes: a nail's bright tick or a fingertip's pad.

    Parameters
    ----------
    rng
        Generator of the noise.
    frames
        Length of each burst.
    hardness
        ``(n,)`` from 0 (soft fingertip: a dull pad a few milliseconds long) to 1
        (nail: a sharp click well under a millisecond, bright up to 10 kHz and beyond).

    Returns
    -------
    NDArray[np.float64]
        ``(n, frames)`` bursts, each with a peak of 1.

    """
    h = np.asarray(hardness, dtype=np.float64)
    corner = 1200.0 * 9.0 ** h[:, None]
    decay = 0.0025 * 0.12**h
    # A contact is over within ten decay times: only that much is synthesised.
    short = min(frames, int(10.0 * float(decay.max()) * SAMPLE_RATE) + 1)
    f = burst_frequencies(short)
    gains = (f / (f + 150.0)) / np.sqrt(1.0 + (f / corner) ** 4)
    out = np.zeros((h.size, frames))
    out[:, :short] = noise_bursts(
        rng, short, gains, attack_s=0.25 * decay, decay_s=decay
    )
    return out


def trimmed(grain: NDArray[np.float64], floor: float = 1e-3) -> NDArray[np.float64]:
    """Return a grain cut where it stays below ``floor`` of its peak, with a short fade."""
    loud = np.flatnonzero(np.abs(grain) > floor * np.max(np.abs(grain)))
    end = int(loud[-1]) + 1 if loud.size else grain.size
    out = grain[: max(end, 64)].copy()
    tail = min(out.size // 4, 240)
    out[-tail:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, tail))
    return out


ROOM_HOP = 64
"""Frames between control points of a room tail's envelope."""

ROOM_SPAN = CHUNK_FRAMES + 25 * 1024
"""Frames of a chunk buffer that room tails reach (tails of 0.35 s are down 90 dB)."""


@lru_cache(maxsize=1)
def _room_noise() -> NDArray[np.float32]:
    """Return the cached diffuse noise that room tails are cut from (1.4 s, circular)."""
    noise = shaped_noise(
        1 << 16,
        lambda f: band(f, low_hz=250.0, high_hz=7000.0, tilt_db_per_octave=-2.0),
        seed=salt_of("room-noise"),
    )
    return with_wrap(noise, ROOM_SPAN)


def add_room(
    out: NDArray[np.float32],
    rng: np.random.Generator,
    starts: NDArray[np.int64],
    gains: NDArray[np.float64],
    *,
    rt60_s: float,
) -> None:
    """Add the diffuse tail of a small room after each event, independently in each ear.

    Every event (a tap, a keystroke) excites the room; what comes back after the first
    few milliseconds is a dense, exponentially decaying noise, different in each ear.
    The tails are noise cut from a cached bank at a random offset per ear, under one
    envelope that sums the events' decays: one multiply per frame and ear.

    Parameters
    ----------
    out
        ``(BUFFER_FRAMES, 2)`` chunk buffer, changed in place.
    rng
        The chunk's generator (two offsets are drawn).
    starts
        ``(e,)`` event starts in frames from the chunk start, within the chunk.
    gains
        ``(e,)`` amplitude of each event's tail at its start.
    rt60_s
        Time for a tail to fall by 60 dB, in seconds (at most about 0.35 s: longer
        tails would be cut at ``ROOM_SPAN``).

    """
    if starts.size == 0:
        return
    at = np.arange(ROOM_SPAN // ROOM_HOP + 1) * ROOM_HOP
    since = (at[None, :] - starts[:, None] - 2 * ROOM_HOP) / SAMPLE_RATE
    decay = np.exp(-6.91 / rt60_s * np.maximum(since, 0.0)) * (since >= 0.0)
    envelope = ramp(gains @ decay, ROOM_HOP)
    noise = _room_noise()
    for ear, offset in enumerate(rng.integers(0, noise.size - ROOM_SPAN, 2)):
        o = int(offset)
        out[:ROOM_SPAN, ear] += noise[o : o + ROOM_SPAN] * envelope


def _object_taps(rng: np.random.Generator, name: str) -> list[NDArray[np.float64]]:
    """Return one object's ``STRIKES`` taps, darkest (fingertip) to brightest (nail).

    A tap is the contact burst, the body burst (noise through the object's broad
    resonances) and the object's few low modes, all brief.
    """
    frames = int(GRAIN_S * SAMPLE_RATE)
    (lo, hi), decay_s, (body_lo, body_hi), _ = MATERIALS[name]
    f0 = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    # A plate-like object: inharmonic modes, the higher ones damped faster.
    ratios = np.array([1.0, rng.uniform(1.5, 1.9), rng.uniform(2.3, 3.0)])
    freqs = f0 * ratios
    taus = decay_s * rng.uniform(0.75, 1.3) * ratios**-0.7
    centres = np.exp(rng.uniform(np.log(body_lo), np.log(body_hi), 3))
    qs = rng.uniform(1.2, 2.5, 3)
    weights = rng.uniform(0.5, 1.0, 3)
    f = burst_frequencies(frames)
    body = sum(
        w * resonance(f, c, q) for c, q, w in zip(centres, qs, weights, strict=True)
    )
    body = body / np.sqrt(1.0 + (f / 12000.0) ** 4)

    hardness = (np.arange(STRIKES) + rng.uniform(0.0, 1.0, STRIKES)) / STRIKES
    # A soft fingertip stays on the surface for milliseconds: it excites the low modes
    # and barely the high ones, and its body burst rises slowly. A nail excites all.
    contact_s = 0.0003 + 0.004 * (1.0 - hardness)
    body_decay = BODY_DECAY_S * (1.4 if name == "wood" else 1.0)
    bursts = noise_bursts(
        rng,
        frames,
        body / np.sqrt(1.0 + (np.outer(contact_s, f) * 2.0) ** 2),
        attack_s=ATTACK_S * (0.2 + 0.8 * (1.0 - hardness)),
        decay_s=body_decay * rng.uniform(0.8, 1.3, STRIKES),
    )
    ticks = contacts(rng, frames, hardness)
    taps: list[NDArray[np.float64]] = []
    for s in range(STRIKES):
        amps = np.abs(np.sinc(freqs * contact_s[s])) * rng.uniform(0.4, 1.0, 3)
        amps[0] = max(amps[0], 0.5)
        low = damped_modes(rng, freqs, taus * rng.uniform(0.9, 1.1, 3), amps, frames)
        grain = MODE_LEVEL * low / (np.max(np.abs(low)) + 1e-12)
        grain += (0.72 + 0.28 * hardness[s]) * bursts[s]
        grain += (0.15 + 0.55 * hardness[s]) * ticks[s]
        grain[:4] *= np.linspace(0.0, 1.0, 4)
        # The strike's first milliseconds are bent softly, so that the loudest taps fit
        # under the true-peak ceiling without the limiter ducking their neighbours.
        tamed = (grain / np.max(np.abs(grain))).astype(np.float32)
        soft_limit(tamed, knee=KNEE, ceiling=KNEE + 0.5 * (1.0 - KNEE))
        taps.append(trimmed(tamed.astype(np.float64)))
    return taps


@lru_cache(maxsize=1)
def grain_bank() -> dict[str, Bank]:
    """Return the cached taps of every material: ``OBJECTS * STRIKES`` grains each.

    Returns
    -------
    dict
        Material name to its grains; grain ``o * STRIKES + s`` is object ``o`` struck
        the ``s``-th way (brighter for larger ``s``). Grains are float32 with a peak of
        the material's level. The far-ear lowpass is left to placement: caching it too
        would double the memory.

    """
    banks: dict[str, Bank] = {}
    for name, (_, _, _, level) in MATERIALS.items():
        rng = chunk_rng(0, "tapping-bank:" + name, 0)
        grains: list[NDArray[np.float32]] = []
        for _ in range(OBJECTS):
            for tap in _object_taps(rng, name):
                grain = (tap * (level / np.max(np.abs(tap)))).astype(np.float32)
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
    single_step = rng.uniform(0.19, 0.45, clusters)[of] * rng.uniform(0.8, 1.25, taps)
    double_step = np.where(
        pos % 2 == 1, rng.uniform(0.08, 0.14, taps), single_step * 1.3
    )
    step = np.choose(kind[of], [run_step, single_step, double_step])
    step[np.cumsum(count) - 1] = rng.uniform(0.15, 0.38, clusters)
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
    gains = strength[mine] ** STRENGTH_POWER * GAIN
    out = place_events(BUFFER_FRAMES, grains, starts, gains, az + spot[mine])
    rng = chunk_rng(request.seed, "tapping/room", request.index)
    add_room(out, rng, starts, gains * ROOM_LEVEL, rt60_s=ROOM_RT60_S)
    return out


TRIGGER = Trigger(id="tapping", name="Tapping", close=True, render_chunk=render_chunk)
