"""Tests for encoding: every format round-trips, exact sizes, byte ranges, Vorbis blocks."""

from __future__ import annotations

from collections.abc import Iterator
import importlib
import io
import os
from pathlib import Path
import subprocess
import sys

import numpy as np
from numpy.typing import NDArray
import pytest
import soundfile

from custom_components.asmr.engine.base import SAMPLE_RATE
from custom_components.asmr.engine.render import render
from custom_components.asmr.engine.scenes import resolve_scene, trigger_scene

from .helpers import DYING_FFMPEG_BYTES, dying_ffmpeg

FRAMES = 3 * SAMPLE_RATE + 777

# The package re-exports the function encode(), which hides the module attribute.
enc = importlib.import_module("custom_components.asmr.engine.encode")


def _blocks(start: int = 0, frames: int = FRAMES) -> Iterator[NDArray[np.float32]]:
    """Return a short scene render from a frame to the end."""
    return render(
        resolve_scene("fireside_pages"),
        seed=3,
        start=start,
        stop=frames,
        fade_out_s=1.0,
    )


def _decode(data: bytes) -> np.ndarray:
    """Decode file bytes with libsndfile."""
    audio, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    assert rate == SAMPLE_RATE
    return np.asarray(audio)


def test_formats_table() -> None:
    """Every format has a MIME type and extension; this machine encodes them all."""
    assert set(enc.FORMATS) == {"mp3", "flac", "ogg", "wav"}
    assert enc.FORMATS["mp3"] == ("audio/mpeg", "mp3")
    assert set(enc.available_formats()) == set(enc.FORMATS)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_every_format_round_trips(fmt: str) -> None:
    """Decoding gives the requested length (MP3: plus its delay, rounded up to frames)."""
    data = b"".join(enc.encode(_blocks(), fmt=fmt, frames=FRAMES))
    audio = _decode(data)
    if fmt == "mp3":
        assert audio.shape == (enc.mp3_frame_count(FRAMES) * enc.MP3_FRAME_SAMPLES, 2)
        assert len(data) == enc.encoded_size("mp3", FRAMES)
        original = np.concatenate(list(_blocks()))
        # The audio starts MP3_DELAY frames in: it lines up with the render there.
        shifted = audio[enc.MP3_DELAY : enc.MP3_DELAY + FRAMES, 0]
        assert np.corrcoef(shifted, original[:, 0])[0, 1] > 0.9
    else:
        assert audio.shape == (FRAMES, 2)
    if fmt in {"wav", "flac"}:
        original = np.concatenate(list(_blocks()))
        np.testing.assert_allclose(audio, original, atol=1.0 / 32000)


@pytest.mark.parametrize("frames", [1, 1152, 1153, 48_000, 10 * 48_000 + 17])
def test_wav_and_mp3_sizes_are_exact(frames: int) -> None:
    """WAV and MP3 byte counts equal what encoded_size promised before the first byte."""
    for fmt in ("wav", "mp3"):
        blocks = render(trigger_scene("pink_noise"), stop=frames)
        data = b"".join(enc.encode(blocks, fmt=fmt, frames=frames))
        assert len(data) == enc.encoded_size(fmt, frames)
    assert enc.encoded_size("flac", 10) is None
    assert enc.encoded_size("mp3", 48_000) % 384 == 0


@pytest.mark.parametrize("first_byte", [0, 3, 44, 47, 98_765, 4 * FRAMES + 40])
def test_wav_byte_ranges_equal_the_file_tail(first_byte: int) -> None:
    """A WAV stream from any byte is byte-identical to the full file from there."""
    full = b"".join(enc.encode(_blocks(), fmt="wav", frames=FRAMES))
    tail = b"".join(
        enc.stream_bytes(_blocks, fmt="wav", frames=FRAMES, first_byte=first_byte)
    )
    assert tail == full[first_byte:]


def test_mp3_byte_ranges_keep_length_and_frame_grid() -> None:
    """An MP3 stream from a byte has the file's length and its frames where they belong."""
    full = b"".join(enc.encode(_blocks(), fmt="mp3", frames=FRAMES))
    for first_byte in (384 * 20, 384 * 20 + 100, len(full) - 384):
        tail = b"".join(
            enc.stream_bytes(_blocks, fmt="mp3", frames=FRAMES, first_byte=first_byte)
        )
        assert len(tail) == len(full) - first_byte
        skip = -first_byte % 384
        grid = tail[skip:]
        assert all(grid[i : i + 2] == b"\xff\xfb" for i in range(0, len(grid), 384))
    spliced = full[: 384 * 60] + b"".join(
        enc.stream_bytes(_blocks, fmt="mp3", frames=FRAMES, first_byte=384 * 60)
    )
    decoded = _decode(spliced)
    reference = _decode(full)
    later = slice(384 * 0 + 62 * 1152, 100 * 1152)  # after the splice has settled
    assert np.corrcoef(decoded[later, 0], reference[later, 0])[0, 1] > 0.9


