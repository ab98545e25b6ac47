"""Shared signal-processing primitives of the sound engine (pure numpy).

Every trigger may use these; they are chunk-exact by construction:

- ``spectral_noise``: shaped noise from random spectra, one frame per hop, windowed and
  overlap-added. Frames that *start* inside a chunk are drawn from that chunk's generator,
  so a chunk renders alone and equals the same chunk of a longer render.
- ``frame_times`` / ``rfft_freqs``: where the frames of a chunk sit in absolute time and
  which frequency each spectral bin holds, to build time-varying magnitude envelopes.
- ``value_noise`` / ``hash_uniform``: smooth random controls that are pure functions of
  absolute time (knots seeded by knot index), for gusts, swells and wandering positions.
- ``mix64``: the integer hash behind them, also used to derive layer seeds.
- ``fft_convolve``, ``raised_cosine``, ``fade_edges``, ``db_to_gain``, ``gain_to_db``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

# numpy loads its FFT module on first use; load it with the engine instead, so a
# session's first block does not pay for the import.
import numpy.fft  # noqa: F401
from numpy.typing import ArrayLike, NDArray

from .base import CHUNK_FRAMES, SAMPLE_RATE, salt_of

_INT8_VARIANCE = (256.0**2 - 1.0) / 12.0
"""Variance of a uniformly distributed int8, the raw material of ``spectral_noise``."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SHIFT30, _SHIFT27, _SHIFT31, _SHIFT11 = (np.uint64(n) for n in (30, 27, 31, 11))


def db_to_gain(db: ArrayLike) -> NDArray[np.float64]:
    """Return the amplitude gain of a level in decibels."""
    return np.asarray(10.0 ** (np.asarray(db, dtype=np.float64) / 20.0))


def gain_to_db(gain: ArrayLike, *, floor_db: float = -200.0) -> NDArray[np.float64]:
    """Return the level in decibels of an amplitude gain (``floor_db`` for silence)."""
    g = np.abs(np.asarray(gain, dtype=np.float64))
    with np.errstate(divide="ignore"):
        return np.asarray(np.maximum(20.0 * np.log10(g), floor_db))


@lru_cache(maxsize=64)
def _raised_cosine(n: int) -> NDArray[np.float32]:
    """Return the cached rising raised-cosine ramp of ``n`` frames."""
    ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    out = ramp.astype(np.float32)
    out.flags.writeable = False
    return out


def raised_cosine(n: int, *, rising: bool = True) -> NDArray[np.float32]:
    """Return a raised-cosine fade of ``n`` frames.

    Parameters
    ----------
    n
        Length of the fade in frames (>= 1).
    rising
        True for a fade-in (0 towards 1), False for a fade-out (1 towards 0).

    Returns
    -------
    NDArray[np.float32]
        ``(n,)`` read-only gains, strictly inside (0, 1).

    """
    if n < 1:
        raise ValueError(f"a fade needs at least one frame, got {n}")
    ramp = _raised_cosine(n)
    return ramp if rising else ramp[::-1]


