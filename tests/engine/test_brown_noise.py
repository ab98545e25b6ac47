"""Tests for the brown noise bed."""

from __future__ import annotations

from custom_components.asmr.engine.triggers.brown_noise import TRIGGER

from .helpers import octave_slope, stitch


def test_spectrum_slope() -> None:
    """Brown noise is 6 dB of power lost per octave between 50 Hz and 10 kHz."""
    audio = stitch(TRIGGER, seconds=20)
    slope = octave_slope(audio)
    assert abs(slope - (-6.0)) <= 0.3, slope
