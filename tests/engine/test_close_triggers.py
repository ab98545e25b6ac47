"""Tests every close trigger shares: chunk-exact, seeded, level, no loops, movement."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from custom_components.asmr.engine.base import (
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Trigger,
)
from custom_components.asmr.engine.triggers import TRIGGERS

from .helpers import SWEEP, check_buffer, render_from, window_db

LOUDNESS_BANDS: dict[str, tuple[float, float]] = {
    "whispering": (-22.0, -18.0),
    "tapping": (-22.0, -18.5),
    "scratching": (-22.0, -18.0),
    "brushing": (-22.0, -18.0),
    "hair_brushing": (-22.0, -18.0),
    "typing": (-23.5, -20.0),
}
"""Working loudness of a minute of each trigger before calibration (LUFS); typing sits
lower to keep its keystroke peaks under 0.7."""

MOVING = ["whispering", "tapping", "scratching", "brushing", "hair_brushing"]
"""The triggers that move between the ears (typing stays in front)."""


@pytest.fixture(params=list(LOUDNESS_BANDS))
def trigger(request: pytest.FixtureRequest) -> Trigger:
    """Return each close trigger in turn."""
    return TRIGGERS[request.param]


def test_chunks_render_alone_and_join_seamlessly(trigger: Trigger) -> None:
    """A render started later (with the tails of two earlier chunks) matches from zero."""
    whole = render_from(trigger, 4, 12)
    late = render_from(trigger, 4, 8, first=4)
    np.testing.assert_array_equal(late[2 * CHUNK_FRAMES :], whole[6 * CHUNK_FRAMES :])
    buffer = trigger.render_chunk(ChunkRequest(seed=4, index=3, placement=SWEEP))
    check_buffer(buffer)


def test_seed_decides_the_audio(trigger: Trigger) -> None:
    """The same seed gives the same audio; another seed gives other audio."""
    first = render_from(trigger, 11, 6)
    np.testing.assert_array_equal(first, render_from(trigger, 11, 6))
    assert not np.allclose(first, render_from(trigger, 12, 6))


def test_level_peaks_and_finiteness(trigger: Trigger) -> None:
    """A minute sits near the working level, with bounded peaks and no NaN."""
    minute = render_from(trigger, 1, 60)
    assert np.all(np.isfinite(minute))
    assert np.max(np.abs(minute)) < 0.75
    loudness = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(
        minute.astype(np.float64)
    )
    low, high = LOUDNESS_BANDS[trigger.id]
    assert low < loudness < high


def test_never_loops(trigger: Trigger) -> None:
    """Ten-second windows of three minutes never correlate above 0.3 at any lag."""
    mono = render_from(trigger, 21, 180).mean(axis=1).astype(np.float64)
    window = 10 * SAMPLE_RATE
    size = 1 << 20
    spectra = [
        np.fft.rfft(mono[i * window : (i + 1) * window], size) for i in range(18)
    ]
    norms = [
        np.sqrt(np.sum(mono[i * window : (i + 1) * window] ** 2)) for i in range(18)
    ]
    worst = 0.0
    for i in (0, 9):
        for j in range(18):
            if i != j:
                xcorr = np.fft.irfft(spectra[i] * np.conj(spectra[j]), size)
                worst = max(worst, float(np.max(np.abs(xcorr))) / (norms[i] * norms[j]))
    assert worst < 0.3


@pytest.mark.parametrize("trigger_id", MOVING)
def test_moves_between_the_ears(trigger_id: str) -> None:
    """With a sweeping placement the level difference between the ears swings widely."""
    level = window_db(render_from(TRIGGERS[trigger_id], 1, 60), 0.5)
    active = level.max(axis=1) > level.max() - 30.0
    difference = level[active, 0] - level[active, 1]
    assert difference.max() - difference.min() > 6.0
    assert difference.min() < 0.0 < difference.max()
