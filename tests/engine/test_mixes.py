"""Tests for user mixes: building, validating, levelling and playing them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from custom_components.asmr.engine import (
    PLACEMENTS,
    SAMPLE_RATE,
    InvalidMixError,
    MixLayer,
    Scene,
    UnknownPlacementError,
    UnknownSceneError,
    UnknownTriggerError,
    UnknownVariantError,
    calibration,
    catalogue,
    mix_scene,
    render,
    resolve_scene,
)
from custom_components.asmr.engine.loudness import (
    LOUDNESS_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    measure,
)
from custom_components.asmr.engine.scenes import (
    PROFILE_SHARES,
    SCENES,
    EngineError,
    Layer,
    estimated_loudness_db,
    loudness_profile,
    power_sum_db,
)
from custom_components.asmr.engine.triggers import TRIGGERS, VARIANTS, calibration_key

SECONDS = 60

_SIX = (
    ("whispering", "close", None),
    ("page_turning", "near", None),
    ("fire_crackling", "far", None),
    ("rainfall", "wide", "on_ground"),
    ("stream", "wide", None),
    ("pink_noise", "wide", None),
)

MIXES: dict[str, tuple[MixLayer, ...]] = {
    "all_quietest": tuple(
        MixLayer(trigger=t, placement=p, variant=v, level_db=-30.0) for t, p, v in _SIX
    ),
    "all_loudest": tuple(
        MixLayer(trigger=t, placement=p, variant=v, level_db=0.0) for t, p, v in _SIX
    ),
    # A sparse trigger over a bed just under it: the gates count the pauses now.
    "pages_over_pink": (
        MixLayer(trigger="page_turning", placement="near"),
        MixLayer(trigger="pink_noise", level_db=-8.0),
    ),
    "whisper_over_quiet_beds": (
        MixLayer(trigger="whispering", placement="close"),
        MixLayer(trigger="stream", level_db=-30.0),
        MixLayer(trigger="brown_noise", level_db=-30.0),
    ),
    "glass_rain_and_whisper": (
        MixLayer(trigger="rainfall", variant="on_glass"),
        MixLayer(trigger="whispering", placement="close", level_db=-12.0),
    ),
}


def _mix(name: str, layers: tuple[MixLayer, ...]) -> Scene:
    """Return a mix with an id of its own."""
    return mix_scene(id=f"mix-{name}", name=name.replace("_", " "), layers=layers)


@pytest.mark.parametrize("seed", [5, 6])
@pytest.mark.parametrize("name", list(MIXES))
def test_a_mix_lands_on_target_whatever_its_levels(name: str, seed: int) -> None:
    """A minute of any mix is within 1 LU of the target, true peak under the ceiling."""
    scene = _mix(name, MIXES[name])
    lufs, peak = measure(render(scene, seed=seed, stop=SECONDS * SAMPLE_RATE))
    assert abs(lufs - LOUDNESS_LUFS) <= 1.0, lufs
    assert peak <= TRUE_PEAK_CEILING_DBTP


def test_the_estimate_counts_the_pauses_of_sparse_triggers() -> None:
    """Steady beds add in power; a sparse trigger over a bed adds less than that."""
    lone = [Layer(trigger="page_turning")]
    assert estimated_loudness_db(lone) == pytest.approx(0.0, abs=0.3)
    beds = [Layer(trigger="pink_noise"), Layer(trigger="brown_noise", level_db=-6.0)]
    assert estimated_loudness_db(beds) == pytest.approx(power_sum_db(beds), abs=0.3)
    sparse = [Layer(trigger="page_turning"), Layer(trigger="pink_noise", level_db=-8.0)]
    assert estimated_loudness_db(sparse) < power_sum_db(sparse) - 2.0
    far_under = [
        Layer(trigger="page_turning"),
        Layer(trigger="pink_noise", level_db=-30),
    ]
    assert estimated_loudness_db(far_under) == pytest.approx(0.0, abs=0.3)
    assert estimated_loudness_db([]) == -math.inf


def test_every_trigger_and_variant_has_a_loudness_profile() -> None:
    """The table holds a sorted profile of equal shares for each trigger and variant."""
    keys = {*TRIGGERS} | {
        calibration_key(trigger_id, name)
        for trigger_id, variants in VARIANTS.items()
        for name in variants
    }
    assert set(calibration.LOUDNESS_PROFILE_DB) == keys
    for profile in calibration.LOUDNESS_PROFILE_DB.values():
        assert len(profile) == PROFILE_SHARES
        assert list(profile) == sorted(profile)
        assert min(profile) >= -99.0


def test_a_profile_keeps_the_power_of_each_share() -> None:
    """A quarter of silence and three quarters at 0 dB: the shares show both."""
    quarter = PROFILE_SHARES // 4
    blocks = np.concatenate([np.full(10 * quarter, -np.inf), np.zeros(30 * quarter)])
    assert loudness_profile(blocks) == (-99.0,) * quarter + (0.0,) * (3 * quarter)
    # A share keeps its mean power: one silent block and one at 0 dB make -3 dB.
    half = PROFILE_SHARES // 2
    mixed = loudness_profile(
        [-np.inf] * (PROFILE_SHARES + 1) + [0.0] * (PROFILE_SHARES - 1)
    )
    assert mixed == (-99.0,) * half + (-3.0,) + (0.0,) * (half - 1)


def test_a_mix_is_built_from_presets() -> None:
    """Layers keep trigger, level and variant; placements come from the named presets."""
    scene = mix_scene(
        id="01JMIX",
        name="Rain and whispers",
        layers=[
            MixLayer(trigger="rainfall", variant="on_glass", level_db=-6.0),
            MixLayer(trigger="whispering", placement="close"),
            MixLayer(trigger="tapping", placement="far", level_db=-12.5),
        ],
    )
    assert scene.id == "01JMIX"
    assert scene.name == "Rain and whispers"
    assert scene.icon == "mdi:account-voice"  # the loudest layer's trigger
    rain, whisper, taps = scene.layers
    assert (rain.trigger, rain.variant, rain.level_db) == ("rainfall", "on_glass", -6.0)
    assert rain.placement == PLACEMENTS["wide"]  # a bed, by default
    assert whisper.placement == PLACEMENTS["close"]
    assert taps.placement == PLACEMENTS["far"]
    assert taps.level_db == -12.5
    assert scene.gain_db == pytest.approx(-estimated_loudness_db(scene.layers))


def test_presets_say_where_a_sound_is() -> None:
    """Close moves between the ears, near drifts in front, far barely moves, wide spans all."""
    assert list(PLACEMENTS) == ["close", "near", "far", "wide"]
    close, near, far, wide = (PLACEMENTS[name] for name in PLACEMENTS)
    assert close.sweep >= 60.0
    assert close.period_s > 0.0
    assert close.sweep > near.sweep > far.sweep > 0.0
    assert close.period_s < near.period_s < far.period_s
    assert wide.azimuth == 0.0
    assert wide.sweep == 90.0
    assert all(p.period_s > 0.0 for p in PLACEMENTS.values())


@pytest.mark.parametrize(
    ("layers", "error", "message"),
    [
        ([], InvalidMixError, "has 0 layers; a mix has 1 to 6"),
        (
            [MixLayer(trigger="pink_noise")] * 7,
            InvalidMixError,
            "has 7 layers; a mix has 1 to 6",
        ),
        (
            [MixLayer(trigger="pink_noise", level_db=-31.0)],
            InvalidMixError,
            r"layer 1 \(pink_noise\): level_db must be a number from -30 to 0 dB, got -31",
        ),
        (
            [MixLayer(trigger="wind"), MixLayer(trigger="tapping", level_db=0.5)],
            InvalidMixError,
            r"layer 2 \(tapping\): level_db .* got 0.5",
        ),
        ([MixLayer(trigger="wind", level_db=math.nan)], InvalidMixError, "got nan"),
        ([MixLayer(trigger="wind", level_db=True)], InvalidMixError, "got True"),
        (
            [MixLayer(trigger="tapping", placement="overhead")],
            UnknownPlacementError,
            "unknown placement 'overhead'; known placements: close, near, far, wide",
        ),
        (
            [MixLayer(trigger="kazoo")],
            UnknownTriggerError,
            r"layer 1: unknown trigger 'kazoo'; known triggers: whispering, ",
        ),
        (
            [MixLayer(trigger="rainfall", variant="on_roof")],
            UnknownVariantError,
            r"layer 1: unknown variant 'on_roof' of trigger 'rainfall'; "
            r"known variants: mixed, on_glass, on_ground",
        ),
        (
            [MixLayer(trigger="wind", variant="gusty")],
            UnknownVariantError,
            "trigger 'wind'; it has no variants",
        ),
    ],
)
def test_a_bad_mix_says_what_is_wrong(
    layers: list[MixLayer], error: type[EngineError], message: str
) -> None:
    """Each validation error is an engine error (a ValueError) naming the problem."""
    with pytest.raises(error, match=message):
        mix_scene(id="m", name="My mix", layers=layers)
    assert issubclass(error, EngineError)
    assert issubclass(error, ValueError)


def test_a_mix_needs_an_id_and_a_name_of_its_own() -> None:
    """Empty ids and names, built-in ids and non-mdi icons are refused."""
    one = [MixLayer(trigger="pink_noise")]
    with pytest.raises(InvalidMixError, match="non-empty id"):
        mix_scene(id="", name="My mix", layers=one)
    with pytest.raises(InvalidMixError, match="non-empty name"):
        mix_scene(id="m", name="  ", layers=one)
    with pytest.raises(InvalidMixError, match="'rain_on_window' is already a built-in"):
        mix_scene(id="rain_on_window", name="Mine", layers=one)
    with pytest.raises(InvalidMixError, match="mdi: icon"):
        mix_scene(id="m", name="My mix", layers=one, icon="rain.png")
    assert mix_scene(id="m", name="My mix", layers=one, icon="mdi:star").icon == (
        "mdi:star"
    )


def test_a_mix_plays_like_a_built_in_scene() -> None:
    """resolve_scene takes a mix (or its id among the room's mixes); render plays it."""
    mix = _mix("glass_rain_and_whisper", MIXES["glass_rain_and_whisper"])
    assert resolve_scene(mix) is mix
    assert resolve_scene(mix.id, mixes=[mix]) is mix
    with pytest.raises(UnknownSceneError, match="mix-glass_rain_and_whisper"):
        resolve_scene(mix.id)
    alone = resolve_scene(mix, avoid=["whispering"])
    assert [layer.trigger for layer in alone.layers] == ["rainfall"]
    # Without the whisper the rain plays alone, at its calibrated loudness.
    assert alone.gain_db == pytest.approx(0.0, abs=0.3)
    first = np.concatenate(list(render(mix, seed=3, stop=3 * SAMPLE_RATE)))
    again = np.concatenate(
        list(render(mix, seed=3, start=SAMPLE_RATE, stop=3 * SAMPLE_RATE))
    )
    assert np.array_equal(first[SAMPLE_RATE:], again)
    assert np.abs(first).max() > 0.0


def test_the_catalogue_holds_built_in_scenes_then_mixes() -> None:
    """A room's catalogue lists the built-in scenes and its mixes, ids unique."""
    mix = _mix("pages_over_pink", MIXES["pages_over_pink"])
    scenes = catalogue([mix])
    assert list(scenes) == [*SCENES, mix.id]
    assert scenes[mix.id] is mix
    assert catalogue() == SCENES
    with pytest.raises(InvalidMixError, match="two scenes have the id"):
        catalogue([mix, mix])
    assert all(layer.trigger in TRIGGERS for layer in mix.layers)
