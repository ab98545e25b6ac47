"""Brown noise bed: power falling 6 dB per octave, independent left and right channels."""

from __future__ import annotations

from ..beds import coloured_noise

TRIGGER = coloured_noise(
    trigger_id="brown_noise",
    name="Brown noise",
    exponent=-1.0,
    hop=8000,
    overlap=2000,
    rms=0.11,
    low_cut_hz=16.0,
)
