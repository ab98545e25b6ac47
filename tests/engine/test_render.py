"""Tests for the mixer: chunk-exact random access, envelope, limiter, validation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from custom_components.asmr.engine.base import (
    BUFFER_FRAMES,
    CHUNK_FRAMES,
    SAMPLE_RATE,
    ChunkRequest,
)
from custom_components.asmr.engine.loudness import true_peak_db
from custom_components.asmr.engine.render import render, warm_up
from custom_components.asmr.engine.scenes import (
    EngineError,
    Layer,
    Scene,
    UnknownTriggerError,
    resolve_scene,
    trigger_scene,
)
from custom_components.asmr.engine.triggers import TRIGGERS


def _all(scene: Scene, **kwargs: float) -> np.ndarray:
    """Return a whole render as one array."""
    return np.concatenate(list(render(scene, **kwargs)))  # type: ignore[arg-type]


def test_render_from_an_offset_equals_render_from_zero() -> None:
    """A render starting mid-way yields exactly the frames a full render holds there."""
    scene = resolve_scene("whisper_and_brush")
    stop = 9 * CHUNK_FRAMES + 1234
    full = _all(scene, seed=5, stop=stop, fade_out_s=2.0)
    for start in (1, CHUNK_FRAMES - 7, 4 * CHUNK_FRAMES + 999, stop - 10):
        part = _all(
            scene, seed=5, start=start, stop=stop, fade_out_s=2.0, blocksize=777
        )
        assert part.shape == (stop - start, 2)
        np.testing.assert_allclose(part, full[start:], atol=1e-6)


def test_blocks_have_the_asked_size() -> None:
    """Blocks are ``blocksize`` frames, the last one shorter, all float32 stereo."""
    blocks = list(render(trigger_scene("pink_noise"), stop=100_000, blocksize=30_000))
    assert [b.shape[0] for b in blocks] == [30_000, 30_000, 30_000, 10_000]
    assert all(b.dtype == np.float32 and b.shape[1] == 2 for b in blocks)


def test_fades_start_and_end_in_silence() -> None:
    """The fade-in starts from silence at frame 0; the fade-out ends at ``stop``."""
    audio = _all(
        trigger_scene("white_noise"),
        stop=8 * SAMPLE_RATE,
        fade_in_s=2.0,
        fade_out_s=2.0,
    )
    rms = np.sqrt(np.mean(audio.reshape(-1, SAMPLE_RATE // 10, 2) ** 2, axis=(1, 2)))
    assert rms[0] < 0.02 * rms[40]
    assert rms[-1] < 0.02 * rms[40]
    assert rms[10] < rms[15] < rms[25]
    assert np.abs(audio[-4:]).max() < 1e-4


def test_same_seed_same_audio_other_seed_other_audio() -> None:
    """Rendering is deterministic from the seed."""
    scene = resolve_scene("forest_stream")
    a = _all(scene, seed=1, stop=2 * SAMPLE_RATE)
    assert np.array_equal(a, _all(scene, seed=1, stop=2 * SAMPLE_RATE))
    assert not np.allclose(a, _all(scene, seed=2, stop=2 * SAMPLE_RATE))


def test_layers_of_one_trigger_are_independent() -> None:
    """Two layers of the same trigger do not play the same noise."""
    one = Scene(
        id="x", name="x", icon="mdi:waveform", layers=(Layer(trigger="white_noise"),)
    )
    two = replace(
        one, layers=(Layer(trigger="white_noise"), Layer(trigger="white_noise"))
    )
    a = _all(one, stop=SAMPLE_RATE, fade_in_s=0.0)
    b = _all(two, stop=SAMPLE_RATE, fade_in_s=0.0)
    # Independent layers add in power (+3 dB), identical ones in amplitude (+6 dB).
    ratio_db = 20 * np.log10(b.std() / a.std())
    assert 2.0 < ratio_db < 4.0


def test_limiter_keeps_true_peak_under_the_ceiling() -> None:
    """Even a scene pushed 20 dB too hot stays at or under -1 dBTP, smoothly."""
    scene = replace(resolve_scene("rain_on_window"), gain_db=20.0)
    audio = _all(scene, stop=10 * SAMPLE_RATE, fade_in_s=0.0)
    assert true_peak_db(audio) <= -1.0
    assert np.isfinite(audio).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stop": 0}, "stop"),
        ({"stop": 10, "start": 10}, "stop"),
        ({"stop": 10, "start": -1}, "start"),
        ({"stop": 10, "seed": -3}, "seed"),
        ({"stop": 10, "blocksize": 0}, "blocksize"),
        ({"stop": 10, "fade_in_s": -1.0}, "fade_in_s"),
        ({"stop": 10, "fade_out_s": float("nan")}, "fade_out_s"),
        ({"stop": 1.5}, "integer"),
    ],
)
def test_bad_arguments_are_refused_up_front(
    kwargs: dict[str, float], message: str
) -> None:
    """Bad arguments raise a ValueError naming the problem, before any audio."""
    with pytest.raises(EngineError, match=message):
        render(trigger_scene("pink_noise"), **kwargs)  # type: ignore[arg-type]


def _padding(
    render_chunk: Callable[[ChunkRequest], np.ndarray], short: list[int]
) -> Callable[[ChunkRequest], np.ndarray]:
    """Wrap a renderer to zero-pad its buffers to the longest length, layout kept.

    Every buffer it had to pad is counted in ``short``.
    """

    def padded(request: ChunkRequest) -> np.ndarray:
        buffer = render_chunk(request)
        short.append(buffer.shape[0] < BUFFER_FRAMES)
        planar = not buffer.flags.c_contiguous
        if planar:
            full = np.zeros((2, BUFFER_FRAMES), np.float32)
            full[:, : buffer.shape[0]] = buffer.T
            return full.T
        full = np.zeros((BUFFER_FRAMES, 2), np.float32)
        full[: buffer.shape[0]] = buffer
        return full

    return padded


def test_short_buffers_mix_as_their_zero_padded_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A buffer that ends where its sound does mixes as if padded with silence."""
    scene = resolve_scene("whisper_and_brush")
    short: dict[str, list[int]] = {layer.trigger: [] for layer in scene.layers}
    for trigger_id, counts in short.items():
        trigger = TRIGGERS[trigger_id]
        padded = _padding(trigger.render_chunk, counts)
        monkeypatch.setitem(TRIGGERS, trigger_id, replace(trigger, render_chunk=padded))
    padded_mix = _all(scene, seed=5, stop=8 * CHUNK_FRAMES)
    monkeypatch.undo()
    # Whispering hands over planar buffers, the pink bed interleaved ones: both short.
    assert any(short["whispering"])
    assert any(short["pink_noise"])
    np.testing.assert_array_equal(
        _all(scene, seed=5, stop=8 * CHUNK_FRAMES), padded_mix
    )


