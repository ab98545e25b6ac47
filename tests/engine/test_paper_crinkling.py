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


def _runs(flags: np.ndarray) -> np.ndarray:
    """Return the lengths of the runs of True in a boolean array."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(int), [0]])))
    return np.asarray(edges[1::2] - edges[::2])


def _band_share(audio: np.ndarray, low: float, high: float) -> float:
    """Return the share of the mono power between two frequencies."""
    mono = audio.mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    return float(power[(freqs >= low) & (freqs < high)].sum() / power.sum())


def test_gestures_swell_and_lull_but_never_fall_silent() -> None:
    """Crumpling comes in gestures of a second or more with lulls between, never silence."""
    audio = stitch(TRIGGER, seconds=60, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.75
    level = _frame_rms_db(audio, SAMPLE_RATE // 4)
    squeezing = level > np.percentile(level, 95) - 12.0
    assert 0.35 < squeezing.mean() < 0.85
    # Lulls between the gestures: several a minute, each short.
    lulls = _runs(~squeezing) / 4.0
    assert lulls.size >= 8
    assert lulls.max() < 4.0
    assert np.median(_runs(squeezing)) / 4.0 >= 0.75
    # The hands never stop long enough for the paper to fall silent.
    assert np.mean(level < level.max() - 35.0) < 0.05


def test_crackle_is_a_dense_stream_of_small_clicks() -> None:
    """While the hands work, crisp clicks stand out of their surroundings 100+ times a second."""
    mono = stitch(TRIGGER, seconds=30, seed=4).mean(axis=1).astype(np.float64)
    hop = 24  # 0.5 ms
    energy = np.mean(mono[: mono.size // hop * hop].reshape(-1, hop) ** 2, axis=1)
    around = np.median(
        np.lib.stride_tricks.sliding_window_view(np.pad(energy, 100, mode="edge"), 200),
        axis=1,
    )[: energy.size]
    clicks = (
        (energy[1:-1] > energy[:-2])
        & (energy[1:-1] >= energy[2:])
        & (energy[1:-1] > 8.0 * around[1:-1])
    )
    assert clicks.sum() / 30.0 > 100.0


def test_energy_is_high_and_no_click_booms() -> None:
    """The crackle lives at 1-8 kHz; the loudest moments carry no low thump."""
    audio = stitch(TRIGGER, seconds=30, seed=2)
    assert _band_share(audio, 0.0, 1000.0) < 0.02
    assert _band_share(audio, 1000.0, 8000.0) > 0.6
    mono = audio.mean(axis=1).astype(np.float64)
    # The 40 loudest moments, at least 0.1 s apart: their energy below 300 Hz.
    picked: list[int] = []
    for i in np.argsort(-np.abs(mono)):
        if all(abs(int(i) - p) > SAMPLE_RATE // 10 for p in picked):
            picked.append(int(i))
        if len(picked) == 40:
            break
    freqs = np.fft.rfftfreq(8192, 1.0 / SAMPLE_RATE)
    for p in picked:
        segment = mono[max(0, p - 480) : p + 1920]
        power = np.abs(np.fft.rfft(segment * np.hanning(segment.size), 8192)) ** 2
        assert power[freqs < 300.0].sum() < 0.01 * power.sum()


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
