"""Cheap building blocks for event-rich beds: noise banks, bed segments, event scatter.

The ambient triggers (rain, fire, stream, paper, pages) are made of a wide noise bed and
many short events. Synthesising either from scratch every chunk costs too much, so:

- ``shaped_noise`` builds a long circular noise signal with a given amplitude spectrum
  (triggers cache it, from a fixed seed) and ``texture`` a circular scatter of many
  grains; ``with_wrap`` makes either ready to be cut;
- ``bed_segment`` cuts one chunk's worth of such a bank from a random offset, one offset
  per ear (decorrelated left and right), and cross-fades it into the neighbouring chunks
  with power-complementary ramps, so the bed is continuous and never repeats in step;
- ``grain_set`` keeps precomputed grains in banks sorted by how long they ring, and
  ``scatter_events`` adds many of them, each with its own start, level and stereo
  position, with one scattered sum per call (dense events go through a few pan buses,
  each placed with a level and a small time difference);
- ``poisson_times``, ``wobble`` and ``knot_curve`` give event times and slow controls
  (swells, flicker, gestures) as pure functions of absolute time;
- ``bubble`` is van den Doel's model of an air bubble ringing in water.

Buffers here are *planar*: ``(2, frames)`` float32, row 0 left and row 1 right. Return
``planar.T`` as the ``(frames, 2)`` chunk buffer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from .base import CHUNK_FRAMES, SAMPLE_RATE, buffer_frames, salt_of
from .cache import SEGMENTS_KEPT, shared_cache
from .dsp import hash_uniform
from .recipe import NoiseBand

FADE_FRAMES = 2400
"""Cross-fade between the bed segments of neighbouring chunks, in frames (50 ms)."""

SEGMENT_FRAMES = CHUNK_FRAMES + FADE_FRAMES
"""Frames of bed a chunk writes: its own chunk plus the fade into the next."""

CONTROL_HOP = 1200
"""Frames between control points of slow envelopes (25 ms); divides ``SEGMENT_FRAMES``."""

CONTROL_POINTS = SEGMENT_FRAMES // CONTROL_HOP + 1
"""Control points covering one bed segment, both ends included."""

BANK_FRAMES = 1 << 18
"""Length of a noise bank before its wrap-around copy (about 5.5 s).

