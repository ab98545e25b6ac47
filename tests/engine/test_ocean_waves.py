"""Tests for the ocean waves bed."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import ChunkRequest
from custom_components.asmr.engine.triggers.ocean_waves import TRIGGER

from .helpers import frame_features, stitch, window_correlation


@pytest.fixture(scope="module")
def minute() -> np.ndarray:
    """Return a minute of sea."""
    return stitch(TRIGGER, seconds=60, seed=1)


def test_waves_swell_every_few_seconds(minute: np.ndarray) -> None:
    """The level rises and falls with waves some 5 to 20 s apart."""
    rms, _, _ = frame_features(minute)
    assert rms.max() / rms.min() > 2.0
    envelope = rms - rms.mean()
    power = np.abs(np.fft.rfft(envelope)) ** 2
    rate = np.fft.rfftfreq(envelope.size, 0.5)
    swell = power[(rate >= 0.05) & (rate <= 0.2)].sum()
    assert swell / power[1:].sum() > 0.5


def test_breaking_surf_is_bright(minute: np.ndarray) -> None:
    """Loud moments (the crash) are brighter than the lulls between waves."""
    rms, centroid, _ = frame_features(minute)
    assert np.corrcoef(rms, centroid)[0, 1] > 0.5
    loud = centroid[rms > np.percentile(rms, 80)].mean()
    quiet = centroid[rms < np.percentile(rms, 20)].mean()
    assert loud > 1.3 * quiet


def test_stereo_is_wide_and_waves_have_sides(minute: np.ndarray) -> None:
    """Independent ears, and waves that break more on one side than the other."""
    _, _, ears = frame_features(minute)
    assert abs(np.corrcoef(minute.T)[0, 1]) < 0.1
    assert np.log(ears[:, 0] / ears[:, 1]).std() > 0.08


def test_deterministic_chunks_and_no_repetition(minute: np.ndarray) -> None:
    """A chunk renders the same alone; nothing loops; no NaN; bounded peaks."""
    request = ChunkRequest(seed=1, index=31)
    assert np.array_equal(TRIGGER.render_chunk(request), TRIGGER.render_chunk(request))
    other = TRIGGER.render_chunk(ChunkRequest(seed=2, index=31))
    assert not np.allclose(TRIGGER.render_chunk(request), other)
    assert np.isfinite(minute).all()
    assert np.abs(minute).max() < 0.7
    assert window_correlation(minute) < 0.3
