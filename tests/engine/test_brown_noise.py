"""Tests for the brown noise bed."""

from __future__ import annotations

import numpy as np

from custom_components.asmr.engine.base import CHUNK_FRAMES, ChunkRequest
from custom_components.asmr.engine.triggers.brown_noise import TRIGGER

from .helpers import octave_slope, stitch, window_correlation


def test_spectrum_slope() -> None:
    """Brown noise is 6 dB of power lost per octave between 50 Hz and 10 kHz."""
    audio = stitch(TRIGGER, seconds=20)
    slope = octave_slope(audio)
    assert abs(slope - (-6.0)) <= 0.3, slope


def test_channels_are_decorrelated_and_steady() -> None:
    """Left and right are independent noises of equal, steady level."""
    audio = stitch(TRIGGER, seconds=10)
    assert abs(np.corrcoef(audio.T)[0, 1]) < 0.05
    rms = np.sqrt(
        np.mean(audio[: 9 * CHUNK_FRAMES].reshape(9, CHUNK_FRAMES, 2) ** 2, axis=1)
    )
    assert rms.max() / rms.min() < 1.3  # a second of brown noise holds few low cycles
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7


def test_nothing_repeats() -> None:
    """Ten-second windows of a long render do not resemble each other."""
    audio = stitch(TRIGGER, seconds=60)
    assert window_correlation(audio) < 0.3


def test_chunk_starts_without_a_click() -> None:
    """A chunk's noise fades in from silence, so chunk edges never click."""
    chunk = TRIGGER.render_chunk(ChunkRequest(seed=1, index=0))
    assert np.abs(chunk[:8]).max() < 0.01 * np.abs(chunk).max()
