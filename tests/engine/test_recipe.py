"""Tests for the recipe parameter types and the stroke and impact families' recipes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.events import BubbleSizes, Foreground, Swell
from custom_components.asmr.engine.gestures import StrokeRecipe
from custom_components.asmr.engine.impacts import ImpactRecipe
from custom_components.asmr.engine.loudness import block_loudness, integrated_loudness
from custom_components.asmr.engine.recipe import (
    Band,
    Count,
    NoiseBand,
    Range,
    SoftLimit,
)
from custom_components.asmr.engine.triggers import (
    brushing,
    hair_brushing,
    scratching,
    tapping,
    typing,
)


@pytest.mark.parametrize(
    ("make", "args"),
    [
        (Band, {"low_hz": 500.0, "high_hz": 500.0}),
        (Band, {"low_hz": 0.0, "high_hz": 500.0}),
        (Range, {"low": 1.0, "high": 0.5}),
        (Count, {"low": 3, "high": 2}),
        (Count, {"low": -1, "high": 2}),
        (SoftLimit, {"knee": 0.6, "ceiling": 0.5}),
    ],
)
def test_nonsense_parameters_are_refused(make: type, args: dict[str, float]) -> None:
    """A band upside down, an empty range or a knee above its ceiling fails at once."""
    with pytest.raises(ValueError):
        make(**args)


def test_noise_band_needs_a_skirt() -> None:
    """A noise band's skirts fall at least 6 dB per octave."""
    with pytest.raises(ValueError):
        NoiseBand(band=Band(low_hz=100.0, high_hz=200.0), order=0)


def test_parameters_are_keyword_only_and_frozen() -> None:
    """Recipes read by name, and nothing changes a recipe once it is built."""
    with pytest.raises(TypeError):
        Band(100.0, 200.0)  # type: ignore[misc]
    band = Band(low_hz=100.0, high_hz=200.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        band.low_hz = 50.0  # type: ignore[misc]


def test_draws_are_the_generators_own() -> None:
    """A range and a count draw exactly what the generator's own calls would.

    So a recipe keeps every seed's sound; a count reaches both its ends.
    """
    a, b = np.random.default_rng(7), np.random.default_rng(7)
    assert np.array_equal(
        Range(low=0.2, high=0.5).draw(a, 100), b.uniform(0.2, 0.5, 100)
    )
    assert np.array_equal(Count(low=3, high=7).draw(a, 100), b.integers(3, 8, 100))
    assert Range(low=1.0, high=2.2).draw_one(a) == b.uniform(1.0, 2.2)
    assert Count(low=1, high=4).draw_one(a) == b.integers(1, 5)
    counts = Count(low=0, high=2).draw(np.random.default_rng(1), 1000)
    assert set(np.unique(counts)) == {0, 1, 2}
    assert np.array_equal(
        Range(low=0.2, high=0.5).draw(a, (4, 3)), b.uniform(0.2, 0.5, (4, 3))
    )
    # Unit draws taken ahead map onto a range or a band as the generator's own
    # uniform draws would have.
    c, d = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(
        Range(low=0.2, high=0.5).at(c.random(100)), d.uniform(0.2, 0.5, 100)
    )
    assert np.array_equal(
        Band(low_hz=150.0, high_hz=600.0).at(c.random(100)),
        d.uniform(150.0, 600.0, 100),
    )


@pytest.mark.parametrize("module", [scratching, brushing, hair_brushing])
def test_stroke_recipes_are_physically_plausible(module: object) -> None:
    """Every stroke trigger's recipe keeps its numbers where the things they model live."""
    recipe = module.RECIPE  # type: ignore[attr-defined]
    assert isinstance(recipe, StrokeRecipe)
    bouts = recipe.bouts
    assert 0.0 < bouts.speed.low <= bouts.speed.high <= 1.0
    for style in bouts.styles:
        assert 0.05 <= style.stroke_s.low <= style.stroke_s.high <= 2.0
    assert sum(style.share for style in bouts.styles) == pytest.approx(1.0)
    for band in (recipe.friction.slow, recipe.friction.fast):
        assert 20.0 <= band.band.low_hz < band.band.high_hz <= 20000.0
    assert 1.0 <= recipe.catches.catches_per_s <= 200.0


@pytest.mark.parametrize("module", [tapping, typing])
def test_impact_grains_fit_their_length(module: object) -> None:
    """An impact recipe's grain length is whole frames, and its room tail is quiet."""
    recipe = module.RECIPE  # type: ignore[attr-defined]
    assert isinstance(recipe, ImpactRecipe)
    assert recipe.grain_frames == round(recipe.grain_ms * SAMPLE_RATE / 1000.0)
    assert 0.0 < recipe.room.level < 0.1
    assert 0.0 < recipe.room.rt60_s <= 0.35


def test_block_loudness_gates_to_the_integrated_loudness() -> None:
    """Blocks of a steady tone all read its integrated loudness (one K-weighting)."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.1 * np.sin(2.0 * np.pi * 1000.0 * t)).astype(np.float32)
    blocks = block_loudness(tone)
    assert blocks.size == 27
    assert np.allclose(blocks[2:], integrated_loudness(tone), atol=0.01)
    assert block_loudness(tone[: SAMPLE_RATE // 4]).size == 0


def test_swell_stays_within_its_octaves() -> None:
    """A swell's factor rises and falls, never past 2 ** +-octaves."""
    swell = Swell(octaves=0.5, periods_s=(19.0, 8.3, 4.1))
    factor = swell.at(np.arange(0.0, 600.0, 0.1), seed=3, salt="test")
    assert factor.min() >= 2.0**-0.5 - 1e-12
    assert factor.max() <= 2.0**0.5 + 1e-12
    assert factor.max() / factor.min() > 1.5


def test_bubble_sizes_skew_towards_small_bubbles() -> None:
    """Radii stay between the two sizes; a skew above 1 draws more small ones."""
    even = BubbleSizes(
        count=4000, low_m=0.3e-3, high_m=3e-3, grain_frames=512, floor_db=-40.0
    )
    skewed = dataclasses.replace(even, skew=1.6)
    flat = even.radii(np.random.default_rng(1))
    small = skewed.radii(np.random.default_rng(1))
    assert flat.min() >= 0.3e-3
    assert small.max() <= 3e-3
    # Log-uniform: the median is the geometric middle of the two sizes.
    assert np.median(flat) == pytest.approx(np.sqrt(0.3e-3 * 3e-3), rel=0.05)
    assert np.median(small) < 0.8 * np.median(flat)
    grains = even.grains_of(flat[:16], np.random.default_rng(2))
    assert grains.size == 16


def test_foreground_levels_stay_within_their_clip() -> None:
    """Event levels spread log-normally around the gain and are clipped."""
    foreground = Foreground(per_s=90.0, gain=0.1, spread=0.45, clip=(0.3, 2.0))
    levels = foreground.levels(np.random.default_rng(4), 10_000)
    assert levels.min() >= 0.03 - 1e-12
    assert levels.max() <= 0.2 + 1e-12
    assert np.median(levels) == pytest.approx(0.1, rel=0.05)
