"""Tests for trigger variants: declared by a trigger, picked by a layer, calibrated."""

from __future__ import annotations

import numpy as np
import pytest

from custom_components.asmr.engine import calibration
from custom_components.asmr.engine.base import SAMPLE_RATE, ChunkRequest
from custom_components.asmr.engine.loudness import (
    LOUDNESS_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    measure,
)
from custom_components.asmr.engine.render import render
from custom_components.asmr.engine.scenes import (
    SCENES,
    EngineError,
    Layer,
    Scene,
    UnknownVariantError,
    calibrated_gain_db,
    trigger_scene,
)
from custom_components.asmr.engine.triggers import (
    TRIGGERS,
    VARIANTS,
    calibration_key,
    rainfall,
    variant_names,
)

SECONDS = 30

NON_DEFAULT = [
    (trigger_id, name)
    for trigger_id, variants in VARIANTS.items()
    for name in list(variants)[1:]
]


def _lone(trigger_id: str, variant: str | None) -> Scene:
    """Return a one-layer scene of a trigger in a variant."""
    return Scene(
        id=trigger_id,
        name=trigger_id,
        icon="mdi:music",
        layers=(Layer(trigger=trigger_id, variant=variant),),
    )


def _audio(scene: Scene, seconds: float = 3.0, seed: int = 5) -> np.ndarray:
    """Return a short render of a scene."""
    return np.concatenate(
        list(render(scene, seed=seed, stop=round(seconds * SAMPLE_RATE)))
    )


def test_rainfall_declares_its_variants() -> None:
    """Rain comes mixed (its own sound), mostly on glass, or on open ground."""
    assert variant_names("rainfall") == ("mixed", "on_glass", "on_ground")
    assert VARIANTS["rainfall"]["mixed"] is TRIGGERS["rainfall"].render_chunk
    assert variant_names("tapping") == ()
    request = ChunkRequest(seed=3, index=2)
    glass = VARIANTS["rainfall"]["on_glass"](request)
    expected = rainfall.render_rain(request, glass=rainfall.ON_GLASS_SHARE)
    assert np.array_equal(glass, expected)
    ground = VARIANTS["rainfall"]["on_ground"](request)
    assert np.array_equal(ground, rainfall.render_rain(request, glass=0.0))


def test_a_layer_plays_its_variant() -> None:
    """The default variant is the trigger itself; another one sounds different."""
    plain = _audio(_lone("rainfall", None))
    assert np.array_equal(_audio(_lone("rainfall", "mixed")), plain)
    glass = _audio(_lone("rainfall", "on_glass"))
    assert not np.array_equal(glass, plain)

    # Drops on a pane are brighter: more of the energy lies above 4 kHz.
    def high_share(audio: np.ndarray) -> float:
        spectrum = np.abs(np.fft.rfft(audio[:, 0])) ** 2
        freqs = np.fft.rfftfreq(audio.shape[0], 1.0 / SAMPLE_RATE)
        return float(spectrum[freqs > 4000.0].sum() / spectrum.sum())

    ground = _audio(_lone("rainfall", "on_ground"))
    assert high_share(glass) > high_share(plain) > high_share(ground)


def test_unknown_variants_are_refused_with_the_known_ones() -> None:
    """A render of an unknown variant fails on the call, naming the variants there are."""
    with pytest.raises(UnknownVariantError, match="on_glass, on_ground") as caught:
        render(_lone("rainfall", "on_roof"), stop=SAMPLE_RATE)
    assert "'on_roof'" in str(caught.value)
    assert "'rainfall'" in str(caught.value)
    with pytest.raises(UnknownVariantError, match="no variants"):
        render(_lone("tapping", "glass"), stop=SAMPLE_RATE)
    assert issubclass(UnknownVariantError, EngineError)


def test_calibration_keys_and_gains() -> None:
    """Each variant but the default has its own gain, keyed ``trigger:variant``."""
    assert calibration_key("rainfall", None) == "rainfall"
    assert calibration_key("rainfall", "mixed") == "rainfall"
    assert calibration_key("rainfall", "on_glass") == "rainfall:on_glass"
    assert set(calibration.VARIANT_GAIN_DB) == {f"{t}:{v}" for t, v in NON_DEFAULT}
    glass = Layer(trigger="rainfall", variant="on_glass")
    assert calibrated_gain_db(glass) == calibration.VARIANT_GAIN_DB["rainfall:on_glass"]
    plain = Layer(trigger="rainfall", variant="mixed")
    assert calibrated_gain_db(plain) == calibration.TRIGGER_GAIN_DB["rainfall"]


@pytest.mark.parametrize(("trigger_id", "variant"), NON_DEFAULT)
def test_every_variant_lands_on_target(trigger_id: str, variant: str) -> None:
    """A lone variant renders within 1 LU of the target, true peak under the ceiling."""
    scene = _lone(trigger_id, variant)
    lufs, peak = measure(render(scene, seed=23, stop=SECONDS * SAMPLE_RATE))
    assert abs(lufs - LOUDNESS_LUFS) <= 1.0, lufs
    assert peak <= TRUE_PEAK_CEILING_DBTP


def test_rain_on_window_is_rain_on_glass() -> None:
    """The window scene's rain falls on the pane; lone rainfall keeps its own sound."""
    rain = [
        layer
        for layer in SCENES["rain_on_window"].layers
        if layer.trigger == "rainfall"
    ]
    assert [layer.variant for layer in rain] == ["on_glass"]
    assert trigger_scene("rainfall").layers[0].variant is None
