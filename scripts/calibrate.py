"""Measure every lone trigger and built-in scene and write engine/calibration.py.

    scripts/calibrate [--seconds 60] [--seeds 4] [--passes 2] [--jobs 2] [--only ID ...]
                      [--profiles-only]

Each pass renders every item with several seeds (the same way a session does, fade-in
included), measures the BS.1770 integrated loudness and moves its gain by the distance
to ``LOUDNESS_LUFS``; a second pass settles what the limiter changed. Triggers first,
then scenes made of calibrated triggers. Rerun it whenever a trigger's sound changes;
``--only`` re-measures just the named triggers and scenes and keeps every other entry
of the table as it is on disk when the new one is written. A trigger's variants are
measured with it (keys ``"<trigger>:<variant>"``), and each lone trigger's loudness
profile (the shape of its loudness over time, by which user mixes are levelled) is taken
from its last pass; ``--profiles-only`` measures just the profiles and keeps the gains.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
import sys
from typing import Any

sys.path.append(
    str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
)

from engine import calibration  # noqa: E402
from engine.base import SAMPLE_RATE  # noqa: E402
from engine.loudness import (  # noqa: E402
    LOUDNESS_LUFS,
    block_loudness,
    integrated_loudness,
    true_peak_db,
)
from engine.render import DEFAULT_FADE_IN_S, render  # noqa: E402
from engine.scenes import SCENES, Scene, loudness_profile, trigger_scene  # noqa: E402
from engine.triggers import TRIGGERS, variant_names  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

TABLE = Path(calibration.__file__)


Measured = tuple[float, float, NDArray[np.float64]]
"""What one render gives: LUFS, dBTP and its blocks' loudness relative to its LUFS."""


def _measure(job: tuple[Scene, int, float, dict[str, float]]) -> Measured:
    """Render one scene with one seed under a gain table; return what it measures.

    The blocks' loudness is taken after the session's fade-in.
    """
    scene, seed, seconds, gains = job
    calibration.TRIGGER_GAIN_DB.clear()
    calibration.TRIGGER_GAIN_DB.update({k: v for k, v in gains.items() if ":" not in k})
    calibration.VARIANT_GAIN_DB.clear()
    calibration.VARIANT_GAIN_DB.update({k: v for k, v in gains.items() if ":" in k})
    audio = np.concatenate(
        list(render(scene, seed=seed, stop=round(seconds * SAMPLE_RATE)))
    )
    settled = audio[round(DEFAULT_FADE_IN_S * SAMPLE_RATE) :]
    blocks = block_loudness(settled) - integrated_loudness(settled)
    return integrated_loudness(audio), true_peak_db(audio), blocks


def _profiles(
    scenes: dict[str, Scene],
    gains: dict[str, float],
    *,
    args: argparse.Namespace,
    pool: ProcessPoolExecutor,
) -> dict[str, tuple[float, ...]]:
    """Return the loudness profile of each lone trigger (see ``scenes.loudness_profile``)."""
    jobs = [
        (scene, seed, args.seconds, gains)
        for scene in scenes.values()
        for seed in range(args.seeds)
    ]
    measured = list(pool.map(_measure, jobs))
    return {
        key: loudness_profile(
            np.concatenate(
                [m[2] for m in measured[i * args.seeds : (i + 1) * args.seeds]]
            )
        )
        for i, key in enumerate(scenes)
    }


