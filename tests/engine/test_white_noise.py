"""Tests for the white noise bed."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import CHUNK_FRAMES, chunk_rng
from custom_components.asmr.engine.dsp import (
    hash_uniform,
    random_int8,
    rfft_freqs,
    spectral_noise,
)
from custom_components.asmr.engine.triggers.white_noise import TRIGGER

from .helpers import octave_slope, stitch


def test_spectrum_slope() -> None:
    """White noise is flat (0 dB per octave) between 50 Hz and 10 kHz."""
    audio = stitch(TRIGGER, seconds=20)
    slope = octave_slope(audio)
    assert abs(slope - (0.0)) <= 0.2, slope


@pytest.mark.parametrize(("hop", "overlap"), [(1920, None), (1920, 640), (4800, 1200)])
def test_spectral_noise_is_unit_white_noise(hop: int, overlap: int | None) -> None:
    """The shared synthesiser gives unit-RMS, steady, decorrelated noise for a unit magnitude."""
    frame_len = hop + (hop if overlap is None else overlap)
    magnitude = np.ones(frame_len // 2 + 1, dtype=np.float32)
    audio = spectral_noise(chunk_rng(1, "test", 0), magnitude, hop=hop, overlap=overlap)
    body = audio[9600:CHUNK_FRAMES]  # past the first frame's fade-in
    assert body.std() == pytest.approx(1.0, rel=0.03)
    power = (body**2).mean(axis=1).reshape(-1, 480).mean(axis=1)
    assert power.min() > 0.6 * power.max()
    assert abs(np.corrcoef(body.T)[0, 1]) < 0.05


@pytest.mark.parametrize("count", [1, 7, 8, 642, 192_100])
def test_random_int8_are_the_generators_bytes(count: int) -> None:
    """The raw noise is a fresh generator's bytes, evenly spread over all 256 values."""
    values = random_int8(chunk_rng(7, "test", 1), count)
    assert values.dtype == np.int8
    assert values.shape == (count,)
    assert values.tobytes() == chunk_rng(7, "test", 1).bytes(count)
    if count > 100_000:
        counts = np.bincount(values.view(np.uint8), minlength=256)
        assert counts.min() > 0.8 * count / 256
        assert counts.max() < 1.2 * count / 256


@pytest.mark.parametrize("shape", [(), (3,), (24,), (25,), (2, 40)])
def test_hashed_knots_do_not_depend_on_how_many_are_asked(
    shape: tuple[int, ...],
) -> None:
    """A knot's value is the same asked alone or among many, near zero or far out."""
    rng = np.random.default_rng(2)
    index = rng.integers(-(2**62), 2**62, shape)
    values = hash_uniform(9, "test", index)
    assert values.shape == shape
    alone = [hash_uniform(9, "test", int(i)) for i in np.ravel(index)]
    many = hash_uniform(9, "test", np.concatenate([np.ravel(index), np.arange(100)]))
    np.testing.assert_array_equal(np.ravel(values), alone)
    np.testing.assert_array_equal(np.ravel(values), many[: values.size])
    assert ((values >= 0.0) & (values < 1.0)).all()


def test_random_int8_advances_its_generator() -> None:
    """Two draws from one generator differ: each takes the next words, none is kept."""
    rng = chunk_rng(7, "test", 1)
    first = random_int8(rng, 4096)
    second = random_int8(rng, 4096)
    assert not np.array_equal(first, second)
    assert second.tobytes() == chunk_rng(7, "test", 1).bytes(8192)[4096:]
    # The bins' frequencies are the shared, read-only table.
    assert rfft_freqs(960) is rfft_freqs(960)
    assert not rfft_freqs(960).flags.writeable
