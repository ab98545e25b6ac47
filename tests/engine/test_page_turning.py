"""Tests for page turning: a book handled between turns, mildly placed, never silent."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE, ChunkRequest, Placement
from custom_components.asmr.engine.triggers.page_turning import TRIGGER

from .helpers import check_buffer, stitch, window_correlation


def _level_db(audio: np.ndarray, hop: int) -> np.ndarray:
    """Return the mono level of consecutive frames of ``hop`` frames, in dB."""
    mono = audio.mean(axis=1).astype(np.float64)
    frames = mono[: mono.size // hop * hop].reshape(-1, hop)
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) + 1e-20))


def _turn_onsets(audio: np.ndarray) -> np.ndarray:
    """Return the start times (s) of the turns: where the level rises out of the handling."""
    level = _level_db(audio, SAMPLE_RATE // 20)
    active = np.concatenate([[0], (level > np.median(level) + 12.0).astype(int), [0]])
    edges = np.flatnonzero(np.diff(active))
    starts, ends = edges[::2], edges[1::2]
    # Join the parts of one sound (dips shorter than 0.6 s) before finding starts.
    keep = np.concatenate([[True], starts[1:] - ends[:-1] > 12])
    return np.asarray(starts[keep] / 20.0)


def test_deterministic_and_seeded() -> None:
    """The same request gives the same chunk; another seed gives other turns."""
    renders = [stitch(TRIGGER, seconds=12, seed=s) for s in (3, 3, 4)]
    assert np.array_equal(renders[0], renders[1])
    assert not np.allclose(renders[0], renders[2])
    a = TRIGGER.render_chunk(ChunkRequest(seed=3, index=5))
    check_buffer(a)


def test_turns_every_several_seconds_with_variety() -> None:
    """Pages turn (and are smoothed, or thumbed) at irregular intervals of a few seconds."""
    audio = stitch(TRIGGER, seconds=120, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7
    onsets = _turn_onsets(audio)
    gaps = np.diff(onsets)
    assert 15 <= onsets.size <= 45
    assert 1.5 < gaps.mean() < 8.0
    assert gaps.std() > 0.8
    assert gaps.max() < 15.0
    # Turns differ in length and level.
    mono = audio.mean(axis=1)
    peaks = [
        np.abs(mono[int(t * SAMPLE_RATE) : int((t + 1.5) * SAMPLE_RATE)]).max()
        for t in onsets
    ]
    assert np.std(20 * np.log10(peaks)) > 0.5


def test_a_turn_swells_out_of_the_handling_and_settles() -> None:
    """A turn rises from the handling (no click), peaks within a second, and settles."""
    audio = stitch(TRIGGER, seconds=30, seed=1)
    onset = _turn_onsets(audio)[0]
    start = int(onset * SAMPLE_RATE) - SAMPLE_RATE // 20
    turn = audio[start : start + 2 * SAMPLE_RATE].mean(axis=1)
    hop = SAMPLE_RATE // 50
    env = np.sqrt(np.mean(turn[: turn.size // hop * hop].reshape(-1, hop) ** 2, axis=1))
    top = int(np.argmax(env))
    assert env[0] < 0.3 * env[top]
    assert env[-10:].mean() < 0.3 * env[top]
    assert 0.1 < top * hop / SAMPLE_RATE < 1.2
    assert np.abs(turn[: 2 * hop]).max() < 0.35 * np.abs(turn).max()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_book_is_never_mostly_silent(seed: int) -> None:
    """Between the turns the hands handle the book: few near-silent quarter seconds."""
    level = _level_db(stitch(TRIGGER, seconds=30, seed=seed), SAMPLE_RATE // 4)
    assert np.mean(level < level.max() - 35.0) < 0.25
    assert np.median(level) > level.max() - 30.0


def test_no_thump_when_a_page_lands() -> None:
    """Paper is light: the loudest moments (the flops) carry little energy below 300 Hz."""
    audio = stitch(TRIGGER, seconds=60, seed=4)
    mono = audio.mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    assert power[freqs < 300.0].sum() < 0.03 * power.sum()
    picked: list[int] = []
    for i in np.argsort(-np.abs(mono)):
        if all(abs(int(i) - p) > SAMPLE_RATE // 4 for p in picked):
            picked.append(int(i))
        if len(picked) == 20:
            break
    freqs = np.fft.rfftfreq(8192, 1.0 / SAMPLE_RATE)
    for p in picked:
        segment = mono[max(0, p - 2400) : p + 4800]
        spectrum = np.abs(np.fft.rfft(segment * np.hanning(segment.size), 8192)) ** 2
        assert spectrum[freqs < 300.0].sum() < 0.08 * spectrum.sum()


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
