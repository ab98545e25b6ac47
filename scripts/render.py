"""Render a scene or a lone trigger to an audio file, or list what can be rendered.

    scripts/render --list
    scripts/render (--scene ID | --trigger ID) --seconds N [--seed S]
                   [--format wav|flac|mp3|ogg] -o FILE [--spectrogram FILE.png]

The same arguments always give the same audio. Errors (unknown ids, bad numbers, a format
this installation cannot write) exit with status 2 and a message on stderr.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import json
import math
from pathlib import Path
import sys
import time
from typing import TextIO

sys.path.append(
    str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
)

import engine  # noqa: E402
from engine.picture import spectrogram_png  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

MAX_SECONDS = 24 * 3600
"""Longest render the command accepts, in seconds."""


def listing() -> dict[str, object]:
    """Return what can be rendered, as the JSON object ``--list`` prints."""
    return {
        "sample_rate": engine.SAMPLE_RATE,
        "loudness_lufs": engine.LOUDNESS_LUFS,
        "triggers": list(engine.TRIGGERS),
        "formats": list(engine.available_formats()),
        "scenes": [
            {
                "id": scene.id,
                "name": scene.name,
                "icon": scene.icon,
                "layers": [
                    {
                        "trigger": layer.trigger,
                        "level_db": layer.level_db,
                        "azimuth": layer.placement.azimuth,
                        "sweep": layer.placement.sweep,
                        "period_s": layer.placement.period_s,
                    }
                    for layer in scene.layers
                ],
            }
            for scene in engine.SCENES.values()
        ],
    }


def _seconds(text: str) -> float:
    """Parse a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0.0 or value > MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"seconds must be more than 0 and at most {MAX_SECONDS}, got {text!r}"
        )
    return value


def _fade(text: str) -> float:
    """Parse a non-negative, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0.0:
        raise argparse.ArgumentTypeError(
            f"a fade must be 0 seconds or more, got {text!r}"
        )
    return value


def _seed(text: str) -> int:
    """Parse a non-negative integer seed."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"a seed is a whole number, got {text!r}"
        ) from None
    if value < 0 or value >= 2**63:
        raise argparse.ArgumentTypeError(
            f"a seed is between 0 and 2**63 - 1, got {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="scripts/render", description="Render an ASMR scene or trigger to a file."
    )
    parser.add_argument(
        "--list", action="store_true", help="print scenes and triggers as JSON"
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--scene", metavar="ID", help="scene id (see --list)")
    what.add_argument("--trigger", metavar="ID", help="trigger id, rendered alone")
    parser.add_argument(
        "--seconds", type=_seconds, metavar="N", help="length in seconds"
    )
    parser.add_argument(
        "--seed", type=_seed, default=0, metavar="S", help="seed (default 0)"
    )
    parser.add_argument(
        "--format",
        choices=list(engine.FORMATS),
        help="audio format (default: from the file name, else wav)",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="output file ('-' for stdout)"
    )
    parser.add_argument(
        "--avoid", metavar="ID", action="append", default=[], help="leave out a trigger"
    )
    parser.add_argument(
        "--fade-in",
        type=_fade,
        default=engine.DEFAULT_FADE_IN_S,
        metavar="S",
        help=f"fade-in in seconds (default {engine.DEFAULT_FADE_IN_S:g})",
    )
    parser.add_argument(
        "--fade-out", type=_fade, default=0.0, metavar="S", help="fade-out in seconds"
    )
    parser.add_argument(
        "--spectrogram", metavar="FILE.png", help="also draw a spectrogram"
    )
    return parser


def _progress(
    blocks: Iterator[NDArray[np.float32]], total: int, stream: TextIO
) -> Iterator[NDArray[np.float32]]:
    """Pass blocks through, drawing a progress bar on a terminal."""
    done = 0
    began = time.monotonic()
    for block in blocks:
        done += block.shape[0]
        share = done / total
        filled = int(share * 30)
        speed = done / engine.SAMPLE_RATE / max(time.monotonic() - began, 1e-9)
        stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:6.1%} {speed:6.0f}x"
        )
        stream.flush()
        yield block
    stream.write("\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.list:
        print(json.dumps(listing(), indent=2))
        return 0
    if not (args.scene or args.trigger):
        parser.error("give --scene ID or --trigger ID (or --list)")
    if args.seconds is None:
        parser.error("give --seconds N")
    if not args.output:
        parser.error("give -o FILE")
    fmt = args.format
    if fmt is None:
        suffix = Path(args.output).suffix.lower().lstrip(".")
        fmt = suffix if suffix in engine.FORMATS else "wav"
    try:
        if args.scene:
            scene = engine.resolve_scene(args.scene, args.avoid)
        else:
            if args.avoid:
                parser.error("--avoid only applies to --scene")
            scene = engine.trigger_scene(args.trigger)
        frames = round(args.seconds * engine.SAMPLE_RATE)
        if fmt not in engine.available_formats():
            raise engine.FormatError(
                f"format {fmt!r} is not available here (soundfile/libsndfile missing?); "
                f"available: {', '.join(engine.available_formats())}"
            )
        options = {
            "seed": args.seed,
            "stop": frames,
            "fade_in_s": args.fade_in,
            "fade_out_s": args.fade_out,
        }
        blocks = engine.render(scene, **options)
        if sys.stderr.isatty():
            blocks = _progress(blocks, frames, sys.stderr)
        pieces = engine.encode(blocks, fmt=fmt, frames=frames)
        if args.output == "-":
            for piece in pieces:
                sys.stdout.buffer.write(piece)
            sys.stdout.buffer.flush()
        else:
            target = Path(args.output)
            part = target.with_name(target.name + ".part")
            with part.open("wb") as sink:
                for piece in pieces:
                    sink.write(piece)
            part.replace(target)
        if args.spectrogram:
            picture = spectrogram_png(engine.render(scene, **options), frames=frames)
            Path(args.spectrogram).write_bytes(picture)
    except engine.EngineError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