def _calibrate(
    scenes: dict[str, Scene],
    gains: dict[str, float],
    *,
    of_triggers: bool,
    args: argparse.Namespace,
    pool: ProcessPoolExecutor,
    profiles: dict[str, tuple[float, ...]] | None = None,
) -> dict[str, float]:
    """Return the gain of each item that brings it to the target, after ``args.passes``.

    ``profiles`` receives each item's loudness profile, measured in the last pass.
    """
    result = {
        key: (gains.get(key, 0.0) if of_triggers else scene.gain_db)
        for key, scene in scenes.items()
    }
    for number in range(args.passes):
        jobs: list[tuple[Scene, int, float, dict[str, float]]] = []
        for key, scene in scenes.items():
            table = dict(gains)
            if of_triggers:
                table[key] = result[key]
            else:
                scene = replace(scene, gain_db=result[key])
            jobs.extend(
                (scene, seed, args.seconds, table) for seed in range(args.seeds)
            )
        measured = list(pool.map(_measure, jobs))
        print(f"pass {number + 1}:", file=sys.stderr)
        for i, key in enumerate(scenes):
            mine = measured[i * args.seeds : (i + 1) * args.seeds]
            lufs = np.array([m[0] for m in mine])
            peaks = np.array([m[1] for m in mine])
            if profiles is not None:
                profiles[key] = loudness_profile(np.concatenate([m[2] for m in mine]))
            result[key] = round(result[key] + LOUDNESS_LUFS - float(lufs.mean()), 2)
            print(
                f"  {key:20s} {lufs.mean():7.2f} LUFS (spread {lufs.min():6.2f} .. "
                f"{lufs.max():6.2f})  peak {peaks.max():6.2f} dBTP -> gain {result[key]:+6.2f} dB",
                file=sys.stderr,
            )
    return result


def _variant_keys() -> list[str]:
    """Return the calibration keys of every trigger's variants but its default one."""
    return [
        f"{trigger_id}:{name}"
        for trigger_id in TRIGGERS
        for name in variant_names(trigger_id)[1:]
    ]


def _lone(trigger_id: str, variant: str | None = None) -> Scene:
    """Return a lone trigger's scene, playing the given variant."""
    scene = trigger_scene(trigger_id)
    layers = tuple(replace(layer, variant=variant) for layer in scene.layers)
    return replace(scene, layers=layers)


def _write(
    triggers: dict[str, float],
    scenes: dict[str, float],
    profiles: dict[str, tuple[float, ...]],
) -> None:
    """Write the calibration table module, merging the new values into the table on disk.

    The table is read again just before writing, so several ``--only`` runs on different
    ids at once keep each other's results.
    """
    on_disk: dict[str, Any] = {}
    exec(compile(TABLE.read_text(), str(TABLE), "exec"), on_disk)  # noqa: S102
    variants = {
        **on_disk.get("VARIANT_GAIN_DB", {}),
        **{key: gain for key, gain in triggers.items() if ":" in key},
    }
    triggers = {**on_disk["TRIGGER_GAIN_DB"], **triggers}
    scenes = {**on_disk["SCENE_GAIN_DB"], **scenes}
    profiles = {**on_disk.get("LOUDNESS_PROFILE_DB", {}), **profiles}
    lone_keys = [*TRIGGERS, *_variant_keys()]
    profiles = {key: profiles[key] for key in lone_keys if key in profiles}
    variants = {key: variants[key] for key in _variant_keys() if key in variants}
    triggers = {key: triggers[key] for key in TRIGGERS if key in triggers}
    scenes = {key: scenes[key] for key in SCENES if key in scenes}

    def table(values: dict[str, float]) -> str:
        """Return a dict literal, one entry a line."""
        return (
            "{\n" + "".join(f'    "{k}": {v:.2f},\n' for k, v in values.items()) + "}"
        )

    def rows(values: dict[str, tuple[float, ...]]) -> str:
        """Return a dict literal of tuples, eight numbers a line."""
        lines = ["{\n"]
        for key, numbers in values.items():
            lines.append(f'    "{key}": (\n')
            for at in range(0, len(numbers), 8):
                chunk = ", ".join(f"{v:.1f}" for v in numbers[at : at + 8])
                lines.append(f"        {chunk},\n")
            lines.append("    ),\n")
        return "".join(lines) + "}"

    TABLE.write_text(
        '"""Loudness calibration, generated by scripts/calibrate: do not edit by hand."""\n\n'
        "from __future__ import annotations\n\n"
        f"TARGET_LUFS = {LOUDNESS_LUFS}\n"
        '"""The loudness this table was measured for, in LUFS."""\n\n'
        f"TRIGGER_GAIN_DB: dict[str, float] = {table(triggers)}\n"
        '"""Gain that brings each lone trigger to the target, in dB."""\n\n'
        f"VARIANT_GAIN_DB: dict[str, float] = {table(variants)}\n"
        '"""Gain that brings each lone trigger variant to the target, in dB, by\n'
        '``"<trigger>:<variant>"`` (a trigger\'s default variant has its trigger\'s gain)."""\n\n'
        "# fmt: off\n"
        f"LOUDNESS_PROFILE_DB: dict[str, tuple[float, ...]] = {rows(profiles)}\n"
        "# fmt: on\n"
        "\"\"\"Each lone trigger's (and variant's) loudness profile: its 400 ms blocks' loudness\n"
        "relative to its integrated loudness, in dB, as the power means of equal shares of\n"
        'the blocks, quietest first (see ``scenes.loudness_profile``)."""\n\n'
        f"SCENE_GAIN_DB: dict[str, float] = {table(scenes)}\n"
        '"""Gain that brings each built-in scene\'s mix of calibrated layers to the target, '
        'in dB."""\n'
    )


