"""Coloured noise beds: wide, decorrelated noise whose spectrum falls as a power of f."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .base import ChunkRequest, Trigger, chunk_rng
from .cache import shared_cache
from .dsp import rfft_freqs, spectral_noise


@shared_cache(maxsize=8)
def _magnitude(
    exponent: float, frame_len: int, rms: float, low_cut_hz: float
) -> NDArray[np.float32]:
    """Return the amplitude spectrum ``f**exponent``, rolled off below ``low_cut_hz``."""
    f = rfft_freqs(frame_len).astype(np.float64)
    f[0] = 1.0
    mag = f**exponent * (f / low_cut_hz) ** 2 / (1.0 + (f / low_cut_hz) ** 2)
    mag[0] = 0.0
    mag *= rms / np.sqrt(np.mean(mag**2))
    return mag.astype(np.float32)


def coloured_noise(
    *,
    trigger_id: str,
    name: str,
    exponent: float,
    hop: int,
    overlap: int,
    rms: float,
    low_cut_hz: float,
) -> Trigger:
    """Return a noise-bed trigger.

    Parameters
    ----------
    trigger_id, name
        The trigger's id and name.
    exponent
        Slope of the amplitude spectrum: -0.5 for pink (-3 dB/octave in power), -1.0
        for brown (-6 dB/octave).
    hop
        Frame hop of the spectral synthesis, in frames (long frames resolve a steep
        low end: ``hop + overlap`` frames give bins ``SAMPLE_RATE / (hop + overlap)``
        apart).
    overlap
        Frames over which neighbouring frames cross-fade. The frames are independent
        noise and the fades power-complementary, so a short one (a quarter of the hop)
        is not heard, and its transforms cost about 0.6 of those of a full overlap.
    rms
        Per-channel RMS at the working level (about -20 LUFS).
    low_cut_hz
        Below this the spectrum rolls off (second order), keeping the bed free of rumble.

    """

    def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
        """Render the noise frames that start in one chunk (placement is ignored)."""
        rng = chunk_rng(request.seed, trigger_id, request.index)
        magnitude = _magnitude(exponent, hop + overlap, rms, low_cut_hz)
        return spectral_noise(rng, magnitude, hop=hop, overlap=overlap)

    return Trigger(id=trigger_id, name=name, close=False, render_chunk=render_chunk)