def _ffmpeg_decode(data: bytes) -> NDArray[np.float32]:
    """Decode MP3 bytes with the ffmpeg binary (its decoder, not libsndfile's)."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "quiet", "-f", "mp3", "-i", "pipe:0", "-f", "f32le", "pipe:1"],
        input=data,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(pcm, dtype=np.float32).reshape(-1, 2)


@pytest.mark.parametrize("encoder", ["libsndfile", "ffmpeg"])
def test_a_resumed_mp3_download_joins_without_a_burst(
    request: pytest.FixtureRequest, encoder: str
) -> None:
    """A player resuming a broken download mid-file hears at most a dip at the join.

    It joins the bytes it holds to the resumed stream's. Frames of the new encode whose
    bit reservoir reached back past the join used to decode the old encode's bytes: a
    burst of noise up to ten times the loudest sound around it.
    """
    if encoder == "ffmpeg":
        request.getfixturevalue("without_libsndfile")
    assert enc.encoders()["mp3"] == encoder
    frames = 6 * SAMPLE_RATE

    def blocks(start: int = 0) -> Iterator[NDArray[np.float32]]:
        return render(
            resolve_scene("paper_and_pages"), seed=3, start=start, stop=frames
        )

    full = b"".join(enc.encode(blocks(), fmt="mp3", frames=frames))
    references = [_decode(full), _ffmpeg_decode(full)]
    # Resumes at a frame's start, in its side information and in its data.
    for first_byte in (384 * 84 + 20, 384 * 144, 384 * 144 + 20, 384 * 144 + 100):
        joined = full[:first_byte] + b"".join(
            enc.stream_bytes(blocks, fmt="mp3", frames=frames, first_byte=first_byte)
        )
        frame = first_byte // 384 * enc.MP3_FRAME_SAMPLES
        around = slice(frame - 2 * 1152, frame + 6 * 1152)
        later = slice(frame + 6 * 1152, frame + 30 * 1152)
        for decoded, reference in zip(
            [_decode(joined), _ffmpeg_decode(joined)], references, strict=True
        ):
            loudest = np.abs(reference[around]).max()
            assert np.abs(decoded[around]).max() < 1.3 * loudest, first_byte
            assert np.corrcoef(decoded[later, 0], reference[later, 0])[0, 1] > 0.9


def test_vorbis_is_written_in_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """One huge block reaches libsndfile in pieces of at most WRITE_FRAMES frames."""
    sizes: list[int] = []
    real_write = soundfile.SoundFile.write

    def spy(self: soundfile.SoundFile, data: np.ndarray) -> None:
        sizes.append(len(data))
        real_write(self, data)

    monkeypatch.setattr(soundfile.SoundFile, "write", spy)
    frames = 60 * SAMPLE_RATE
    huge = np.concatenate(list(render(trigger_scene("white_noise"), stop=frames)))
    data = b"".join(enc.encode(iter([huge]), fmt="ogg", frames=frames))
    assert max(sizes) <= enc.WRITE_FRAMES
    assert sum(sizes) == frames
    assert _decode(data).shape == (frames, 2)


@pytest.fixture
def without_libsndfile(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``import soundfile`` fail, as on a musl install without libsndfile."""
    monkeypatch.setitem(sys.modules, "soundfile", None)
    enc.encoders.cache_clear()
    yield
    enc.use_ffmpeg("ffmpeg")


def test_libsndfile_encodes_when_it_loads() -> None:
    """With soundfile loading, libsndfile encodes MP3, FLAC and Ogg."""
    assert enc.encoders() == {
        "mp3": "libsndfile",
        "flac": "libsndfile",
        "ogg": "libsndfile",
        "wav": "builtin",
    }


def test_ffmpeg_encodes_without_libsndfile(without_libsndfile: None) -> None:
    """Without libsndfile the chain falls back to the ffmpeg binary for every format."""
    assert enc.encoders() == {
        "mp3": "ffmpeg",
        "flac": "ffmpeg",
        "ogg": "ffmpeg",
        "wav": "builtin",
    }


@pytest.mark.parametrize("fmt", ["flac", "ogg", "mp3"])
def test_ffmpeg_output_round_trips(without_libsndfile: None, fmt: str) -> None:
    """Ffmpeg's files decode to the render: FLAC exactly, MP3 with the same delay/size."""
    data = b"".join(enc.encode(_blocks(), fmt=fmt, frames=FRAMES))
    audio = _decode(data)
    original = np.concatenate(list(_blocks()))
    if fmt == "mp3":
        assert len(data) == enc.encoded_size("mp3", FRAMES)
        assert all(data[i : i + 2] == b"\xff\xfb" for i in range(0, len(data), 384))
        shifted = audio[enc.MP3_DELAY : enc.MP3_DELAY + FRAMES, 0]
        assert np.corrcoef(shifted, original[:, 0])[0, 1] > 0.9
    else:
        assert audio.shape == (FRAMES, 2)
    if fmt == "flac":
        np.testing.assert_allclose(audio, original, atol=1.0 / 32000)


