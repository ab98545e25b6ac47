"""Wind bed: gusting band-passed noise with a low rumble, leaf hiss and slow whistles.

A gust strength ``g(t)`` in [0, 1] (layered value noise of absolute time) drives
everything: louder gusts push the band's centre up (250 Hz in a lull, about 1 kHz in a
strong gust), bring in rumble and high leaf hiss, and, past a threshold, a narrow whistle
that glides with the gust. The right ear follows the left about 0.6 s later, as if the
wind crossed the listener, and each ear has its own noise: the bed is wide.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger, chunk_rng
from ..dsp import frame_times, rfft_freqs, spectral_noise, value_noise

HOP = 1920
"""Frame hop of the spectral synthesis, in frames (frames are 80 ms)."""

LEVELS = 128
"""Steps of the gust strength in the precomputed band shapes."""

CROSSING_S = 0.6
"""How much later the right ear hears the same gust, in seconds."""

_GAIN = 0.125


@lru_cache(maxsize=1)
def _band_table() -> NDArray[np.float32]:
    """Return the wind's amplitude spectrum at each gust level, level included.

    Shape ``(LEVELS, bins)``: row ``q`` is the band at gust strength ``q / (LEVELS - 1)``,
    scaled by that gust's loudness.
    """
    f = np.maximum(rfft_freqs(2 * HOP).astype(np.float64), 1.0)
    g = np.linspace(0.0, 1.0, LEVELS)[:, None]
    centre = 250.0 * 4.0**g
    octaves = np.log2(f / centre)
    band = np.exp(-0.5 * (octaves / 0.9) ** 2)
    rumble = (0.25 + 0.6 * g) * np.exp(-0.5 * (np.log2(f / 70.0) / 0.9) ** 2)
    hiss = 0.03 * g**2 * (f / 3000.0) ** 0.5 / (1.0 + (f / 6000.0) ** 3)
    highpass = (f / 30.0) ** 2 / (1.0 + (f / 30.0) ** 2)
    shape = (band + rumble + hiss) * highpass
    shape /= np.sqrt(np.mean(shape**2, axis=1, keepdims=True))
    shape *= _GAIN * (0.4 + 0.6 * g**2)  # stronger gusts are louder
    return np.asarray(shape, dtype=np.float32)


def _gust(seed: int, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the gust strength in [0, 1] at absolute times ``t``.

    Three slow sinusoids of unrelated periods (6 to 27 s, drawn from the seed) plus
    value-noise flutter: it never repeats, yet every minute holds several gusts and lulls,
    so the bed's loudness over a minute hardly depends on the seed.
    """
    rng = chunk_rng(seed, "wind:gust", 0)
    periods = rng.uniform((6.0, 11.0, 19.0), (9.0, 15.0, 27.0))
    phases = rng.uniform(0.0, 2.0 * np.pi, 3)
    weights = np.array([0.45, 0.35, 0.2])
    tt = np.asarray(t, dtype=np.float64)[..., None]
    swell = np.sum(weights * np.sin(2.0 * np.pi * tt / periods + phases), axis=-1)
    flutter = value_noise(t, seed=seed, salt="wind:flutter", rate_hz=0.6, octaves=2)
    return np.asarray(np.clip(0.5 + 0.55 * swell + 0.2 * flutter, 0.0, 1.0))


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the wind that starts in one chunk.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the bed stays wide).

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` decorrelated stereo wind.

    """
    seed = request.seed
    t = frame_times(request.index, HOP)
    times = np.stack([t, t - CROSSING_S], axis=1)  # (frames, 2): left, right
    gust = _gust(seed, times)
    rows = np.rint(gust * (LEVELS - 1)).astype(np.intp)
    mag = _band_table()[rows]  # (frames, 2, bins), a fresh array
    # The whistle: a narrow peak that glides with the gust once it blows hard enough.
    whistle = np.clip((gust - 0.62) * 3.0, 0.0, 1.0)
    swirl = value_noise(times, seed=seed, salt="wind:whistle", rate_hz=0.25)
    whistle *= np.clip(0.5 + swirl, 0.0, 1.0)
    hz = 620.0 + 700.0 * gust + 90.0 * swirl
    centre = np.rint(hz / rfft_freqs(2 * HOP)[1]).astype(np.intp)
    frames = np.arange(mag.shape[0])[:, None]
    ears = np.arange(2)[None, :]
    for offset, weight in ((-1, 0.5), (0, 1.0), (1, 0.5)):
        mag[frames, ears, centre + offset] += (weight * 16.0 * _GAIN * whistle).astype(
            np.float32
        )
    rng = chunk_rng(seed, "wind", request.index)
    return spectral_noise(rng, mag, hop=HOP)


TRIGGER = Trigger(id="wind", name="Wind", close=False, render_chunk=render_chunk)
