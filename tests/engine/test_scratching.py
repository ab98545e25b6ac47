"""Tests for the scratching trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.scratching import TRIGGER

from .helpers import active_runs, centroid_hz, render_from


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_bright_surface_noise_that_follows_the_stroke(
    minute: NDArray[np.float32],
) -> None:
    """Nail scratches are bright, and faster (louder) moments are brighter."""
    assert 2500.0 < centroid_hz(minute) < 8000.0
    mono = minute.mean(axis=1).astype(np.float64)
    size = 960
    frames = mono[: mono.size // size * size].reshape(-1, size)
    power = np.abs(np.fft.rfft(frames * np.hanning(size))) ** 2
    f = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)
    total = power.sum(axis=1)
    loud = total > total.max() * 1e-3
    centroid = (power[loud] @ f) / total[loud]
    assert np.corrcoef(np.log(total[loud]), centroid)[0, 1] > 0.2


def test_quick_strokes_in_bouts(minute: NDArray[np.float32]) -> None:
    """Strokes are short (a fraction of a second) and come in bouts with pauses."""
    runs = active_runs(minute, 0.01)
    assert 0.08 < np.median(runs) < 0.5
    assert runs.size > 90
