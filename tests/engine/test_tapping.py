"""Tests for the tapping trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.tapping import TRIGGER

from .helpers import centroid_hz, onsets_s, render_from


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_taps_ring_with_modal_partials(minute: NDArray[np.float32]) -> None:
    """Taps are resonant: the long-term spectrum has sharp modal peaks."""
    mono = minute.mean(axis=1).astype(np.float64)
    size = 8192
    segments = mono[: mono.size // size * size].reshape(-1, size) * np.hanning(size)
    power = np.mean(np.abs(np.fft.rfft(segments)) ** 2, axis=0)
    f = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)
    band = np.flatnonzero((f > 200.0) & (f < 8000.0))
    local = np.array([np.median(power[max(i - 40, 0) : i + 40]) for i in band])
    assert np.sum(power[band] / local > 10.0) >= 5
    assert 400.0 < centroid_hz(minute) < 3000.0


def test_rhythm_mixes_quick_runs_and_slow_taps(minute: NDArray[np.float32]) -> None:
    """Taps come as fast nail runs and slower single or double taps, at varied levels."""
    onsets = onsets_s(minute)
    assert 100 < onsets.size < 600
    gaps = np.diff(onsets)
    assert np.mean(gaps < 0.1) > 0.1
    assert np.mean(gaps > 0.25) > 0.2
    peaks = [
        np.max(np.abs(minute[int(t * SAMPLE_RATE) : int(t * SAMPLE_RATE) + 960]))
        for t in onsets
    ]
    assert np.std(20.0 * np.log10(peaks)) > 1.5
