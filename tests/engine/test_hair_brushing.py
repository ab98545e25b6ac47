"""Tests for the hair brushing trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.hair_brushing import TRIGGER

from .helpers import active_runs, centroid_hz, render_from


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_dense_bristle_clicks_over_a_swish(minute: NDArray[np.float32]) -> None:
    """The sound is bright and crackly: the high band is spiky, not smooth noise."""
    assert 2500.0 < centroid_hz(minute) < 8000.0
    mono = minute.mean(axis=1).astype(np.float64)
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    high = np.fft.irfft(
        np.where((f > 4000.0) & (f < 14000.0), spectrum, 0.0), mono.size
    )
    active = np.abs(high) > 0.0
    samples = high[active]
    kurtosis = np.mean(samples**4) / np.mean(samples**2) ** 2
    assert kurtosis > 6.0  # Gaussian noise gives 3; clicks make it heavy-tailed


def test_strokes_with_lifts_between(minute: NDArray[np.float32]) -> None:
    """Strokes of about a second are separated by the brush lifting off."""
    runs = active_runs(minute)
    strokes = runs[runs > 0.2]
    assert strokes.size > 25
    assert 0.4 < np.median(strokes) < 1.6
    silent = 1.0 - runs.sum() / 60.0
    assert 0.15 < silent < 0.6
