"""Tests for the binaural placement of close sounds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE, Placement
from custom_components.asmr.engine.spatial import (
    MAX_ITD_FRAMES,
    PLACEMENT_HOP,
    azimuth_at,
    ear_weights,
    head_shadow,
    itd_frames,
    place,
    place_events,
    place_moving,
    place_moving_at,
)


def _noise(frames: int, seed: int = 0) -> NDArray[np.float32]:
    """Return white noise with a silent tail (room for the delayed, lowpassed ear)."""
    x = np.random.default_rng(seed).standard_normal(frames).astype(np.float32)
    x[-2 * MAX_ITD_FRAMES :] = 0.0
    return x


def _band_db(x: NDArray[np.float32], low_hz: float, high_hz: float) -> float:
    """Return the energy of a signal between two frequencies, in dB."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1.0 / SAMPLE_RATE)
    return float(10.0 * np.log10(spectrum[(f >= low_hz) & (f < high_hz)].sum()))


def test_motion_sweeps_both_ways_and_is_a_function_of_time() -> None:
    """A sweeping placement reaches both sides and never leaves its range."""
    placement = Placement(azimuth=10.0, sweep=60.0, period_s=8.0)
    t = np.arange(0.0, 60.0, 0.05)
    az = azimuth_at(placement, 5, t, salt="layer")
    assert az.min() < 10.0 - 55.0
    assert az.max() > 10.0 + 55.0
    assert np.all(np.abs(az - 10.0) <= 60.0 + 1e-9)
    assert np.max(np.abs(np.diff(az))) < 5.0  # smooth: no jumps between 50 ms steps
    later = azimuth_at(placement, 5, t[600:], salt="layer")
    np.testing.assert_array_equal(later, az[600:])
    other = azimuth_at(placement, 5, t, salt="another layer")
    assert np.max(np.abs(other - az)) > 20.0


def test_still_placement_stays_put() -> None:
    """A placement without sweep gives its azimuth at every time."""
    az = azimuth_at(Placement(azimuth=-35.0), 1, np.linspace(0.0, 100.0, 50))
    np.testing.assert_array_equal(az, np.full(50, -35.0))


def test_woodworth_time_difference() -> None:
    """The interaural delay is zero ahead, about 0.66 ms at the ears, and antisymmetric."""
    itd = itd_frames([0.0, 30.0, 90.0, -90.0, 150.0])
    assert itd[0] == 0.0
    assert 0.60e-3 < itd[2] / SAMPLE_RATE < 0.70e-3
    assert itd[3] == -itd[2]
    assert itd[2] <= MAX_ITD_FRAMES
    assert itd[4] == pytest.approx(itd[1])  # behind folds onto the same lateral angle


def test_ear_weights_give_the_far_ear_the_shadow_and_the_delay() -> None:
    """Ahead both ears are equal; to one side the other ear is quieter, duller, later."""
    direct, shadow, delay = ear_weights([0.0, 90.0, -90.0, 30.0, -30.0])
    np.testing.assert_array_equal(direct[0], [1.0, 1.0])
    np.testing.assert_array_equal(shadow[0], [0.0, 0.0])
    np.testing.assert_array_equal(delay[0], [0, 0])
    for right, left in ((1, 2), (3, 4)):
        # Mirrored azimuths give mirrored ears.
        np.testing.assert_array_equal(direct[right], direct[left][::-1])
        np.testing.assert_array_equal(shadow[right], shadow[left][::-1])
        np.testing.assert_array_equal(delay[right], delay[left][::-1])
        # On the right: the right ear is near (louder, unshadowed, on time).
        assert direct[right, 1] > 1.0 > direct[right, 0] + shadow[right, 0]
        assert shadow[right, 1] == 0.0 < shadow[right, 0]
        assert delay[right, 1] == 0 < delay[right, 0]
        assert delay[right, 0] == round(float(itd_frames(90.0 if right == 1 else 30.0)))
    # At the ear: 2.5 dB up near, 3.5 dB down far, 7 dB less treble on the far side.
    assert 20.0 * np.log10(direct[1, 1]) == pytest.approx(2.5)
    far = direct[1, 0] + shadow[1, 0]
    assert 20.0 * np.log10(far) == pytest.approx(-3.5)
    assert 20.0 * np.log10(direct[1, 0] / far) == pytest.approx(-7.0)


