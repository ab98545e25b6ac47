"""Tests for the scratching trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.scratching import TRIGGER

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


def test_the_nail_turns_without_lifting(minute: NDArray[np.float32]) -> None:
    """Back and forth, the nail stays on the surface: the turns are brief dips.

    Inside a bout the only near-silences are the instants where the nail reverses
    (speed falls to nothing): 5 ms frames 40 dB under the loud ones come in runs of
    15-20 ms there. A hand that lifted between strokes (the earlier sound, gaps of
    15-45 ms on top of the stroke's own fade) left runs of 35 ms: a string of separate
    slaps rather than one rasp.
    """
    frame = SAMPLE_RATE // 200
    power = (minute.astype(np.float64) ** 2).mean(axis=1)
    count = power.size // frame
    db = 10.0 * np.log10(
        power[: count * frame].reshape(count, frame).mean(axis=1) + 1e-20
    )
    quiet = (db < np.percentile(db, 95) - 40.0).astype(np.int64)
    edges = np.diff(np.concatenate([[0], quiet, [0]]))
    runs_ms = (np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)) * 5.0
    turns = runs_ms[runs_ms < 90.0]
    assert turns.size > 200
    assert np.median(turns) < 25.0
