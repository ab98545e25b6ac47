"""Tests for the scratching trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.scratching import TRIGGER

from .helpers import active_runs, centroid_hz, render_from


def high_band_kurtosis(x: NDArray[np.float32], window_s: float) -> float:
    """Return the median kurtosis of the signal above 1 kHz in windows inside strokes.

    Windows within 20 dB of the loudest count. Smooth noise under a smooth envelope gives
    about 3; a rasp of catches and slips gives a heavy tail.
    """
    mono = x.mean(axis=1).astype(np.float64)
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    high = np.fft.irfft(np.where(f > 1000.0, spectrum, 0.0), mono.size)
    size = int(window_s * SAMPLE_RATE)
    windows = high[: high.size // size * size].reshape(-1, size)
    power = np.mean(windows**2, axis=1)
    inside = windows[power > power.max() * 0.01]
    kurtosis = np.mean(inside**4, axis=1) / np.mean(inside**2, axis=1) ** 2
    return float(np.median(kurtosis))


def smoothed(x: NDArray[np.float32], seconds: float) -> NDArray[np.float32]:
    """Return a signal whose power is the running mean of ``x``'s over ``seconds``.

    Both ears carry the square root of the smoothed mean power, so level-based helpers
    (``active_runs``) see the envelope of the strokes, not their grain.
    """
    size = int(seconds * SAMPLE_RATE)
    power = np.mean(x.astype(np.float64) ** 2, axis=1)
    total = np.concatenate([[0.0], np.cumsum(power)])
    half = size // 2
    hi = np.minimum(np.arange(power.size) + half + 1, power.size)
    lo = np.maximum(np.arange(power.size) - half, 0)
    mean = (total[hi] - total[lo]) / (hi - lo)
    level = np.sqrt(mean).astype(np.float32)
    return np.stack([level, level], axis=1)


def quiet_share(x: NDArray[np.float32], below_db: float) -> float:
    """Return the share of 20 ms frames more than ``below_db`` under the loud ones."""
    frame = SAMPLE_RATE // 50
    count = x.shape[0] // frame
    power = np.mean(x[: count * frame].reshape(count, -1) ** 2, axis=1)
    level = 10.0 * np.log10(power + 1e-20)
    return float(np.mean(level < np.percentile(level, 99) - below_db))


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_bright_surface_noise(minute: NDArray[np.float32]) -> None:
    """Nail scratches are bright: a nail on wood puts most of its energy at 1-4 kHz.

    The centroid sits above 1.8 kHz, well above brushing's, and little of the energy
    is below 500 Hz (no rumble).
    """
    assert 1800.0 < centroid_hz(minute) < 8000.0
    mono = minute.mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(mono)) ** 2
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    assert power[f < 500.0].sum() / power.sum() < 0.05


def test_quick_strokes_in_bouts(minute: NDArray[np.float32]) -> None:
    """Strokes are short (a fraction of a second) and come in bouts with pauses.

    The level is smoothed over 50 ms so that the nail's catches inside a stroke do not
    split it.
    """
    runs = active_runs(smoothed(minute, 0.05), 0.01)
    assert 0.08 < np.median(runs) < 0.5
    assert runs.size > 90


def test_a_grainy_rasp_not_a_smooth_hiss(minute: NDArray[np.float32]) -> None:
    """Inside a stroke the nail sticks and slips: the high band is spiky, not smooth noise.

    The earlier sound (smooth noise under a bell, about 4.6 here) read as a spray.
    """
    assert high_band_kurtosis(minute, 0.1) > 7.0


def test_silence_between_strokes(minute: NDArray[np.float32]) -> None:
    """The nail turns and the hand lifts: no steady hiss bed joins the strokes."""
    assert quiet_share(minute, 50.0) > 0.1