Chunks cut it at a fresh random offset per ear every second, so nothing repeats in step;
a longer bank would cost more to build and to keep and sound no different.
"""

PAN_BUSES = 7
"""Number of stereo positions events are sorted into."""

PAN_WIDTH = 0.6
"""Share of the equal-power pan law events use: at the sides the far ear is 10 dB down."""

MAX_ITD_FRAMES = 18
"""Interaural delay of a bus at the far left or right, in frames (0.375 ms)."""

Spectrum = Callable[[NDArray[np.float64]], NDArray[np.float64]]
"""An amplitude spectrum: frequencies in Hz to linear gains."""


def band(
    freqs: NDArray[np.float64],
    *,
    low_hz: float | NDArray[np.float64] = 0.0,
    high_hz: float | NDArray[np.float64] = 0.0,
    order: int = 2,
    tilt_db_per_octave: float = 0.0,
    pivot_hz: float = 1000.0,
) -> NDArray[np.float64]:
    """Return a smooth band-pass amplitude response (Butterworth-like skirts, a tilt).

    Parameters
    ----------
    freqs
        Frequencies in Hz, any shape.
    low_hz, high_hz
        High-pass and low-pass corners in Hz (0 = no such skirt); arrays that broadcast
        against ``freqs`` give one response per row.
    order
        Steepness of each skirt (6 dB per octave per order).
    tilt_db_per_octave
        Extra slope through ``pivot_hz`` (-3 gives pink, -6 brown).
    pivot_hz
        Frequency where the tilt is 0 dB.

    Returns
    -------
    NDArray[np.float64]
        Linear gains, same shape as ``freqs``.

    """
    f = np.maximum(np.asarray(freqs, dtype=np.float64), 1.0)
    if tilt_db_per_octave:
        gain = np.exp(np.log(f / pivot_hz) * (tilt_db_per_octave / 6.0206))
    else:
        gain = np.ones_like(f)
    if np.any(np.asarray(low_hz) > 0.0):
        gain = gain / np.sqrt(1.0 + _squared_power(low_hz / f, order))
    if np.any(np.asarray(high_hz) > 0.0):
        gain = gain / np.sqrt(1.0 + _squared_power(f / high_hz, order))
    return np.asarray(gain)


def noise_spectrum(noise: NoiseBand) -> Spectrum:
    """Return the amplitude spectrum of a band of noise (``band`` with its corners)."""

    def spectrum(freqs: NDArray[np.float64]) -> NDArray[np.float64]:
        return band(
            freqs,
            low_hz=noise.band.low_hz,
            high_hz=noise.band.high_hz,
            order=noise.order,
            tilt_db_per_octave=noise.tilt_db_per_octave,
        )

    return spectrum


def _squared_power(x: NDArray[np.float64], order: int) -> NDArray[np.float64]:
    """Return ``x ** (2 * order)`` by multiplications (a general power is far slower)."""
    x2 = x * x
    out = x2.copy()
    for _ in range(order - 1):
        out *= x2
    return out


def shaped_noise(frames: int, spectrum: Spectrum, *, seed: int) -> NDArray[np.float32]:
    """Return circular noise of unit RMS with an amplitude spectrum (built with one FFT).

    Parameters
    ----------
    frames
        Length in frames.
    spectrum
        Amplitude response, frequencies in Hz to gains.
    seed
        Seed of the random spectrum.

    Returns
    -------
    NDArray[np.float32]
        ``(frames,)`` noise whose end joins its start seamlessly.

    """
    rng = np.random.default_rng(seed)
    freqs = np.asarray(np.fft.rfftfreq(frames, 1.0 / SAMPLE_RATE), dtype=np.float64)
    # Independent normal real and imaginary parts, then single precision (as the noise
    # is kept), where the long inverse transform is over twice as fast.
    spec = np.empty(freqs.size, dtype=np.complex64)
    spec.real = rng.standard_normal(freqs.size)
    spec.imag = rng.standard_normal(freqs.size)
    spec *= np.asarray(spectrum(freqs), dtype=np.float32)
    spec[0] = 0.0
    x = np.fft.irfft(spec, frames)
    x /= np.float32(np.sqrt(np.mean(x * x, dtype=np.float64)) + 1e-12)
    return np.asarray(x, dtype=np.float32)


def with_wrap(
    x: NDArray[np.float32], extra: int = SEGMENT_FRAMES
) -> NDArray[np.float32]:
    """Return circular ``x`` with its first ``extra`` frames appended (slices never wrap)."""
    out: NDArray[np.float32] = np.concatenate([x, x[:extra]]).astype(np.float32)
    out.flags.writeable = False
    return out


@shared_cache(maxsize=1)
def _segment_window() -> NDArray[np.float32]:
    """Return the bed segment window: sine fade-in, flat, cosine fade-out."""
    w = np.ones(SEGMENT_FRAMES, dtype=np.float64)
    u = (np.arange(FADE_FRAMES) + 0.5) / FADE_FRAMES
    w[:FADE_FRAMES] = np.sin(0.5 * np.pi * u)
    w[CHUNK_FRAMES:] = np.cos(0.5 * np.pi * u)
    out = w.astype(np.float32)
    out.flags.writeable = False
    return out


def ramp(points: NDArray[np.floating], hop: int = CONTROL_HOP) -> NDArray[np.float32]:
    """Return a control curve linearly interpolated to audio rate.

    Parameters
    ----------
    points
        ``(m,)`` or ``(c, m)`` values at frames ``0, hop, ..., (m - 1) * hop``.
    hop
        Frames between points.

    Returns
    -------
    NDArray[np.float32]
        ``((m - 1) * hop,)`` or ``(c, (m - 1) * hop)`` curve.

    """
    p = np.asarray(points, dtype=np.float32)
    frac = np.arange(hop, dtype=np.float32) / np.float32(hop)
    a = p[..., :-1, None]
    out = (p[..., 1:, None] - a) * frac
    out += a
    return np.asarray(out.reshape(*p.shape[:-1], -1), dtype=np.float32)


@lru_cache(maxsize=64)
def _wobble_params(
    seed: int, salt: str, periods: tuple[float, ...]
) -> NDArray[np.float64]:
    """Return the (frequency, phase, amplitude) rows of a seed's slow wobble."""
    rng = np.random.default_rng([seed & 0xFFFFFFFF, seed >> 32, salt_of(salt)])
    count = len(periods)
    freqs = 1.0 / (np.asarray(periods) * rng.uniform(0.8, 1.25, count))
    phases = rng.uniform(0.0, 2.0 * np.pi, count)
    amps = rng.uniform(0.6, 1.0, count)
    amps /= amps.sum()
    params = np.stack([2.0 * np.pi * freqs, phases, amps])
    params.flags.writeable = False
    return params


def wobble(
    t: NDArray[np.float64], *, seed: int, salt: str, periods: tuple[float, ...]
) -> NDArray[np.float64]:
    """Return a slow, smooth random curve in [-1, 1] at absolute times ``t`` (seconds).

    A sum of sinusoids with seeded periods near ``periods`` (incommensurate, so the sum
    never repeats in practice) and seeded phases: a cheap pure function of time for
    swells, gusts and flow.
    """
    w, phase, amp = _wobble_params(seed, salt, periods)
    return np.asarray(np.sin(np.multiply.outer(t, w) + phase) @ amp)