@pytest.mark.parametrize("frames", [CHUNK_FRAMES - 1, BUFFER_FRAMES + 1])
def test_a_buffer_of_the_wrong_length_is_refused(
    monkeypatch: pytest.MonkeyPatch, frames: int
) -> None:
    """A trigger handing over too short or too long a buffer fails with its shape."""
    trigger = TRIGGERS["pink_noise"]
    monkeypatch.setitem(
        TRIGGERS,
        "pink_noise",
        replace(trigger, render_chunk=lambda _: np.zeros((frames, 2), np.float32)),
    )
    with pytest.raises(EngineError, match=rf"\({frames}, 2\) for chunk 0"):
        _all(trigger_scene("pink_noise"), stop=CHUNK_FRAMES)


def test_scene_with_an_unknown_trigger_is_refused() -> None:
    """A hand-made scene naming no real trigger fails on the call."""
    scene = Scene(id="x", name="x", icon="mdi:help", layers=(Layer(trigger="kazoo"),))
    with pytest.raises(UnknownTriggerError, match="kazoo"):
        render(scene, stop=10)


def test_warm_up_builds_every_trigger_and_refuses_unknown_ones() -> None:
    """warm_up prepares all triggers (or those named) and names an unknown one."""
    warm_up(["pink_noise", "wind"])
    with pytest.raises(UnknownTriggerError, match="kazoo"):
        warm_up(["kazoo"])
