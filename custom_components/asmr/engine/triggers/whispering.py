"""Whispering: soft, wordless whispered speech moving from ear to ear.

A whisper is breath noise shaped by the vocal tract, with no voicing. Here the breath is
noise synthesised frame by frame (10 ms hops, overlapped windows, as ``spectral_noise``
does) and every frame gets its own spectral envelope:

- the tract: a cascade of four formant resonators whose centres follow F1-F4
  trajectories of real vowels (Hillenbrand et al. 1995, women's values, raised a little
  as whispered formants are: F1 most, F2 and F3 less), gliding into and out of each
  consonant's locus, from vowel to vowel and through diphthongs;
- the fricatives s, sh and f, each with its own noise band, and h as the tract's own
  noise at a lower level;
- the soft in-breaths between phrases.

Every sound has a smooth raised-cosine envelope; neighbours overlap, so a fricative
fades into the vowel after it. Plosives (t, k, p) are a short closure, a burst of a
few milliseconds (read from a small cached bank) and a breathy release. Syllables
(about five a second, stressed ones longer and louder) make phrases of one to two and
a half seconds whose level falls gently towards their end; pauses part the phrases,
some with an audible in-breath. The whole timeline is planned per segment of a few
seconds from the seed, so any chunk renders alone. The voice follows the layer's
motion around the head with a slow lean of its own; each noise frame is placed in the
spectral domain with the head model of ``spatial`` (the same ear gains, head shadow and
interaural delay that ``place_moving`` applies), so both ears come out of the frames'
transforms already placed.
"""

from __future__ import annotations

from bisect import bisect
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import (
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Placement,
    Trigger,
    chunk_rng,
)
from ..cache import SEGMENTS_KEPT, shared_cache
from ..dsp import frame_times, random_int8, rfft_freqs
from ..events import wobble
from ..spatial import MAX_ITD_FRAMES, azimuth_at, ear_weights, head_shadow

HOP = 480
"""Frames between the starts of the noise frames (10 ms)."""

OVERLAP = HOP
"""Frames neighbouring noise frames share, fading one into the other (10 ms)."""

FRAME_LEN = HOP + OVERLAP
"""Frames in one noise frame (20 ms)."""

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks); silent at both ends."""

GAIN = 0.19
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

LEAN_DEG = 15.0
"""How far the voice leans, either way, from the layer's own motion."""

LEAN_PERIODS_S = (5.0, 8.0, 13.0)
"""Periods of the slow sinusoids the lean is made of, in seconds."""

FORMANT_STEP_HZ = 10.0
"""Spacing of the cached resonator table's centre frequencies."""

FORMANT_MAX_HZ = 6000.0
"""Highest centre frequency in the resonator table."""

AIR = 0.1
"""Level of the breath noise that passes the tract unshaped, relative to the vowel."""

TRACT_BINS = round(8000 * FRAME_LEN / SAMPLE_RATE) + 1
"""Bins the formant cascade shapes (up to 8 kHz; above it the tract passes only air)."""

BINS = round(16_000 * FRAME_LEN / SAMPLE_RATE) + 1
"""Bins synthesised (up to 16 kHz: a whisper has next to nothing above)."""

_INT8_VARIANCE = (256.0**2 - 1.0) / 12.0
"""Variance of a uniformly distributed int8, the raw material of the noise frames."""

BURST_FRAMES = 1440
"""Length of a plosive burst grain (30 ms)."""

TAIL_FRAMES = max(OVERLAP, MAX_ITD_FRAMES + BURST_FRAMES)
"""Frames a chunk's sounds ring past its end: the last noise frame's fade, or a burst
struck in its last frame and delayed to the far ear."""

BURST_VARIANTS = 6
"""Burst grains per plosive in the cached bank."""

VOWELS: dict[str, tuple[float, float, float, float]] = {
    # Voiced F1-F4 in Hz (Hillenbrand 1995, women; F4 estimated).
    "i": (437.0, 2761.0, 3372.0, 4300.0),
    "I": (483.0, 2365.0, 3053.0, 4200.0),
    "e": (536.0, 2530.0, 3047.0, 4200.0),
    "E": (731.0, 2058.0, 2979.0, 4150.0),
    "ae": (669.0, 2349.0, 2972.0, 4150.0),
    "a": (936.0, 1551.0, 2815.0, 4000.0),
    "O": (781.0, 1136.0, 2824.0, 4000.0),
    "o": (555.0, 1035.0, 2828.0, 4000.0),
    "U": (519.0, 1225.0, 2827.0, 4050.0),
    "u": (459.0, 1105.0, 2735.0, 4000.0),
    "V": (753.0, 1426.0, 2933.0, 4100.0),
    "@": (600.0, 1700.0, 2850.0, 4100.0),
    "3": (523.0, 1588.0, 1929.0, 3900.0),
}
"""Voiced vowel formant targets (whispering raises them, see ``whispered``)."""