def control_times(index: int, chunks: int = 1) -> NDArray[np.float64]:
    """Return the absolute times (s) of the control points of chunk ``index``'s segment.

    With ``chunks``, those of the segments of that many chunks from ``index`` on.
    """
    points = (chunks - 1) * (CHUNK_FRAMES // CONTROL_HOP) + CONTROL_POINTS
    return np.asarray(
        (index * CHUNK_FRAMES + CONTROL_HOP * np.arange(points)) / SAMPLE_RATE
    )


CURVE_CHUNKS = 8
"""Chunks whose control points a slow curve is worked out for in one go (``chunk_curve``)."""

type Curve = Callable[[int, NDArray[np.float64]], NDArray[np.float64]]
"""A slow control curve: ``curve(seed, t)``, its last axis along the times ``t``."""


def chunk_curve(curve: Curve, seed: int, index: int) -> NDArray[np.float64]:
    """Return ``curve(seed, control_times(index))``, read-only.

    ``curve`` must be a pure function of the seed and of each time on its own (a swell,
    a gesture's strength). A few dozen points cost about as much to work out as a few
    hundred, so the curve is worked out for ``CURVE_CHUNKS`` chunks at once and kept;
    a chunk's values are always cut from the same block, so any chunk renders alone.
    """
    block, place = divmod(index, CURVE_CHUNKS)
    first = place * (CHUNK_FRAMES // CONTROL_HOP)
    return _curve_block(curve, seed, block)[..., first : first + CONTROL_POINTS]


@shared_cache(maxsize=SEGMENTS_KEPT)
def _curve_block(curve: Curve, seed: int, block: int) -> NDArray[np.float64]:
    """Return ``curve`` at the control points of ``CURVE_CHUNKS`` chunks, from ``block``'s."""
    values = np.array(
        curve(seed, control_times(block * CURVE_CHUNKS, chunks=CURVE_CHUNKS))
    )
    values.flags.writeable = False
    return values


def bed_segment(
    out: NDArray[np.float32],
    bank: NDArray[np.float32],
    rng: np.random.Generator,
    gain: NDArray[np.float32],
) -> None:
    """Add one chunk's segment of a noise bank to a planar buffer, left and right apart.

    Parameters
    ----------
    out
        ``(2, n)`` planar buffer with ``n >= SEGMENT_FRAMES``; frame 0 is the chunk start.
    bank
        A bank from ``with_wrap`` (any signal longer than ``SEGMENT_FRAMES``).
    rng
        The chunk's generator; two offsets are drawn from it.
    gain
        ``(SEGMENT_FRAMES,)`` or ``(2, SEGMENT_FRAMES)`` gain curve (e.g. from ``ramp``),
        a pure function of absolute time so neighbouring segments agree in the fades.

    """
    offsets = rng.integers(0, bank.size - SEGMENT_FRAMES, size=2)
    shaped = gain * _segment_window()
    for ear in range(2):
        g = shaped if shaped.ndim == 1 else shaped[ear]
        o = int(offsets[ear])
        out[ear, :SEGMENT_FRAMES] += bank[o : o + SEGMENT_FRAMES] * g


_BUS_CENTRE = PAN_BUSES // 2
_ITD_STEP = MAX_ITD_FRAMES // _BUS_CENTRE


@shared_cache(maxsize=1)
def _bus_gains() -> NDArray[np.float32]:
    """Return each pan bus's equal-power (left, right) gains, shape ``(PAN_BUSES, 2)``."""
    pans = np.linspace(-1.0, 1.0, PAN_BUSES)
    angle = (PAN_WIDTH * pans + 1.0) * (np.pi / 4.0)
    gains = (np.stack([np.cos(angle), np.sin(angle)], axis=1) * np.sqrt(2.0)).astype(
        np.float32
    )
    gains.flags.writeable = False
    return np.asarray(gains, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class Events:
    """A batch of events that play grains of one bank.

    ``bank`` is ``(g, length)`` float32; ``ids``, ``starts`` (frames from the chunk start,
    non-negative), ``gains`` (linear) and ``pans`` (-1 left .. +1 right, within range)
    are ``(e,)``.
    """

    bank: NDArray[np.float32]
    ids: NDArray[np.int64]
    starts: NDArray[np.int64]
    gains: NDArray[np.floating]
    pans: NDArray[np.floating]


_ARANGE = np.arange(1 << 16, dtype=np.int64)
_FEW_EVENTS = 48


def _bus_rows(
    flat: NDArray[np.float32], offset: int, count: int, row_stride: int, length: int
) -> NDArray[np.float32]:
    """Return a view of ``count`` rows of ``length`` frames of ``flat``, from ``offset`` on."""
    item = flat.strides[0]
    return np.lib.stride_tricks.as_strided(
        flat[offset:],
        shape=(count, length),
        strides=(row_stride * item, item),
        writeable=False,
    )


def _scatter_few(out: NDArray[np.float32], batches: Sequence[Events]) -> None:
    """Add a few events one by one into both ears, each at its exact pan."""
    n = out.shape[1]
    for b in batches:
        angle = (PAN_WIDTH * b.pans + 1.0) * (np.pi / 4.0)
        level = b.gains * np.sqrt(2.0)
        # (events, ears, frames): every grain already scaled for each ear.
        gains = np.stack([np.cos(angle) * level, np.sin(angle) * level], axis=1)
        scaled = b.bank[b.ids][:, None, :] * gains[:, :, None].astype(np.float32)
        itd = np.rint(b.pans * MAX_ITD_FRAMES).astype(np.int64)
        firsts = np.stack(
            [b.starts + np.maximum(itd, 0), b.starts + np.maximum(-itd, 0)], 1
        )
        length = b.bank.shape[1]
        for grain, first in zip(scaled, firsts.tolist(), strict=True):
            for ear in range(2):
                a = first[ear]
                m = min(length, n - a)
                if m > 0:
                    out[ear, a : a + m] += grain[ear, :m]


def scatter_events(out: NDArray[np.float32], batches: Sequence[Events]) -> None:
    """Add batches of grains to a planar buffer, each event at its own place in the field.

    Each event gets an equal-power level difference and an interaural delay of up to
    ``MAX_ITD_FRAMES`` at the sides. A few events are added one by one, each at its exact
    pan. Many are sorted into ``PAN_BUSES`` stereo positions and mixed with one
    ``np.add.at``; the buses in use are then read through strided views and mixed
    with a few small matrix products, which costs far less than scattering every grain
    into both ears.

    Parameters
    ----------
    out
        ``(2, n)`` planar buffer; whatever runs past ``n`` is cut.
    batches
        The events to add.

    """
    batches = [b for b in batches if b.ids.size]
    if not batches:
        return
    span = max(int(b.starts.max()) + b.bank.shape[1] for b in batches)
    if sum(b.ids.size for b in batches) <= _FEW_EVENTS:
        _scatter_few(out, batches)
        return
    total = sum(b.ids.size * b.bank.shape[1] for b in batches)
    guard = _ITD_STEP * _BUS_CENTRE
    stride = span + 2 * guard
    bus_scale = 0.5 * (PAN_BUSES - 1)
    buses = [(b.pans * bus_scale + (bus_scale + 0.5)).astype(np.int64) for b in batches]
    # Only the buses between the leftmost and the rightmost event are mixed.
    lo = min(int(bus.min()) for bus in buses)
    hi = max(int(bus.max()) for bus in buses)
    positions = np.empty(total, dtype=np.int64)
    weights = np.empty(total, dtype=np.float32)
    at = 0
    for b, bus in zip(batches, buses, strict=True):
        count, length = b.ids.size, b.bank.shape[1]
        first = (bus - lo) * stride + (b.starts + guard)
        end = at + count * length
        np.add(
            first[:, None],
            _ARANGE[:length],
            out=positions[at:end].reshape(count, length),
        )
        np.multiply(
            b.bank[b.ids],
            b.gains[:, None],
            out=weights[at:end].reshape(count, length),
            casting="same_kind",
        )
        at = end
    # Summed in single precision, in place: half the memory traffic of a bincount.
    flat = np.zeros((hi - lo + 1) * stride, dtype=np.float32)
    np.add.at(flat, positions, weights)
    gains = _bus_gains()
    c = _BUS_CENTRE
    length = min(span + guard, out.shape[1])
    # Buses left of centre reach the right ear late; those right of it, the left ear.
    # Across a side the delay grows by one step per bus, so each ear reads a side's
    # buses as one strided view and mixes them with one small matrix product.
    if lo < c:
        rows = min(c, hi + 1) - lo
        near = _bus_rows(flat, guard, rows, stride, length)
        far = _bus_rows(
            flat, guard - (c - lo) * _ITD_STEP, rows, stride + _ITD_STEP, length
        )
        out[0, :length] += gains[lo : lo + rows, 0] @ near
        out[1, :length] += gains[lo : lo + rows, 1] @ far
    if hi >= c:
        k0 = max(c, lo)
        rows = hi - k0 + 1
        base = (k0 - lo) * stride + guard
        far = _bus_rows(
            flat, base - (k0 - c) * _ITD_STEP, rows, stride - _ITD_STEP, length
        )
        near = _bus_rows(flat, base, rows, stride, length)
        out[0, :length] += gains[k0 : hi + 1, 0] @ far
        out[1, :length] += gains[k0 : hi + 1, 1] @ near


def poisson_times(
    rng: np.random.Generator,
    rate_points: NDArray[np.floating],
    *,
    frames: int = CHUNK_FRAMES,
    hop: int = CONTROL_HOP,
) -> NDArray[np.int64]:
    """Return sorted event starts (frames) of a Poisson process with a varying rate.

    Parameters
    ----------
    rng
        The chunk's generator.
    rate_points
        Events per second at frames ``0, hop, 2 * hop, ...`` (covering ``frames``).
    frames
        Events start in ``[0, frames)``.
    hop
        Frames between rate points.

    Returns
    -------
    NDArray[np.int64]
        ``(e,)`` start frames, ascending.

    """
    rates = np.asarray(rate_points, dtype=np.float64)
    peak = float(rates.max())
    if peak <= 0.0:
        return np.zeros(0, dtype=np.int64)
    count = rng.poisson(peak * frames / SAMPLE_RATE)
    starts = np.sort(rng.integers(0, frames, size=count))
    at = np.interp(starts, hop * np.arange(rates.size), rates)
    keep = rng.random(count) * peak < at
    return starts[keep]


def event_buffer(*sets: GrainSet, lag: int = 0) -> NDArray[np.float32]:
    """Return a silent planar ``(2, n)`` chunk buffer for a bed and grains from ``sets``.

    ``n`` reaches as far as any of it can ring: the bed's segment, or a grain of the
    longest bank struck in the chunk's last frame (``lag`` frames later still, at most)
    and delayed to the far ear, within ``BUFFER_FRAMES``.
    """
    ring = max((s.longest for s in sets), default=0)
    reach = CHUNK_FRAMES + lag + ring + MAX_ITD_FRAMES
    return np.zeros((2, buffer_frames(reach, at_least=SEGMENT_FRAMES)), np.float32)


def bank_of(grains: Sequence[NDArray[np.floating]], length: int) -> NDArray[np.float32]:
    """Return grains stacked into a read-only ``(g, length)`` float32 bank (cut or zero-padded)."""
    bank = np.zeros((len(grains), length), dtype=np.float32)
    for i, g in enumerate(grains):
        m = min(length, g.size)
        bank[i, :m] = g[:m]
    bank.flags.writeable = False
    return bank


def filtered(x: NDArray[np.floating], spectrum: Spectrum) -> NDArray[np.float64]:
    """Return ``x`` filtered by an amplitude spectrum (zero phase, via one FFT; build time).

    ``x`` is one signal ``(n,)`` or a stack ``(..., n)`` filtered row by row (the
    spectrum may then give one response per row).
    """
    size = x.shape[-1]
    n = 1 << int(np.ceil(np.log2(size * 2)))
    freqs = np.asarray(np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE), dtype=np.float64)
    y = np.fft.irfft(np.fft.rfft(x, n) * spectrum(freqs), n)
    return np.asarray(y[..., :size])


def row_peaks(x: NDArray[np.floating]) -> NDArray[np.floating]:
    """Return the peak magnitude of each row of a stack, without an ``abs`` copy of it."""
    return np.asarray(np.maximum(x.max(axis=-1), -x.min(axis=-1)))


def peak_normalised(x: NDArray[np.floating]) -> NDArray[np.float64]:
    """Return ``x`` (or each row of a stack) scaled to a peak of 1 (silence stays silent)."""
    y = np.asarray(x, dtype=np.float64)
    return np.asarray(y / (np.max(np.abs(y), axis=-1, keepdims=True) + 1e-12))


def fade_tail(x: NDArray[np.float64], frames: int) -> NDArray[np.float64]:
    """Return ``x`` (or each row of a stack) with a raised-cosine fade over its last ``frames``."""
    y = x.copy()
    m = min(frames, y.shape[-1])
    y[..., y.shape[-1] - m :] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(m) + 0.5) / m)
    return y


