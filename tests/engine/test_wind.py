"""Tests for the wind bed."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE, ChunkRequest
from custom_components.asmr.engine.dsp import frame_times
from custom_components.asmr.engine.triggers import wind
from custom_components.asmr.engine.triggers.wind import TRIGGER

from .helpers import frame_features, stitch, window_correlation


@pytest.fixture(scope="module")
def minute() -> np.ndarray:
    """Return a minute of wind."""
    return stitch(TRIGGER, seconds=60, seed=2)


def test_gusts_rise_and_fall_without_silence(minute: np.ndarray) -> None:
    """The level swings with the gusts yet never drops out."""
    rms, _, _ = frame_features(minute)
    assert rms.max() / rms.min() > 2.5
    assert rms.min() > 0.1 * rms.max()


def test_stronger_gusts_sound_brighter(minute: np.ndarray) -> None:
    """Gusts push the band up: level and spectral centroid move together."""
    rms, centroid, _ = frame_features(minute)
    assert np.corrcoef(rms, centroid)[0, 1] > 0.8
    assert centroid.min() > 200.0 and centroid.max() < 2500.0


def test_whistles_in_strong_gusts(minute: np.ndarray) -> None:
    """A narrow whistle stands out of the band now and then."""
    window = SAMPLE_RATE // 2
    n = minute.shape[0] // window
    spec = np.abs(np.fft.rfft(minute[: n * window, 0].reshape(n, window), axis=1)) ** 2
    f = np.fft.rfftfreq(window, 1.0 / SAMPLE_RATE)
    band = spec[:, (f > 550.0) & (f < 1800.0)]
    peakiness = 10 * np.log10(band.max(axis=1) / np.median(band, axis=1))
    assert peakiness.max() > 20.0
    assert np.median(peakiness) < peakiness.max() - 5.0


def test_wide_but_one_wind(minute: np.ndarray) -> None:
    """Ears get independent noise, while the gusts reach both."""
    _, _, ears = frame_features(minute)
    assert abs(np.corrcoef(minute.T)[0, 1]) < 0.1
    assert np.corrcoef(ears.T)[0, 1] > 0.6


def test_deterministic_chunks_and_no_repetition(minute: np.ndarray) -> None:
    """A chunk renders the same alone; nothing loops; no NaN; bounded peaks."""
    request = ChunkRequest(seed=2, index=9)
    assert np.array_equal(TRIGGER.render_chunk(request), TRIGGER.render_chunk(request))
    assert np.isfinite(minute).all()
    assert np.abs(minute).max() < 0.7
    assert window_correlation(minute) < 0.3


def test_no_low_booms(minute: np.ndarray) -> None:
    """Wind in the open lives in the air and the leaves: little energy below 150 Hz."""
    mono = minute.mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(mono)) ** 2
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    assert power[f < 150.0].sum() / power.sum() < 0.015
    assert power[(f >= 200.0) & (f <= 4000.0)].sum() / power.sum() > 0.75


@pytest.mark.parametrize("seed", [2, 7])
def test_a_gust_swells_within_any_five_seconds(seed: int) -> None:
    """Every five seconds hold a gust or a lull you can hear: the level moves by 4 dB."""
    audio = minute_of(seed)
    hop = SAMPLE_RATE // 4
    n = audio.shape[0] // hop
    power = np.mean(audio[: n * hop].reshape(n, hop, 2).astype(np.float64) ** 2, (1, 2))
    level = 10.0 * np.log10(power)
    span = 5 * 4  # quarter seconds in five seconds
    depth = [np.ptp(level[i : i + span]) for i in range(n - span + 1)]
    assert min(depth) > 4.0, min(depth)


def test_leaves_rustle_with_the_gusts(minute: np.ndarray) -> None:
    """The leaves (2-4 kHz) are loudest in the gusts and near silent in the lulls."""
    mono = minute.mean(axis=1).astype(np.float64)
    spec = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    leaves = np.fft.irfft(np.where((f > 2000.0) & (f < 4000.0), spec, 0.0), mono.size)
    hop = SAMPLE_RATE // 2
    n = mono.size // hop
    leaf_db = 10 * np.log10(np.mean(leaves[: n * hop].reshape(n, hop) ** 2, axis=1))
    all_db = 10 * np.log10(np.mean(mono[: n * hop].reshape(n, hop) ** 2, axis=1))
    assert np.corrcoef(leaf_db, all_db)[0, 1] > 0.8
    assert np.ptp(leaf_db) > np.ptp(all_db) + 3.0


def test_gust_grid_matches_the_gust_at_the_noise_frames() -> None:
    """The gust computed once per chunk is the gust at every noise frame, in both ears."""
    frames, _ = wind.chunk_gusts(3, 7)
    t = frame_times(7, wind.HOP)
    assert np.allclose(frames[:, 0], wind.gust(3, t))
    assert np.allclose(frames[:, 1], wind.gust(3, t - wind.CROSSING_S))


def minute_of(seed: int) -> np.ndarray:
    """Return a minute of wind of a seed."""
    return stitch(TRIGGER, seconds=60, seed=seed)