def fade_edges(x: NDArray[np.float32], frames: int) -> NDArray[np.float32]:
    """Fade the first and last ``frames`` frames of ``x`` (along axis 0) in place; return it."""
    n = min(frames, x.shape[0] // 2)
    if n < 1:
        return x
    ramp = raised_cosine(n)
    shape = (n,) + (1,) * (x.ndim - 1)
    x[:n] *= ramp.reshape(shape)
    x[-n:] *= ramp[::-1].reshape(shape)
    return x


def _fast_len(n: int) -> int:
    """Return the smallest 2**a * 3**b * 5**c that is >= ``n``."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def fft_convolve(
    x: NDArray[np.floating], h: NDArray[np.floating], *, length: int | None = None
) -> NDArray[np.float32]:
    """Convolve signals along axis 0 with FFTs.

    Parameters
    ----------
    x
        ``(n,)`` or ``(n, c)`` signal.
    h
        ``(m,)`` or ``(m, c)`` impulse response (broadcast against ``x``'s channels).
    length
        Frames to return (default ``n + m - 1``, the full convolution).

    Returns
    -------
    NDArray[np.float32]
        ``(length,)`` or ``(length, c)``.

    """
    n_full = x.shape[0] + h.shape[0] - 1
    out_len = n_full if length is None else length
    n_fft = _fast_len(n_full)
    spec = np.fft.rfft(x, n_fft, axis=0) * np.fft.rfft(h, n_fft, axis=0)
    y = np.fft.irfft(spec, n_fft, axis=0)[: min(out_len, n_fft)]
    if y.shape[0] < out_len:
        pad = np.zeros((out_len - y.shape[0], *y.shape[1:]), dtype=y.dtype)
        y = np.concatenate([y, pad])
    return y.astype(np.float32, copy=False)


def random_int8(rng: np.random.Generator, count: int) -> NDArray[np.int8]:
    """Return ``count`` uniformly random int8 values, the raw material of shaped noise.

    They are the bytes of whole 64-bit draws of the generator's PCG64 (for a fresh
    generator, the bytes ``rng.bytes`` gives, at about half its cost: it draws them as
    32-bit integers and copies them twice).
    """
    words = rng.bit_generator.random_raw(-(-count // 8))
    return np.asarray(words).view(np.int8)[:count]


@lru_cache(maxsize=16)
def rfft_freqs(frame_len: int) -> NDArray[np.float32]:
    """Return the frequency in Hz of each bin of a ``frame_len``-frame spectral frame.

    The array is cached and read-only: copy it before changing it.
    """
    freqs = np.fft.rfftfreq(frame_len, 1.0 / SAMPLE_RATE).astype(np.float32)
    freqs.flags.writeable = False
    return freqs


def frame_times(
    index: int, hop: int, *, overlap: int | None = None, chunks: int = 1
) -> NDArray[np.float64]:
    """Return the absolute centre time (s) of the noise frames that start in chunk ``index``.

    The frames are ``hop + overlap`` long (``overlap`` defaults to ``hop``) and start every
    ``hop`` frames from the chunk's first frame, matching ``spectral_noise``; with
    ``chunks``, those of that many chunks from ``index`` on.
    """
    frame_len = hop + (hop if overlap is None else overlap)
    starts = index * CHUNK_FRAMES + hop * np.arange(chunks * CHUNK_FRAMES // hop)
    return np.asarray((starts + frame_len / 2) / SAMPLE_RATE)


@lru_cache(maxsize=16)
def _scaled_window(hop: int, overlap: int) -> NDArray[np.float32]:
    """Return the synthesis window of ``hop + overlap`` frames, scaled for unit-RMS noise.

    Quarter-sine rise over ``overlap`` frames, flat, quarter-cosine fall: the squares of
    neighbouring frames' windows add to one, so the noise power never dips. With
    ``overlap == hop`` this is the square-root Hann window.
    """
    frame_len = hop + overlap
    w = np.ones(frame_len)
    ramp = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap)
    w[:overlap] = ramp
    w[frame_len - overlap :] = ramp[::-1]
    scaled: NDArray[np.float32] = (
        w * np.sqrt(frame_len / (2.0 * _INT8_VARIANCE))
    ).astype(np.float32)
    scaled.flags.writeable = False
    return scaled


def spectral_noise(
    rng: np.random.Generator,
    magnitude: NDArray[np.floating],
    *,
    hop: int = 1920,
    overlap: int | None = None,
    channels: int = 2,
    length: int | None = None,
) -> NDArray[np.float32]:
    """Synthesise shaped noise for the frames that start in one chunk.

    Each frame is a random spectrum (independent per channel, so left and right are
    decorrelated) times ``magnitude``, turned into ``hop + overlap`` frames of audio,
    windowed (power-complementary fades over ``overlap`` frames) and overlap-added at
    ``hop``. With a magnitude of 1 everywhere the result is white noise of unit RMS, so
    ``magnitude`` is the amplitude spectrum relative to that. A short overlap costs less
    (smaller transforms); the default, ``overlap = hop``, gives the smoothest frames.

    Parameters
    ----------
    rng
        The chunk's generator (``chunk_rng(seed, salt, index)``); it is advanced.
    magnitude
        Amplitude per bin: ``(bins,)`` for a steady spectrum, ``(frames, bins)`` for one
        per frame, or ``(frames, channels, bins)``; ``bins = (hop + overlap) // 2 + 1``
        and ``frames = CHUNK_FRAMES // hop`` (see ``rfft_freqs(hop + overlap)`` and
        ``frame_times``).
    hop
        Frame hop in frames; must divide ``CHUNK_FRAMES``.
    overlap
        Frames shared by neighbouring frames, 1 to ``hop`` (default ``hop``).
    channels
        Number of independent channels.
    length
        Frames of the returned buffer: at least, and by default, ``CHUNK_FRAMES + hop``
        (the chunk's hops and the one its last frame fades out in).

    Returns
    -------
    NDArray[np.float32]
        ``(length, channels)`` noise; the frames begin at the chunk's first frame. It is
        the transpose of a channel-planar ``(channels, length)`` array, as the frames
        come out of their transforms channel by channel.

    """
    lap = hop if overlap is None else overlap
    if CHUNK_FRAMES % hop:
        raise ValueError(
            f"hop {hop} does not divide the chunk of {CHUNK_FRAMES} frames"
        )
    if not 1 <= lap <= hop:
        raise ValueError(f"overlap {lap} must be between 1 and the hop {hop}")
    if length is None:
        length = CHUNK_FRAMES + hop
    elif length < CHUNK_FRAMES + hop:
        raise ValueError(f"length {length} is shorter than a chunk plus a hop")
    frame_len = hop + lap
    bins = frame_len // 2 + 1
    n_frames = CHUNK_FRAMES // hop
    mag = np.asarray(magnitude, dtype=np.float32)
    if mag.shape[-1] != bins:
        raise ValueError(f"magnitude has {mag.shape[-1]} bins, expected {bins}")
    if mag.ndim == 2:
        mag = mag[:, None, :]
    spectra = (
        random_int8(rng, n_frames * channels * bins * 2)
        .astype(np.float32)
        .view(np.complex64)
        .reshape(n_frames, channels, bins)
    )
    spectra *= mag
    frames = np.fft.irfft(spectra, n=frame_len, axis=-1).astype(np.float32, copy=False)
    frames *= _scaled_window(hop, lap)
    # Overlap-add: hop k holds frame k's start and, over its first ``lap`` frames, the
    # fading end of frame k-1, each channel's hops one contiguous row of the output.
    out = np.zeros((channels, length), dtype=np.float32)
    hops = out[:, : (n_frames + 1) * hop].reshape(channels, n_frames + 1, hop)
    hops = hops.transpose(1, 0, 2)
    if lap == hop:
        hops[0] = frames[0, :, :hop]
        hops[n_frames] = frames[-1, :, hop:]
        np.add(frames[1:, :, :hop], frames[:-1, :, hop:], out=hops[1:n_frames])
    else:
        hops[:n_frames] = frames[:, :, :hop]
        hops[1:, :, :lap] += frames[:, :, hop:]
    return out.T


def mix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """Return the splitmix64 hash of each element: a fast, well-mixed 64-bit integer hash.

    Parameters
    ----------
    x
        Unsigned 64-bit integers, any shape.

    Returns
    -------
    NDArray[np.uint64]
        Hashes, same shape.

    """
    flat = np.asarray(x, dtype=np.uint64)
    # Flat arrays all the way: array arithmetic wraps modulo 2**64 without the overflow
    # checks of numpy's scalar arithmetic, and the steps run in place.
    z = np.add(flat.reshape(-1), _GOLDEN)
    shifted = np.right_shift(z, _SHIFT30)
    z ^= shifted
    z *= _MIX1
    np.right_shift(z, _SHIFT27, out=shifted)
    z ^= shifted
    z *= _MIX2
    np.right_shift(z, _SHIFT31, out=shifted)
    z ^= shifted
    return z.reshape(flat.shape)


@lru_cache(maxsize=256)
def _hash_base(seed: int, salt: str) -> np.uint64:
    """Return the hashed key of a ``(seed, salt)`` stream."""
    mixed = ((seed * 0x100000001B3) ^ salt_of(salt)) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(mix64(np.asarray([mixed], dtype=np.uint64))[0])


_WORD = (1 << 64) - 1
_FEW_KNOTS = 24  # up to this many, Python integers beat a dozen tiny array operations


def _mix64_int(z: int) -> int:
    """Return ``mix64`` of one unsigned 64-bit integer, in Python integers."""
    z = (z + 0x9E3779B97F4A7C15) & _WORD
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _WORD
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _WORD
    return z ^ (z >> 31)


def hash_uniform(seed: int, salt: str, index: ArrayLike) -> NDArray[np.float64]:
    """Return reproducible uniform numbers in [0, 1), one per integer in ``index``.

    The value for an index depends only on ``(seed, salt, index)``, never on which other
    indices are asked for: the tool for random knots that must agree across chunks.
    """
    base = _hash_base(seed, salt)
    idx = np.asarray(index, dtype=np.int64)
    if idx.size <= _FEW_KNOTS:
        key = int(base)
        values = [
            (_mix64_int((_mix64_int((i & _WORD) ^ key) + key) & _WORD) >> 11)
            * (1.0 / 9007199254740992.0)
            for i in idx.reshape(-1).tolist()
        ]
        return np.array(values, dtype=np.float64).reshape(idx.shape)
    z = idx.reshape(-1).astype(np.uint64)
    z ^= base
    z = mix64(z)
    z += base  # wraps modulo 2**64 (array arithmetic)
    z = mix64(z)
    z >>= _SHIFT11
    u = z.astype(np.float64)
    u *= 1.0 / 9007199254740992.0
    return u.reshape(idx.shape)


def value_noise(
    t: ArrayLike, *, seed: int, salt: str, rate_hz: float, octaves: int = 1
) -> NDArray[np.float64]:
    """Return smooth random values in [-1, 1] at absolute times ``t`` (seconds).

    Knots every ``1 / rate_hz`` seconds get hashed random values; between knots the curve
    follows a raised-cosine interpolation, so the result is continuous and chunk-exact.
    Extra octaves add half-amplitude detail at twice the rate each.
    """
    tt = np.asarray(t, dtype=np.float64)
    total = np.zeros_like(tt)
    norm = 0.0
    for octave in range(octaves):
        pos = tt * rate_hz * (2**octave)
        k = np.floor(pos)
        frac = pos - k
        ki = k.astype(np.int64)
        first = int(ki.min()) if ki.size else 0
        last = int(ki.max()) + 1 if ki.size else 1
        # One hash over the knots in reach, then a lookup: same values, less work.
        knots = (
            hash_uniform(seed, f"{salt}/{octave}", np.arange(first, last + 1)) * 2.0
            - 1.0
        )
        a = knots[ki - first]
        b = knots[ki - first + 1]
        w = 0.5 - 0.5 * np.cos(np.pi * frac)
        amp = 0.5**octave
        total += amp * (a + (b - a) * w)
        norm += amp
    return np.asarray(total / norm)
