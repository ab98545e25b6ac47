"""Tests for the whispering trigger: a breathy, wordless voice, pleasant to listen to."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.whispering import TRIGGER

from .helpers import active_runs, centroid_hz, render_from


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def _envelope(x: NDArray[np.float32]) -> NDArray[np.float64]:
    """Return the RMS of 5 ms windows every millisecond, relative to its 99th percentile."""
    mono = x.mean(axis=1).astype(np.float64)
    window, hop = SAMPLE_RATE // 200, SAMPLE_RATE // 1000
    count = (mono.size - window) // hop
    power = np.cumsum(np.concatenate([[0.0], mono**2]))
    starts = hop * np.arange(count)
    rms = np.sqrt((power[starts + window] - power[starts]) / window)
    return np.asarray(rms / np.percentile(rms, 99))


def _spectra(
    x: NDArray[np.float32], size: int, hop: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return the power spectra of Hann-windowed frames of the mono mix, and their bins."""
    mono = x.mean(axis=1).astype(np.float64)
    count = (mono.size - size) // hop
    frames = mono[hop * np.arange(count)[:, None] + np.arange(size)[None, :]]
    power = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2
    bins = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE).astype(np.float64)
    return power.astype(np.float64), bins


def test_breathy_not_tonal_and_in_the_speech_band(minute: NDArray[np.float32]) -> None:
    """The whisper is noise shaped by formants: no narrow peaks, energy at 0.5-8 kHz."""
    mono = minute.mean(axis=1).astype(np.float64)
    size = 8192
    segments = mono[: mono.size // size * size].reshape(-1, size) * np.hanning(size)
    power = np.mean(np.abs(np.fft.rfft(segments)) ** 2, axis=0)
    f = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)
    band = (f > 200.0) & (f < 12000.0)
    local = np.array(
        [np.median(power[max(i - 40, 0) : i + 40]) for i in np.flatnonzero(band)]
    )
    assert (
        np.max(power[band] / local) < 4.0
    )  # a tone would stand far above its neighbours
    speech = power[(f > 500.0) & (f < 8000.0)].sum() / power.sum()
    assert speech > 0.85
    assert power[f < 150.0].sum() / power.sum() < 1e-3
    assert 1500.0 < centroid_hz(minute) < 5000.0


def test_phrases_with_pauses_at_a_steady_pace(minute: NDArray[np.float32]) -> None:
    """Syllables group into phrases of a few seconds; every 10 s has speech and pauses."""
    runs = active_runs(minute)
    assert np.median(runs) < 0.6  # syllables and words, not a continuous hiss
    assert runs.max() < 2.5
    for part in range(6):
        window = minute[part * 10 * SAMPLE_RATE : (part + 1) * 10 * SAMPLE_RATE]
        active = active_runs(window).sum() / 10.0
        assert 0.3 < active < 0.9


def test_phrases_of_syllables_part_with_pauses(minute: NDArray[np.float32]) -> None:
    """Phrases of several syllables part with real pauses of a quarter second or more."""
    frame = SAMPLE_RATE // 50
    mono = minute.mean(axis=1).astype(np.float64)
    level = 10.0 * np.log10(
        np.mean(mono[: mono.size // frame * frame].reshape(-1, frame) ** 2, 1) + 1e-20
    )
    quiet = np.concatenate([[0], (level < level.max() - 25.0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(quiet))
    starts, ends = edges[::2], edges[1::2]
    long = (ends - starts) * 0.02 >= 0.25
    assert 12 <= np.sum(long) <= 40  # a pause every two to five seconds
    phrases = (starts[long][1:] - ends[long][:-1]) * 0.02  # from pause to pause
    assert np.median(phrases) > 0.8  # phrases of several syllables
    assert phrases.max() < 4.0


def test_sounds_swell_in_at_syllable_edges(minute: NDArray[np.float32]) -> None:
    """Sounds that start from silence swell in over tens of milliseconds, like a voice.

    Hard-edged noise blocks rise in a few milliseconds and click; only the brief
    plosive bursts may (and they mostly lead into a louder vowel, which sets the rise).
    """
    env = _envelope(minute)
    silent = env < 0.02
    look = 80  # ms
    rises = []
    for start in np.flatnonzero(silent[:-1] & ~silent[1:]) + 1:
        span = env[start : start + look]
        peak = span.max()
        if span.size == look and peak > 0.1:
            rises.append(np.argmax(span >= 0.9 * peak) - np.argmax(span >= 0.1 * peak))
    rise_ms = np.asarray(rises, dtype=np.float64)
    assert rise_ms.size > 60
    assert np.percentile(rise_ms, 10) >= 20.0
    assert np.mean(rise_ms < 8.0) <= 0.05


def test_formants_glide_within_vowels(minute: NDArray[np.float32]) -> None:
    """The tract moves: the vowel spectrum keeps changing instead of holding still.

    Between frames 20 ms apart the spectral envelope of the 0.3-3.5 kHz region differs
    mostly by the noise's own randomness; 80 ms apart, gliding formants add their
    change. A voice of held vowel filters shows little more change at 80 ms than at 20.
    """
    power, f = _spectra(minute, 960, 480)
    edges = np.linspace(300.0, 3500.0, 7)
    bands = np.stack(
        [
            power[:, (f >= lo) & (f < hi)].sum(1)
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ],
        axis=1,
    )
    shape = 10.0 * np.log10(bands + 1e-20)
    total = 10.0 * np.log10(power.sum(1) + 1e-20)
    vowel = (bands.sum(1) > 3.0 * power[:, f >= 4000.0].sum(1)) & (
        total > total.max() - 20.0
    )

    def change(lag: int) -> float:
        both = vowel[:-lag].copy()
        for k in range(1, lag + 1):
            both &= vowel[k : k + both.size]
        step = shape[lag:] - shape[:-lag]
        step -= step.mean(axis=1, keepdims=True)  # a change of level is no glide
        return float(np.median(np.sqrt(np.mean(step[both] ** 2, axis=1))))

    assert change(8) > 1.3 * change(2)


def test_no_hiss_above_the_voice(minute: NDArray[np.float32]) -> None:
    """Breath through the mouth carries little above 14 kHz; a hiss or edge would."""
    power, f = _spectra(minute, 480, 480)
    high = power[:, f > 14000.0].sum(1)
    voice = power[:, (f > 300.0) & (f < 8000.0)].sum(1)
    sounding = voice > voice.max() * 1e-3
    assert np.median(10.0 * np.log10(high[sounding] / voice[sounding])) < -45.0
