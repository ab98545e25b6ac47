"""Shared helpers of the engine tests: stitching chunks, spectra, repetition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.signal import welch

from custom_components.asmr.engine.base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Placement,
    Trigger,
)


def check_buffer(buffer: NDArray[np.float32]) -> None:
    """Assert that a chunk buffer is what the mixer takes.

    Float32 stereo, at least a chunk long and no longer than a chunk and its tails.
    """
    assert buffer.dtype == np.float32
    assert buffer.ndim == 2
    assert buffer.shape[1] == 2
    assert CHUNK_FRAMES <= buffer.shape[0] <= BUFFER_FRAMES


def add_buffer(
    out: NDArray[np.float32], index: int, buffer: NDArray[np.float32]
) -> None:
    """Add chunk ``index``'s buffer into ``out`` at its first frame, as the mixer does."""
    check_buffer(buffer)
    at = index * CHUNK_FRAMES
    out[at : at + buffer.shape[0]] += buffer


def stitch(
    trigger: Trigger, *, seconds: int, seed: int = 0, placement: Placement | None = None
) -> NDArray[np.float32]:
    """Overlap-add a trigger's chunks into ``seconds`` of audio, shape (frames, 2)."""
    frames = seconds * CHUNK_FRAMES
    out = np.zeros((frames + BUFFER_FRAMES, 2), dtype=np.float32)
    for index in range(seconds):
        request = ChunkRequest(
            seed=seed, index=index, placement=placement or Placement()
        )
        add_buffer(out, index, trigger.render_chunk(request))
    return out[:frames]


def octave_slope(
    audio: NDArray[np.float32], low: float = 50.0, high: float = 10_000.0
) -> float:
    """Return the Welch spectrum's slope in dB per octave between two frequencies."""
    f, p = welch(audio.mean(axis=1), SAMPLE_RATE, nperseg=16384)
    keep = (f >= low) & (f <= high)
    # Fit over log-spaced bands so the many high bins do not outvote the low ones.
    edges = np.geomspace(low, high, 25)
    centres, levels = [], []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        band = keep & (f >= lo) & (f < hi)
        if band.any():
            centres.append(np.log2(np.sqrt(lo * hi)))
            levels.append(10 * np.log10(p[band].mean()))
    return float(np.polyfit(centres, levels, 1)[0])


def window_correlation(audio: NDArray[np.float32], seconds: int = 10) -> float:
    """Return the largest normalised cross-correlation between distinct 10 s windows."""
    mono = audio.mean(axis=1).astype(np.float64)
    size = seconds * SAMPLE_RATE
    windows = [mono[i : i + size] for i in range(0, mono.shape[0] - size + 1, size)]
    worst = 0.0
    n_fft = 2 * size
    specs = [np.fft.rfft(w - w.mean(), n_fft) for w in windows]
    norms = [float(np.linalg.norm(w - w.mean())) for w in windows]
    for i in range(len(windows)):
        for j in range(i + 1, len(windows)):
            xc = np.fft.irfft(specs[i] * np.conj(specs[j]), n_fft)
            worst = max(worst, float(np.abs(xc).max() / (norms[i] * norms[j] + 1e-12)))
    return worst


