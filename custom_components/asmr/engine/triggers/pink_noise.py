"""Pink noise bed: power falling 3 dB per octave, independent left and right channels."""

from __future__ import annotations

from ..beds import coloured_noise

TRIGGER = coloured_noise(
    trigger_id="pink_noise",
    name="Pink noise",
    exponent=-0.5,
    hop=3000,
    overlap=750,
    rms=0.056,
    low_cut_hz=12.0,
)