FULL_VOWELS = ("i", "I", "e", "E", "ae", "a", "O", "o", "U", "u", "V", "3")
REDUCED_VOWELS = ("@", "@", "I", "U")
DIPHTHONGS = (("a", "I"), ("e", "I"), ("a", "U"), ("o", "U"), ("O", "I"), ("I", "@"))

LOCI: dict[str, tuple[float, float, float]] = {
    # F1, F2, F3 a constriction pulls the formants towards (0 keeps the vowel's value).
    "lab": (380.0, 950.0, 2500.0),
    "alv": (400.0, 1800.0, 2900.0),
    "post": (420.0, 2100.0, 2500.0),
    "vel": (400.0, 0.0, 0.0),
}
"""Consonant loci: where the formants head at the edges of a vowel."""

PLACE = {"s": "alv", "t": "alv", "sh": "post", "f": "lab", "p": "lab", "k": "vel"}

ONSETS = ("", "s", "sh", "f", "h", "t", "k", "p", "st", "sk")
ONSET_CUM = (0.16, 0.32, 0.4, 0.49, 0.62, 0.76, 0.86, 0.93, 0.97)
CODAS = ("", "s", "sh", "f", "t", "k", "ts")
CODA_CUM = (0.5, 0.67, 0.72, 0.77, 0.88, 0.94)
"""Syllable onsets and codas with their cumulative probabilities (the last is the rest)."""

# Envelope channels: the tract (vowels, h, aspiration) and the fixed noise bands.
TRACT, S, SH, F, BREATH = range(5)
FRICATIVE = {"s": S, "sh": SH, "f": F}
LEVEL = {"s": 0.75, "sh": 0.7, "f": 0.28, "h": 0.4}
"""Peak level of each consonant relative to a stressed vowel."""

BURSTS = ("t", "k", "p")


@dataclass(frozen=True)
class Plan:
    """The sounds of one timeline segment, in absolute seconds.

    ``events`` rows are ``(channel, start, end, attack, release, level)``: a raised-cosine
    rise over ``attack`` from ``start`` and a fall over ``release`` that ends at ``end``.
    ``knots`` rows are ``(time, F1, F2, F3, F4)`` of the formant trajectory. ``bursts``
    rows are ``(time, plosive, variant, level)``.
    """

    events: NDArray[np.float64]
    knots: NDArray[np.float64]
    bursts: NDArray[np.float64]


Formants = tuple[float, float, float, float]


def whispered(formants: Formants, scale: float) -> Formants:
    """Return whispered formants: voiced ones raised (F1 most) and scaled to a speaker."""
    f1, f2, f3, f4 = formants
    return (
        (f1 * 1.15 + 60.0) * scale,
        (f2 * 1.05 + 40.0) * scale,
        f3 * 1.03 * scale,
        f4 * scale,
    )


def _mix(a: Formants, b: Formants, amount: float) -> Formants:
    """Return formants ``amount`` of the way from ``a`` to ``b``."""
    return (
        a[0] + amount * (b[0] - a[0]),
        a[1] + amount * (b[1] - a[1]),
        a[2] + amount * (b[2] - a[2]),
        a[3] + amount * (b[3] - a[3]),
    )


