"""Tests for fire crackling: a soft roar, sparse sharp crackles and a quiet hiss."""

from __future__ import annotations

import numpy as np

from custom_components.asmr.engine.base import CHUNK_FRAMES, SAMPLE_RATE
from custom_components.asmr.engine.triggers import fire_crackling
from custom_components.asmr.engine.triggers.fire_crackling import TRIGGER

from .helpers import stitch


def _band(audio: np.ndarray, low: float, high: float) -> np.ndarray:
    """Return the mono mix band-limited between two frequencies (brick-wall FFT filter)."""
    mono = audio.mean(axis=1).astype(np.float64)
    spec = np.fft.rfft(mono)
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    spec[(freqs < low) | (freqs > high)] = 0.0
    return np.fft.irfft(spec, mono.size)


def test_level_is_steady_and_peaks_bounded() -> None:
    """The fire holds its working level and its loudest pops stay well below clipping."""
    audio = stitch(TRIGGER, seconds=40, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7
    rms = np.sqrt(np.mean(audio.reshape(8, 5 * CHUNK_FRAMES, 2) ** 2, axis=(1, 2)))
    level_db = 20 * np.log10(rms)
    assert level_db.max() - level_db.min() < 4.0


def test_low_roar_and_impulsive_crackles() -> None:
    """Below 300 Hz a steady roar carries the body; above 1.5 kHz crackles are impulsive."""
    audio = stitch(TRIGGER, seconds=20, seed=4)
    mono = audio.mean(axis=1).astype(np.float64)
    low = _band(audio, 20.0, 300.0)
    assert np.sum(low**2) / np.sum(mono**2) > 0.3
    high = _band(audio, 1500.0, 16000.0)
    kurtosis = np.mean(high**4) / np.mean(high**2) ** 2
    assert kurtosis > 8.0, kurtosis  # Gaussian noise would give 3


def test_roar_flickers() -> None:
    """The roar's level licks up and down from one tenth of a second to the next."""
    low = _band(stitch(TRIGGER, seconds=20, seed=6), 20.0, 300.0)
    hop = SAMPLE_RATE // 10
    rms_db = 10 * np.log10(
        np.mean(low[: low.size // hop * hop].reshape(-1, hop) ** 2, axis=1)
    )
    assert np.std(np.diff(rms_db)) > 0.8


def test_crackles_come_in_bursts_with_heavy_tailed_sizes() -> None:
    """Crackles cluster in time (bursty gaps) and their sizes follow a heavy tail."""
    rng = np.random.default_rng(0)
    starts, sizes, pans = [], [], []
    for _ in range(200):
        s, z, p = fire_crackling.crackle_events(rng, 1.0)
        starts.append(np.sort(s))
        sizes.append(z)
        pans.append(p)
    gaps = np.concatenate([np.diff(s) for s in starts])
    assert gaps.std() / gaps.mean() > 1.2  # a Poisson stream would give 1
    size = np.concatenate(sizes)
    assert np.percentile(size, 99) > 2.5 * np.median(size)
    pan = np.concatenate(pans)
    assert pan.min() < -0.8 and pan.max() > 0.8


def _frame_db(x: np.ndarray, frames: int) -> np.ndarray:
    """Return the level of consecutive ``frames``-long frames of a mono signal, in dB."""
    n = x.size // frames
    level = np.mean(x[: n * frames].reshape(n, frames) ** 2, 1)
    return np.asarray(10.0 * np.log10(level + 1e-20))


def test_crackles_are_sparse_and_sharp() -> None:
    """Crackles jump out of a quiet floor, a handful a second, and hold the bright energy.

    A dense hiss with ringing drops reads as rain: there, few events rise 20 dB above
    what came just before, and the bright band's energy is spread over time.
    """
    audio = stitch(TRIGGER, seconds=20, seed=4)
    high = _band(audio, 2000.0, 16000.0)
    level = _frame_db(high, SAMPLE_RATE // 400)  # 2.5 ms frames
    before = np.minimum.reduce([np.roll(level, k) for k in range(2, 8)])
    rise = (level - before > 20.0) & (level > np.percentile(level, 99.5) - 30.0)
    onsets_per_s = np.count_nonzero(rise[1:] & ~rise[:-1]) / 20.0
    assert 5.0 < onsets_per_s < 15.0, onsets_per_s
    # The loudest 5 % of the 2.5 ms frames hold most of the bright energy.
    power = np.sort(10.0 ** (level / 10.0))[::-1]
    assert power[: power.size // 20].sum() / power.sum() > 0.8
    # Crest factor of the bright band, second by second.
    seconds = high[: 20 * SAMPLE_RATE].reshape(20, SAMPLE_RATE)
    crest_db = 20.0 * np.log10(
        np.abs(seconds).max(axis=1) / np.sqrt(np.mean(seconds**2, axis=1))
    )
    assert np.median(crest_db) > 29.0, crest_db


def test_hiss_bed_stays_quiet() -> None:
    """Between the crackles the bright band is a faint hiss: present, never dense.

    The typical 10 ms of the band above 2 kHz sits well under the band's mean level
    (which the crackles carry), yet above silence.
    """
    audio = stitch(TRIGGER, seconds=20, seed=8)
    high = _band(audio, 2000.0, 16000.0)
    floor_db = np.median(_frame_db(high, SAMPLE_RATE // 100))
    high_db = 10.0 * np.log10(np.mean(high**2))
    assert high_db - 20.0 < floor_db < high_db - 8.0, (floor_db, high_db)
