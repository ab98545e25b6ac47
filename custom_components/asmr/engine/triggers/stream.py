"""Stream: a brook of many small van den Doel bubbles over a babbling bed.

Running water is mostly bubbles: a dense texture of small ones (radii 0.35-1.5 mm, a
couple of thousand a second) forms the bright fizz, a babbling bed (noise through a few
resonant bands whose centres hop around 250-2500 Hz every few tens of milliseconds)
forms the gurgle, and a sparser foreground of larger bubbles, each placed on its own
across the stereo field, gives the plinks and blops. The flow swells gently and slowly.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Trigger,
    chunk_rng,
)
from ..cache import shared_cache
from ..events import (
    BANK_FRAMES,
    CONTROL_HOP,
    GrainSet,
    band,
    bed_segment,
    bubbles,
    control_times,
    grain_set,
    poisson_times,
    ramp,
    scatter_events,
    shaped_noise,
    texture,
    with_wrap,
    wobble,
)

BUBBLES_PER_S = 90.0
"""Foreground bubbles per second at middle flow."""

FIZZ_PER_S = 2200.0
"""Small bubbles per second in the fizz texture."""

_SALT = "stream"
_LEVEL = 0.97
_BED_GAIN = 0.05 * _LEVEL
_BUBBLE_GAIN = 0.08 * _LEVEL


@shared_cache(maxsize=1)
def _bubbles() -> dict[str, GrainSet]:
    """Build the bubble sets once: small ones for the fizz, larger ones for the foreground."""
    rng = np.random.default_rng(0x57EA)
    small = 10.0 ** rng.uniform(np.log10(0.35e-3), np.log10(1.5e-3), 256)
    large = 10.0 ** (np.log10(0.5e-3) + np.log10(3.2 / 0.5) * rng.random(384) ** 1.3)
    return {
        "small": grain_set(list(bubbles(small, 2048, rng)), floor_db=-40.0),
        "large": grain_set(list(bubbles(large, 4096, rng)), floor_db=-32.0),
    }


def _babble(frames: int, seed: int) -> NDArray[np.float32]:
    """Return circular babbling noise: resonant bands hopping about, one STFT frame each."""
    rng = np.random.default_rng(seed)
    hop = 256
    size = 2 * hop
    n_frames = frames // hop
    freqs = np.asarray(np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE), dtype=np.float64)
    log_f = np.log2(np.maximum(freqs, 1.0))
    # Centres hop every 3-12 frames (16-64 ms) and glide a little in between.
    mag = np.zeros((n_frames, freqs.size))
    for _ in range(3):
        hold = rng.integers(3, 12, n_frames)
        changes = np.cumsum(hold)
        idx = np.searchsorted(changes, np.arange(n_frames), side="right")
        centres = np.log2(250.0) + (np.log2(2500.0) - np.log2(250.0)) * rng.random(
            idx.max() + 1
        )
        glide = rng.uniform(-0.4, 0.6, idx.max() + 1)
        local = (np.arange(n_frames) - np.concatenate([[0], changes])[idx]) / hold[idx]
        centre = centres[idx] + glide[idx] * local
        level = rng.uniform(0.3, 1.0, idx.max() + 1)[idx]
        width = rng.uniform(0.12, 0.3, idx.max() + 1)[idx]
        mag += level[:, None] * np.exp(
            -0.5 * ((log_f[None, :] - centre[:, None]) / width[:, None]) ** 2
        )
    mag += 0.04 * band(freqs, low_hz=200.0, high_hz=6000.0)[None, :]
    spectra = rng.standard_normal(mag.shape) + 1j * rng.standard_normal(mag.shape)
    grains = np.fft.irfft(spectra * mag, size, axis=1)
    window = np.sin(np.pi * (np.arange(size) + 0.5) / size)
    grains *= window
    out = np.zeros(frames + size)
    for half in range(2):
        part = grains[:, half * hop : (half + 1) * hop]
        out[half * hop : half * hop + n_frames * hop] += part.reshape(-1)
    out[:size] += out[frames : frames + size]
    y = out[:frames]
    y -= y.mean()
    return np.asarray(y / np.sqrt(np.mean(y * y)), dtype=np.float32)


@shared_cache(maxsize=1)
def _bed() -> NDArray[np.float32]:
    """Build the stream's bed once: babble, fizz of small bubbles and a low wash."""
    sets = _bubbles()
    fizz = texture([(sets["small"], FIZZ_PER_S, 1.0)], seed=32)[:BANK_FRAMES]
    wash = shaped_noise(
        BANK_FRAMES,
        lambda f: band(f, low_hz=80.0, high_hz=700.0, tilt_db_per_octave=-3.0),
        seed=33,
    )
    mix = 1.0 * _babble(BANK_FRAMES, 31) + 0.55 * fizz + 0.35 * wash
    return with_wrap((mix / np.sqrt(np.mean(mix * mix))).astype(np.float32))


def _flow(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the flow (rate factor, about 0.7-1.4) at absolute times: slow and gentle."""
    return np.asarray(
        2.0 ** (0.5 * wobble(t, seed=seed, salt=_SALT, periods=(19.0, 8.3, 4.1)))
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render one chunk of a babbling stream.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the stream is wide).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` float32 chunk buffer.

    """
    rng = chunk_rng(request.seed, _SALT, request.index)
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    flow = _flow(request.seed, control_times(request.index))
    bed_segment(out, _bed(), rng, ramp(np.sqrt(flow) * _BED_GAIN))
    starts = poisson_times(rng, BUBBLES_PER_S * flow[: CHUNK_FRAMES // CONTROL_HOP + 1])
    n = starts.size
    large = _bubbles()["large"]
    scatter_events(
        out,
        large.events(
            rng.integers(0, large.size, n),
            starts,
            _BUBBLE_GAIN * np.exp(rng.normal(0.0, 0.45, n)).clip(0.3, 2.0),
            rng.uniform(-1.0, 1.0, n),
        ),
    )
    return out.T


TRIGGER = Trigger(id="stream", name="Stream", close=False, render_chunk=render_chunk)