GRAIN_LENGTHS = (96, 192, 384, 768, 1536, 3072, 6144)
"""Bank lengths (frames) that grains of a ``GrainSet`` are sorted into by how long they ring."""


@dataclass(frozen=True, slots=True)
class GrainSet:
    """Grains sorted into banks of a few lengths, so short grains cost little to scatter.

    Grain ``i`` is row ``rows[i]`` of ``banks[classes[i]]``.
    """

    banks: tuple[NDArray[np.float32], ...]
    classes: NDArray[np.int64]
    rows: NDArray[np.int64]

    @property
    def size(self) -> int:
        """Return the number of grains."""
        return int(self.classes.size)

    @property
    def longest(self) -> int:
        """Return the length of the longest bank that holds grains, in frames."""
        return max((bank.shape[1] for bank in self.banks if bank.shape[0]), default=0)

    def events(
        self,
        ids: NDArray[np.int64],
        starts: NDArray[np.int64],
        gains: NDArray[np.floating],
        pans: NDArray[np.floating],
    ) -> list[Events]:
        """Return the batches that play grains ``ids`` (``(e,)`` like the other arguments)."""
        klass = self.classes[ids]
        order = np.argsort(klass, kind="stable")
        bounds = np.searchsorted(klass[order], np.arange(len(self.banks) + 1))
        rows = self.rows[ids[order]]
        starts, gains, pans = starts[order], gains[order], pans[order]
        return [
            Events(bank, rows[a:b], starts[a:b], gains[a:b], pans[a:b])
            for bank, a, b in zip(self.banks, bounds[:-1], bounds[1:], strict=True)
            if b > a
        ]

    @classmethod
    def joined(cls, *sets: GrainSet) -> GrainSet:
        """Return one set holding the grains of ``sets`` in order, as they were cut."""
        held = np.array([[bank.shape[0] for bank in s.banks] for s in sets])
        # Each set's rows come after those the sets before it hold in the same bank.
        before = np.cumsum(held, axis=0) - held
        banks = []
        for k in range(len(GRAIN_LENGTHS)):
            bank = np.concatenate([s.banks[k] for s in sets])
            bank.flags.writeable = False
            banks.append(bank)
        return cls(
            tuple(banks),
            np.concatenate([s.classes for s in sets]),
            np.concatenate([s.rows + before[i, s.classes] for i, s in enumerate(sets)]),
        )