def main() -> int:
    """Run the calibration and write the table."""
    parser = argparse.ArgumentParser(prog="scripts/calibrate", description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="length of each render"
    )
    parser.add_argument("--seeds", type=int, default=4, help="seeds per item")
    parser.add_argument(
        "--passes", type=int, default=2, help="measure-and-correct passes"
    )
    parser.add_argument("--jobs", type=int, default=2, help="processes")
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="ID",
        help="trigger, trigger:variant or scene ids to measure (default: all)",
    )
    parser.add_argument(
        "--profiles-only",
        action="store_true",
        help="measure only the loudness profiles of the triggers, keeping their gains",
    )
    args = parser.parse_args()
    variant_keys = _variant_keys()
    wanted = set(args.only or (*TRIGGERS, *SCENES))
    unknown = wanted - set(TRIGGERS) - set(SCENES) - set(variant_keys)
    if unknown:
        parser.error(f"unknown trigger or scene: {', '.join(sorted(unknown))}")
    with ProcessPoolExecutor(args.jobs) as pool:
        # A trigger's variants are measured with it (or alone, by "<trigger>:<variant>").
        lone = {
            trigger_id: trigger_scene(trigger_id)
            for trigger_id in TRIGGERS
            if trigger_id in wanted
        }
        for key in variant_keys:
            trigger_id, variant = key.split(":")
            if trigger_id in wanted or key in wanted:
                lone[key] = _lone(trigger_id, variant)
        trigger_gains = {
            **calibration.TRIGGER_GAIN_DB,
            **calibration.VARIANT_GAIN_DB,
        }
        profiles: dict[str, tuple[float, ...]] = {}
        if args.profiles_only:
            profiles = _profiles(lone, trigger_gains, args=args, pool=pool)
            _write({}, {}, profiles)
            print(f"wrote {TABLE}", file=sys.stderr)
            return 0
        trigger_gains.update(
            _calibrate(
                lone,
                trigger_gains,
                of_triggers=True,
                args=args,
                pool=pool,
                profiles=profiles,
            )
        )
        ready = {}
        for scene_id, scene in SCENES.items():
            missing = [
                layer.trigger for layer in scene.layers if layer.trigger not in TRIGGERS
            ]
            if missing:
                print(
                    f"skipping scene {scene_id}: no trigger {', '.join(missing)}",
                    file=sys.stderr,
                )
            elif scene_id in wanted:
                ready[scene_id] = scene
        scene_gains = _calibrate(
            ready, trigger_gains, of_triggers=False, args=args, pool=pool
        )
    _write({key: trigger_gains[key] for key in lone}, scene_gains, profiles)
    print(f"wrote {TABLE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