class _Draws:
    """Uniform random numbers drawn from a generator in blocks (cheap one at a time)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.block: list[float] = []

    def random(self) -> float:
        """Return a uniform number in [0, 1)."""
        if not self.block:
            self.block = self.rng.random(256).tolist()
        return self.block.pop()

    def uniform(self, low: float, high: float) -> float:
        """Return a uniform number in [low, high)."""
        return low + (high - low) * self.random()

    def integers(self, n: int) -> int:
        """Return a uniform integer in [0, n)."""
        return int(self.random() * n)


@shared_cache(maxsize=1)
def resonators() -> NDArray[np.float32]:
    """Return the cached magnitudes of formant resonators at every table centre.

    Row ``i`` is a second-order resonator centred at ``i * FORMANT_STEP_HZ`` with the
    broad bandwidth of a whispered formant (wider as it rises), unit gain at 0 Hz as in a
    cascade formant synthesiser (Klatt 1980), sampled at the noise frames' bins.
    """
    f = rfft_freqs(FRAME_LEN)[:TRACT_BINS].astype(np.float64)
    centre = np.arange(0.0, FORMANT_MAX_HZ + FORMANT_STEP_HZ, FORMANT_STEP_HZ)
    centre = np.maximum(centre, 50.0)[:, None]
    bandwidth = 100.0 + 0.05 * centre
    sigma = np.pi * bandwidth
    omega = 2.0 * np.pi * f[None, :]
    w0 = 2.0 * np.pi * centre
    near = np.sqrt(sigma**2 + (omega - w0) ** 2)
    far = np.sqrt(sigma**2 + (omega + w0) ** 2)
    table = np.asarray((sigma**2 + w0**2) / (near * far), dtype=np.float32)
    table.flags.writeable = False
    return table


@shared_cache(maxsize=1)
def shapes() -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Return the breath source under the tract and the fixed bands of the other sounds.

    Returns
    -------
    tuple
        ``(TRACT_BINS,)`` unit-RMS source spectrum of the tract (turbulence at the
        glottis, lip radiation, a fixed fifth formant); ``(BINS,)`` the air that passes
        the tract unshaped, relative to a unit-RMS vowel; ``(4, BINS)`` unit-RMS spectra
        of s, sh, f and the in-breath, in channel order after the tract (``BINS``
        is the synthesised part of the noise frames' spectrum).

    """
    f = rfft_freqs(FRAME_LEN)[:BINS].astype(np.float64)
    # Turbulence and lip radiation rise to about 1.5 kHz and on above F3; a fixed fifth
    # formant near 4.9 kHz; little below 200 Hz and above 8 kHz.
    source = f**2 / (f**2 + 1500.0**2) * (1.0 + (f / 2500.0) ** 2)
    source /= (1.0 + (f / 8000.0) ** 4) * (1.0 + (180.0 / np.maximum(f, 1.0)) ** 4)
    source[:TRACT_BINS] *= resonators()[round(4900.0 / FORMANT_STEP_HZ)]
    source /= np.sqrt(np.mean(source[:TRACT_BINS] ** 2))
    air = AIR * source / (1.0 + (f / 3000.0) ** 2)

    def peak(centre: float, half: float) -> NDArray[np.float64]:
        """Return a resonant peak of a half-width (Hz) at a centre (Hz), height 1."""
        return np.asarray(1.0 / (1.0 + ((f - centre) / half) ** 2))

    def highpass(corner: float, order: int = 4) -> NDArray[np.float64]:
        """Return a highpass of an order (in powers of f) above a corner (Hz)."""
        return np.asarray(1.0 / (1.0 + (corner / np.maximum(f, 1.0)) ** order))

    bands = np.stack(
        [
            peak(6200.0, 1300.0) * highpass(3800.0) / (1.0 + (f / 9000.0) ** 4),
            (peak(3100.0, 700.0) + 0.6 * peak(4600.0, 1400.0)) * highpass(1800.0),
            (0.6 + 0.4 * peak(7000.0, 5000.0))
            * highpass(1200.0, 2)
            / (1.0 + (f / 10_000.0) ** 2),
            (peak(650.0, 450.0) + 0.8 * peak(1700.0, 700.0) + 0.5 * peak(2800.0, 900.0))
            * highpass(250.0)
            + 0.15 * highpass(2000.0, 2) / (1.0 + (f / 10_000.0) ** 2),
        ]
    )
    bands /= np.sqrt(np.mean(bands**2, axis=1, keepdims=True))
    # Everything fades out between 12 and 16 kHz, where the synthesis stops.
    fade = np.clip((16_000.0 - f) / 4000.0, 0.0, 1.0)
    fade = 0.5 - 0.5 * np.cos(np.pi * fade)
    bands *= fade
    air *= fade
    out = (
        source[:TRACT_BINS].astype(np.float32),
        air.astype(np.float32),
        bands.astype(np.float32),
    )
    for a in out:
        a.flags.writeable = False
    return out


@shared_cache(maxsize=1)
def _window() -> NDArray[np.float32]:
    """Return the noise frames' window (power-complementary fades), for unit-RMS noise."""
    w = np.ones(FRAME_LEN)
    ramp = np.sin(0.5 * np.pi * (np.arange(OVERLAP) + 0.5) / OVERLAP)
    w[:OVERLAP] = ramp
    w[FRAME_LEN - OVERLAP :] = ramp[::-1]
    out = np.asarray(w * np.sqrt(FRAME_LEN / (2.0 * _INT8_VARIANCE)), dtype=np.float32)
    out.flags.writeable = False
    return out


