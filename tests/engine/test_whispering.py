"""Tests for the whispering trigger."""

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