def test_side_source_is_louder_earlier_and_brighter_in_the_near_ear() -> None:
    """A source at the right ear reaches the right first, louder, and the left duller."""
    x = _noise(SAMPLE_RATE)
    stereo = place(x, 90.0)
    left, right = stereo[:, 0], stereo[:, 1]
    lag = int(np.argmax(np.correlate(left[:4800], right[:4800], mode="full"))) - 4799
    assert 28 <= lag <= MAX_ITD_FRAMES
    low_ild = _band_db(right, 100.0, 800.0) - _band_db(left, 100.0, 800.0)
    high_ild = _band_db(right, 5000.0, 15000.0) - _band_db(left, 5000.0, 15000.0)
    assert 3.0 < low_ild < 7.0
    assert high_ild > 10.0
    ahead = place(x, 0.0)
    np.testing.assert_array_equal(ahead[:, 0], ahead[:, 1])


def test_head_shadow_is_a_zero_phase_lowpass() -> None:
    """The far-ear filter passes lows, cuts highs and does not shift the signal."""
    impulse = np.zeros(257, dtype=np.float32)
    impulse[128] = 1.0
    response = head_shadow(impulse)
    assert int(np.argmax(response)) == 128
    gain = np.abs(np.fft.rfft(response, 4800))
    f = np.fft.rfftfreq(4800, 1.0 / SAMPLE_RATE)
    assert gain[np.argmin(np.abs(f - 300.0))] > 0.9
    assert gain[np.argmin(np.abs(f - 8000.0))] < 0.1


def test_events_mix_like_placing_each_alone() -> None:
    """Placing many events at once equals placing each one and adding them up."""
    rng = np.random.default_rng(3)
    grains = [_noise(400, seed) for seed in range(5)]
    starts = np.array([0, 250, 1000, 1800, 3000])
    gains = rng.uniform(0.2, 1.0, 5)
    az = np.array([-90.0, -20.0, 0.0, 45.0, 120.0])
    mixed = place_events(4000, grains, starts, gains, az)
    expected = np.zeros((4000, 2), dtype=np.float32)
    for grain, start, gain, where in zip(grains, starts, gains, az, strict=True):
        expected[start : start + 400] += np.float32(gain) * place(grain, where)
    np.testing.assert_allclose(mixed, expected, atol=1e-5)


def test_moving_source_crosses_from_ear_to_ear() -> None:
    """A sound swept from left to right moves its level from the left to the right ear."""
    x = _noise(2 * SAMPLE_RATE)
    az = np.linspace(-80.0, 80.0, x.size // PLACEMENT_HOP + 2)
    stereo = place_moving(x, az)
    quarter = x.size // 4
    first = stereo[:quarter] ** 2
    last = stereo[-quarter:] ** 2
    assert 10 * np.log10(first[:, 0].sum() / first[:, 1].sum()) > 4.0
    assert 10 * np.log10(last[:, 1].sum() / last[:, 0].sum()) > 4.0
    still = place_moving(x, np.full(az.size, 50.0))
    np.testing.assert_allclose(still[64:], place(x, 50.0)[64:], atol=1e-4)


def test_moving_placement_follows_absolute_time() -> None:
    """A sound split in two and placed piecewise equals the sound placed whole."""
    placement = Placement(azimuth=0.0, sweep=70.0, period_s=6.0)
    x = _noise(4 * PLACEMENT_HOP * 100)
    whole = place_moving_at(x, placement, 9, 12.0, salt="s")
    half = x.size // 2
    second = place_moving_at(
        x[half:], placement, 9, 12.0 + half / SAMPLE_RATE, salt="s"
    )
    np.testing.assert_allclose(second[64:], whole[half + 64 :], atol=1e-4)
