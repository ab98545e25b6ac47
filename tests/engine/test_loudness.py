"""Tests for loudness metering and the calibration of every trigger and scene."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from custom_components.asmr.engine import calibration
from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.loudness import (
    LOUDNESS_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    integrated_loudness,
    measure,
    true_peak,
)
from custom_components.asmr.engine.render import render
from custom_components.asmr.engine.scenes import SCENES, trigger_scene
from custom_components.asmr.engine.triggers import TRIGGER_IDS, TRIGGERS

SECONDS = 30


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integrated_loudness_matches_pyloudnorm(seed: int) -> None:
    """Our BS.1770-4 meter agrees with pyloudnorm within 0.1 LU, gating included."""
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal((SAMPLE_RATE * 12, 2)) * rng.uniform(0.01, 0.3)
    audio[: SAMPLE_RATE * 3] *= 0.003  # gated away (absolute and relative gates)
    audio[SAMPLE_RATE * 6 : SAMPLE_RATE * 7] *= 3.0
    t = np.arange(audio.shape[0]) / SAMPLE_RATE
    audio[:, 1] += 0.2 * np.sin(
        2 * np.pi * 60.0 * t
    )  # low end that K-weighting discounts
    ours = integrated_loudness(audio)
    reference = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio)
    assert abs(ours - reference) < 0.1


def test_true_peak_sees_between_samples() -> None:
    """A quarter-rate sine sampled at 45 degrees peaks 3 dB above its samples."""
    n = np.arange(SAMPLE_RATE)
    sine = np.sin(2 * np.pi * n / 4 + np.pi / 4)
    assert np.abs(sine).max() == pytest.approx(np.sqrt(0.5), abs=1e-6)
    assert true_peak(sine[1000:-1000]) == pytest.approx(1.0, abs=0.02)


def test_calibration_table_is_complete() -> None:
    """The table was measured at the target for every trigger and every scene."""
    assert calibration.TARGET_LUFS == LOUDNESS_LUFS
    assert -23.0 <= LOUDNESS_LUFS <= -16.0
    assert set(calibration.TRIGGER_GAIN_DB) == set(TRIGGER_IDS)
    assert set(calibration.SCENE_GAIN_DB) == set(SCENES)


@pytest.mark.parametrize("trigger_id", list(TRIGGERS))
def test_every_lone_trigger_lands_on_target(trigger_id: str) -> None:
    """A lone trigger renders within 1 LU of the target, true peak under the ceiling."""
    seed = TRIGGER_IDS.index(trigger_id) + 11
    lufs, peak = measure(
        render(trigger_scene(trigger_id), seed=seed, stop=SECONDS * SAMPLE_RATE)
    )
    assert abs(lufs - LOUDNESS_LUFS) <= 1.0, lufs
    assert peak <= TRUE_PEAK_CEILING_DBTP


@pytest.mark.parametrize("scene_id", list(SCENES))
def test_every_scene_lands_on_target(scene_id: str) -> None:
    """A scene renders within 1 LU of the target, true peak under the ceiling."""
    seed = list(SCENES).index(scene_id) + 101
    lufs, peak = measure(
        render(SCENES[scene_id], seed=seed, stop=SECONDS * SAMPLE_RATE)
    )
    assert abs(lufs - LOUDNESS_LUFS) <= 1.0, lufs
    assert peak <= TRUE_PEAK_CEILING_DBTP
