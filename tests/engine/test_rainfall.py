"""Tests for rainfall: van den Doel droplets over a hiss bed, on the ground or a window."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine.base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
)
from custom_components.asmr.engine.events import (
    MAX_ITD_FRAMES,
    SEGMENT_FRAMES,
    Events,
    GrainSet,
    bubble,
    event_buffer,
    grain_set,
    scatter_events,
    texture,
)
from custom_components.asmr.engine.triggers.rainfall import TRIGGER, renderer

from .helpers import add_buffer, stitch


def _centroid(audio: np.ndarray) -> float:
    """Return the spectral centroid of the mono mix, in Hz."""
    spectrum = np.abs(np.fft.rfft(audio.mean(axis=1).astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(audio.shape[0], 1.0 / SAMPLE_RATE)
    return float((spectrum * freqs).sum() / spectrum.sum())


def test_level_is_steady_and_peaks_bounded() -> None:
    """Rain keeps a steady working level (slow swells only) and never peaks near clipping."""
    audio = stitch(TRIGGER, seconds=40, seed=2)
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() < 0.7
    rms = np.sqrt(np.mean(audio.reshape(8, 5 * CHUNK_FRAMES, 2) ** 2, axis=(1, 2)))
    level_db = 20 * np.log10(rms)
    assert level_db.max() - level_db.min() < 4.0
    assert -32.0 < level_db.mean() < -16.0


def test_energy_sits_in_the_rain_band() -> None:
    """Most of the energy lies between 150 Hz and 10 kHz: no rumble, no piercing fizz."""
    audio = stitch(TRIGGER, seconds=10, seed=1).mean(axis=1).astype(np.float64)
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1.0 / SAMPLE_RATE)
    share = power[(freqs > 150) & (freqs < 10_000)].sum() / power.sum()
    assert share > 0.85
    assert power[freqs > 14_000].sum() / power.sum() < 0.03


def test_rain_on_a_window_is_brighter() -> None:
    """Drops ticking on glass are brighter than drops on open ground."""
    ground = renderer(glass=0.0)
    glass = renderer(glass=1.0)
    frames = 4 * CHUNK_FRAMES
    on_ground = np.zeros((frames + BUFFER_FRAMES, 2), dtype=np.float32)
    on_glass = np.zeros_like(on_ground)
    for k in range(4):
        add_buffer(on_ground, k, ground(ChunkRequest(seed=1, index=k)))
        add_buffer(on_glass, k, glass(ChunkRequest(seed=1, index=k)))
    assert _centroid(on_glass[:frames]) > 1.15 * _centroid(on_ground[:frames])


def test_bubbles_rise_in_pitch_as_they_ring() -> None:
    """A van den Doel bubble sings near 3/r Hz and its pitch rises while it decays."""
    radius = 1.5e-3
    grain = bubble(radius, 4096, np.random.default_rng(0))
    assert np.abs(grain).max() == pytest.approx(1.0)
    crossings = np.flatnonzero(np.diff(np.signbit(grain)))
    periods = np.diff(crossings) * 2.0 / SAMPLE_RATE
    early = 1.0 / np.median(periods[:6])
    late = 1.0 / np.median(periods[-12:-6])
    assert 0.85 * 3.0 / radius < early < 1.15 * 3.0 / radius
    assert late > early * 1.02
    # Energy decays: the last quarter is far quieter than the first.
    quarter = grain.size // 4
    assert np.abs(grain[-quarter:]).max() < 0.05


def test_droplets_vary_in_level_and_timing() -> None:
    """Droplets arrive irregularly, with levels spread over a wide range."""
    audio = stitch(TRIGGER, seconds=6, seed=9).mean(axis=1).astype(np.float64)
    hop = SAMPLE_RATE // 200  # 5 ms frames
    frames = audio[: audio.size // hop * hop].reshape(-1, hop)
    peaks = np.abs(frames).max(axis=1)
    spread_db = 20 * np.log10(np.percentile(peaks, 99) / np.percentile(peaks, 20))
    assert spread_db > 6.0
    gaps = np.diff(np.flatnonzero(peaks > np.percentile(peaks, 95)))
    assert gaps.std() > 0.5 * gaps.mean()


@pytest.mark.parametrize("count", [5, 400])
def test_events_are_placed_by_level_and_time(count: int) -> None:
    """A drop panned hard left is louder and earlier in the left ear (sparse or dense)."""
    bank = np.zeros((1, 64), dtype=np.float32)
    bank[0, 0] = 1.0
    out = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    starts = np.arange(count, dtype=np.int64) * 100 + 1000
    scatter_events(
        out,
        [
            Events(
                bank,
                np.zeros(count, dtype=np.int64),
                starts,
                np.ones(count),
                np.full(count, -1.0),
            )
        ],
    )
    left, right = out[:, 1000:1100]
    assert left.max() > 2.0 * right.max()
    assert int(np.argmax(right)) - int(np.argmax(left)) == MAX_ITD_FRAMES
    assert out.sum() > 0.99 * count * (left.max() + right.max())


@pytest.mark.parametrize(("count", "lag"), [(5, 0), (400, 0), (400, 96)])
def test_an_event_buffer_holds_the_latest_grain_whole(count: int, lag: int) -> None:
    """A grain of the longest bank struck last, lag frames late, ends inside the buffer."""
    rng = np.random.default_rng(3)
    lengths = [200, 900, 3000]
    grains = grain_set([np.hanning(n) + 0.1 for n in lengths], floor_db=-60.0)
    out = event_buffer(grains, lag=lag)
    assert out.shape == (2, CHUNK_FRAMES + lag + grains.longest + MAX_ITD_FRAMES)
    assert grains.longest >= max(lengths)
    longest = int(np.argmax(lengths))
    starts = np.sort(rng.integers(0, CHUNK_FRAMES, count))
    starts[-1] = CHUNK_FRAMES - 1 + lag
    ids = np.full(count, longest)
    batches = grains.events(ids, starts, np.ones(count), np.linspace(-1.0, 1.0, count))
    scatter_events(out, batches)
    wide = np.zeros((2, BUFFER_FRAMES), dtype=np.float32)
    scatter_events(wide, batches)
    np.testing.assert_array_equal(wide[:, : out.shape[1]], out)
    assert not wide[:, out.shape[1] :].any()
    assert out[:, -1 - grains.longest :].any(axis=1).all()
    # Beds alone need their segment and its fade into the next chunk.
    assert event_buffer().shape == (2, SEGMENT_FRAMES)


def test_joined_grain_sets_keep_every_grain_in_order() -> None:
    """One set joined from several plays each grain as its own set cut it."""

    def grain(grains: GrainSet, i: int) -> np.ndarray:
        return grains.banks[grains.classes[i]][grains.rows[i]]

    rng = np.random.default_rng(5)
    sets = [
        grain_set(
            [
                rng.standard_normal(n) * np.exp(-np.arange(n) / rng.uniform(20, 900))
                for n in rng.integers(100, 4000, size)
            ],
            floor_db=-40.0,
        )
        for size in (7, 1, 12)
    ]
    joined = GrainSet.joined(*sets)
    assert joined.size == 20
    originals = [(s, i) for s in sets for i in range(s.size)]
    for j, (s, i) in enumerate(originals):
        np.testing.assert_array_equal(grain(joined, j), grain(s, i))


def test_texture_holds_every_drawn_grain_round_a_circle() -> None:
    """A texture is each drawn grain added whole at its start, wrapping past the end."""
    rng = np.random.default_rng(4)
    grains = grain_set(
        [
            rng.standard_normal(n) * np.exp(-np.arange(n) / (0.2 * n))
            for n in (90, 300, 700, 1500)
            for _ in range(3)
        ]
    )
    frames = 20_000
    layers = [(grains, 400.0, 1.0), (grains, 150.0, 0.5)]
    made = texture(layers, seed=9, frames=frames)
    # The same draws, every grain added on its own (gains in single precision, as made).
    draw = np.random.default_rng(9)
    expected = np.zeros(frames)
    for _, rate, level in layers:
        count = int(rate * frames / SAMPLE_RATE)
        ids = draw.integers(0, grains.size, count)
        starts = draw.integers(0, frames, count)
        gains = level * np.exp(draw.normal(0.0, 0.5, count))
        for i, start, gain in zip(ids, starts, gains, strict=True):
            grain = grains.banks[grains.classes[i]][grains.rows[i]] * np.float32(gain)
            np.add.at(expected, (start + np.arange(grain.size)) % frames, grain)
    expected -= expected.mean()
    expected /= np.sqrt(np.mean(expected**2))
    np.testing.assert_allclose(made[:frames], expected, rtol=0.0, atol=1e-6)
    # Its start is copied after its end, so a segment read across the join never wraps.
    np.testing.assert_array_equal(made[frames:], made[: made.size - frames])
