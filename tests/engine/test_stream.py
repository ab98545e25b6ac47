"""Tests for the stream: dense bubbles over a babbling bed, with a gently varying flow."""

from __future__ import annotations

import numpy as np

from custom_components.asmr.engine.base import CHUNK_FRAMES, SAMPLE_RATE
from custom_components.asmr.engine.triggers.stream import TRIGGER

from .helpers import stitch


def test_flow_varies_gently_and_peaks_bounded() -> None:
    """The flow swells and eases by a few dB, never dries up, never peaks near clipping."""
    audio = stitch(TRIGGER, seconds=40, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7
    rms = np.sqrt(np.mean(audio.reshape(40, CHUNK_FRAMES, 2) ** 2, axis=(1, 2)))
    level_db = 20 * np.log10(rms)
    assert 0.3 < level_db.std() < 3.0
    assert level_db.max() - level_db.min() < 8.0


def test_water_band_and_babble() -> None:
    """Energy centres on the water band, and the band's content keeps moving (babble)."""
    audio = stitch(TRIGGER, seconds=10, seed=3).mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1.0 / SAMPLE_RATE)
    centroid = (power * freqs).sum() / power.sum()
    assert 700.0 < centroid < 5000.0, centroid
    assert power[freqs > 12_000].sum() / power.sum() < 0.03
    # Babble: the loudest band below 2.5 kHz changes from one 20 ms frame to the next.
    hop = 960
    frames = audio[: audio.size // hop * hop].reshape(-1, hop) * np.hanning(hop)
    spectra = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    bins = np.fft.rfftfreq(hop, 1.0 / SAMPLE_RATE)
    low = (bins > 200) & (bins < 2500)
    peak_hz = bins[low][np.argmax(spectra[:, low], axis=1)]
    assert np.std(np.log2(peak_hz)) > 0.5


def test_chunk_joins_are_seamless() -> None:
    """Where one chunk's bed hands over to the next, the level neither dips nor jumps."""
    audio = stitch(TRIGGER, seconds=30, seed=8).astype(np.float64)
    hop = 480  # 10 ms
    frames = audio[: audio.size // 2 // hop * hop].reshape(-1, hop, 2)
    level = 10 * np.log10(np.mean(frames**2, axis=(1, 2)))
    per_chunk = CHUNK_FRAMES // hop
    at_joins = level[per_chunk::per_chunk]
    around = np.concatenate([level[per_chunk // 2 :: per_chunk]])
    assert abs(at_joins.mean() - around.mean()) < 1.0
    jumps = np.abs(np.diff(level))
    assert jumps[per_chunk - 1 :: per_chunk].mean() < 2.0 * jumps.mean()
