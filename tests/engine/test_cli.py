"""Tests for scripts/render, run as a subprocess the way people use it."""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest
import soundfile

ROOT = Path(__file__).resolve().parents[2]
RENDER = ROOT / "scripts" / "render.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/render.py with this interpreter."""
    return subprocess.run(
        [sys.executable, str(RENDER), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_list_prints_one_json_object() -> None:
    """--list prints the sample rate, loudness target, triggers and scenes."""
    result = _run("--list")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["sample_rate"] == 48000
    assert -23.0 <= listing["loudness_lufs"] <= -16.0
    assert len(listing["triggers"]) == 16
    assert "whispering" in listing["triggers"]
    scene = next(s for s in listing["scenes"] if s["id"] == "rain_on_window")
    assert scene["name"]
    assert {"trigger", "level_db"} <= set(scene["layers"][0])


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_renders_a_scene_to_each_format(tmp_path: Path, fmt: str) -> None:
    """A scene renders to a decodable file of the asked length; no progress bar in a pipe."""
    out = tmp_path / f"scene.{fmt}"
    result = _run(
        "--scene", "ocean_night", "--seconds", "1.5", "--format", fmt, "-o", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    audio, rate = soundfile.read(out)
    assert rate == 48000
    assert audio.shape[1] == 2
    assert audio.shape[0] >= 72000


def test_same_seed_same_bytes_and_a_spectrogram(tmp_path: Path) -> None:
    """A trigger renders the same bytes for the same seed, other bytes for another."""
    files = [tmp_path / name for name in ("a.wav", "b.wav", "c.wav")]
    for path, seed in zip(files, ("7", "7", "8"), strict=True):
        picture = path.with_suffix(".png")
        result = _run(
            "--trigger",
            "tapping",
            "--seconds",
            "2",
            "--seed",
            seed,
            "-o",
            str(path),
            "--spectrogram",
            str(picture),
        )
        assert result.returncode == 0, result.stderr
        png = picture.read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert png[12:16] == b"IHDR"
        assert (int.from_bytes(png[16:20]), int.from_bytes(png[20:24])) == (256, 128)
    assert files[0].read_bytes() == files[1].read_bytes()
    assert files[0].read_bytes() != files[2].read_bytes()
    audio, _ = soundfile.read(files[0])
    assert audio.shape == (96000, 2)
    assert np.abs(audio).max() > 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scene", "nope", "--seconds", "1", "-o", "x.wav"], "unknown scene 'nope'"),
        (
            ["--trigger", "kazoo", "--seconds", "1", "-o", "x.wav"],
            "unknown trigger 'kazoo'",
        ),
        (["--scene", "ocean_night", "--seconds", "-2", "-o", "x.wav"], "seconds"),
        (["--scene", "ocean_night", "--seconds", "ten", "-o", "x.wav"], "seconds"),
        (
            ["--scene", "ocean_night", "--seconds", "1", "--seed", "x", "-o", "x.wav"],
            "seed",
        ),
        (
            ["--scene", "ocean_night", "--seconds", "1", "--format", "aiff", "-o", "x"],
            "aiff",
        ),
        (["--seconds", "1", "-o", "x.wav"], "--scene"),
        (
            [
                "--scene",
                "ocean_night",
                "--trigger",
                "wind",
                "--seconds",
                "1",
                "-o",
                "x",
            ],
            "not allowed",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Unknown ids, bad numbers and bad formats exit 2 and say what is wrong."""
    result = subprocess.run(
        [sys.executable, str(RENDER), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "x.wav").exists()
