"""Ocean waves bed: slow swells that build, break into surf hiss and wash back out.

Wave ``k`` arrives near ``k * PERIOD_S`` (jittered), with its own height, rise and wash
times and side; all are hashed from ``(seed, k)``, so the sea is a pure function of
absolute time. Each frame's spectrum mixes a low swell rumble, the breaking surf (broad,
bright hiss) and the receding wash whose top end fades as it drains, over a faint distant
surf that never stops. The ears get independent noise and each wave its own side: wide.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger, chunk_rng
from ..cache import shared_cache
from ..dsp import frame_times, hash_uniform, rfft_freqs, spectral_noise

HOP = 1920
"""Frame hop of the spectral synthesis, in frames (frames are 80 ms)."""

PERIOD_S = 8.0
"""Mean time between waves, in seconds."""

BRIGHT_LEVELS = 64
"""Steps of brightness in the precomputed surf spectra."""

_GAIN = 0.075
_RUMBLE = 0.45  # share of the swell's low rumble
_DISTANT = 0.3  # share of the faint surf that never stops
_LOOK_BACK = 3  # waves ring for up to three periods


def _shape(f: NDArray[np.float64], shape: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return ``shape`` scaled to unit mean square along its last axis."""
    return np.asarray(shape / np.sqrt(np.mean(shape**2, axis=-1, keepdims=True)))


@shared_cache(maxsize=1)
def _spectra() -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Return the rumble (bins,), surf (BRIGHT_LEVELS, bins) and distant-bed (bins,) spectra.

    Each is scaled by its share of the mix and the bed's working level.
    """
    f = np.maximum(rfft_freqs(2 * HOP).astype(np.float64), 1.0)
    highpass = (f / 25.0) ** 2 / (1.0 + (f / 25.0) ** 2)
    rumble = _shape(f, highpass / (1.0 + (f / 180.0) ** 2))
    cutoff = 900.0 * 8.0 ** np.linspace(0.0, 1.0, BRIGHT_LEVELS)[:, None]  # 0.9-7.2 kHz
    surf = _shape(f, highpass * f**-0.4 / (1.0 + (f / cutoff) ** 2))
    distant = _shape(f, highpass * f**-0.8 / (1.0 + (f / 1500.0) ** 2))
    return (
        (rumble * _GAIN * _RUMBLE).astype(np.float32),
        (surf * _GAIN).astype(np.float32),
        (distant * _GAIN * _DISTANT).astype(np.float32),
    )


def _waves(seed: int, t: NDArray[np.float64]) -> tuple[NDArray[np.float64], ...]:
    """Return per-frame, per-ear rumble level, surf level and surf brightness in [0, 1].

    ``t`` has shape ``(frames,)``; the results have shape ``(frames, 2)``.
    """
    first = int(np.floor(t[0] / PERIOD_S)) - _LOOK_BACK
    k = np.arange(first, int(np.floor(t[-1] / PERIOD_S)) + 2)
    u = [
        hash_uniform(seed, f"ocean:{name}", k)
        for name in ("at", "h", "rise", "wash", "side")
    ]
    arrive = (k + 0.45 * (u[0] - 0.5)) * PERIOD_S
    height = 0.8 + 0.2 * u[1]
    rise = 2.5 + 1.2 * u[2]
    wash = 4.5 + 1.5 * u[3]
    side = 1.2 * (u[4] - 0.5)  # -0.6 (left) .. 0.6 (right)
    tau = t[:, None] - arrive[None, :]  # (frames, waves); the wave breaks at tau = rise
    building = np.clip(tau / rise, 0.0, 1.0)
    after = np.maximum(tau - rise, 0.0)
    broken = tau > rise
    swell = np.where(broken, np.exp(-after / (0.6 * wash)), building**2) * height
    ramp = np.clip(after / 0.9, 0.0, 1.0)
    attack = ramp * ramp * (3.0 - 2.0 * ramp)
    surf = np.where(broken, attack * np.exp(-after / wash), 0.1 * building**3) * height
    bright = np.where(
        broken, (0.3 + 0.7 * attack) * np.exp(-after / (0.45 * wash)), 0.3 * building
    )
    ears = np.stack(
        [np.sqrt(0.5 - 0.5 * side), np.sqrt(0.5 + 0.5 * side)], axis=-1
    ) * np.sqrt(2.0)
    swell_lr = np.einsum("fw,wc->fc", swell, ears)
    surf_lr = np.einsum("fw,wc->fc", surf, ears)
    weight = surf[:, :, None] * ears[None, :, :] + 1e-9
    bright_lr = np.einsum("fw,fwc->fc", bright, weight) / weight.sum(axis=1)
    return swell_lr, surf_lr, np.clip(bright_lr, 0.0, 1.0)


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the sea that starts in one chunk.

    Parameters
    ----------
    request
        Seed and chunk index (placement is ignored: the bed stays wide).

    Returns
    -------
    NDArray[np.float32]
        ``(CHUNK_FRAMES + HOP, 2)`` decorrelated stereo waves.

    """
    t = frame_times(request.index, HOP)
    swell, surf, bright = _waves(request.seed, t)
    rumble_mag, surf_mag, distant_mag = _spectra()
    rows = np.rint(bright * (BRIGHT_LEVELS - 1)).astype(np.intp)
    mag = surf_mag[rows]  # a fresh (frames, 2, bins) array
    mag *= surf[:, :, None].astype(np.float32)
    mag += rumble_mag * swell[:, :, None].astype(np.float32)
    mag += distant_mag
    rng = chunk_rng(request.seed, "ocean_waves", request.index)
    return spectral_noise(rng, mag, hop=HOP)


TRIGGER = Trigger(
    id="ocean_waves", name="Ocean waves", close=False, render_chunk=render_chunk
)
