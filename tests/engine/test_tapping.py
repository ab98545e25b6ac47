"""Tests for the tapping trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import BUFFER_FRAMES, CHUNK_FRAMES, SAMPLE_RATE
from custom_components.asmr.engine.impacts import ROOM_SPAN, struck_frames
from custom_components.asmr.engine.render import warm_up
from custom_components.asmr.engine.spatial import MAX_ITD_FRAMES, place_events
from custom_components.asmr.engine.triggers.tapping import (
    MATERIALS,
    OBJECTS,
    TRIGGER,
    grain_bank,
    object_taps,
)

from .helpers import centroid_hz, onsets_s, render_from


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def decay_tonality_db(
    x: NDArray[np.float32], *, start_s: float = 0.03, stop_s: float = 0.15
) -> NDArray[np.float64]:
    """Return how tonal the decay after each isolated onset is, in dB.

    For every onset with no other onset from 50 ms before it to ``stop_s`` after it,
    the spectrum of ``start_s .. stop_s`` after the onset is compared with its own
    running median (+-200 Hz): the energy of the bins standing 10 times above it (a
    partial still ringing) is given relative to the energy of the first ``start_s``
    (the strike itself). A tap or keystroke that dies as noise scores far below -30 dB,
    a ringing bell near 0 dB.
    """
    mono = x.mean(axis=1).astype(np.float64)
    onsets = onsets_s(x)
    a, b = int(start_s * SAMPLE_RATE), int(stop_s * SAMPLE_RATE)
    window = np.hanning(b - a)
    f = np.fft.rfftfreq(b - a, 1.0 / SAMPLE_RATE)
    audible = (f > 100.0) & (f < 16000.0)
    lead = 48  # onsets are found on a 2.5 ms grid: start the strike a little early
    scores = []
    for i, t in enumerate(onsets):
        after = onsets[i + 1] - t if i + 1 < onsets.size else np.inf
        before = t - onsets[i - 1] if i else np.inf
        s = int(t * SAMPLE_RATE) - lead
        if after < stop_s + 0.01 or before < 0.05 or s < 0 or s + b > mono.size:
            continue
        strike = np.sum(mono[s : s + a + lead] ** 2)
        power = np.abs(np.fft.rfft(mono[s + a + lead : s + b + lead] * window)) ** 2
        power /= np.sum(window**2)
        padded = np.pad(power, 25, mode="edge")
        local = np.median(np.lib.stride_tricks.sliding_window_view(padded, 51), axis=1)
        peaks = (power > 10.0 * local) & audible
        tonal = np.sum(np.where(peaks, power - local, 0.0))
        scores.append(10.0 * np.log10(tonal / strike + 1e-12))
    return np.asarray(scores)


def test_taps_do_not_ring(minute: NDArray[np.float32]) -> None:
    """Taps die away as noise: no partial is left ringing 30-150 ms after a strike."""
    tonality = decay_tonality_db(minute)
    assert tonality.size >= 30
    assert np.median(tonality) < -30.0
    assert np.percentile(tonality, 90) < -24.0
    assert 400.0 < centroid_hz(minute) < 4000.0


def test_tap_grains_are_short() -> None:
    """Every tap, glass included, has spent 99 % of its energy within 60 ms."""
    for grains in grain_bank().values():
        for grain in grains:
            energy = np.cumsum(grain.astype(np.float64) ** 2)
            assert (
                energy[min(int(0.06 * SAMPLE_RATE), grain.size) - 1] > 0.99 * energy[-1]
            )


def test_materials_differ() -> None:
    """Glass sounds brighter than plastic, and plastic brighter than wood."""

    def centroid(grain: NDArray[np.float32]) -> float:
        power = np.abs(np.fft.rfft(grain, 16384)) ** 2
        f = np.fft.rfftfreq(16384, 1.0 / SAMPLE_RATE)
        return float(np.sum(f * power) / np.sum(power))

    banks = grain_bank()
    wood, plastic, glass = (
        np.median([centroid(g) for g in banks[name]])
        for name in ("wood", "plastic", "glass")
    )
    assert wood < plastic < glass


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


def test_warm_up_builds_every_material() -> None:
    """Warming tapping up builds every object, not only those its first chunk strikes."""
    object_taps.cache_clear()
    warm_up(["tapping"])
    assert object_taps.cache_info().currsize == len(MATERIALS) * OBJECTS


def test_a_chunk_of_taps_rings_as_long_as_its_last_sound() -> None:
    """The buffer holds the room's tails, a long sound struck late, and no more."""
    ones = np.ones(100, dtype=np.float32)
    starts = np.array([0, CHUNK_FRAMES - 1], dtype=np.int64)
    assert struck_frames([ones, ones], starts) == ROOM_SPAN
    long = np.ones(30_000, dtype=np.float32)
    late = CHUNK_FRAMES - 1 + long.size + MAX_ITD_FRAMES
    assert struck_frames([ones, long], starts) == late
    # Struck at the far left, the long sound reaches the right ear last, still whole.
    azimuths = np.array([90.0, -90.0])
    out = place_events(late, [ones, long], starts, np.ones(2), azimuths)
    wide = place_events(BUFFER_FRAMES, [ones, long], starts, np.ones(2), azimuths)
    np.testing.assert_array_equal(wide[:late], out)
    assert not wide[late:].any()
    endless = np.ones(3 * CHUNK_FRAMES, dtype=np.float32)
    assert struck_frames([endless], starts[:1]) == BUFFER_FRAMES