def grain_set(
    grains: Sequence[NDArray[np.floating]] | NDArray[np.floating],
    *,
    floor_db: float = -50.0,
) -> GrainSet:
    """Return grains cut where they fall ``floor_db`` below their peak, sorted by length.

    Parameters
    ----------
    grains
        Mono grains, each ``(n,)``, starting at their onset (or a ``(g, n)`` stack).
    floor_db
        Level below the grain's peak at which its tail is cut (with a short fade).

    Returns
    -------
    GrainSet
        The grains in banks of ``GRAIN_LENGTHS`` frames.

    """
    lengths = np.asarray(GRAIN_LENGTHS)
    longest = int(lengths[-1])
    count = len(grains)
    classes = np.zeros(count, dtype=np.int64)
    # Grains of one size are measured and cut together, a stack at a time.
    by_size: dict[int, list[int]] = {}
    for i, g in enumerate(grains):
        by_size.setdefault(int(np.size(g)), []).append(i)
    stacks: list[tuple[NDArray[np.int64], NDArray[np.float32]]] = []
    for size, indices in by_size.items():
        which = np.asarray(indices, dtype=np.int64)
        # Single precision, as the banks keep them: measuring and cutting a stack of
        # long grains in double would take twice the memory for nothing. A stack
        # given whole is measured where it lies.
        if isinstance(grains, np.ndarray) and which.size == count:
            x = np.asarray(grains, dtype=np.float32)
        else:
            x = np.stack([np.asarray(grains[i], dtype=np.float32) for i in indices])
        x = x.reshape(which.size, size)
        peak = row_peaks(x)
        floor = (peak * 10.0 ** (floor_db / 20.0))[:, None]
        loud = (x > floor) | (x < -floor)
        last = size - np.argmax(loud[:, ::-1], axis=1)
        need = np.where(loud.any(axis=1), last, 1)
        classes[which] = np.minimum(np.searchsorted(lengths, need), lengths.size - 1)
        x = x[:, :longest]
        over = np.flatnonzero(need > longest)
        if over.size:
            # Grains that ring past the longest bank are cut with a short fade.
            x = x.copy()
            m = min(x.shape[1] // 4, 64)
            x[over, x.shape[1] - m :] *= 0.5 + 0.5 * np.cos(
                np.pi * (np.arange(m) + 0.5) / m
            )
        stacks.append((which, x))
    rows = np.zeros(count, dtype=np.int64)
    banks = []
    for k, length in enumerate(lengths):
        members = np.flatnonzero(classes == k)
        rows[members] = np.arange(members.size)
        bank = np.zeros((members.size, int(length)), dtype=np.float32)
        for which, x in stacks:
            mine = np.flatnonzero(classes[which] == k)
            if mine.size:
                m = min(int(length), x.shape[1])
                bank[rows[which[mine]], :m] = x[mine, :m]
        bank.flags.writeable = False
        banks.append(bank)
    return GrainSet(tuple(banks), classes, rows)


def texture(
    layers: Sequence[tuple[GrainSet, float, float]],
    *,
    seed: int,
    level_sigma: float = 0.5,
    frames: int = BANK_FRAMES,
) -> NDArray[np.float32]:
    """Return a circular mono texture of many scattered grains, for ``bed_segment``.

    Dense events (drizzle, small bubbles) cost too much to scatter chunk by chunk; a
    texture is scattered once, and chunks cut it at random offsets like a noise bank.

    Parameters
    ----------
    layers
        ``(grains, events_per_second, level)``; each event picks a random grain.
    seed
        Seed of the event times, grains and levels.
    level_sigma
        Spread of event levels (standard deviation of their natural logarithm).
    frames
        Length of the texture before its wrap-around copy.

    Returns
    -------
    NDArray[np.float32]
        ``(frames + SEGMENT_FRAMES,)`` read-only texture of unit RMS.

    """
    rng = np.random.default_rng(seed)
    longest = max(grains.banks[-1].shape[1] for grains, _, _ in layers)
    mixed = np.zeros(frames + longest, dtype=np.float64)
    for grains, rate, level in layers:
        count = int(rate * frames / SAMPLE_RATE)
        ids = rng.integers(0, grains.size, count)
        starts = rng.integers(0, frames, count)
        gains = level * np.exp(rng.normal(0.0, level_sigma, count))
        for batch in grains.events(ids, starts, gains, np.zeros(count)):
            length = batch.bank.shape[1]
            # In order of time, a few hundred thousand samples at a time: each part is
            # summed over the short stretch it covers, and the memory stays flat.
            order = np.argsort(batch.starts, kind="stable")
            step = max(1, (1 << 18) // length)
            for a in range(0, order.size, step):
                part = order[a : a + step]
                first = int(batch.starts[part[0]])
                positions = (
                    (batch.starts[part] - first)[:, None] + _ARANGE[:length]
                ).ravel()
                scaled = batch.bank[batch.ids[part]] * batch.gains[part, None].astype(
                    np.float32
                )
                sums = np.bincount(positions, scaled.ravel())
                mixed[first : first + sums.size] += sums
    # Grains that run past the end come round to the start: the texture is circular.
    acc = mixed[:frames].copy()
    acc[: mixed.size - frames] += mixed[frames:]
    acc -= acc.mean()
    acc /= np.sqrt(np.mean(acc * acc)) + 1e-12
    return with_wrap(acc.astype(np.float32))


_BUBBLE_RING_NEPERS = 3.0 * np.log(10.0)
"""Decay after which a bubble is left silent: 60 dB, below every grain cut."""


def bubbles(
    radii_m: NDArray[np.float64], length: int, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Return air bubbles ringing in water, after van den Doel ("Physically based models for liquid sounds").

    A bubble of radius ``r`` sings near the Minnaert frequency ``f0 = 3 / r`` Hz, decays
    at ``d = 0.13 / r + 0.0072 / r**1.5`` per second, and its pitch rises as it decays:
    ``f(t) = f0 (1 + sigma t)`` with ``sigma = xi d``, ``xi`` about 0.1.

    Parameters
    ----------
    radii_m
        ``(n,)`` bubble radii in metres (0.1-5 mm make sense).
    length
        Frames to render per bubble (the tail is faded out over its last fifth).
    rng
        Varies each pitch by a few percent and each ``xi`` between 0.06 and 0.14.

    Returns
    -------
    NDArray[np.float32]
        ``(n, length)`` grains, each with a peak of 1 and a soft 0.25 ms onset.

    """
    r = np.asarray(radii_m, dtype=np.float64)
    f0 = 3.0 / r * rng.uniform(0.92, 1.08, r.shape)
    decay = 0.13 / r + 0.0072 * r**-1.5
    sigma = rng.uniform(0.06, 0.14, r.shape) * decay
    t = np.arange(length) / SAMPLE_RATE
    # Each bubble is computed only until it has decayed by 60 dB (small ones ring for a
    # few milliseconds); past that its samples stay zero.
    rings = np.minimum(np.ceil(_BUBBLE_RING_NEPERS / decay * SAMPLE_RATE), length)
    y = np.zeros((r.size, length), dtype=np.float32)
    for i, n in enumerate(rings.astype(np.int64)):
        ti = t[:n]
        # Phase and decay are summed in double precision; the sine and the exponential
        # in single are exact enough for a grain, and much faster.
        turn = (2.0 * np.pi * f0[i] * (ti + 0.5 * sigma[i] * ti * ti)).astype(
            np.float32
        )
        fall = (-decay[i] * ti).astype(np.float32)
        y[i, :n] = np.exp(fall) * np.sin(turn)
    attack = min(length, 12)
    y[:, :attack] *= np.linspace(0.0, 1.0, attack)
    tail = length // 5
    y[:, length - tail :] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(tail) + 0.5) / tail)
    y /= row_peaks(y)[:, None] + 1e-12
    return y


def bubble(
    radius_m: float, length: int, rng: np.random.Generator
) -> NDArray[np.float32]:
    """Return one air bubble of a radius (see ``bubbles``), shape ``(length,)``."""
    return np.asarray(bubbles(np.asarray([radius_m]), length, rng)[0])


@dataclass(frozen=True, kw_only=True, slots=True)
class Swell:
    """A slow rise and fall of an event bed's rate and level (a shower, a stream's flow).

    The factor is ``2 ** (octaves * wobble)``: at most ``octaves`` up or down.
    """

    octaves: float
    """Largest swing of the factor, in octaves (1: from half to double)."""

    periods_s: tuple[float, ...]
    """Periods of the wobble's sinusoids, in seconds (seeded near these)."""

    def at(
        self, t: NDArray[np.float64], *, seed: int, salt: str
    ) -> NDArray[np.float64]:
        """Return the factor at absolute times ``t`` (seconds)."""
        return np.asarray(
            2.0
            ** (self.octaves * wobble(t, seed=seed, salt=salt, periods=self.periods_s))
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class BubbleSizes:
    """Radii of a set of air bubbles in water (``bubbles``), drawn between two sizes.

    ``10 ** (log10(low) + log10(high / low) * u ** skew)``: log-uniform for a ``skew``
    of 1, more small bubbles than large above it.
    """

    count: int
    """How many bubbles the set holds."""

    low_m: float
    """Smallest radius, in metres."""

    high_m: float
    """Largest radius, in metres."""

    skew: float = 1.0
    """Power the uniform draw is raised to (1: log-uniform)."""

    grain_frames: int
    """Frames rendered per bubble (its longest ring)."""

    floor_db: float
    """Level below its peak where each bubble's tail is cut (``grain_set``)."""

    def radii(self, rng: np.random.Generator) -> NDArray[np.float64]:
        """Return ``count`` radii in metres."""
        span = np.log10(self.high_m / self.low_m)
        return np.asarray(
            10.0 ** (np.log10(self.low_m) + span * rng.random(self.count) ** self.skew)
        )

    def grains_of(
        self, radii_m: NDArray[np.float64], rng: np.random.Generator
    ) -> GrainSet:
        """Return the set of bubbles of these radii, rendered and cut (``rng`` varies them)."""
        return grain_set(
            bubbles(radii_m, self.grain_frames, rng), floor_db=self.floor_db
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Foreground:
    """The separate events of an event bed, each placed on its own in the stereo field."""

    per_s: float
    """Events per second at the swell's middle."""

    gain: float
    """Level of an event at its median (linear)."""

    spread: float
    """Standard deviation of the events' levels, in natural-log units."""

    clip: tuple[float, float]
    """Smallest and largest level factor an event may get."""

    def levels(self, rng: np.random.Generator, n: int) -> NDArray[np.float64]:
        """Return ``n`` event levels (log-normal around ``gain``, clipped)."""
        low, high = self.clip
        return np.asarray(
            self.gain * np.exp(rng.normal(0.0, self.spread, n)).clip(low, high)
        )


def soft_limit(x: NDArray[np.float32], *, knee: float, ceiling: float) -> None:
    """Bend the peaks of ``x`` above ``knee`` smoothly towards ``ceiling``, in place.

    Samples below the knee are untouched; above it the curve keeps unit slope at the
    knee and approaches the ceiling, which only the rare coincident transients of
    crackling sounds ever reach. Only the samples above the knee are computed.

    Parameters
    ----------
    x
        A contiguous signal, any shape, changed in place.
    knee
        Level where bending starts (linear, > 0).
    ceiling
        Level that is never reached (linear, > ``knee``).

    """
    flat = x.reshape(-1)
    if flat.max() <= knee and flat.min() >= -knee:
        return
    loud = np.flatnonzero(np.abs(flat) > knee)
    if loud.size:
        v = flat[loud]
        over = np.abs(v) - knee
        room = ceiling - knee
        flat[loud] = np.sign(v) * (knee + room * over / (over + room))


def knot_curve(
    t: NDArray[np.float64], *, seed: int, salt: str, knot_s: float
) -> NDArray[np.float64]:
    """Return a smooth random curve in [0, 1] at absolute times ``t`` (seconds, ascending).

    Knots every ``knot_s`` seconds hold hashed uniform values (a pure function of the
    knot index), joined by raised-cosine steps: one hash call per chunk, chunk-exact.
    """
    pos = np.asarray(t, dtype=np.float64) / knot_s
    k = np.floor(pos).astype(np.int64)
    first = int(k[0])
    values = hash_uniform(seed, salt, np.arange(first, int(k[-1]) + 2))
    a = values[k - first]
    b = values[k - first + 1]
    w = 0.5 - 0.5 * np.cos(np.pi * (pos - k))
    return np.asarray(a + (b - a) * w)


def placed_segment(
    out: NDArray[np.float32],
    layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
    rng: np.random.Generator,
    ears: NDArray[np.float32],
) -> None:
    """Add one chunk's segment of noise banks to a planar buffer, one read for both ears.

    Like ``bed_segment``, but the ears share one read of each bank: the sound comes from
    one place (``ears`` sets where), where ``bed_segment`` spreads it wide. The banks
    are mixed in mono first, so several layers cost little more than one.

    Parameters
    ----------
    out
        ``(2, n)`` planar buffer with ``n >= SEGMENT_FRAMES``; frame 0 is the chunk start.
    layers
        ``(bank, gain)`` pairs: a bank from ``with_wrap`` (any signal longer than
        ``SEGMENT_FRAMES``) and its ``(SEGMENT_FRAMES,)`` gain curve (e.g. from ``ramp``).
    rng
        The chunk's generator; one offset per layer is drawn from it.
    ears
        ``(2, SEGMENT_FRAMES)`` gains of the left and right ear, or ``(2, 1)`` for a
        place that holds through the chunk.

    Gains are pure functions of absolute time, so neighbouring segments agree in the
    fades.

    """
    mono = np.zeros(SEGMENT_FRAMES, dtype=np.float32)
    for bank, gain in layers:
        o = int(rng.integers(0, bank.size - SEGMENT_FRAMES))
        mono += bank[o : o + SEGMENT_FRAMES] * gain
    mono *= _segment_window()
    out[:, :SEGMENT_FRAMES] += mono * ears