@shared_cache(maxsize=1)
def burst_bank() -> NDArray[np.float32]:
    """Return the cached plosive bursts, ``(3, BURST_VARIANTS, BURST_FRAMES)``, peak 1.

    A release is a sharp but not instant rise (about 2 ms) and a fast decay; t is bright
    and diffuse, k a compact band in the middle, p weak and dark.
    """
    rng = chunk_rng(0, "whispering-bursts", 0)
    n = 2048
    f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
    hp = 1.0 / (1.0 + (400.0 / np.maximum(f, 1.0)) ** 4)
    hp /= 1.0 + (f / 11_000.0) ** 4
    spectra = np.stack(
        [
            hp * (0.3 + 1.0 / (1.0 + ((f - 5500.0) / 2500.0) ** 2)),
            hp * (0.2 + 1.0 / (1.0 + ((f - 2300.0) / 600.0) ** 2)),
            hp * (0.6 / (1.0 + f / 1500.0) + 0.3 / (1.0 + ((f - 1200.0) / 800.0) ** 2)),
        ]
    )
    shape = (len(BURSTS), BURST_VARIANTS)
    white = np.fft.rfft(rng.standard_normal((*shape, n)), axis=-1)
    noise = np.fft.irfft(white * spectra[:, None, :], n, axis=-1)[..., :BURST_FRAMES]
    decay_s = np.array([0.006, 0.008, 0.004])[:, None, None]
    decay_s = decay_s * (0.8 + 0.1 * np.arange(BURST_VARIANTS))[None, :, None]
    t = np.arange(BURST_FRAMES) / SAMPLE_RATE
    rise = 0.5 - 0.5 * np.cos(np.pi * np.minimum(t / 0.002, 1.0))
    env = rise * np.exp(-t / decay_s) * (0.5 + 0.5 * np.cos(np.pi * t / t[-1]))
    grains = noise * env
    grains /= np.max(np.abs(grains), axis=-1, keepdims=True)
    bank = np.asarray(grains, dtype=np.float32)
    bank.flags.writeable = False
    return bank


@shared_cache(maxsize=1)
def dull_bursts() -> NDArray[np.float32]:
    """Return the bursts as the far ear hears them through the head's shadow."""
    bank = burst_bank()
    low = head_shadow(bank.reshape(-1, BURST_FRAMES).T).T.reshape(bank.shape)
    out = np.asarray(low, dtype=np.float32)
    out.flags.writeable = False
    return out


