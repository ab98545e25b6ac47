"""Tests for the hair brushing trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.hair_brushing import TRIGGER

from .helpers import (
    active_runs,
    centroid_hz,
    high_band_kurtosis,
    quiet_share,
    render_from,
    smoothed,
)


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
    """Strokes of about a second are separated by the brush lifting off.

    The level is smoothed over 100 ms so that the grip and release of clumps of hair
    inside a stroke do not split it.
    """
    runs = active_runs(smoothed(minute, 0.1))
    strokes = runs[runs > 0.2]
    assert strokes.size > 25
    assert 0.4 < np.median(strokes) < 1.6
    silent = 1.0 - runs.sum() / 60.0
    assert 0.15 < silent < 0.6


def test_strands_catch_and_release_within_a_stroke(minute: NDArray[np.float32]) -> None:
    """Within a stroke the bristles grip and free strands: the high band is grainy.

    The earlier sound (a smooth swish with a spray of tiny clicks) gave about 3.2.
    """
    assert high_band_kurtosis(minute, 0.1) > 5.0


def test_silent_lifts(minute: NDArray[np.float32]) -> None:
    """The brush lifts off the hair between strokes: silence, not a hiss bed."""
    assert quiet_share(minute, 50.0) > 0.2


def test_strands_snap_free_one_by_one(minute: NDArray[np.float32]) -> None:
    """Strands snap free of the bristles one by one: over 20 ms the high band is clicks.

    A smooth swish (the earlier sound) gives a kurtosis of about 3.5 in each 20 ms window
    inside a stroke; a stream of separate strand clicks makes each window heavy-tailed.
    """
    mono = minute.mean(axis=1).astype(np.float64)
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    band = np.fft.irfft(
        np.where((f >= 3000.0) & (f < 8000.0), spectrum, 0.0), mono.size
    )
    size = SAMPLE_RATE // 50
    frames = band[: band.size // size * size].reshape(-1, size)
    power = np.mean(frames**2, axis=1)
    inside = frames[power > power.max() * 1e-3]
    kurtosis = np.mean(inside**4, axis=1) / np.mean(inside**2, axis=1) ** 2
    assert np.median(kurtosis) > 6.0
