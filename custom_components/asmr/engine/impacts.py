"""The impact family: a strike, the struck thing's brief answer, and the room's tail.

An impact (a fingertip or a nail on a tapped object, a key bottoming out on a keyboard's
deck) is a contact burst whose brightness is set by what strikes (``contacts``), then the
answer of what is struck: noise through its broad body resonances (``noise_bursts``) and
a few damped low modes (``damped_modes``), all gone within tens of milliseconds. Grains
are synthesised once into cached banks; each event also wakes the diffuse tail of the
small room it happens in (``add_room``), different in each ear. Tapping and typing are
this family with their own objects and rhythms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .base import CHUNK_FRAMES, SAMPLE_RATE, buffer_frames, salt_of
from .cache import shared_cache
from .events import band, peak_normalised, ramp, shaped_noise, soft_limit, with_wrap
from .spatial import MAX_ITD_FRAMES

__all__ = [
    "ImpactRecipe",
    "Room",
    "add_room",
    "burst_frequencies",
    "contact_frames",
    "contacts",
    "contacts_from",
    "damped_modes",
    "noise_bursts",
    "resonance",
    "shaped_bursts",
    "trimmed",
]

BURST_MARGIN = 1024
"""Frames of an FFT frame beyond a noise burst, where the filter's lead and tail fall."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Room:
    """The small room an impact happens in: its diffuse tail after every event."""

    level: float
    """Amplitude of the tail relative to the event's peak (linear; close sounds are dry)."""

    rt60_s: float
    """Time for the tail to fall by 60 dB, in seconds (at most about 0.35 s)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ImpactRecipe:
    """What every impact trigger sets: its timing, level, grains and room."""

    segment_s: int
    """Length of the timeline segments, in seconds (whole chunks); each segment's
    events are drawn from its own generator, so any chunk finds its events alone."""

    gain: float
    """Output gain that brings the trigger to its working level."""

    grain_ms: float
    """Length of the longest grain, in milliseconds (every part has died away by
    then)."""

    knee: float
    """Share of a grain's peak above which its first milliseconds are bent softly, so
    the loudest strikes fit under the true-peak ceiling without ducking the rest."""

    room: Room
    """The room's tail after every event."""

    @property
    def grain_frames(self) -> int:
        """Return the length of the longest grain, in frames."""
        return int(self.grain_ms / 1000.0 * SAMPLE_RATE)

    def tamed(self, grain: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return a grain at peak 1 with its first milliseconds bent softly, trimmed.

        Above ``knee`` the strike's peaks bend towards halfway between the knee and full
        scale, so the loudest strikes fit under the true-peak ceiling without the
        limiter ducking their neighbours.
        """
        out = (grain / np.max(np.abs(grain))).astype(np.float32)
        soft_limit(out, knee=self.knee, ceiling=self.knee + 0.5 * (1.0 - self.knee))
        return trimmed(out.astype(np.float64))


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
    noise = rng.standard_normal((np.asarray(attack_s).shape[0], frames))
    return shaped_bursts(noise, gains, attack_s=attack_s, decay_s=decay_s)


def shaped_bursts(
    noise: NDArray[np.float64],
    gains: NDArray[np.float64],
    *,
    attack_s: NDArray[np.float64],
    decay_s: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Return ``noise_bursts`` made from noise already drawn, ``(n, frames)``."""
    count, frames = noise.shape
    bins = np.shape(gains)[-1]
    size = 2 * (bins - 1)
    attack = np.asarray(attack_s, dtype=np.float64)[:, None]
    decay = np.asarray(decay_s, dtype=np.float64)[:, None]
    # exp(-t / tau) at every frame, as running products of the per-frame factor.
    rise = np.cumprod(
        np.broadcast_to(np.exp(-1.0 / (attack * SAMPLE_RATE)), (count, frames)), axis=1
    )
    fall = np.cumprod(
        np.broadcast_to(np.exp(-1.0 / (decay * SAMPLE_RATE)), (count, frames)), axis=1
    )
    excitation = np.zeros((count, size))
    excitation[:, 1:frames] = noise[:, 1:] * ((1.0 - rise[:, :-1]) * fall[:, :-1])
    bursts = np.fft.irfft(np.fft.rfft(excitation) * gains, size)[:, :frames]
    return peak_normalised(bursts)


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
    noise = rng.standard_normal((h.size, contact_frames(frames, h)))
    return contacts_from(noise, frames, h)


def _contact_decay_s(hardness: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the decay time constant of a contact burst of each hardness, in seconds."""
    return np.asarray(0.0025 * 0.12**hardness)


def contact_frames(frames: int, hardness: NDArray[np.float64]) -> int:
    """Return the frames of noise ``contacts`` draws per strike (ten decay times)."""
    # A contact is over within ten decay times: only that much is synthesised.
    decay = _contact_decay_s(np.asarray(hardness, dtype=np.float64))
    return min(frames, int(10.0 * float(decay.max()) * SAMPLE_RATE) + 1)


def contacts_from(
    noise: NDArray[np.float64], frames: int, hardness: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return ``contacts`` made from noise already drawn, ``(n, contact_frames)``."""
    h = np.asarray(hardness, dtype=np.float64)
    corner = 1200.0 * 9.0 ** h[:, None]
    decay = _contact_decay_s(h)
    short = noise.shape[1]
    f = burst_frequencies(short)
    gains = (f / (f + 150.0)) / np.sqrt(1.0 + (f / corner) ** 4)
    out = np.zeros((h.size, frames))
    out[:, :short] = shaped_bursts(noise, gains, attack_s=0.25 * decay, decay_s=decay)
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


def struck_frames(
    grains: Sequence[NDArray[np.float32]], starts: NDArray[np.int64]
) -> int:
    """Return how long a chunk of struck sounds rings: its grains, far ear and room tails.

    ``grains`` and ``starts`` are the chunk's events as ``spatial.place_events`` takes
    them; the room tails of ``add_room`` reach ``ROOM_SPAN``.
    """
    ring = max(int(s) + g.size for s, g in zip(starts.tolist(), grains, strict=True))
    return buffer_frames(ring + MAX_ITD_FRAMES, at_least=ROOM_SPAN)


@shared_cache(maxsize=1)
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
        ``(n, 2)`` chunk buffer, ``n >= ROOM_SPAN``, changed in place.
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
