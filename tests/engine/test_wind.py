"""Tests for the wind bed."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE, ChunkRequest
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
