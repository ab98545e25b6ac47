"""Whispering: soft, wordless whispered speech moving from ear to ear.

A whisper is breath noise shaped by the vocal tract, with no voicing. Each sound is read
from a cached table of one shared white noise filtered by a whispered vowel's formants
(F1-F4, broad bandwidths, whispered values sit above voiced ones) or by a fricative's
band (s, sh, f); because every table starts from the same noise (its peaks shaved the
same way as the gesture textures'), reading them at the same position and cross-fading
morphs the filter, as a moving tongue does. Syllables are
consonant-vowel(-consonant) shapes (fricatives, plosive bursts after a short closure,
aspirated h, diphthong glides) with their own stress and length; they group into phrases
of a couple of seconds that fall in level, separated by pauses and now and then a soft
in-breath. Each phrase leans to its own side and follows the layer's motion.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng
from ..dsp import raised_cosine
from ..gestures import low_crest_noise
from ..spatial import MAX_ITD_FRAMES, place_moving_at

TABLE_FRAMES = 1 << 17
"""Length of each cached noise table (2.7 s; read circularly)."""

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

MAX_PHRASE_S = 2.1
"""Longest phrase, in seconds (a phrase must end inside its chunk's buffer)."""

GAIN = 0.12
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

VOWELS: dict[str, tuple[float, float, float, float]] = {
    # Whispered formants F1-F4 in Hz (whispered F1 sits well above the voiced one).
    "i": (420.0, 2450.0, 3250.0, 4200.0),
    "I": (560.0, 2150.0, 3000.0, 4100.0),
    "e": (700.0, 2000.0, 2900.0, 4000.0),
    "ae": (950.0, 1850.0, 2800.0, 4000.0),
    "a": (1000.0, 1450.0, 2800.0, 3900.0),
    "o": (780.0, 1150.0, 2750.0, 3800.0),
    "U": (620.0, 1350.0, 2800.0, 3900.0),
    "u": (470.0, 1150.0, 2700.0, 3800.0),
    "V": (850.0, 1550.0, 2850.0, 3950.0),
    "@": (650.0, 1650.0, 2800.0, 3900.0),
}
"""Whispered vowel formant table."""

FRICATIVES: dict[str, tuple[tuple[float, float, float], ...]] = {
    # (centre Hz, half-width Hz, amplitude) peaks of each noise band
    "s": ((7200.0, 2200.0, 1.0), (10500.0, 2500.0, 0.5)),
    "sh": ((3300.0, 900.0, 1.0), (5200.0, 1800.0, 0.6)),
    "f": ((3000.0, 6000.0, 0.6), (9000.0, 4000.0, 0.4)),
    "breath": ((700.0, 500.0, 1.0), (1700.0, 900.0, 0.6), (3000.0, 1500.0, 0.25)),
}
"""Fricative and breath noise bands."""

ONSETS = ("", "s", "sh", "f", "h", "t", "k", "p")
ONSET_P = (0.18, 0.2, 0.1, 0.1, 0.14, 0.12, 0.1, 0.06)
CODAS = ("", "s", "sh", "f", "t")
CODA_P = (0.62, 0.16, 0.07, 0.05, 0.1)
LEVEL = {"s": 0.55, "sh": 0.6, "f": 0.3, "h": 0.35, "breath": 0.16}
"""Level of each consonant relative to a vowel."""

Timeline = tuple[NDArray[np.float64], ...]
# table, start, frames, gain, attack, release, read offset into the table
Piece = tuple[str, int, int, float, int, int, int]


@lru_cache(maxsize=1)
def tables() -> dict[str, NDArray[np.float32]]:
    """Return the cached, unit-RMS noise tables of every vowel and fricative.

    Returns
    -------
    dict
        Name to ``(TABLE_FRAMES,)`` float32 read-only table; all filter the same noise.

    """
    rng = chunk_rng(0, "whispering-tables", 0)
    white = np.fft.rfft(rng.standard_normal(TABLE_FRAMES))
    f = np.fft.rfftfreq(TABLE_FRAMES, 1.0 / SAMPLE_RATE)
    # Breath noise: gently rising to about 2 kHz, falling above 5 kHz; no rumble.
    source = (f / 2000.0) / (1.0 + (f / 2000.0) ** 2) ** 0.5 / (1.0 + (f / 7000.0) ** 2)
    source /= 1.0 + (120.0 / np.maximum(f, 1.0)) ** 2
    shapes: dict[str, NDArray[np.float64]] = {}
    for name, formants in VOWELS.items():
        mag = np.full_like(f, 0.02)
        for k, (centre, amp, width) in enumerate(
            zip(
                formants,
                (1.0, 0.75, 0.45, 0.25),
                (260.0, 300.0, 400.0, 550.0),
                strict=True,
            )
        ):
            bw = width * (1.0 + 0.1 * k)
            mag += amp / (1.0 + ((f - centre) / (0.5 * bw)) ** 2)
        shapes[name] = mag * source
    for name, peaks in FRICATIVES.items():
        mag = np.zeros_like(f)
        for centre, half, amp in peaks:
            mag += amp / (1.0 + ((f - centre) / half) ** 2)
        shapes[name] = mag / (1.0 + (300.0 / np.maximum(f, 1.0)) ** 4)
    out: dict[str, NDArray[np.float32]] = {}
    for name, mag in shapes.items():
        table = low_crest_noise(mag, white)
        table.flags.writeable = False
        out[name] = table
    return out


@lru_cache(maxsize=4)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return one segment's phrases: start (s), length (s), breath (0/1), spot (deg)."""
    rng = chunk_rng(seed, "whispering/segment", segment)
    phrases = 8
    length = rng.uniform(0.9, MAX_PHRASE_S, phrases)
    pause = rng.uniform(0.3, 0.85, phrases)
    breath = rng.uniform(0.0, 1.0, phrases) < 0.35
    pause += np.where(breath, 0.45, 0.0)
    start = SEGMENT_S * segment + np.concatenate(
        [[0.05], np.cumsum(length + pause)[:-1]]
    )
    spot = rng.normal(0.0, 12.0, phrases)
    # Whatever would still sound when the next segment begins is left out.
    keep = start + length + 0.15 < SEGMENT_S * (segment + 1)
    return start[keep], length[keep], breath[keep].astype(np.float64), spot[keep]


def _plan(rng: np.random.Generator, frames: int, breath: bool) -> list[Piece]:
    """Return the pieces of one phrase (syllables, then an optional breath before it).

    The pieces of a syllable read their tables at one shared offset (so the filter
    morphs smoothly from sound to sound); every syllable draws a fresh offset, so no
    stretch of the tables comes back recognisably.
    """
    ms = SAMPLE_RATE // 1000
    pieces: list[Piece] = []
    vowels = tuple(VOWELS)
    pos = 0
    if breath:
        n = int(rng.uniform(0.28, 0.45) * SAMPLE_RATE)
        read = int(rng.integers(TABLE_FRAMES))
        pieces.append(("breath", 0, n, LEVEL["breath"], n // 2, n // 2, read))
        pos = n + int(rng.uniform(0.08, 0.2) * SAMPLE_RATE)
    tempo = rng.uniform(0.85, 1.2)  # some phrases are hurried, some drawn out
    while pos < frames - 180 * ms:
        read = int(rng.integers(TABLE_FRAMES))
        stress = rng.uniform(0.55, 1.0) * (1.0 - 0.3 * pos / frames)
        onset = str(rng.choice(ONSETS, p=ONSET_P))
        vowel = vowels[int(rng.integers(len(vowels)))]
        if onset in {"t", "k", "p"}:
            pos += int(rng.uniform(25, 55)) * ms  # closure
            burst = {"t": "s", "k": "sh", "p": "f"}[onset]
            n = int(rng.uniform(8, 18)) * ms
            pieces.append((burst, pos, n, 0.7 * stress, ms, n // 2, read))
            pos += n - 2 * ms
            onset = "h"
        if onset:
            n = int(
                tempo * (rng.uniform(45, 110) if onset != "h" else rng.uniform(25, 50))
            )
            n *= ms
            table = vowel if onset == "h" else onset
            gain = LEVEL[onset] * stress
            pieces.append((table, pos, n + 20 * ms, gain, 12 * ms, 20 * ms, read))
            pos += n
        n = int(rng.uniform(90, 190) * (0.8 + 0.5 * stress) * tempo) * ms
        if rng.uniform() < 0.3:
            glide = vowels[int(rng.integers(len(vowels)))]
            half = n // 2
            pieces.append((vowel, pos, half + 25 * ms, stress, 18 * ms, 25 * ms, read))
            pieces.append(
                (glide, pos + half, n - half, stress * 0.9, 25 * ms, 45 * ms, read)
            )
        else:
            pieces.append((vowel, pos, n, stress, 18 * ms, 45 * ms, read))
        pos += n - 20 * ms
        coda = str(rng.choice(CODAS, p=CODA_P))
        if coda == "t":
            pos += int(rng.uniform(30, 50)) * ms
            pieces.append(("s", pos, 10 * ms, 0.5 * stress, ms, 5 * ms, read))
            pos += 10 * ms
        elif coda:
            n = int(rng.uniform(60, 140)) * ms
            gain = LEVEL[coda] * stress
            pieces.append((coda, pos, n, gain, 15 * ms, 30 * ms, read))
            pos += n
        # Syllables run together inside a word; words part with short breaks.
        gap = rng.uniform(-15, 10) if rng.uniform() < 0.7 else rng.uniform(40, 120)
        pos += int(gap) * ms
    return pieces


def _render_phrase(
    rng: np.random.Generator, frames: int, breath: bool
) -> NDArray[np.float32]:
    """Return one phrase, mono, ``frames`` long (pieces past the end are cut)."""
    noise = tables()
    out = np.zeros(frames, dtype=np.float32)
    for name, start, n, gain, attack, release, read in _plan(rng, frames, breath):
        n = min(n, frames - start)
        if n <= 0:
            continue
        first = (read + start) % TABLE_FRAMES
        table = noise[name]
        if first + n <= TABLE_FRAMES:
            seg = table[first : first + n] * np.float32(gain)
        else:
            seg = np.concatenate([table[first:], table[: first + n - TABLE_FRAMES]])
            seg *= np.float32(gain)
        a = max(1, min(attack, n // 2))
        r = max(1, min(release, n - a))
        seg[:a] *= raised_cosine(a)
        seg[n - r :] *= raised_cosine(r, rising=False)
        out[start : start + n] += seg
    return out


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the whispered phrases that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` stereo whispering placed around the head.

    """
    t0 = request.start_s
    segment = request.index // SEGMENT_S
    start, length, breath, spot = _timeline(request.seed, segment)
    out = np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    for i in np.flatnonzero((start >= t0) & (start < t0 + 1.0)):
        rng = chunk_rng(request.seed, "whispering/phrase", segment * 64 + int(i))
        offset = round((start[i] - t0) * SAMPLE_RATE)
        frames = min(
            round(length[i] * SAMPLE_RATE), BUFFER_FRAMES - offset - MAX_ITD_FRAMES
        )
        mono = _render_phrase(rng, frames, bool(breath[i]))
        stereo = place_moving_at(
            mono,
            request.placement,
            request.seed,
            start[i],
            salt="whispering",
            offset_deg=float(spot[i]),
        )
        out[offset : offset + frames] += stereo * np.float32(GAIN)
    return out


TRIGGER = Trigger(
    id="whispering", name="Whispering", close=True, render_chunk=render_chunk
)
