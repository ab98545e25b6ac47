"""Tests of the stroke triggers' shared noise tables."""

from __future__ import annotations

import numpy as np

from custom_components.asmr.engine.base import BUFFER_FRAMES, SAMPLE_RATE
from custom_components.asmr.engine.gestures import TABLE_FRAMES, noise_table
from custom_components.asmr.engine.spatial import MAX_ITD_FRAMES


def test_a_table_outlasts_the_longest_read_of_a_chunk() -> None:
    """A chunk's strokes read at most a buffer (less the head's delay) from one table."""
    assert TABLE_FRAMES > BUFFER_FRAMES - MAX_ITD_FRAMES


def test_noise_tables_keep_their_band_with_their_peaks_shaved() -> None:
    """A table has unit RMS, peaks far below Gaussian noise's, and its band's spectrum."""
    table = noise_table(800.0, 4000.0, -1.0, "test-band")
    assert table.shape == (TABLE_FRAMES,)
    assert table.dtype == np.float32
    assert not table.flags.writeable
    assert abs(np.sqrt(np.mean(table.astype(np.float64) ** 2)) - 1.0) < 1e-3
    # Gaussian noise this long peaks near 4.4 times its RMS; the shaved table lower.
    assert np.max(np.abs(table)) < 3.5
    power = np.abs(np.fft.rfft(table.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(TABLE_FRAMES, 1.0 / SAMPLE_RATE)
    inside = power[(freqs > 1000.0) & (freqs < 3000.0)].mean()
    below = power[(freqs > 50.0) & (freqs < 150.0)].mean()
    above = power[(freqs > 15000.0) & (freqs < 20000.0)].mean()
    assert inside > 30.0 * below
    assert inside > 10.0 * above
