"""Tests for the typing trigger."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
import pytest

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.triggers.typing import TRIGGER

from .helpers import onsets_s, render_from, window_db
from .test_tapping import decay_tonality_db


@pytest.fixture(scope="module")
def minute() -> NDArray[np.float32]:
    """Return a minute of the trigger with a sweeping placement."""
    return render_from(TRIGGER, 1, 60)


def test_typing_stays_in_front(minute: NDArray[np.float32]) -> None:
    """Typing is only mildly placed: the ears never differ by more than a few dB."""
    level = window_db(minute, 0.5)
    active = level.max(axis=1) > level.max() - 30.0
    assert np.max(np.abs(level[active, 0] - level[active, 1])) < 6.0


def test_prose_rhythm(minute: NDArray[np.float32]) -> None:
    """Keystrokes come in bursts with irregular gaps and longer pauses between sentences."""
    onsets = onsets_s(minute)
    assert 250 < onsets.size < 900
    gaps = np.diff(onsets)
    assert np.std(gaps) / np.mean(gaps) > 0.6
    assert np.sum(gaps > 0.6) >= 3
    assert np.max(gaps) < 4.0


def test_space_bar_is_deeper_than_letters() -> None:
    """The space bar's thock sits lower than a letter key's press."""
    from custom_components.asmr.engine.triggers.typing import (  # noqa: PLC0415
        SPACE,
        grain_bank,
    )

    grains, _ = grain_bank()

    def centroid(grain: NDArray[np.float32]) -> float:
        power = np.abs(np.fft.rfft(grain, 16384)) ** 2
        f = np.fft.rfftfreq(16384, 1.0 / SAMPLE_RATE)
        return float(np.sum(f * power) / np.sum(power))

    letters = np.median([centroid(key[1]) for key in grains[:SPACE]])
    assert centroid(grains[SPACE][1]) < 0.8 * letters


def test_keystrokes_do_not_ring(minute: NDArray[np.float32]) -> None:
    """Keystrokes die away as noise: no partial is left ringing 30-150 ms after one."""
    tonality = decay_tonality_db(minute)
    assert tonality.size >= 20
    assert np.median(tonality) < -30.0
    assert np.percentile(tonality, 90) < -24.0


def test_keystrokes_are_short_broadband_clacks() -> None:
    """Every press is noise-like between 1 and 10 kHz and spent within 50 ms."""
    from custom_components.asmr.engine.triggers.typing import (  # noqa: PLC0415
        STRENGTHS,
        grain_bank,
    )

    grains, _ = grain_bank()
    f = np.fft.rfftfreq(8192, 1.0 / SAMPLE_RATE)
    clack = (f > 1000.0) & (f < 10000.0)
    for key in grains:
        for press in key[:STRENGTHS]:
            power = np.abs(np.fft.rfft(press.astype(np.float64), 8192))[clack] ** 2
            flatness = np.exp(np.mean(np.log(power + 1e-20))) / np.mean(power)
            assert flatness > 0.2
            energy = np.cumsum(press.astype(np.float64) ** 2)
            assert (
                energy[min(int(0.05 * SAMPLE_RATE), press.size) - 1] > 0.95 * energy[-1]
            )


def test_a_key_built_alone_is_the_key_a_pass_over_the_keyboard_builds() -> None:
    """Built first and on its own, a key sounds as it does drawn after all the others."""
    from custom_components.asmr.engine.base import chunk_rng  # noqa: PLC0415
    from custom_components.asmr.engine.impacts import burst_frequencies  # noqa: PLC0415
    from custom_components.asmr.engine.triggers import typing  # noqa: PLC0415

    rng = chunk_rng(0, "typing-bank", 0)
    board = typing.deck_colour(rng, burst_frequencies(typing.RECIPE.grain_frames))
    passed = [
        typing.build_key(typing.draw_key(rng, big=typing.is_long_key(key)), board)
        for key in range(typing.KEYS)
    ]
    typing.key_grains.cache_clear()
    typing.keyboard.cache_clear()
    for key in (typing.ENTER, 3, typing.SPACE):
        grains, _ = typing.key_grains(key)
        for alone, whole in zip(grains, passed[key], strict=True):
            np.testing.assert_array_equal(alone, whole.astype(np.float32))


def test_warm_up_builds_every_key() -> None:
    """Warming typing up builds every key, not only those its first chunk strikes."""
    from custom_components.asmr.engine.render import warm_up  # noqa: PLC0415
    from custom_components.asmr.engine.triggers import typing  # noqa: PLC0415

    typing.key_grains.cache_clear()
    warm_up(["typing"])
    assert typing.key_grains.cache_info().currsize == typing.KEYS
