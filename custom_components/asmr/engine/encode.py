"""Encoding a stream of blocks into audio file bytes, block by block.

WAV is written by this module (16-bit PCM, its size known before the first byte) and
needs nothing else. FLAC, OGG Vorbis and MP3 go through an encoder chain: libsndfile
(through soundfile) when it loads and has the format, else an ``ffmpeg`` binary fed
16-bit PCM through a pipe (Home Assistant OS and Container run on musl, where soundfile
ships no libsndfile, but always have ffmpeg), else the format is not offered and WAV is
left. Both encoders get pieces of at most ``WRITE_FRAMES`` frames: libsndfile's Vorbis
encoder crashes the process when handed one very large buffer.

MP3 is constant bitrate (128 kbit/s, 48 kHz): every frame holds 1152 samples in exactly
384 bytes, so its size is known up front and a byte offset maps to a time. The file
holds audio frames only (libsndfile's leading LAME "Info" frame, which it rewrites on
close by seeking back, is left out since the stream has gone by then). There are
``ceil((frames + MP3_DELAY) / 1152)`` of them: the encoder delays the audio by
``MP3_DELAY`` frames (its priming silence), so a decoder gives those frames of silence
first, then the ``frames`` of audio, then silence up to the end of the last MP3 frame.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
import contextlib
from functools import lru_cache
import math
import os
import selectors
import shutil
import struct
import subprocess
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from .base import SAMPLE_RATE
from .scenes import EngineError

FORMATS: dict[str, tuple[str, str]] = {
    "mp3": ("audio/mpeg", "mp3"),
    "flac": ("audio/flac", "flac"),
    "ogg": ("audio/ogg", "ogg"),
    "wav": ("audio/wav", "wav"),
}
"""Format id -> (MIME type, file extension)."""

CHANNELS = 2
"""Channels of every encoded file."""

WAV_HEADER_BYTES = 44
"""Bytes of the canonical WAV header written before the samples."""

MP3_BITRATE_KBPS = 128
"""Constant bitrate of MP3 output, in kbit/s."""

MP3_FRAME_SAMPLES = 1152
"""Samples per channel in one MPEG-1 Layer III frame."""

MP3_FRAME_BYTES = 144 * MP3_BITRATE_KBPS * 1000 // SAMPLE_RATE
"""Bytes per MP3 frame (384 at 128 kbit/s and 48 kHz; never padded at 48 kHz)."""

MP3_DELAY = 1105
"""Frames of priming silence the MP3 encoder puts before the audio (576 + 529)."""

WRITE_FRAMES = 16384
"""Largest piece handed to libsndfile in one write."""

_SOUNDFILE_ARGS: dict[str, dict[str, object]] = {
    "flac": {"format": "FLAC", "subtype": "PCM_16", "compression_level": 0.5},
    "ogg": {"format": "OGG", "subtype": "VORBIS", "compression_level": 0.5},
    "mp3": {
        "format": "MP3",
        "subtype": "MPEG_LAYER_III",
        "bitrate_mode": "CONSTANT",
        # libsndfile maps level 0..1 linearly onto 320..32 kbit/s for constant bitrate.
        "compression_level": (320 - MP3_BITRATE_KBPS) / (320 - 32),
    },
}
_FFMPEG_ARGS: dict[str, tuple[str, ...]] = {
    "flac": ("-c:a", "flac", "-compression_level", "5", "-f", "flac"),
    "ogg": ("-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"),
    # Constant bitrate with no Xing/Info frame and no ID3 tag: audio frames only, as
    # from libsndfile, so sizes and byte offsets are the same whichever encodes.
    "mp3": (
        "-c:a",
        "libmp3lame",
        "-b:a",
        f"{MP3_BITRATE_KBPS}k",
        "-write_xing",
        "0",
        "-id3v2_version",
        "0",
        "-f",
        "mp3",
    ),
}
"""ffmpeg's output options for each format it encodes here (after the PCM input)."""

ENCODER_LIBSNDFILE = "libsndfile"
ENCODER_FFMPEG = "ffmpeg"
ENCODER_BUILTIN = "builtin"

_FFMPEG_PROBE_TIMEOUT_S = 10.0
_ffmpeg_binary: str | None = "ffmpeg"
"""The ffmpeg binary the chain falls back to (None: none); see ``use_ffmpeg``."""

