"""Tests for the brushing trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.brushing import TRIGGER

from .helpers import (
    active_runs,
    centroid_hz,
    high_band_kurtosis,
    quiet_share,
    render_from,
)


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_soft_wide_and_darker_than_scratching(minute: NDArray[np.float32]) -> None:
    """Soft brushing is wide-band but weighted low: its centroid is far below a scratch."""
    centroid = centroid_hz(minute)
    assert 700.0 < centroid < 2500.0
    mono = minute.mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    for low, high in ((100.0, 500.0), (500.0, 2000.0), (2000.0, 8000.0)):
        assert power[(f >= low) & (f < high)].sum() / power.sum() > 0.05


def test_long_slow_strokes(minute: NDArray[np.float32]) -> None:
    """Strokes last from a third of a second to two seconds, about a second on average.

    A stroke ends in silence or, going back and forth, in a dip of the level where the
    brush turns; the mean stroke is the sounding time over the number of such ends.
    """
    frame = SAMPLE_RATE // 50
    count = minute.shape[0] // frame
    power = np.mean(minute[: count * frame].reshape(count, -1) ** 2, axis=1)
    level = 10.0 * np.log10(np.convolve(power, np.ones(3) / 3.0, mode="same") + 1e-20)
    active = level > level.max() - 35.0
    around = np.lib.stride_tricks.sliding_window_view(
        np.pad(level, 15, mode="edge"), 31
    )
    turn = (level == around.min(axis=1)) & (level < around.max(axis=1) - 8.0) & active
    starts = np.sum(active[1:] & ~active[:-1])
    mean_stroke = active.sum() * 0.02 / (turn.sum() + starts)
    assert 0.5 < mean_stroke < 1.6
    runs = active_runs(minute)
    assert runs.max() < 12.0  # runs of strokes end, the brush lifts now and then


def test_bristles_catch_within_a_stroke(minute: NDArray[np.float32]) -> None:
    """Bristles bend, catch and spring free: a stroke's high band swells and dips unevenly.

    Smooth noise under the stroke's bell (the earlier, ocean-like sound) gives about 4.
    """
    assert high_band_kurtosis(minute, 0.3) > 5.5


def test_quiet_between_runs(minute: NDArray[np.float32]) -> None:
    """Between runs of strokes the brush is off the surface: no steady hiss bed."""
    assert quiet_share(minute, 50.0) > 0.08


def high_band_frames(
    x: NDArray[np.float32], low_hz: float, high_hz: float, frame_s: float
) -> NDArray[np.float64]:
    """Return the mono mix band-passed to ``low_hz``-``high_hz``, cut into frames."""
    mono = x.mean(axis=1).astype(np.float64)
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    band = np.fft.irfft(
        np.where((f >= low_hz) & (f < high_hz), spectrum, 0.0), mono.size
    )
    size = int(frame_s * SAMPLE_RATE)
    return band[: band.size // size * size].reshape(-1, size)


def test_bristle_tips_crackle(minute: NDArray[np.float32]) -> None:
    """Bristle tips spring free one by one: over 20 ms the high band is a stream of clicks.

    Smooth friction noise (the earlier, whoosh-like sound) gives a kurtosis of about 3 in
    every 20 ms window; separate tiny clicks make each window heavy-tailed.
    """
    frames = high_band_frames(minute, 3000.0, 8000.0, 0.02)
    power = np.mean(frames**2, axis=1)
    inside = frames[power > power.max() * 1e-3]
    kurtosis = np.mean(inside**4, axis=1) / np.mean(inside**2, axis=1) ** 2
    assert np.median(kurtosis) > 6.0


def test_faster_strokes_sound_brighter(minute: NDArray[np.float32]) -> None:
    """The faster the brush moves, the louder and the brighter its crackle.

    Over 20 ms frames inside strokes, the level and the balance of the 3-8 kHz band
    against the 300-1500 Hz band rise together.
    """
    high = np.mean(high_band_frames(minute, 3000.0, 8000.0, 0.02) ** 2, axis=1)
    low = np.mean(high_band_frames(minute, 300.0, 1500.0, 0.02) ** 2, axis=1)
    whole = np.mean(high_band_frames(minute, 20.0, 20000.0, 0.02) ** 2, axis=1)
    inside = whole > whole.max() * 1e-3
    level = 10.0 * np.log10(whole[inside])
    tilt = 10.0 * np.log10(high[inside] / low[inside])
    assert np.corrcoef(level, tilt)[0, 1] > 0.3
