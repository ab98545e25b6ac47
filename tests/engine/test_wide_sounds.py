"""Tests every wide sound shares: the beds and the ambiences all around the listener."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import CHUNK_FRAMES, ChunkRequest, Trigger
from custom_components.asmr.engine.triggers import TRIGGERS

from .helpers import stitch, window_correlation

AMBIENCES = [TRIGGERS[t] for t in ("rainfall", "stream", "fire_crackling")]
"""Wide sounds made of events over a bed."""

BEDS = [TRIGGERS[t] for t in ("white_noise", "pink_noise", "brown_noise")]
"""The noise beds."""


def _id(trigger: Trigger) -> str:
    """Name a test case after its trigger."""
    return trigger.id


@pytest.mark.parametrize(
    ("trigger", "seed"),
    [(t, 5) for t in AMBIENCES] + [(t, 0) for t in BEDS],
    ids=[t.id for t in AMBIENCES + BEDS],
)
def test_nothing_repeats(trigger: Trigger, seed: int) -> None:
    """Ten-second windows of a minute do not resemble each other."""
    assert window_correlation(stitch(trigger, seconds=60, seed=seed)) < 0.3


@pytest.mark.parametrize("trigger", AMBIENCES, ids=_id)
def test_ambiences_are_wide_and_decorrelated(trigger: Trigger) -> None:
    """The sound is all around: decorrelated ears, neither side louder."""
    audio = stitch(trigger, seconds=10, seed=1).astype(np.float64)
    assert abs(np.corrcoef(audio.T)[0, 1]) < 0.3
    left, right = np.sqrt(np.mean(audio**2, axis=0))
    assert abs(20 * np.log10(left / right)) < 1.5


@pytest.mark.parametrize(
    ("trigger", "steadiness"),
    # A second of brown noise holds few low cycles: its level wanders more.
    [(BEDS[0], 1.1), (BEDS[1], 1.1), (BEDS[2], 1.3)],
    ids=[t.id for t in BEDS],
)
def test_bed_channels_are_decorrelated_and_steady(
    trigger: Trigger, steadiness: float
) -> None:
    """Left and right are independent noises of equal, steady level."""
    audio = stitch(trigger, seconds=10)
    assert abs(np.corrcoef(audio.T)[0, 1]) < 0.05
    rms = np.sqrt(
        np.mean(audio[: 9 * CHUNK_FRAMES].reshape(9, CHUNK_FRAMES, 2) ** 2, axis=1)
    )
    assert rms.max() / rms.min() < steadiness
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7


@pytest.mark.parametrize("trigger", BEDS, ids=_id)
def test_bed_chunk_starts_without_a_click(trigger: Trigger) -> None:
    """A chunk's noise fades in from silence, so chunk edges never click."""
    chunk = trigger.render_chunk(ChunkRequest(seed=1, index=0))
    assert np.abs(chunk[:8]).max() < 0.01 * np.abs(chunk).max()