class _Planner:
    """Plans the syllables, phrases and pauses of one segment."""

    def __init__(self, rng: np.random.Generator, scale: float) -> None:
        self.rng = _Draws(rng)
        self.scale = scale
        self.vowels = {name: whispered(f, scale) for name, f in VOWELS.items()}
        self.events: list[tuple[float, float, float, float, float, float]] = []
        self.knots: list[tuple[float, ...]] = []
        self.bursts: list[tuple[float, float, float, float]] = []

    def toward(self, formants: Formants, place: str, amount: float) -> Formants:
        """Return formants pulled ``amount`` of the way towards a consonant's locus."""
        f1, f2, f3 = LOCI[place]
        if place == "vel":  # the velar pinch: F2 and F3 meet just above F2
            f2 = (formants[1] * 1.05 + 150.0) / self.scale
            f3 = f2 + 250.0 / self.scale
        s = self.scale
        return _mix(formants, (f1 * s, f2 * s, f3 * s, formants[3]), amount)

    def add(
        self,
        channel: int,
        start: float,
        end: float,
        attack: float,
        release: float,
        level: float,
    ) -> None:
        """Add a sound with a raised-cosine envelope on one channel."""
        self.events.append((channel, start, end, attack, release, level))

    def burst(self, t: float, plosive: str, level: float) -> None:
        """Add a plosive burst at ``t`` seconds."""
        variant = float(self.rng.integers(BURST_VARIANTS))
        self.bursts.append((t, float(BURSTS.index(plosive)), variant, level))

    def consonant_in(self, onset: str, pos: float, level: float) -> float:
        """Plan an onset consonant from ``pos``; return where its vowel starts."""
        rng = self.rng
        if onset in {"st", "sk"}:
            pos = self.consonant_in("s", pos, level * 0.9) - 0.02
            onset = onset[1]
        if onset in FRICATIVE:
            n = {"s": 0.09, "sh": 0.09, "f": 0.075}[onset] * rng.uniform(0.75, 1.3)
            self.add(
                FRICATIVE[onset],
                pos,
                pos + n + 0.035,
                0.035,
                0.045,
                LEVEL[onset] * level,
            )
            return pos + n
        if onset == "h":
            n = rng.uniform(0.045, 0.08)
            self.add(TRACT, pos, pos + n + 0.05, 0.035, 0.05, LEVEL["h"] * level)
            return pos + n
        if onset in BURSTS:
            pos += rng.uniform(0.035, 0.06)  # the closure: silence
            self.burst(pos, onset, 0.45 * level)
            aspiration = rng.uniform(0.025, 0.05)
            self.add(
                TRACT, pos + 0.003, pos + aspiration + 0.05, 0.015, 0.05, 0.3 * level
            )
            if onset == "t":
                self.add(S, pos + 0.002, pos + 0.035, 0.01, 0.025, 0.3 * level)
            return pos + aspiration
        return pos

    def consonant_out(self, coda: str, pos: float, level: float) -> float:
        """Plan a coda consonant from the end of a vowel; return where it ends."""
        rng = self.rng
        if coda in FRICATIVE:
            n = rng.uniform(0.06, 0.11)
            self.add(
                FRICATIVE[coda],
                pos - 0.035,
                pos + n,
                0.04,
                0.045,
                0.85 * LEVEL[coda] * level,
            )
            return pos + n
        if coda in {"t", "k", "ts"}:
            pos += rng.uniform(0.03, 0.05)
            plosive = "k" if coda == "k" else "t"
            if coda == "ts":
                self.burst(pos, "t", 0.3 * level)
                self.add(S, pos, pos + 0.09, 0.02, 0.045, 0.8 * LEVEL["s"] * level)
                return pos + 0.09
            if rng.random() < 0.6:  # released softly, else held
                self.burst(pos, plosive, 0.3 * level)
                self.add(TRACT, pos + 0.003, pos + 0.05, 0.01, 0.04, 0.15 * level)
            return pos + 0.03
        return pos

    def phrase(self, start: float, budget: float, limit: float) -> float:
        """Plan one phrase of about ``budget`` seconds from ``start``; return its end.

        Nothing sounds past ``limit`` (absolute seconds): a syllable that would is
        left out, and the phrase ends before it.
        """
        rng = self.rng
        tempo = rng.uniform(0.9, 1.12)
        loudness = rng.uniform(0.8, 1.0)  # some phrases are softer, further away
        pos = start
        last_strong = final = False
        while not final:
            planned = len(self.events), len(self.knots), len(self.bursts)
            progress = min((pos - start) / budget, 1.0)
            strong = rng.random() < (0.25 if last_strong else 0.6)
            last_strong = strong
            final = pos - start > budget - 0.6
            level = (rng.uniform(0.85, 1.0) if strong else rng.uniform(0.5, 0.7)) * (
                loudness * (1.0 - 0.35 * progress)
            )
            onset = ONSETS[bisect(ONSET_CUM, rng.random())]
            coda = CODAS[bisect(CODA_CUM, rng.random())]
            pool = FULL_VOWELS if strong or rng.random() < 0.4 else REDUCED_VOWELS
            first = pool[rng.integers(len(pool))]
            second = first
            if strong and rng.random() < 0.3:
                first, second = DIPHTHONGS[rng.integers(len(DIPHTHONGS))]
            length = (
                rng.uniform(0.17, 0.26) if strong else rng.uniform(0.1, 0.15)
            ) * tempo
            if final:
                length *= 1.4
            nucleus = self.consonant_in(onset, pos, level)
            v1, v2 = self.vowels[first], self.vowels[second]
            if not strong:  # unstressed vowels fall short of their targets
                v1 = _mix(v1, self.vowels["@"], 0.25)
                v2 = _mix(v2, self.vowels["@"], 0.25)
            place = PLACE.get(onset[-1:] if onset in {"st", "sk"} else onset)
            edge = self.toward(v1, place, 0.5) if place else v1
            self.knots.append((nucleus, *edge))
            if second == first:  # a vowel touches its target and moves on
                self.knots.append((nucleus + 0.4 * length, *v1))
            else:  # a diphthong glides from one target to the other
                self.knots.append((nucleus + 0.25 * length, *v1))
                self.knots.append((nucleus + 0.85 * length, *v2))
            end_place = PLACE.get(coda[:1] if coda else "")
            if end_place:
                self.knots.append((nucleus + length, *self.toward(v2, end_place, 0.45)))
            attack = rng.uniform(0.04, 0.06)
            release = rng.uniform(0.06, 0.09) * (1.5 if final else 1.0)
            self.add(
                TRACT,
                nucleus - 0.01,
                nucleus + length + 0.5 * release,
                attack,
                release,
                level,
            )
            end = self.consonant_out(coda, nucleus + length, level)
            sounding = max(e[2] for e in self.events[planned[0] :])
            if self.bursts[planned[2] :]:
                sounding = max(
                    sounding, self.bursts[-1][0] + BURST_FRAMES / SAMPLE_RATE
                )
            if sounding > limit:
                del self.events[planned[0] :], self.knots[planned[1] :]
                del self.bursts[planned[2] :]
                break
            pos = end
            if not final and rng.random() < 0.3:  # a word boundary
                pos += rng.uniform(0.03, 0.09)
        return pos + 0.1

    def breath(self, start: float) -> float:
        """Plan a soft in-breath from ``start``; return when it has faded out."""
        n = self.rng.uniform(0.35, 0.55)
        self.add(
            BREATH, start, start + n, 0.4 * n, 0.4 * n, self.rng.uniform(0.12, 0.2)
        )
        return start + n

    def plan(self) -> Plan:
        """Return everything planned so far as read-only arrays."""
        events = np.array(self.events, dtype=np.float64).reshape(-1, 6)
        knots = np.array(self.knots, dtype=np.float64).reshape(-1, 5)
        bursts = np.array(self.bursts, dtype=np.float64).reshape(-1, 4)
        knots = knots[np.argsort(knots[:, 0], kind="stable")]
        for a in (events, knots, bursts):
            a.flags.writeable = False
        return Plan(events, knots, bursts)


