"""Loudness (ITU-R BS.1770-4 integrated loudness) and 4x-oversampled true peak, in numpy.

``LOUDNESS_LUFS`` is the one level every scene and lone trigger is normalised to: quiet
enough for bedtime listening, with headroom under the -1 dBTP ceiling for transients.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from numpy.typing import NDArray

from .base import SAMPLE_RATE
from .cache import shared_cache

LOUDNESS_LUFS = -21.0
"""Integrated loudness of every scene and lone trigger, in LUFS."""

TRUE_PEAK_CEILING_DBTP = -1.0
"""Highest true peak the mixer lets through, in dBTP."""

OVERSAMPLING = 4
"""Oversampling factor of the true-peak meter."""

TP_HALF_TAPS = 12
"""Input samples either side of an interpolated point the true-peak filter looks at."""

_SHELF_B = (1.53512485958697, -2.69169618940638, 1.19839281085285)
_SHELF_A = (1.0, -1.69065929318241, 0.73248077421585)
_HIGHPASS_B = (1.0, -2.0, 1.0)
_HIGHPASS_A = (1.0, -1.99004745483398, 0.99007225036621)
_K_IR_FRAMES = 16384  # the K-filter's impulse response has decayed below 1e-12 by then
_BLOCK_FRAMES = 1 << 17
_GATE_STEP_FRAMES = SAMPLE_RATE // 10  # 100 ms: gating blocks of 400 ms overlap by 75 %
_ABSOLUTE_GATE_LUFS = -70.0  # BS.1770-4 eq. 4: blocks quieter than this are dropped
_RELATIVE_GATE_LU = -10.0  # BS.1770-4 eq. 6: and blocks 10 LU under the rest
_LOUDNESS_OFFSET_DB = -0.691  # BS.1770-4 eq. 2: K-weighted power at 1 kHz reads as LKFS


@shared_cache(maxsize=1)
def k_weighting_ir() -> NDArray[np.float64]:
    """Return the impulse response of BS.1770's K-weighting cascade at 48 kHz.

    The two biquads (high shelf, then high pass) are evaluated on a dense frequency grid;
    their response is so short-lived that the inverse FFT gives the impulse response to
    within 1e-12, and filtering by it equals running the recursions from rest.

    Returns
    -------
    NDArray[np.float64]
        ``(_K_IR_FRAMES,)`` impulse response.

    """
    n = 1 << 18
    z = np.exp(-2j * np.pi * np.fft.rfftfreq(n))

    def biquad(b: tuple[float, ...], a: tuple[float, ...]) -> NDArray[np.complex128]:
        """Return a biquad's frequency response on the grid."""
        num = b[0] + b[1] * z + b[2] * z * z
        den = a[0] + a[1] * z + a[2] * z * z
        return np.asarray(num / den)

    response = biquad(_SHELF_B, _SHELF_A) * biquad(_HIGHPASS_B, _HIGHPASS_A)
    ir = np.fft.irfft(response, n)[:_K_IR_FRAMES]
    ir.flags.writeable = False
    return ir


def _k_weighted_power(audio: NDArray[np.floating]) -> NDArray[np.float64]:
    """Return the K-weighted power of each 100 ms step, summed over channels."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    ir = k_weighting_ir()
    n = x.shape[0]
    n_fft = _BLOCK_FRAMES + _K_IR_FRAMES
    ir_spec = np.fft.rfft(ir, n_fft)[:, None]
    steps = n // _GATE_STEP_FRAMES
    power = np.zeros(steps * _GATE_STEP_FRAMES)
    tail = np.zeros((_K_IR_FRAMES, x.shape[1]))
    # Overlap-add convolution in blocks keeps memory flat for long signals.
    for begin in range(0, steps * _GATE_STEP_FRAMES, _BLOCK_FRAMES):
        block = x[begin : begin + _BLOCK_FRAMES]
        y = np.fft.irfft(np.fft.rfft(block, n_fft, axis=0) * ir_spec, n_fft, axis=0)
        y[:_K_IR_FRAMES] += tail
        tail = y[_BLOCK_FRAMES : _BLOCK_FRAMES + _K_IR_FRAMES].copy()
        m = min(block.shape[0], power.shape[0] - begin)
        power[begin : begin + m] = np.sum(y[:m] ** 2, axis=1)
    return np.asarray(power.reshape(steps, _GATE_STEP_FRAMES).mean(axis=1))


def _block_power(audio: NDArray[np.floating]) -> NDArray[np.float64]:
    """Return the K-weighted power of BS.1770's 400 ms gating blocks (75 % overlap)."""
    step_power = _k_weighted_power(audio)
    if step_power.shape[0] < 4:
        return np.zeros(0)
    return np.asarray(sliding_window_view(step_power, 4).mean(axis=1))


def _lufs(power: NDArray[np.float64] | np.float64) -> NDArray[np.float64]:
    """Return the loudness of K-weighted powers, in LUFS (``-inf`` for silence)."""
    with np.errstate(divide="ignore"):
        return np.asarray(_LOUDNESS_OFFSET_DB + 10.0 * np.log10(power))


