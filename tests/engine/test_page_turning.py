"""Tests for page turning: lift, slide and settle, every several seconds, mildly placed."""

from __future__ import annotations

import numpy as np

from custom_components.asmr.engine.base import (
    BUFFER_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
    Placement,
)
from custom_components.asmr.engine.triggers.page_turning import TRIGGER

from .helpers import stitch, window_correlation


def _turn_onsets(audio: np.ndarray) -> np.ndarray:
    """Return the start times (s) of the turns: where the level rises out of silence."""
    mono = audio.mean(axis=1).astype(np.float64)
    hop = SAMPLE_RATE // 20
    level = np.mean(mono[: mono.size // hop * hop].reshape(-1, hop) ** 2, axis=1)
    active = level > 1e-7
    # Join short dips inside a turn (between its parts) before finding starts.
    for _ in range(8):
        active[1:-1] |= active[:-2] & active[2:]
    starts = np.flatnonzero(np.diff(active.astype(int)) == 1) + 1
    return np.asarray(starts / 20.0)


def test_deterministic_and_seeded() -> None:
    """The same request gives the same chunk; another seed gives other turns."""
    renders = [stitch(TRIGGER, seconds=12, seed=s) for s in (3, 3, 4)]
    assert np.array_equal(renders[0], renders[1])
    assert not np.allclose(renders[0], renders[2])
    a = TRIGGER.render_chunk(ChunkRequest(seed=3, index=5))
    assert a.shape == (BUFFER_FRAMES, 2)
    assert a.dtype == np.float32


def test_turns_every_several_seconds_with_variety() -> None:
    """Pages turn at irregular intervals of several seconds, never quite alike."""
    audio = stitch(TRIGGER, seconds=120, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7
    onsets = _turn_onsets(audio)
    gaps = np.diff(onsets)
    assert 12 <= onsets.size <= 30
    assert 3.0 < gaps.mean() < 9.0
    assert gaps.std() > 1.0
    assert gaps.max() < 25.0
    # Turns differ in length and level.
    mono = audio.mean(axis=1)
    peaks = [
        np.abs(mono[int(t * SAMPLE_RATE) : int((t + 1.5) * SAMPLE_RATE)]).max()
        for t in onsets
    ]
    assert np.std(20 * np.log10(peaks)) > 0.5


def test_a_turn_lifts_slides_and_settles() -> None:
    """A turn swells from silence (no click), peaks in the slide, and ends in silence."""
    audio = stitch(TRIGGER, seconds=30, seed=1)
    onset = _turn_onsets(audio)[0]
    start = int(onset * SAMPLE_RATE) - SAMPLE_RATE // 20
    turn = audio[start : start + 2 * SAMPLE_RATE].mean(axis=1)
    hop = SAMPLE_RATE // 50
    env = np.sqrt(np.mean(turn[: turn.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    top = int(np.argmax(env))
    assert env[0] < 0.05 * env[top]
    assert 0.15 < top * hop / SAMPLE_RATE < 1.2
    assert np.abs(np.diff(turn[:hop])).max() < 0.02


def test_nothing_repeats() -> None:
    """Ten-second windows of a minute of reading do not resemble each other."""
    assert window_correlation(stitch(TRIGGER, seconds=60, seed=5)) < 0.3


def test_mildly_placed() -> None:
    """Straight ahead the book sits slightly right; placed left, it is heard on the left."""
    ahead = stitch(TRIGGER, seconds=30, seed=1).astype(np.float64)
    left, right = np.sqrt(np.mean(ahead**2, axis=0))
    assert 0.3 < 20 * np.log10(right / left) < 4.0
    placed = stitch(TRIGGER, seconds=30, seed=1, placement=Placement(azimuth=-60.0))
    left, right = np.sqrt(np.mean(placed.astype(np.float64) ** 2, axis=0))
    assert 20 * np.log10(left / right) > 2.0