@shared_cache(maxsize=4)
def segment_plan(seed: int, segment: int) -> Plan:
    """Return the phrases of one segment: silent at its edges, so segments just abut."""
    scale = float(chunk_rng(seed, "whispering/speaker", 0).uniform(0.96, 1.08))
    planner = _Planner(chunk_rng(seed, "whispering/segment", segment), scale)
    rng = planner.rng
    t0 = SEGMENT_S * segment
    limit = t0 + SEGMENT_S - 0.1
    pos = t0 + rng.uniform(0.3, 0.6)
    while limit - pos > 0.9:
        if rng.random() < 0.3 and limit - pos > 2.5:
            pos = planner.breath(pos) + rng.uniform(0.15, 0.25)
        budget = rng.uniform(1.4, 2.3)
        left = limit - pos
        if left < budget + 1.6:  # no room for another phrase after this one
            budget = left if left < 2.3 else 0.5 * left - 0.25
        pos = planner.phrase(pos, budget, limit)
        pos += rng.uniform(0.35, 0.75)
    return planner.plan()


_CHUNK_HOPS = CHUNK_FRAMES // HOP
"""Noise frames that start in one chunk."""


@shared_cache(maxsize=SEGMENTS_KEPT)
def _segment_frames(
    seed: int, segment: int
) -> tuple[NDArray[np.float64], NDArray[np.float32], NDArray[np.float64], Plan]:
    """Return a segment's noise frames: their times, channel levels and formants.

    Worked out for the segment's chunks at once (one evaluation of a few hundred frames
    costs little more than one of a chunk's hundred) and kept, with the segment's plan
    (the next segment's sounds start after the last frame).
    """
    t = frame_times(segment * SEGMENT_S, HOP, overlap=OVERLAP, chunks=SEGMENT_S)
    plan = segment_plan(seed, segment)
    levels = envelopes(plan.events, t)
    tracks = formants(plan.knots, t)
    for array in (t, levels, tracks):
        array.flags.writeable = False
    return t, levels, tracks, plan