def block_loudness(audio: NDArray[np.floating]) -> NDArray[np.float64]:
    """Return the loudness of BS.1770's 400 ms gating blocks (75 % overlap), in LUFS.

    Parameters
    ----------
    audio
        ``(frames,)`` mono or ``(frames, channels)`` 48 kHz audio.

    Returns
    -------
    NDArray[np.float64]
        One value per block, a block every 100 ms (``-inf`` for silent blocks; empty when
        the audio is shorter than 400 ms).

    """
    return _lufs(_block_power(audio))


def integrated_loudness(audio: NDArray[np.floating]) -> float:
    """Return the BS.1770-4 integrated loudness of a 48 kHz signal.

    Parameters
    ----------
    audio
        ``(frames,)`` mono or ``(frames, channels)`` audio (left/right weighted 1.0).

    Returns
    -------
    float
        Loudness in LUFS (``-inf`` when everything is gated away or shorter than 400 ms).

    """
    blocks = _block_power(audio)
    if blocks.size == 0:
        return float("-inf")
    block_lufs = _lufs(blocks)
    kept = blocks[block_lufs > _ABSOLUTE_GATE_LUFS]
    if kept.size == 0:
        return float("-inf")
    relative_gate = float(_lufs(kept.mean())) + _RELATIVE_GATE_LU
    kept = blocks[(block_lufs > _ABSOLUTE_GATE_LUFS) & (block_lufs > relative_gate)]
    if kept.size == 0:
        return float("-inf")
    return float(_lufs(kept.mean()))


@shared_cache(maxsize=1)
def true_peak_kernel() -> NDArray[np.float32]:
    """Return the polyphase interpolation kernel of the true-peak meter.

    Row ``j`` weighs input sample ``n - TP_HALF_TAPS + 1 + j``; column ``p - 1`` gives the
    value at ``n + p / OVERSAMPLING`` (p = 1..3); phase 0 is the sample itself. A
    Kaiser-windowed sinc (beta 8): flat within 0.01 dB up to 20 kHz.

    Returns
    -------
    NDArray[np.float32]
        ``(2 * TP_HALF_TAPS, OVERSAMPLING - 1)`` kernel.

    """
    j = np.arange(-TP_HALF_TAPS + 1, TP_HALF_TAPS + 1)[:, None]
    p = np.arange(1, OVERSAMPLING)[None, :] / OVERSAMPLING
    t = p - j
    window = np.kaiser(2 * TP_HALF_TAPS * OVERSAMPLING + 1, 8.0)
    centre = TP_HALF_TAPS * OVERSAMPLING
    w = window[np.rint(centre + t * OVERSAMPLING).astype(int)]
    kernel: NDArray[np.float32] = (np.sinc(t) * w).astype(np.float32)
    kernel /= kernel.sum(axis=0, keepdims=True)
    kernel.flags.writeable = False
    return kernel


def oversampled_peaks(padded: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the largest absolute interpolated value around each sample.

    Parameters
    ----------
    padded
        ``(frames + 2 * TP_HALF_TAPS - 1, ...)`` mono signals (any trailing batch axes
        go first: shape ``(..., frames + 2 * TP_HALF_TAPS - 1)``) holding
        ``TP_HALF_TAPS - 1`` samples of context before and ``TP_HALF_TAPS`` after.

    Returns
    -------
    NDArray[np.float32]
        ``(..., frames)``: max over the sample and its interpolated points up to the next.

    """
    windows = sliding_window_view(padded, 2 * TP_HALF_TAPS, axis=-1)
    inter = np.abs(windows @ true_peak_kernel()).max(axis=-1)
    own = np.abs(padded[..., TP_HALF_TAPS - 1 : TP_HALF_TAPS - 1 + inter.shape[-1]])
    return np.asarray(np.maximum(inter, own), dtype=np.float32)


def true_peak(audio: NDArray[np.floating]) -> float:
    """Return the 4x-oversampled true peak of a signal (linear, max over channels).

    Parameters
    ----------
    audio
        ``(frames,)`` or ``(frames, channels)`` audio.

    Returns
    -------
    float
        The true peak as a linear amplitude (``true_peak_db`` gives dBTP).

    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 1:
        x = x[:, None]
    peak = 0.0
    block = 1 << 16
    for begin in range(0, x.shape[0], block):
        lo = max(0, begin - TP_HALF_TAPS + 1)
        hi = min(x.shape[0], begin + block + TP_HALF_TAPS)
        seg = x[lo:hi].T
        seg = np.pad(
            seg,
            (
                (0, 0),
                (TP_HALF_TAPS - 1 - (begin - lo), begin + block + TP_HALF_TAPS - hi),
            ),
        )
        peak = max(peak, float(oversampled_peaks(seg).max()))
    return peak


def true_peak_db(audio: NDArray[np.floating]) -> float:
    """Return the 4x-oversampled true peak of a signal in dBTP."""
    peak = true_peak(audio)
    return float("-inf") if peak == 0.0 else float(20.0 * np.log10(peak))


def measure(blocks: Iterable[NDArray[np.float32]]) -> tuple[float, float]:
    """Return ``(integrated loudness in LUFS, true peak in dBTP)`` of a stream of blocks."""
    audio = np.concatenate(list(blocks))
    return integrated_loudness(audio), true_peak_db(audio)