_FLAC_TOTAL_AT = (
    21  # "fLaC", block header, then STREAMINFO's 36-bit length from byte 21
)
_MP3_RESUME_WARMUP = 1  # frames encoded and dropped before a resumed MP3 stream
_MP3_RESERVOIR_MAX = 511  # furthest back (bytes of main data) a frame's data may begin
_RIFF_MAX = 0xFFFFFFFF  # largest size a 32-bit RIFF field holds


class FormatError(EngineError):
    """An audio format that is unknown or cannot be encoded here."""


class EncoderError(EngineError):
    """The encoder stopped before the end of the stream (ffmpeg exited or was killed)."""


def use_ffmpeg(binary: str | None) -> None:
    """Set the ffmpeg binary the encoder chain falls back to (None: no ffmpeg).

    Home Assistant passes the binary its ``ffmpeg`` integration uses; on its own the
    engine looks for ``ffmpeg`` on the path.
    """
    global _ffmpeg_binary  # noqa: PLW0603  (one process-wide setting)
    _ffmpeg_binary = binary
    encoders.cache_clear()


def _soundfile_formats() -> set[str]:
    """Return the major formats libsndfile has here (none when soundfile fails)."""
    try:
        import soundfile  # noqa: PLC0415  (optional: the chain goes on without it)
    except (ImportError, OSError):
        return set()
    return set(soundfile.available_formats())