def test_ffmpeg_mp3_byte_ranges_keep_the_size(without_libsndfile: None) -> None:
    """An ffmpeg MP3 stream from any byte keeps the promised length and frame grid."""
    size = enc.encoded_size("mp3", FRAMES)
    for first_byte in (0, 384 * 20 + 100, size - 384):
        tail = b"".join(
            enc.stream_bytes(_blocks, fmt="mp3", frames=FRAMES, first_byte=first_byte)
        )
        assert len(tail) == size - first_byte


def test_ffmpeg_stops_when_the_stream_is_dropped(without_libsndfile: None) -> None:
    """A listener that goes away mid-stream leaves no ffmpeg process behind."""
    stream = enc.encode(
        render(trigger_scene("pink_noise"), stop=600 * SAMPLE_RATE),
        fmt="mp3",
        frames=600 * SAMPLE_RATE,
    )
    assert len(next(stream)) > 0
    stream.close()
    ps = subprocess.run(
        ["ps", "-o", "stat=", "--ppid", str(os.getpid())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Z" not in ps.stdout


@pytest.mark.parametrize("fmt", ["mp3", "flac"])
def test_an_encoder_that_dies_mid_stream_fails_the_stream(
    without_libsndfile: None, tmp_path: Path, fmt: str
) -> None:
    """Ffmpeg killed mid-stream (out of memory, say) ends the stream with an error.

    Before, an MP3 stream went on as silence to its full length (the speaker played
    nothing for the rest of the night, the session seemed to play) and FLAC ended as if
    complete, with nothing logged.
    """
    enc.use_ffmpeg(str(dying_ffmpeg(tmp_path)))
    try:
        assert enc.encoders()[fmt] == enc.ENCODER_FFMPEG
        frames = 600 * SAMPLE_RATE
        stream = enc.encode(
            render(trigger_scene("pink_noise"), stop=frames), fmt=fmt, frames=frames
        )
        sent: list[int] = []
        with pytest.raises(enc.EncoderError, match="ffmpeg"):
            sent.extend(len(data) for data in stream)
        assert 0 < sum(sent) < DYING_FFMPEG_BYTES
    finally:
        enc.use_ffmpeg("ffmpeg")


@pytest.mark.parametrize("ffmpeg", [None, "no-such-ffmpeg"])
def test_wav_works_without_soundfile_or_ffmpeg(
    without_libsndfile: None, ffmpeg: str | None
) -> None:
    """Without libsndfile and ffmpeg only WAV is offered, and it still encodes."""
    enc.use_ffmpeg(ffmpeg)
    assert enc.available_formats() == ("wav",)
    data = b"".join(enc.encode(_blocks(), fmt="wav", frames=FRAMES))
    assert len(data) == enc.encoded_size("wav", FRAMES)
    with pytest.raises(enc.FormatError, match="mp3"):
        enc.encode(_blocks(), fmt="mp3", frames=FRAMES)


def test_bad_requests_are_refused() -> None:
    """Unknown formats, bad lengths and offsets past the end are refused up front."""
    with pytest.raises(enc.FormatError, match="aiff"):
        enc.encode(_blocks(), fmt="aiff", frames=FRAMES)
    with pytest.raises(ValueError, match="frames"):
        enc.encode(_blocks(), fmt="wav", frames=0)
    with pytest.raises(ValueError, match="outside"):
        enc.stream_bytes(_blocks, fmt="wav", frames=FRAMES, first_byte=10**9)


def test_wav_longer_than_riff_can_say_marks_its_sizes_unknown() -> None:
    """Past 4 GiB the WAV size fields hold 0xFFFFFFFF; the byte count stays exact."""
    header = enc.wav_header(8 * 3600 * SAMPLE_RATE)
    assert header[4:8] == b"\xff\xff\xff\xff"
    assert header[40:44] == b"\xff\xff\xff\xff"
    assert (
        enc.encoded_size("wav", 8 * 3600 * SAMPLE_RATE)
        == 44 + 8 * 3600 * SAMPLE_RATE * 4
    )
    assert enc.wav_header(SAMPLE_RATE)[40:44] == (SAMPLE_RATE * 4).to_bytes(4, "little")


def test_flac_byte_ranges_equal_the_file_tail() -> None:
    """FLAC encoding is deterministic, so a stream from a byte is the file's tail."""
    full = b"".join(enc.encode(_blocks(), fmt="flac", frames=FRAMES))
    tail = b"".join(
        enc.stream_bytes(_blocks, fmt="flac", frames=FRAMES, first_byte=1000)
    )
    assert tail == full[1000:]
