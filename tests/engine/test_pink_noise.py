"""Tests for the pink noise bed."""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.pink_noise import TRIGGER

from .helpers import octave_slope, stitch


def test_spectrum_falls_3_db_per_octave() -> None:
    """Pink noise loses 3 dB of power per octave between 50 Hz and 10 kHz."""
    audio = stitch(TRIGGER, seconds=20)
    slope = octave_slope(audio)
    assert abs(slope + 3.0) <= 0.2, slope


def test_welch_reference_matches() -> None:
    """The spectrum has no bumps: within 1.5 dB of the fitted line at every octave."""
    audio = stitch(TRIGGER, seconds=20)
    f, p = welch(audio[:, 0], SAMPLE_RATE, nperseg=8192)
    keep = (f >= 50) & (f <= 10_000)
    fit = np.polyfit(np.log2(f[keep]), 10 * np.log10(p[keep]), 1)
    centres = 50.0 * 2.0 ** np.arange(8)
    for centre in centres:
        band = (f >= centre / 1.2) & (f <= centre * 1.2)
        level = 10 * np.log10(p[band].mean())
        assert abs(level - np.polyval(fit, np.log2(centre))) < 1.5, centre
