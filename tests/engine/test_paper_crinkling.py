"""Tests for paper crinkling: Houle-Sethna crackling in crumpling gestures."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE, Placement
from custom_components.asmr.engine.triggers import paper_crinkling
from custom_components.asmr.engine.triggers.paper_crinkling import TRIGGER

from .helpers import stitch, window_correlation


def _frame_rms_db(audio: np.ndarray, hop: int) -> np.ndarray:
    """Return the mono level of consecutive frames of ``hop`` frames, in dB."""
    mono = audio.mean(axis=1).astype(np.float64)
    frames = mono[: mono.size // hop * hop].reshape(-1, hop)
    return np.asarray(
        10 * np.log10(np.mean(frames**2, axis=1) + 1e-20), dtype=np.float64
    )


def test_gestures_with_pauses_and_no_long_silence() -> None:
    """Crumpling comes in gestures of a second or more with pauses, never a long silence."""
    audio = stitch(TRIGGER, seconds=60, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.75
    level = _frame_rms_db(audio, SAMPLE_RATE // 10)
    active = level > level.max() - 30.0
    assert 0.35 < active.mean() < 0.9
    # Runs of silence: present, but none longer than ten seconds.
    edges = np.flatnonzero(np.diff(np.concatenate([[1], active.astype(int), [1]])))
    quiet_runs = (edges[1::2] - edges[::2]) / 10.0
    assert quiet_runs.size >= 3
    assert quiet_runs.max() < 10.0
    loud_runs = np.diff(
        np.flatnonzero(np.diff(np.concatenate([[0], active.astype(int), [0]])))
    )[::2]
    assert np.median(loud_runs) / 10.0 >= 0.8


def test_nothing_repeats() -> None:
    """Ten-second windows of a minute of crumpling do not resemble each other."""
    assert window_correlation(stitch(TRIGGER, seconds=60, seed=5)) < 0.3


def test_crackling_is_impulsive_and_broadband() -> None:
    """While the hands work, the sound is a crackle of clicks, not a smooth noise."""
    audio = stitch(TRIGGER, seconds=20, seed=4).mean(axis=1).astype(np.float64)
    hop = SAMPLE_RATE // 10
    frames = audio[: audio.size // hop * hop].reshape(-1, hop)
    busy = frames[np.mean(frames**2, axis=1) > 0.3 * np.mean(frames**2)]
    kurtosis = np.mean(busy**4) / np.mean(busy**2) ** 2
    assert kurtosis > 6.0, kurtosis
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1.0 / SAMPLE_RATE)
    assert power[(freqs > 1000) & (freqs < 16_000)].sum() / power.sum() > 0.6


def test_avalanche_energies_follow_the_power_law() -> None:
    """Avalanche energies are spread over a power law with the configured exponent."""
    energies = paper_crinkling.avalanche_energies(np.random.default_rng(0), 200_000)
    assert energies.min() >= 1.0
    assert energies.max() <= paper_crinkling.ENERGY_RANGE
    edges = np.geomspace(1.0, paper_crinkling.ENERGY_RANGE / 2, 12)
    counts, _ = np.histogram(energies, edges)
    density = counts / np.diff(edges)
    centres = np.sqrt(edges[:-1] * edges[1:])
    slope = np.polyfit(np.log(centres), np.log(density), 1)[0]
    assert slope == pytest.approx(-paper_crinkling.ENERGY_EXPONENT, abs=0.1)


def test_follows_its_placement() -> None:
    """Placed to the right, the crackles are louder in the right ear."""
    audio = stitch(
        TRIGGER, seconds=10, seed=1, placement=Placement(azimuth=60.0)
    ).astype(np.float64)
    left, right = np.sqrt(np.mean(audio**2, axis=0))
    assert 20 * np.log10(right / left) > 3.0
