"""Tests for the pink noise bed."""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from custom_components.asmr.engine.base import CHUNK_FRAMES, SAMPLE_RATE
from custom_components.asmr.engine.triggers.pink_noise import TRIGGER

from .helpers import octave_slope, stitch, window_correlation


def test_spectrum_falls_3_db_per_octave() -> None:
    """Pink noise loses 3 dB of power per octave between 50 Hz and 10 kHz."""
    audio = stitch(TRIGGER, seconds=20)
    slope = octave_slope(audio)
    assert abs(slope + 3.0) <= 0.2, slope


def test_channels_are_decorrelated_and_steady() -> None:
    """Left and right are independent noises of equal, steady level."""
    audio = stitch(TRIGGER, seconds=10)
    assert abs(np.corrcoef(audio.T)[0, 1]) < 0.05
    rms = np.sqrt(
        np.mean(audio[: 9 * CHUNK_FRAMES].reshape(9, CHUNK_FRAMES, 2) ** 2, axis=1)
    )
    assert rms.max() / rms.min() < 1.1
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7


def test_nothing_repeats() -> None:
    """Ten-second windows of a long render do not resemble each other."""
    audio = stitch(TRIGGER, seconds=60)
    assert window_correlation(audio) < 0.3


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