def _ffmpeg_codecs(binary: str | None) -> set[str]:
    """Return the audio encoders an ffmpeg binary lists (none when it does not run)."""
    path = shutil.which(binary) if binary else None
    if path is None:
        return set()
    try:
        listed = subprocess.run(  # noqa: S603  (a fixed argument list)
            [path, "-hide_banner", "-encoders"],
            capture_output=True,
            check=True,
            text=True,
            timeout=_FFMPEG_PROBE_TIMEOUT_S,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    return {
        fields[1]
        for line in listed.splitlines()
        if len(fields := line.split()) > 1 and fields[0].startswith("A")
    }


@lru_cache(maxsize=1)
def encoders() -> dict[str, str]:
    """Return, for each format this installation can encode, the encoder that does it.

    The first of libsndfile, ffmpeg and this module's own writer (WAV) that can. The
    answer is cached; the first call may run ffmpeg once, so call it off the event loop.
    """
    found = {"wav": ENCODER_BUILTIN}
    libsndfile = _soundfile_formats()
    ffmpeg = _ffmpeg_codecs(_ffmpeg_binary)
    for fmt, args in _SOUNDFILE_ARGS.items():
        if args["format"] in libsndfile:
            found[fmt] = ENCODER_LIBSNDFILE
        elif _FFMPEG_ARGS[fmt][1] in ffmpeg:
            found[fmt] = ENCODER_FFMPEG
    return {fmt: found[fmt] for fmt in FORMATS if fmt in found}


def available_formats() -> tuple[str, ...]:
    """Return the format ids this installation can encode (WAV always works)."""
    return tuple(encoders())


def playable_format(preferred: str) -> str:
    """Return ``preferred`` if it can be encoded here, else MP3 if it can, else WAV."""
    available = available_formats()
    if preferred in available:
        return preferred
    return "mp3" if "mp3" in available else "wav"


def _check(fmt: str, frames: int) -> None:
    """Raise ``FormatError`` / ``ValueError`` for a format or length we cannot encode."""
    if fmt not in FORMATS:
        raise FormatError(
            f"unknown audio format {fmt!r}; known formats: {', '.join(FORMATS)}"
        )
    if fmt not in available_formats():
        raise FormatError(
            f"audio format {fmt!r} needs libsndfile (soundfile) or ffmpeg; "
            f"available here: {', '.join(available_formats())}"
        )
    if (
        isinstance(frames, bool)
        or not isinstance(frames, (int, np.integer))
        or frames < 1
    ):
        raise ValueError(f"frames must be a positive integer, got {frames!r}")


def mp3_frame_count(frames: int) -> int:
    """Return how many MP3 frames encode ``frames`` frames of audio (delay included)."""
    return math.ceil((frames + MP3_DELAY) / MP3_FRAME_SAMPLES)


def encoded_size(fmt: str, frames: int) -> int | None:
    """Return the exact byte size of an encoded file, when it is known up front.

    Parameters
    ----------
    fmt
        Format id (a key of ``FORMATS``).
    frames
        Length of the audio in frames.

    Returns
    -------
    int | None
        The size in bytes for ``wav`` and ``mp3``; None for ``flac`` and ``ogg``, whose
        size depends on the audio.

    """
    if fmt not in FORMATS:
        raise FormatError(
            f"unknown audio format {fmt!r}; known formats: {', '.join(FORMATS)}"
        )
    if fmt == "wav":
        return WAV_HEADER_BYTES + frames * CHANNELS * 2
    if fmt == "mp3":
        return mp3_frame_count(frames) * MP3_FRAME_BYTES
    return None


def wav_header(frames: int) -> bytes:
    """Return the 44-byte header of a 16-bit stereo 48 kHz WAV file of ``frames`` frames.

    RIFF sizes are 32-bit: past about 6.2 hours the size fields hold 0xFFFFFFFF, the
    usual mark of a stream longer than the format can say (players read to the end).
    """
    data = frames * CHANNELS * 2
    riff = 36 + data
    if riff > _RIFF_MAX:
        data = riff = _RIFF_MAX
    fmt = struct.pack(
        "<IHHIIHH",
        16,
        1,
        CHANNELS,
        SAMPLE_RATE,
        SAMPLE_RATE * CHANNELS * 2,
        CHANNELS * 2,
        16,
    )
    return (
        b"RIFF"
        + struct.pack("<I", riff)
        + b"WAVE"
        + b"fmt "
        + fmt
        + b"data"
        + struct.pack("<I", data)
    )


def pcm16(block: NDArray[np.float32]) -> bytes:
    """Return a ``(n, 2)`` float block as little-endian 16-bit PCM bytes (clipped)."""
    scaled = np.rint(np.clip(block, -1.0, 1.0) * 32767.0)
    data: bytes = scaled.astype("<i2").tobytes()
    return data


def _exact(
    blocks: Iterable[NDArray[np.float32]], frames: int
) -> Iterator[NDArray[np.float32]]:
    """Yield the blocks cut or padded with silence to exactly ``frames`` frames."""
    left = frames
    for block in blocks:
        if left <= 0:
            return
        piece = block[:left]
        left -= piece.shape[0]
        yield piece
    if left > 0:
        yield np.zeros((left, CHANNELS), dtype=np.float32)


class _Drain:
    """A write-only, seekable file for libsndfile whose new bytes are taken as they come.

    Bytes already taken cannot change any more: a seek back over them (libsndfile
    patching a header on close) lands its writes only on bytes not yet taken.
    """

    def __init__(self) -> None:
        """Start empty."""
        self._taken = 0
        self._pending = bytearray()
        self._pos = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Write at the current position."""
        raw = bytes(data)
        begin = self._pos - self._taken
        self._pos += len(raw)
        if begin < 0:
            raw = raw[-begin:]
            begin = 0
        end = begin + len(raw)
        if end > len(self._pending):
            self._pending.extend(bytes(end - len(self._pending)))
        self._pending[begin:end] = raw
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the position (as ``io.IOBase.seek``)."""
        size = self._taken + len(self._pending)
        base = {0: 0, 1: self._pos, 2: size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        """Return the position."""
        return self._pos

    def read(self, size: int = -1) -> bytes:
        """Return nothing: the file is write-only."""
        return b""

    def take(self, multiple: int = 1) -> bytes:
        """Return the new bytes (a whole number of ``multiple``) and forget them."""
        n = len(self._pending) - len(self._pending) % multiple
        out = bytes(self._pending[:n])
        del self._pending[:n]
        self._taken += n
        return out


def _soundfile_bytes(
    blocks: Iterable[NDArray[np.float32]], fmt: str, *, multiple: int = 1
) -> Iterator[bytes]:
    """Yield the bytes libsndfile writes for ``blocks``, drained after every write."""
    import soundfile  # noqa: PLC0415  (optional dependency)

    drain = _Drain()
    with soundfile.SoundFile(
        drain,
        "w",
        SAMPLE_RATE,
        CHANNELS,
        **_SOUNDFILE_ARGS[fmt],
    ) as sink:
        for block in blocks:
            for begin in range(0, block.shape[0], WRITE_FRAMES):
                sink.write(np.ascontiguousarray(block[begin : begin + WRITE_FRAMES]))
                out = drain.take(multiple)
                if out:
                    yield out
    out = drain.take()
    if out:
        yield out


def _ffmpeg_bytes(
    blocks: Iterable[NDArray[np.float32]], fmt: str, *, multiple: int = 1
) -> Iterator[bytes]:
    """Yield the bytes ffmpeg writes for ``blocks``, fed as 16-bit PCM through a pipe.

    Both pipes are served as they become ready (a block is rendered only when ffmpeg
    has taken the previous one), so neither fills while the other waits and ffmpeg runs
    at most a pipe's worth ahead of the listener. Closing the generator stops ffmpeg.
    """
    assert _ffmpeg_binary is not None
    process = subprocess.Popen(  # noqa: S603  (a fixed argument list)
        [
            shutil.which(_ffmpeg_binary) or _ffmpeg_binary,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "s16le",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            str(CHANNELS),
            "-i",
            "pipe:0",
            *_FFMPEG_ARGS[fmt],
            "pipe:1",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    feed, out = process.stdin.fileno(), process.stdout.fileno()
    os.set_blocking(feed, False)
    os.set_blocking(out, False)
    pieces = (
        pcm16(block[begin : begin + WRITE_FRAMES])
        for block in blocks
        for begin in range(0, block.shape[0], WRITE_FRAMES)
    )
    pending = bytearray()
    piece = memoryview(b"")
    with selectors.DefaultSelector() as selector:
        selector.register(out, selectors.EVENT_READ)
        selector.register(feed, selectors.EVENT_WRITE)
        feeding = True
        try:
            while True:
                if feeding and not piece:
                    if (data := next(pieces, None)) is None:
                        selector.unregister(feed)
                        process.stdin.close()
                        feeding = False
                    else:
                        piece = memoryview(data)
                for key, _ in selector.select():
                    if key.fd == feed:
                        try:
                            piece = piece[os.write(feed, piece) :]
                        except BrokenPipeError:
                            _ffmpeg_stopped(process, "before it had all the audio")
                        continue
                    chunk = os.read(out, 1 << 16)
                    if not chunk:  # ffmpeg is done, or died
                        if feeding:
                            _ffmpeg_stopped(process, "before it had all the audio")
                        if process.wait() != 0:  # its output is closed: it ends now
                            _ffmpeg_stopped(process, "with an error")
                        if pending:
                            yield bytes(pending)
                        return
                    pending.extend(chunk)
                    if (n := len(pending) - len(pending) % multiple) > 0:
                        yield bytes(pending[:n])
                        del pending[:n]
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            process.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()


def _ffmpeg_stopped(process: subprocess.Popen[bytes], how: str) -> NoReturn:
    """Raise for an ffmpeg that stopped early: the stream must not go on as silence.

    Never waits: an ffmpeg that lost its input may still be writing (the caller's
    cleanup kills it).
    """
    code = process.poll()
    known = "" if code is None else f" (exit code {code})"
    raise EncoderError(f"ffmpeg stopped {how}{known}")


def _encoder_bytes(
    blocks: Iterable[NDArray[np.float32]], fmt: str, *, multiple: int = 1
) -> Iterator[bytes]:
    """Yield the bytes of the encoder the chain picked for ``fmt``."""
    if encoders()[fmt] == ENCODER_FFMPEG:
        return _ffmpeg_bytes(blocks, fmt, multiple=multiple)
    return _soundfile_bytes(blocks, fmt, multiple=multiple)


@lru_cache(maxsize=1)
def _silent_mp3_frame() -> bytes:
    """Return one MP3 frame of silence (empty side information, no main data)."""
    return b"\xff\xfb\x94\x64" + bytes(MP3_FRAME_BYTES - 4)


def _mp3_frames(
    blocks: Iterable[NDArray[np.float32]], *, skip: int, count: int
) -> Iterator[bytes]:
    """Yield exactly ``count`` MP3 frames of ``blocks`` after the first ``skip`` audio frames.

    Bytes come in whole frames; libsndfile's leading Info frame is left out (ffmpeg is
    told to write none), frames past ``count`` are dropped and a short encode is padded
    with silent frames.
    """
    info = 1 if encoders()["mp3"] == ENCODER_LIBSNDFILE else 0
    dropped = -info - skip  # the Info frame, then the warm-up frames
    sent = 0
    for data in _encoder_bytes(blocks, "mp3", multiple=MP3_FRAME_BYTES):
        frames_in = len(data) // MP3_FRAME_BYTES
        begin = 0
        if dropped < 0:
            begin = min(-dropped, frames_in)
            dropped += begin
        end = min(frames_in, begin + count - sent)
        if end > begin:
            yield data[begin * MP3_FRAME_BYTES : end * MP3_FRAME_BYTES]
            sent += end - begin
    while sent < count:
        yield _silent_mp3_frame()
        sent += 1


def _mp3_joined(pieces: Iterator[bytes], cut: int) -> Iterator[bytes]:
    """Yield a resumed MP3 stream from byte ``cut`` of its first frame, safe to join on.

    The listener holds the bytes before the resume from an earlier encode, and a new
    encode's frames differ from them. An MP3 frame may begin its data up to
    ``_MP3_RESERVOIR_MAX`` bytes back, in the frames before it (the bit reservoir), so
    the new frames that reach back past the resume would decode the earlier encode's
    bytes: a burst of noise. Those frames are sent with empty side information (silent;
    their data stays, since later frames read it). The frame cut by the resume mixes
    the earlier encode's header and side information with these bytes: the rest of its
    side information is sent empty (a decoder may then drop the frame as malformed),
    and the rest of its data all ones, which Layer III's Huffman tables read as zeros
    (table 12 as the faintest values). The join is a dip of a few frames (24-72 ms),
    not a burst.
    """
    clean = 0  # bytes of new frames' data before the next frame, the listener has whole
    for data in pieces:
        frames = [
            bytearray(data[i : i + MP3_FRAME_BYTES])
            for i in range(0, len(data), MP3_FRAME_BYTES)
        ]
        for frame in frames:
            if clean >= _MP3_RESERVOIR_MAX:
                break
            side, main = _mp3_layout(frame)
            if cut:
                frame[side:main] = bytes(main - side)
                frame[main:] = b"\xff" * (len(frame) - main)
                del frame[:cut]
                cut = 0
                continue
            if _main_data_begin(frame, side) > clean:
                frame[side:main] = bytes(main - side)
            clean += len(frame) - main
        yield b"".join(frames)
        if clean >= _MP3_RESERVOIR_MAX:
            yield from pieces
            return


def _mp3_layout(frame: bytearray) -> tuple[int, int]:
    """Return where an MPEG-1 Layer III frame's side information and main data begin."""
    side = 4 if frame[1] & 0x01 else 6  # a CRC follows the header when the bit is 0
    mono = frame[3] >> 6 == 0b11
    return side, side + (17 if mono else 32)


def _main_data_begin(frame: bytearray, side: int) -> int:
    """Return how many bytes back, before its own data, a frame's data begins."""
    return (frame[side] << 1) | (frame[side + 1] >> 7)


def encode(
    blocks: Iterable[NDArray[np.float32]], *, fmt: str, frames: int
) -> Generator[bytes]:
    """Encode a stream of blocks, yielding file bytes as they are ready.

    Parameters
    ----------
    blocks
        ``(n, 2)`` float32 blocks; cut or padded with silence to ``frames`` frames.
    fmt
        Format id (a key of ``FORMATS`` that ``available_formats()`` lists).
    frames
        Length of the audio in frames (the WAV header and MP3 size depend on it).

    Yields
    ------
    bytes
        Consecutive pieces of the file; for ``wav`` and ``mp3`` they add up to exactly
        ``encoded_size(fmt, frames)`` bytes.

    """
    _check(fmt, frames)
    return _encode(blocks, fmt, int(frames))


def _encode(
    blocks: Iterable[NDArray[np.float32]], fmt: str, frames: int
) -> Generator[bytes]:
    """Yield the bytes of ``encode`` (arguments already checked)."""
    exact = _exact(blocks, frames)
    if fmt == "wav":
        yield wav_header(frames)
        for block in exact:
            yield pcm16(block)
    elif fmt == "mp3":
        yield from _mp3_frames(exact, skip=0, count=mp3_frame_count(frames))
    elif fmt == "flac":
        yield from _flac_with_length(_encoder_bytes(exact, fmt), frames)
    else:
        yield from _encoder_bytes(exact, fmt)


def _flac_with_length(pieces: Iterator[bytes], frames: int) -> Iterator[bytes]:
    """Yield FLAC bytes with the stream's length filled into STREAMINFO.

    libsndfile writes the length (and the MD5 sum) by seeking back on close, after the
    header has been sent; the length is known up front, so it goes in here (the MD5 stays
    zero, which FLAC reads as "not computed").
    """
    first = True
    for data in pieces:
        if first and data[:4] == b"fLaC" and len(data) >= _FLAC_TOTAL_AT + 5:
            head = bytearray(data[: _FLAC_TOTAL_AT + 5])
            head[_FLAC_TOTAL_AT] = (head[_FLAC_TOTAL_AT] & 0xF0) | (
                (frames >> 32) & 0x0F
            )
            head[_FLAC_TOTAL_AT + 1 :] = (frames & 0xFFFFFFFF).to_bytes(4, "big")
            data = bytes(head) + data[_FLAC_TOTAL_AT + 5 :]
        first = False
        yield data


def stream_bytes(
    render_from: Callable[[int], Iterable[NDArray[np.float32]]],
    *,
    fmt: str,
    frames: int,
    first_byte: int = 0,
) -> Generator[bytes]:
    """Yield bytes ``[first_byte, end)`` of the file of a ``frames``-frame render.

    For ``wav`` the bytes equal the tail of the full file exactly: audio is rendered from
    the frame that holds ``first_byte``. For ``mp3`` the file keeps its length and frame
    grid: the encoder restarts one frame before the MP3 frame that holds ``first_byte``
    (that warm-up frame is dropped), so the bytes there decode to the audio of that time,
    though they are not the same bytes a full encode would hold; the first few frames
    are sent so that a player joining them to the bytes it holds hears a dip of a few
    frames there, never a burst (``_mp3_joined``). ``flac`` and ``ogg`` are
    encoded from the start and the leading bytes skipped (Ogg bytes differ between runs).

    Parameters
    ----------
    render_from
        ``render_from(frame)`` yields ``(n, 2)`` float32 blocks from absolute frame
        ``frame`` to the end of the render (frame ``frames``).
    fmt
        Format id.
    frames
        Length of the whole render in frames.
    first_byte
        Offset of the first byte wanted (0 for the whole file).

    Yields
    ------
    bytes
        Consecutive pieces of the file from ``first_byte`` on.

    """
    _check(fmt, frames)
    size = encoded_size(fmt, frames)
    if first_byte < 0 or (size is not None and first_byte >= size):
        raise ValueError(f"first byte {first_byte} is outside the file of {size} bytes")
    return _stream(render_from, fmt, int(frames), int(first_byte))


def _stream(
    render_from: Callable[[int], Iterable[NDArray[np.float32]]],
    fmt: str,
    frames: int,
    first_byte: int,
) -> Generator[bytes]:
    """Yield the bytes of ``stream_bytes`` (arguments already checked)."""
    if fmt == "wav":
        if first_byte < WAV_HEADER_BYTES:
            yield wav_header(frames)[first_byte:]
            start, cut = 0, 0
        else:
            start, cut = divmod(first_byte - WAV_HEADER_BYTES, CHANNELS * 2)
        for block in _exact(render_from(start), frames - start):
            data = pcm16(block)
            yield data[cut:] if cut else data
            cut = 0
        return
    if fmt == "mp3":
        frame_index, cut = divmod(first_byte, MP3_FRAME_BYTES)
        warm = max(0, frame_index - _MP3_RESUME_WARMUP)
        start = warm * MP3_FRAME_SAMPLES
        blocks: Iterable[NDArray[np.float32]] = (
            _exact(render_from(start), frames - start) if start < frames else iter(())
        )
        pieces = _mp3_frames(
            blocks, skip=frame_index - warm, count=mp3_frame_count(frames) - frame_index
        )
        yield from _mp3_joined(pieces, cut) if first_byte else pieces
        return
    skipped = 0
    for data in _encode(render_from(0), fmt, frames):
        if skipped + len(data) <= first_byte:
            skipped += len(data)
            continue
        yield data[max(0, first_byte - skipped) :]
        skipped = first_byte