def frame_features(
    audio: NDArray[np.float32], window: int = SAMPLE_RATE // 2
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Return per-window RMS (both ears), spectral centroid (Hz) and per-ear RMS (n, 2)."""
    n = audio.shape[0] // window
    frames = audio[: n * window].reshape(n, window, 2).astype(np.float64)
    rms = np.sqrt((frames**2).mean(axis=(1, 2)))
    spec = np.abs(np.fft.rfft(frames.mean(axis=2), axis=1)) ** 2
    f = np.fft.rfftfreq(window, 1.0 / SAMPLE_RATE)
    centroid = (spec * f).sum(axis=1) / spec.sum(axis=1)
    ears = np.sqrt((frames**2).mean(axis=1))
    return rms, centroid, ears


SWEEP = Placement(azimuth=0.0, sweep=75.0, period_s=8.0)
"""A placement that sweeps a close trigger from ear to ear every eight seconds."""


def render_from(
    trigger: Trigger,
    seed: int,
    seconds: int,
    *,
    placement: Placement = SWEEP,
    first: int = 0,
) -> NDArray[np.float32]:
    """Overlap-add chunk buffers from chunk ``first`` as the mixer does (tails included)."""
    out = np.zeros(((seconds + 2) * CHUNK_FRAMES, 2), dtype=np.float32)
    for k in range(seconds):
        request = ChunkRequest(seed=seed, index=first + k, placement=placement)
        add_buffer(out, k, trigger.render_chunk(request))
    return out[: seconds * CHUNK_FRAMES]


def window_db(x: NDArray[np.float32], seconds: float) -> NDArray[np.float64]:
    """Return the per-ear level of consecutive windows, shape ``(windows, 2)`` in dB."""
    frames = int(seconds * SAMPLE_RATE)
    count = x.shape[0] // frames
    power = np.mean(x[: count * frames].reshape(count, frames, 2) ** 2, axis=1)
    return np.asarray(10.0 * np.log10(power + 1e-20))


def centroid_hz(x: NDArray[np.float32]) -> float:
    """Return the spectral centroid of a signal's mono mix, in Hz."""
    mono = x.mean(axis=1)
    frames = mono.size // 8192
    power = np.mean(
        np.abs(np.fft.rfft(mono[: frames * 8192].reshape(frames, 8192))) ** 2, 0
    )
    f = np.fft.rfftfreq(8192, 1.0 / SAMPLE_RATE)
    return float(np.sum(f * power) / np.sum(power))


def active_runs(x: NDArray[np.float32], frame_s: float = 0.02) -> NDArray[np.float64]:
    """Return the lengths in seconds of the sounding stretches (frames within 35 dB of max)."""
    frames = int(frame_s * SAMPLE_RATE)
    count = x.shape[0] // frames
    level = 10.0 * np.log10(
        np.mean(x[: count * frames].reshape(count, -1) ** 2, 1) + 1e-20
    )
    on = np.concatenate([[0], (level > level.max() - 35.0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(on))
    return np.asarray((edges[1::2] - edges[::2]) * frame_s)


def onsets_s(x: NDArray[np.float32]) -> NDArray[np.float64]:
    """Return the times of sharp level rises (taps, keystrokes), in seconds."""
    hop = SAMPLE_RATE // 400
    mono = x.mean(axis=1)
    count = mono.size // hop
    level = 10.0 * np.log10(
        np.mean(mono[: count * hop].reshape(count, hop) ** 2, 1) + 1e-12
    )
    before = np.minimum.reduce([np.roll(level, k) for k in range(2, 8)])
    rise = (level - before > 8.0) & (level > level.max() - 40.0)
    starts = np.flatnonzero(rise[1:] & ~rise[:-1]) + 1
    return np.asarray(starts * hop / SAMPLE_RATE)


def high_band_kurtosis(x: NDArray[np.float32], window_s: float) -> float:
    """Return the median kurtosis of the signal above 1 kHz in windows inside strokes.

    Windows within 20 dB of the loudest count. Smooth noise under a smooth envelope gives
    about 3; a rasp of catches and slips gives a heavy tail.
    """
    mono = x.mean(axis=1).astype(np.float64)
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    high = np.fft.irfft(np.where(f > 1000.0, spectrum, 0.0), mono.size)
    size = int(window_s * SAMPLE_RATE)
    windows = high[: high.size // size * size].reshape(-1, size)
    power = np.mean(windows**2, axis=1)
    inside = windows[power > power.max() * 0.01]
    kurtosis = np.mean(inside**4, axis=1) / np.mean(inside**2, axis=1) ** 2
    return float(np.median(kurtosis))


def smoothed(x: NDArray[np.float32], seconds: float) -> NDArray[np.float32]:
    """Return a signal whose power is the running mean of ``x``'s over ``seconds``.

    Both ears carry the square root of the smoothed mean power, so level-based helpers
    (``active_runs``) see the envelope of the strokes, not their grain.
    """
    size = int(seconds * SAMPLE_RATE)
    power = np.mean(x.astype(np.float64) ** 2, axis=1)
    total = np.concatenate([[0.0], np.cumsum(power)])
    half = size // 2
    hi = np.minimum(np.arange(power.size) + half + 1, power.size)
    lo = np.maximum(np.arange(power.size) - half, 0)
    mean = (total[hi] - total[lo]) / (hi - lo)
    level = np.sqrt(mean).astype(np.float32)
    return np.stack([level, level], axis=1)


def quiet_share(x: NDArray[np.float32], below_db: float) -> float:
    """Return the share of 20 ms frames more than ``below_db`` under the loud ones."""
    frame = SAMPLE_RATE // 50
    count = x.shape[0] // frame
    power = np.mean(x[: count * frame].reshape(count, -1) ** 2, axis=1)
    level = 10.0 * np.log10(power + 1e-20)
    return float(np.mean(level < np.percentile(level, 99) - below_db))


DYING_FFMPEG_BYTES = 1_000_000
"""Bytes of audio ``dying_ffmpeg`` encodes before it dies."""


def dying_ffmpeg(folder: Path) -> Path:
    """Write an ffmpeg that dies (exit 137, as when killed) after a megabyte of audio.

    It is the real ffmpeg otherwise, so it lists the real encoders.
    """
    fake = folder / "ffmpeg"
    fake.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *pipe:0*) head -c {DYING_FFMPEG_BYTES} | ffmpeg "$@"; exit 137;;'
        " esac\n"
        'exec ffmpeg "$@"\n'
    )
    fake.chmod(0o755)
    return fake
