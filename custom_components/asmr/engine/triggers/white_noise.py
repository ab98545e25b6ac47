"""White noise bed: flat spectrum, independent left and right channels."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..dsp import rfft_freqs, spectral_noise

HOP = 3000
"""Frame hop of the spectral synthesis, in frames."""

OVERLAP = 750
"""Frames neighbouring frames cross-fade over (see ``beds.coloured_noise``)."""

RMS = 0.044
"""Per-channel RMS of the bed at its working level (about -20 LUFS)."""


@shared_cache(maxsize=1)
def _magnitude() -> NDArray[np.float32]:
    """Return the flat magnitude, with only DC removed."""
    mag = np.full(rfft_freqs(HOP + OVERLAP).shape, RMS, dtype=np.float32)
    mag[0] = 0.0
    return mag


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the white noise that starts in one chunk.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the bed stays wide).

    Returns
    -------
    NDArray[np.float32]
        ``(CHUNK_FRAMES + HOP, 2)`` decorrelated stereo noise: the chunk and the fading
        end of its last frame.

    """
    rng = chunk_rng(request.seed, "white_noise", request.index)
    return spectral_noise(rng, _magnitude(), hop=HOP, overlap=OVERLAP)


TRIGGER = Trigger(
    id="white_noise", name="White noise", close=False, render_chunk=render_chunk
)
