"""Tests the wide and event triggers share: seeded chunks and loudness across seeds."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from custom_components.asmr.engine.base import (
    SAMPLE_RATE,
    ChunkRequest,
    chunk_rng,
    salt_of,
)
from custom_components.asmr.engine.triggers import TRIGGERS

from .helpers import check_buffer, stitch


@pytest.mark.parametrize(
    "trigger_id",
    [
        "fire_crackling",
        "rainfall",
        "stream",
        "paper_crinkling",
        "white_noise",
        "pink_noise",
        "brown_noise",
    ],
)
def test_deterministic_and_seeded(trigger_id: str) -> None:
    """The same request gives the same chunk; another seed or chunk gives another."""
    trigger = TRIGGERS[trigger_id]
    a = trigger.render_chunk(ChunkRequest(seed=3, index=5))
    check_buffer(a)
    assert np.array_equal(a, trigger.render_chunk(ChunkRequest(seed=3, index=5)))
    assert not np.allclose(a, trigger.render_chunk(ChunkRequest(seed=4, index=5)))
    assert not np.allclose(a, trigger.render_chunk(ChunkRequest(seed=3, index=6)))


@pytest.mark.parametrize(
    ("trigger_id", "seconds", "quietest"),
    [
        ("fire_crackling", 40, -23.0),
        ("rainfall", 40, -23.0),
        ("stream", 40, -23.0),
        ("paper_crinkling", 40, -24.0),
        ("page_turning", 60, -23.0),
    ],
)
def test_loudness_holds_across_seeds(
    trigger_id: str, seconds: int, quietest: float
) -> None:
    """Any seed lands within a loudness unit of the others, near the working level."""
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    levels = [
        meter.integrated_loudness(
            stitch(TRIGGERS[trigger_id], seconds=seconds, seed=seed).astype(np.float64)
        )
        for seed in (0, 7, 1234)
    ]
    assert max(levels) - min(levels) < 1.0, levels
    assert quietest < float(np.mean(levels)) < -17.0, levels


@pytest.mark.parametrize(
    ("seed", "index"),
    [(0, 0), (3, 5), (2**40 + 7, 123_456), (2**63 - 1, 2**32 - 1), (5, 2**32 + 9)],
)
def test_a_chunks_generator_is_seeded_by_its_four_words(seed: int, index: int) -> None:
    """The generator is numpy's for the seed's two words, the salt's and the index."""
    words = [seed & 0xFFFFFFFF, seed >> 32, salt_of("rainfall"), index]
    expected = np.random.default_rng(words).bit_generator.state
    assert chunk_rng(seed, "rainfall", index).bit_generator.state == expected
    assert chunk_rng(seed, "stream", index).bit_generator.state != expected