def envelopes(
    events: NDArray[np.float64], t: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Return the level of every channel at times ``t``, shape ``(len(t), 5)``."""
    out = np.zeros((t.size, 5), dtype=np.float64)
    near = events[(events[:, 2] > t[0]) & (events[:, 1] < t[-1])]
    if near.size:
        channel, start, end, attack, release, level = near.T
        rise = np.clip((t[None, :] - start[:, None]) / attack[:, None], 0.0, 1.0)
        fall = np.clip((end[:, None] - t[None, :]) / release[:, None], 0.0, 1.0)
        shape = (0.5 - 0.5 * np.cos(np.pi * rise)) * (0.5 - 0.5 * np.cos(np.pi * fall))
        onehot = channel.astype(np.int64)[:, None] == np.arange(5)[None, :]
        out = (shape * level[:, None]).T @ onehot
    return out.astype(np.float32)


def formants(knots: NDArray[np.float64], t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return F1-F4 at times ``t`` from the knots, joined by raised-cosine glides."""
    if knots.shape[0] == 0:
        return np.tile(np.array(whispered(VOWELS["@"], 1.0)), (t.size, 1))
    times = knots[:, 0]
    i = np.clip(np.searchsorted(times, t) - 1, 0, times.size - 1)
    j = np.minimum(i + 1, times.size - 1)
    span = np.maximum(times[j] - times[i], 1e-6)
    frac = np.clip((t - times[i]) / span, 0.0, 1.0)
    w = (0.5 - 0.5 * np.cos(np.pi * frac))[:, None]
    return np.asarray(knots[i, 1:] + (knots[j, 1:] - knots[i, 1:]) * w)


def tract(tracks: NDArray[np.float64]) -> NDArray[np.float32]:
    """Return the unit-RMS tract spectrum of each frame, ``(frames, TRACT_BINS)``."""
    table = resonators()
    source, _, _ = shapes()
    index = np.rint(tracks * (1.0 / FORMANT_STEP_HZ)).astype(np.int64)
    np.clip(index, 0, table.shape[0] - 1, out=index)
    mag = table[index[:, 0]] * table[index[:, 1]]
    mag *= table[index[:, 2]]
    mag *= table[index[:, 3]]
    mag *= source
    mag *= 1.0 / np.sqrt(np.mean(mag**2, axis=1, keepdims=True))
    return mag


@shared_cache(maxsize=1)
def _ear_filters() -> tuple[NDArray[np.float32], NDArray[np.complex64]]:
    """Return the head shadow's response and the interaural delays, per synthesised bin.

    The response is that of ``spatial.head_shadow`` (two 8-frame boxes, zero phase);
    row ``d`` of the delays is a delay of ``d`` frames, ``0 <= d <= MAX_ITD_FRAMES``.
    """
    k = np.arange(BINS)
    x = np.pi * k / FRAME_LEN
    box = np.ones(BINS)
    box[1:] = np.sin(8.0 * x[1:]) / (8.0 * np.sin(x[1:]))
    shadow = np.asarray(box**2, dtype=np.float32)
    d = np.arange(MAX_ITD_FRAMES + 1)[:, None]
    delays = np.asarray(np.exp(-2j * np.pi * d * k / FRAME_LEN), dtype=np.complex64)
    shadow.flags.writeable = False
    delays.flags.writeable = False
    return shadow, delays


def noise_frames(
    rng: np.random.Generator,
    magnitude: NDArray[np.float32],
    active: NDArray[np.int64],
    ears: tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]],
    out: NDArray[np.float32],
) -> None:
    """Add the shaped breath noise of one chunk's sounding frames to both ears.

    Like ``spectral_noise`` (``HOP``, ``OVERLAP``), but only the ``active`` frames are
    drawn and transformed (the silent ones would add nothing), and only their lowest
    bins (the ones above are silent). Each frame is placed around the head as
    ``spatial.place_moving`` places a sound (the same ear weights, head shadow and
    interaural delay), applied to the frame's spectrum: one transform per ear gives
    the voice already placed.

    Parameters
    ----------
    rng
        The chunk's generator; it is advanced.
    magnitude
        ``(len(active), bins)`` amplitude spectra of the sounding frames' lowest bins.
    active
        Ascending indices of the sounding frames among the chunk's ``CHUNK_FRAMES // HOP``.
    ears
        ``spatial.ear_weights`` of each sounding frame's azimuth.
    out
        Planar ``(2, n)`` buffer from the chunk's first frame (row 0 the left ear),
        ``n >= CHUNK_FRAMES + HOP``.

    """
    count, bins = magnitude.shape
    source = (
        random_int8(rng, count * bins * 2)
        .astype(np.float32)
        .view(np.complex64)
        .reshape(count, bins)
    )
    source *= magnitude
    direct, shadowed, delay = ears
    shadow, delays = _ear_filters()
    # The near ear hears the frame as it is, only louder; the far ear later and duller.
    rows = np.arange(count)
    near = np.argmax(direct, axis=1)
    far = 1 - near
    spectra = np.zeros((count, 2, FRAME_LEN // 2 + 1), dtype=np.complex64)
    spectra[rows, near, :bins] = source * direct[rows, near, None].astype(np.float32)
    dull = shadowed[rows, far, None].astype(np.float32) * shadow[:bins]
    dull += direct[rows, far, None].astype(np.float32)
    spectra[rows, far, :bins] = source * (dull * delays[delay[rows, far], :bins])
    frames = np.fft.irfft(spectra, n=FRAME_LEN, axis=-1).astype(np.float32, copy=False)
    frames *= _window()
    hops = out[:, : CHUNK_FRAMES + HOP].reshape(2, -1, HOP)
    heads = frames[:, :, :HOP].transpose(1, 0, 2)
    tails = frames[:, :, HOP:].transpose(1, 0, 2)
    # Each run of consecutive frames (a phrase between pauses) is added as plain slices.
    breaks = np.flatnonzero(np.diff(active) != 1) + 1
    for a, b in zip([0, *breaks.tolist()], [*breaks.tolist(), count], strict=True):
        first = int(active[a])
        hops[:, first : first + b - a] += heads[:, a:b]
        hops[:, first + 1 : first + b - a + 1, :OVERLAP] += tails[:, a:b]


type _Ears = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]


@shared_cache(maxsize=SEGMENTS_KEPT)
def _segment_ears(seed: int, segment: int, placement: Placement) -> tuple[_Ears, _Ears]:
    """Return ``ear_weights`` of a segment's noise frames and of its plan's bursts.

    The voice is where the layer's motion puts it, with a slow lean of its own.
    """
    times, _, _, plan = _segment_frames(seed, segment)

    def ears(t: NDArray[np.float64]) -> _Ears:
        lean = wobble(t, seed=seed, salt="whispering/lean", periods=LEAN_PERIODS_S)
        return ear_weights(
            azimuth_at(placement, seed, t, salt="whispering") + LEAN_DEG * lean
        )

    return ears(times), ears(plan.bursts[:, 0])


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the whisper that starts in one chunk, placed around the head.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(CHUNK_FRAMES + TAIL_FRAMES, 2)`` stereo whispering placed around the head.

    """
    seed, index = request.seed, request.index
    out = np.zeros((2, CHUNK_FRAMES + TAIL_FRAMES), dtype=np.float32)
    segment, place = divmod(index, SEGMENT_S)
    _, all_levels, all_tracks, plan = _segment_frames(seed, segment)
    mine = slice(place * _CHUNK_HOPS, (place + 1) * _CHUNK_HOPS)
    levels, tracks = all_levels[mine], all_tracks[mine]
    active = np.flatnonzero(levels.max(axis=1) > 0.0)
    t0 = request.start_s
    in_chunk = (plan.bursts[:, 0] >= t0) & (plan.bursts[:, 0] < t0 + 1.0)
    bursts = plan.bursts[in_chunk]
    # Where the voice is at every sounding frame, and at every burst.
    at_frames, at_bursts = _segment_ears(seed, segment, request.placement)
    if active.size:
        _, air, bands = shapes()
        level = levels[active]
        level *= np.float32(GAIN)
        mag = level[:, 1:] @ bands
        mag += level[:, :1] * air
        tracted = np.flatnonzero(level[:, 0] > 0.0)
        shaped = tract(tracks[active[tracted]])
        mag[tracted, :TRACT_BINS] += shaped * level[tracted, :1]
        rng = chunk_rng(seed, "whispering/noise", index)
        rows = mine.start + active
        ears = (at_frames[0][rows], at_frames[1][rows], at_frames[2][rows])
        noise_frames(rng, mag, active, ears, out)
    if bursts.size:
        # Placed as ``spatial.place`` places a grain, from the cached dull copies.
        bank, dull = burst_bank(), dull_bursts()
        direct, shadowed, delay = (w[in_chunk] for w in at_bursts)
        for i, (time, kind, variant, level) in enumerate(bursts):
            at = round((time - t0) * SAMPLE_RATE)
            grain, low = bank[int(kind), int(variant)], dull[int(kind), int(variant)]
            for ear in range(2):
                a = at + int(delay[i, ear])
                sound = np.float32(GAIN * level * direct[i, ear]) * grain
                if shadowed[i, ear]:
                    sound += np.float32(GAIN * level * shadowed[i, ear]) * low
                out[ear, a : a + BURST_FRAMES] += sound
    return out.T


TRIGGER = Trigger(
    id="whispering", name="Whispering", close=True, render_chunk=render_chunk
)
