"""The gesture model of the close, continuous triggers: strokes over a surface.

A stroke has a bell-shaped speed curve; speed drives the level and the spectral centroid
of a surface-noise texture (a cross-fade between a dark and a bright noise band read from
cached noise tables). A nail or a bristle does not glide: it sticks and slips, so the
texture's level flutters from catch to catch at a rate that follows the speed
(``stick_slip``), and granular micro-impacts (bristles or a nail catching on the
texture) ride on it. Scratching, brushing and hair brushing are this model with their
own timing, materials and motion: each is a ``StrokeRecipe`` (its ``Bouts``, the
stroke's shape, its ``StickSlip`` and its ``Friction``) beside the parts only its tool
has (``Tips`` of bristles or strands, ``Ridges`` under a nail).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from .base import BUFFER_FRAMES, SAMPLE_RATE, ChunkRequest, buffer_frames, chunk_rng
from .cache import shared_cache
from .dsp import fade_edges
from .events import soft_limit
from .recipe import Band, Count, NoiseBand, Range, SoftLimit
from .spatial import MAX_ITD_FRAMES, PLACEMENT_HOP, control_points, place_moving_at

TABLE_FRAMES = 153600
"""Length of the cached noise tables the textures read from (3.2 s: longer than the
longest read, a chunk's buffer, and a length the FFT takes quickly)."""

STROKE_HOP = 64
"""Frames between points of a stroke's control curves (speed, level, brightness: 1.3 ms,
fine enough to follow every stick-slip catch)."""


@shared_cache(maxsize=32)
def noise_table(
    low_hz: float,
    high_hz: float,
    tilt_db_per_octave: float,
    salt: str,
    order: int = 2,
) -> NDArray[np.float32]:
    """Return a cached, unit-RMS band of noise, ``TABLE_FRAMES`` long.

    The noise keeps its spectrum but has its rare tall peaks shaved (clipped and
    re-filtered a few times, peaks about 3 times the RMS instead of 5), which buys
    headroom without a sound of its own.

    Parameters
    ----------
    low_hz, high_hz
        Corners of the band (second-order slopes outside it).
    tilt_db_per_octave
        Spectral tilt inside the band, relative to 1 kHz.
    salt
        Name of the table's fixed random source.
    order
        Steepness of the slopes outside the band (6 dB per octave each).

    Returns
    -------
    NDArray[np.float32]
        ``(TABLE_FRAMES,)`` read-only noise.

    """
    rng = chunk_rng(0, "table:" + salt, 0)
    spec = np.fft.rfft(rng.standard_normal(TABLE_FRAMES))
    f = np.maximum(np.fft.rfftfreq(TABLE_FRAMES, 1.0 / SAMPLE_RATE), 1.0)
    mag = (f / 1000.0) ** (tilt_db_per_octave / 6.02)
    mag /= 1.0 + (low_hz / f) ** order
    mag /= 1.0 + (f / high_hz) ** order
    out = low_crest_noise(mag, spec)
    out.flags.writeable = False
    return out


_SHAVES = 4
"""Clip-and-refilter passes of ``low_crest_noise``: the peaks fall from about 4.9 times
the RMS to 3.8, 3.3, 3.1 and 2.9 in turn; further passes shave hundredths."""


def low_crest_noise(
    magnitude: NDArray[np.float64], spectrum: NDArray[np.complex128]
) -> NDArray[np.float32]:
    """Return unit-RMS circular noise of a given amplitude spectrum, with its peaks shaved.

    Starting from the phases of ``spectrum``, the signal is clipped at 2.8 times its RMS
    and given back its amplitude spectrum a few times over (``_SHAVES``): the spectrum
    (and so the sound) stays, the rare tall peaks of Gaussian noise (five times the RMS
    and more) go, leaving about 3 times the RMS.

    Parameters
    ----------
    magnitude
        ``(n // 2 + 1,)`` amplitude per bin of the wanted ``n``-frame signal.
    spectrum
        ``(n // 2 + 1,)`` spectrum whose phases seed the noise (e.g. of white noise).

    Returns
    -------
    NDArray[np.float32]
        ``(n,)`` noise of unit RMS.

    """
    frames = 2 * (magnitude.size - 1)
    spectrum = _with_magnitude(spectrum.copy(), magnitude)
    for _ in range(_SHAVES):
        # The inverse transform runs in single precision (about three times as fast
        # here), the forward one in double (single is slower).
        x = np.fft.irfft(spectrum.astype(np.complex64), frames)
        limit = 2.8 * np.sqrt(np.mean(np.square(x), dtype=np.float64))
        np.clip(x, -limit, limit, out=x)
        spectrum = _with_magnitude(np.fft.rfft(x.astype(np.float64)), magnitude)
    x = np.fft.irfft(spectrum.astype(np.complex64), frames)
    return np.asarray(
        x / np.sqrt(np.mean(np.square(x), dtype=np.float64)), dtype=np.float32
    )


def _with_magnitude(
    spectrum: NDArray[np.complex128], magnitude: NDArray[np.float64]
) -> NDArray[np.complex128]:
    """Give ``spectrum`` (in place) the amplitude ``magnitude``, keeping its phases."""
    scale = np.abs(spectrum)
    np.maximum(scale, 1e-12, out=scale)
    np.divide(magnitude, scale, out=scale)
    spectrum *= scale
    return spectrum


def read_table(
    table: NDArray[np.float32], rng: np.random.Generator, frames: int
) -> NDArray[np.float32]:
    """Return ``frames`` frames of a noise table from a random offset."""
    start = int(rng.integers(0, table.size - frames))
    return table[start : start + frames]


def blend(
    rng: np.random.Generator,
    dark: NDArray[np.float32],
    light: NDArray[np.float32],
    level: NDArray[np.float32],
    mix: NDArray[np.float32],
    frames: int,
) -> NDArray[np.float32]:
    """Return a texture cross-faded between a dark and a light noise table.

    Parameters
    ----------
    rng
        Generator for the read offsets.
    dark, light
        Noise tables (``noise_table``).
    level, mix
        Control curves (one point per ``STROKE_HOP`` frames, at least
        ``ceil(frames / STROKE_HOP)`` points): amplitude, and the share of ``light``.
    frames
        Length of the texture.

    Returns
    -------
    NDArray[np.float32]
        ``(frames,)`` texture: ``level * ((1 - mix) * dark + mix * light)``.

    """
    points = -(-frames // STROKE_HOP)
    span = points * STROKE_HOP
    bright = (level[:points] * mix[:points])[:, None]
    dull = level[:points, None] - bright
    out = read_table(dark, rng, span).reshape(points, STROKE_HOP) * dull
    out += read_table(light, rng, span).reshape(points, STROKE_HOP) * bright
    return out.reshape(span)[:frames]


def stick_slip(
    rng: np.random.Generator,
    speed: NDArray[np.float32],
    rate_hz: float,
    depth: float,
    *,
    limit: float = 2.5,
    ceiling: float | None = None,
    steady: float = 0.5,
) -> NDArray[np.float32]:
    """Return the stick-slip flutter of a stroke: how hard the tip catches, moment to moment.

    A nail or a bristle drawn over a surface sticks, loads and slips again and again;
    each slip is a small burst of friction noise. Seen at the control rate, the friction
    level jumps between catches: a log-normal flutter whose knots pass at ``rate_hz``
    at full speed (part of the rate follows the speed, part stays, since a slow tip
    still catches). Multiplying a stroke's level by it turns a smooth hiss into a
    grainy rasp.

    Parameters
    ----------
    rng
        Generator for the catches.
    speed
        Control curve (one point per ``STROKE_HOP`` frames), in [0, 1].
    rate_hz
        Catches per second at speed 1.
    depth
        Spread of the catches' strength (natural-log units).
    limit
        Deepest excursion of the underlying curve (in standard deviations, soft): how
        nearly a stuck tip falls silent.
    ceiling
        Highest excursion (default ``limit``): how far above the mean the hardest slip
        rises, which sets the peaks.
    steady
        Share of the catch rate that does not depend on the speed.

    Returns
    -------
    NDArray[np.float32]
        ``(speed.size,)`` gains of mean square about 1.

    """
    step = (steady + (1.0 - steady) * speed.astype(np.float64)) * (
        rate_hz * STROKE_HOP / SAMPLE_RATE
    )
    travel = np.cumsum(step) - step[0]
    knots = rng.standard_normal(int(travel[-1]) + 2)
    whole = travel.astype(np.int64)
    frac = travel - whole
    ease = 0.5 - 0.5 * np.cos(np.pi * frac)
    curve = knots[whole] + (knots[whole + 1] - knots[whole]) * ease
    top = limit if ceiling is None else ceiling
    curve = _bend(curve, limit, top)
    return (np.exp(depth * curve) / _flutter_rms(depth, limit, top)).astype(np.float32)


def _bend(x: NDArray[np.float64], low: float, high: float) -> NDArray[np.float64]:
    """Return ``x`` bent softly into ``(-low, high)`` (a tanh on each side of 0)."""
    bound = np.where(x < 0.0, low, high)
    return np.asarray(bound * np.tanh(x / bound))


@lru_cache(maxsize=16)
def _flutter_rms(depth: float, low: float, high: float) -> float:
    """Return the RMS of ``exp(depth * bent(z))`` for a standard normal z."""
    z = np.linspace(-9.0, 9.0, 3601)
    w = np.exp(-0.5 * z**2)
    power = np.exp(2.0 * depth * _bend(z, low, high))
    return float(np.sqrt(np.sum(w * power) / np.sum(w)))


def impact_frames(
    rng: np.random.Generator, speed: NDArray[np.float32], rate_hz: float
) -> NDArray[np.int64]:
    """Return frames of impacts whose rate follows a speed curve (Poisson, sorted).

    Parameters
    ----------
    rng
        Generator for the impacts.
    speed
        Control curve (one point per ``STROKE_HOP`` frames), in [0, 1].
    rate_hz
        Impacts per second at speed 1.

    Returns
    -------
    NDArray[np.int64]
        Frames of the impacts inside the curve's span.

    """
    cum = np.cumsum(speed, dtype=np.float64)
    total = float(cum[-1])
    count = int(rng.poisson(total * STROKE_HOP / SAMPLE_RATE * rate_hz))
    where = np.searchsorted(cum, rng.uniform(0.0, total, count))
    frames = where * STROKE_HOP + rng.integers(0, STROKE_HOP, count)
    return np.sort(frames).astype(np.int64)


def scatter(
    frames: int,
    bank: NDArray[np.float32],
    grain_ids: NDArray[np.int64],
    starts: NDArray[np.int64],
    gains: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Mix grains of a bank into a mono buffer (events past the end are cut).

    Parameters
    ----------
    frames
        Length of the result.
    bank
        ``(g, length)`` grains.
    grain_ids, starts, gains
        ``(e,)`` grain, first frame and linear level of each event.

    Returns
    -------
    NDArray[np.float32]
        ``(frames,)`` mono mix.

    """
    if starts.size == 0:
        return np.zeros(frames, dtype=np.float32)
    length = bank.shape[1]
    idx = (starts[:, None] + np.arange(length)).ravel()
    vals = (bank[grain_ids] * gains[:, None]).ravel()
    if int(starts.max()) + length > frames:
        keep = idx < frames
        idx, vals = idx[keep], vals[keep]
    out = np.zeros(frames, dtype=np.float32)
    np.add.at(out, idx, vals)
    return out


@shared_cache(maxsize=4)
def click_bank(
    count: int, length: int, low_hz: float, high_hz: float, salt: str
) -> NDArray[np.float32]:
    """Return a cached bank of tiny noise clicks (sharp attack, exponential decay).

    Parameters
    ----------
    count
        Number of grains.
    length
        Frames per grain (the decay fits inside).
    low_hz, high_hz
        Band the clicks' resonances are drawn from.
    salt
        Name of the bank's fixed random source.

    Returns
    -------
    NDArray[np.float32]
        ``(count, length)`` read-only grains of peak about 1.

    """
    rng = chunk_rng(0, "clicks:" + salt, 0)
    t = np.arange(length) / SAMPLE_RATE
    f = np.fft.rfftfreq(length * 2, 1.0 / SAMPLE_RATE)
    bank = np.empty((count, length))
    for i in range(count):
        centre = np.exp(rng.uniform(np.log(low_hz), np.log(high_hz)))
        width = centre * rng.uniform(0.2, 0.5)
        mag = 1.0 / (1.0 + ((f - centre) / width) ** 2)
        noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(length * 2)) * mag)[
            :length
        ]
        decay = np.exp(-t / (length / SAMPLE_RATE * rng.uniform(0.12, 0.3)))
        attack = np.minimum(1.0, np.arange(length) / 3.0)
        grain = noise * decay * attack
        bank[i] = grain / np.max(np.abs(grain))
    bank[:, -4:] = 0.0
    out = bank.astype(np.float32)
    out.flags.writeable = False
    return out


def _spans(
    first: NDArray[np.int64], size: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return, for runs of ``size`` points from ``first``, each point's run and place in it."""
    owner = np.repeat(np.arange(size.size), size)
    local = np.arange(owner.size) - np.repeat(np.cumsum(size) - size, size)
    return owner, local


def stroke_controls(
    rng: np.random.Generator,
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    peaks: NDArray[np.float64],
    frames: int,
    *,
    skew: float = 0.3,
    wobble: float = 0.15,
    bias: float = 0.0,
) -> NDArray[np.float32]:
    """Return the speed curve of a run of strokes over a span of frames.

    Each stroke's speed is a bell, 0 at both ends, whose peak sits off centre by a
    random amount, times the slow speed fluctuation of a hand, scaled to its peak.

    Parameters
    ----------
    rng
        Generator for the strokes' shapes.
    offsets, lengths
        ``(s,)`` first frame and length in frames of each stroke inside the span.
    peaks
        ``(s,)`` peak speed of each stroke, in [0, 1].
    frames
        Length of the span.
    skew
        How far the peaks may sit off centre (0 = symmetric bells).
    wobble
        Depth of the hand's speed fluctuation.
    bias
        Shifts the peaks: negative values pull them earlier (a quick start, a long
        glide).

    Returns
    -------
    NDArray[np.float32]
        ``(frames // STROKE_HOP + 2,)`` speeds, one per ``STROKE_HOP`` frames (where
        strokes overlap, the faster one).

    """
    count = offsets.size
    size = lengths // STROKE_HOP + 1
    owner, local = _spans(offsets // STROKE_HOP, size)
    tau = local / np.maximum(size - 1, 1)[owner]
    power = np.exp(bias + rng.uniform(-skew, skew, count))
    sharpness = rng.uniform(0.6, 1.4, count)
    rate = rng.uniform(1.0, 3.5, count)
    phase = rng.uniform(0.0, 6.3, count)
    bell = np.maximum(np.sin(np.pi * tau ** power[owner]), 0.0) ** sharpness[owner]
    v = bell * (1.0 + wobble * np.sin(2.0 * np.pi * rate[owner] * tau + phase[owner]))
    top = np.maximum.reduceat(v, np.cumsum(size) - size)
    v *= (peaks / np.maximum(top, 1e-9))[owner]
    speed = np.zeros(frames // STROKE_HOP + 2, dtype=np.float32)
    where = (offsets // STROKE_HOP)[owner] + local
    keep = where < speed.size
    np.maximum.at(speed, where[keep], v[keep].astype(np.float32))
    return speed


def hold(
    values: NDArray[np.float64],
    offsets: NDArray[np.int64],
    lengths: NDArray[np.int64],
    points: int,
    hop: int,
    *,
    drift: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Return per-stroke values held over each stroke's control points (0 elsewhere).

    Parameters
    ----------
    values
        ``(s,)`` one value per stroke.
    offsets, lengths
        ``(s,)`` first frame and length in frames of each stroke.
    points
        Number of control points of the result.
    hop
        Frames between control points.
    drift
        ``(s,)`` optional change of the value over each stroke (a linear ramp centred on
        the value).

    Returns
    -------
    NDArray[np.float64]
        ``(points,)`` control curve (where strokes overlap, the later one's).

    """
    first = offsets // hop
    size = np.maximum(np.minimum(points, (offsets + lengths) // hop + 2) - first, 0)
    owner, local = _spans(first, size)
    held = np.asarray(values, dtype=np.float64)[owner]
    if drift is not None:
        held += (local / np.maximum(size - 1, 1)[owner] - 0.5) * drift[owner]
    out = np.zeros(points)
    out[first[owner] + local] = held
    return out


@dataclass(frozen=True, slots=True)
class ChunkStrokes:
    """The strokes that start in one chunk, laid out from the first one.

    ``mine`` selects them from a segment's timeline; ``first`` is the chunk frame where
    the first begins; ``offsets`` and ``lengths`` (frames) place each from there; the
    strokes' sound fills ``frames`` frames.
    """

    mine: NDArray[np.bool_]
    first: int
    offsets: NDArray[np.int64]
    lengths: NDArray[np.int64]
    frames: int


def strokes_in_chunk(
    start: NDArray[np.float64], dur: NDArray[np.float64], t0: float
) -> ChunkStrokes | None:
    """Return the strokes (start and duration in seconds) that start in the chunk at ``t0``."""
    mine = (start >= t0) & (start < t0 + 1.0)
    if not mine.any():
        return None
    first = round((start[mine][0] - t0) * SAMPLE_RATE)
    offsets = np.round((start[mine] - t0) * SAMPLE_RATE).astype(np.int64) - first
    lengths = np.round(dur[mine] * SAMPLE_RATE).astype(np.int64)
    frames = min(int(np.max(offsets + lengths)), BUFFER_FRAMES - first - MAX_ITD_FRAMES)
    return ChunkStrokes(mine, first, offsets, lengths, frames)


def place_strokes(
    mono: NDArray[np.float32],
    strokes: ChunkStrokes,
    request: ChunkRequest,
    *,
    spot: NDArray[np.float64],
    drift: NDArray[np.float64],
    salt: str,
) -> NDArray[np.float32]:
    """Return a chunk buffer with the strokes' sound moving around the head.

    Each stroke sits ``spot`` degrees off the layer's path and slides ``drift`` degrees
    while it plays; the whole follows the layer's placement.
    """
    fade_edges(mono, STROKE_HOP)
    az_offset = hold(
        spot,
        strokes.offsets,
        strokes.lengths,
        control_points(strokes.frames),
        PLACEMENT_HOP,
        drift=drift,
    )
    stereo = place_moving_at(
        mono,
        request.placement,
        request.seed,
        request.start_s + strokes.first / SAMPLE_RATE,
        salt=salt,
        offset_deg=az_offset,
    )
    # Channel-planar, as ``place_moving`` gives it: copying into interleaved frames
    # would cost a strided pass over the whole chunk.
    # The buffer ends where the last stroke does (a whole chunk at least).
    end = strokes.first + strokes.frames
    out = np.empty((2, buffer_frames(end)), dtype=np.float32)
    out[:, : strokes.first] = 0.0
    out[:, strokes.first : end] = stereo.T
    out[:, end:] = 0.0
    return out.T


@shared_cache(maxsize=4)
def graded_click_bank(
    count: int,
    length: int,
    low_hz: float,
    high_hz: float,
    salt: str,
    rolloff_hz: float = 20000.0,
) -> NDArray[np.float32]:
    """Return a cached bank of tiny noise clicks graded from dull to bright.

    Grain ``i`` resonates around a centre that climbs evenly (in octaves) from
    ``low_hz`` to ``high_hz``, so a brightness in [0, 1) picks a grain by
    ``int(brightness * count)``. Every grain has unit energy (a sharp attack, a decay
    of a fifth of its length on average, a wide resonance whose skirt keeps a little of
    the low thump of the touch).

    Parameters
    ----------
    count
        Number of grains.
    length
        Frames per grain (the decay fits inside).
    low_hz, high_hz
        Centres of the dullest and the brightest grain.
    salt
        Name of the bank's fixed random source.
    rolloff_hz
        Corner of a fourth-order low-pass over every grain (the air and the foam
        soften the very top of a click).

    Returns
    -------
    NDArray[np.float32]
        ``(count, length)`` read-only grains of unit energy.

    """
    rng = chunk_rng(0, "graded-clicks:" + salt, 0)
    t = np.arange(length) / SAMPLE_RATE
    f = np.fft.rfftfreq(length * 2, 1.0 / SAMPLE_RATE)
    centres = np.geomspace(low_hz, high_hz, count)
    bank = np.empty((count, length))
    for i, centre in enumerate(centres):
        width = centre * rng.uniform(0.4, 0.8)
        mag = 1.0 / (1.0 + ((f - centre) / width) ** 2) / (1.0 + (f / rolloff_hz) ** 4)
        noise = np.fft.irfft(np.fft.rfft(rng.standard_normal(length * 2)) * mag)
        decay = np.exp(-t / (length / SAMPLE_RATE * rng.uniform(0.15, 0.3)))
        grain = noise[:length] * decay * np.minimum(1.0, np.arange(length) / 2.0)
        grain[-4:] = 0.0
        bank[i] = grain / np.sqrt(np.sum(grain**2))
    out = bank.astype(np.float32)
    out.flags.writeable = False
    return out


def bristle_tips(
    rng: np.random.Generator,
    speed: NDArray[np.float32],
    rate: NDArray[np.float32],
    level: NDArray[np.float32],
    bank: NDArray[np.float32],
    frames: int,
    *,
    brightness: float,
    spread: float,
) -> NDArray[np.float32]:
    """Return the dense crackle of bristle tips (or strands) catching and springing free.

    Each tip is a click of a ``graded_click_bank``; tips come as a Poisson stream whose
    rate follows ``rate``, their brightness follows the stroke's speed (times
    ``brightness``, with some scatter) and their levels spread log-normally (capped)
    under ``level``.

    Parameters
    ----------
    rng
        Generator for the tips.
    speed
        Control curve (one point per ``STROKE_HOP`` frames), in [0, 1].
    rate
        Control curve (one point per ``STROKE_HOP`` frames): tips per second.
    level
        Control curve: the tips' level (linear).
    bank
        ``(g, length)`` grains from dull to bright (``graded_click_bank``).
    frames
        Length of the result.
    brightness
        How bright a tip is at full speed (1 = the brightest grain).
    spread
        Spread of the tips' levels (natural-log units).

    Returns
    -------
    NDArray[np.float32]
        ``(frames,)`` mono crackle.

    """
    hits = impact_frames(rng, rate, 1.0)
    hits = hits[hits < frames]
    at = hits // STROKE_HOP
    bright = np.clip(
        speed[at] * brightness + rng.normal(0.0, 0.2, hits.size), 0.0, 0.999
    )
    grains = (bright * bank.shape[0]).astype(np.int64)
    size = np.minimum(rng.lognormal(0.0, spread, hits.size), 5.0).astype(np.float32)
    return scatter(frames, bank, grains, hits, level[at] * size)


# The stroke family's recipe: every number a stroke trigger sets, by what it models.


@dataclass(frozen=True, kw_only=True, slots=True)
class Style:
    """One way of stroking: how many strokes a bout holds and how long each lasts."""

    share: float = 1.0
    """Share of the bouts played in this style."""

    strokes: Count
    """Strokes in one bout."""

    stroke_s: Range
    """Typical length of a bout's strokes, in seconds (drawn once per bout)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Bouts:
    """The choreography of a stroke trigger: bouts of strokes with pauses between."""

    segment_s: int
    """Length of the timeline segments, in seconds (whole chunks); each segment's
    strokes are drawn from its own generator, so any chunk finds its strokes alone."""

    per_segment: int
    """Bouts drawn per segment (more than fit: the ones running past its end are cut)."""

    styles: tuple[Style, ...]
    """The ways of stroking the bouts are dealt from."""

    stroke_jitter: Range
    """Each stroke's length relative to its bout's typical length."""

    gap_s: Range
    """Time from the end of one stroke to the start of the next within a bout, in
    seconds (negative: the next begins as the last one turns)."""

    pause_s: Range
    """Extra time between bouts, in seconds: the hand lifts and settles again."""

    speed: Range
    """Peak speed of a stroke, in [0, 1] (1 = the fastest stroke of the trigger)."""

    spot_deg: float
    """Spread (standard deviation) of the bouts' spots around the layer's path, in
    degrees."""

    travel_deg: float
    """How far a stroke travels across its spot while it plays, in degrees."""

    tone: Range = Range(low=0.0, high=0.0)
    """Brightness offset of a bout (share of the fast band; default none)."""

    tail_s: float = 0.05
    """Margin a stroke must end by before the next segment, in seconds."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StickSlip:
    """The stick-slip flutter of the tip on the surface (``stick_slip``)."""

    catches_per_s: float
    """Catches per second at full speed."""

    depth: float
    """Spread of the catches' strength (natural-log units)."""

    limit: float = 2.5
    """Softest catch, in standard deviations of the flutter (soft bound): how nearly a
    stuck tip falls silent."""

    ceiling: float | None = None
    """Hardest slip, in standard deviations of the flutter (soft bound; default
    ``limit``): sets the peaks."""

    steady: float = 0.5
    """Share of the catch rate that does not follow the speed (a slow tip still
    catches)."""

    even_above_speed: float | None = None
    """Stroke speed above which the catches are scaled to a steady strength over the
    chunk (the hand keeps an even pressure on average, so a few hard slips do not set
    the loudness of a whole stretch), or none."""

    def flutter(
        self, rng: np.random.Generator, speed: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        """Return the catches' gains over a speed curve (``stick_slip``)."""
        catches = stick_slip(
            rng,
            speed,
            self.catches_per_s,
            self.depth,
            limit=self.limit,
            ceiling=self.ceiling,
            steady=self.steady,
        )
        if self.even_above_speed is not None:
            moving = speed > self.even_above_speed
            if moving.any():
                catches /= np.float32(np.sqrt(np.mean(catches[moving] ** 2)))
        return catches


@dataclass(frozen=True, kw_only=True, slots=True)
class Friction:
    """The friction noise of a stroke: a cross-fade from a slow band to a fast one."""

    slow: NoiseBand
    """The noise of a slow, light stroke."""

    fast: NoiseBand
    """The noise of a fast, hard stroke."""

    tables: tuple[str, str]
    """Names of the two bands' fixed random sources (slow, fast)."""

    level: float = 1.0
    """Level of the friction noise (linear, relative to the trigger's gain)."""

    level_power: float
    """How the friction level follows the stroke's speed (level ~ speed ** power)."""

    brightness_floor: float
    """Share of the fast band at rest."""

    brightness_per_speed: float
    """Share of the fast band added at full speed."""

    def brightness(self, speed: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return the share of the fast band that a speed curve asks for (not clipped)."""
        return self.brightness_floor + self.brightness_per_speed * speed

    def texture(
        self,
        rng: np.random.Generator,
        speed: NDArray[np.float32],
        catches: NDArray[np.float32],
        gain: np.float32,
        brightness: NDArray[np.float32],
        frames: int,
    ) -> NDArray[np.float32]:
        """Return the friction noise of strokes (``blend`` of the two bands)."""
        return blend(
            rng,
            band_table(self.slow, self.tables[0]),
            band_table(self.fast, self.tables[1]),
            speed**self.level_power * catches * (np.float32(self.level) * gain),
            brightness,
            frames,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Tips:
    """Bristle tips (or strands) catching and springing free: a dense crackle."""

    per_s: float
    """Tips springing free per second at full speed."""

    level: float
    """Level of the tips' clicks (linear, unit-energy grains, relative to the gain)."""

    grains: int = 32
    """Grains of the tips' bank, from dull to bright."""

    grain_ms: float = 2.0
    """Length of a tip's click, in milliseconds (its decay is a fifth of that)."""

    resonance: Band
    """Resonances of the dullest and the brightest click."""

    rolloff_hz: float
    """Corner of the low-pass that softens the top of every click (the air and the
    foam), in Hz."""

    brightness: float
    """How bright the tips get at full speed (1 = the brightest grain)."""

    spread: float
    """Spread of the tips' levels (natural-log units)."""

    bank: str
    """Name of the bank's fixed random source."""

    def crackle(
        self,
        rng: np.random.Generator,
        speed: NDArray[np.float32],
        rate: NDArray[np.float32],
        level: NDArray[np.float32],
        frames: int,
    ) -> NDArray[np.float32]:
        """Return the tips' crackle over a stroke (``bristle_tips``)."""
        bank = graded_click_bank(
            self.grains,
            round(self.grain_ms * SAMPLE_RATE / 1000.0),
            self.resonance.low_hz,
            self.resonance.high_hz,
            self.bank,
            self.rolloff_hz,
        )
        return bristle_tips(
            rng,
            speed,
            rate,
            level,
            bank,
            frames,
            brightness=self.brightness,
            spread=self.spread,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Ridges:
    """A hard tip hitting the ridges of a textured surface: sparse micro-impacts."""

    per_s: Range
    """Ridges hit per second at full speed, drawn per bout (the surface's roughness)."""

    level: float
    """Level of the clicks against the friction noise (linear, peak-1 grains)."""

    grains: int = 32
    """Grains of the clicks' bank."""

    grain_ms: float
    """Length of a click, in milliseconds (its decay fits inside)."""

    resonance: Band
    """Band the clicks' resonances are drawn from."""

    size_log_mean: float
    """Mean of a click's log-normal size (natural-log units)."""

    size_spread: float
    """Spread of the clicks' sizes (natural-log units)."""

    size_cap: float
    """Largest size a click may have (linear): a ridge stops the tip only so hard."""

    bank: str
    """Name of the bank's fixed random source."""

    def clicks(
        self,
        rng: np.random.Generator,
        speed: NDArray[np.float32],
        catches: NDArray[np.float32],
        rate: NDArray[np.float32],
        gain: np.float32,
        frames: int,
    ) -> NDArray[np.float32]:
        """Return the clicks of strokes whose ridge rate (per second) follows ``rate``."""
        hits = impact_frames(rng, rate, 1.0)
        hits = hits[hits < frames]
        bank = click_bank(
            self.grains,
            round(self.grain_ms * SAMPLE_RATE / 1000.0),
            self.resonance.low_hz,
            self.resonance.high_hz,
            self.bank,
        )
        sizes = (speed * catches)[hits // STROKE_HOP] * rng.lognormal(
            self.size_log_mean, self.size_spread, hits.size
        ).astype(np.float32)
        return scatter(
            frames,
            bank,
            rng.integers(0, bank.shape[0], hits.size),
            hits,
            np.minimum(sizes, np.float32(self.size_cap))
            * (np.float32(self.level) * gain),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class StrokeRecipe:
    """What every stroke trigger sets: its choreography, its gesture, its friction.

    The parts only some tools have (``Tips`` of bristles or strands, ``Ridges`` under a
    nail) sit beside the recipe in the trigger's module.
    """

    gain: float
    """Output gain that brings the trigger to its working level (about -20 LUFS)."""

    bouts: Bouts
    """How the strokes come: bouts, pauses, speeds, spots."""

    skew: float = 0.3
    """How far a stroke's speed peak may sit off centre (0 = symmetric bells)."""

    wobble: float = 0.15
    """Depth of the hand's speed fluctuation within a stroke."""

    bias: float = 0.0
    """Shift of the speed peaks (negative: a quick start and a long glide)."""

    catches: StickSlip
    """The stick-slip flutter of the tip."""

    friction: Friction
    """The friction noise of the tip on the surface."""

    limit: SoftLimit = SoftLimit(knee=0.3, ceiling=0.55)
    """The soft limit that bends the rare hardest slips."""

    def speed(
        self,
        rng: np.random.Generator,
        strokes: ChunkStrokes,
        peaks: NDArray[np.float64],
    ) -> NDArray[np.float32]:
        """Return the speed curve of a chunk's strokes (``stroke_controls``)."""
        return stroke_controls(
            rng,
            strokes.offsets,
            strokes.lengths,
            peaks,
            strokes.frames,
            skew=self.skew,
            wobble=self.wobble,
            bias=self.bias,
        )

    def chunk(
        self,
        request: ChunkRequest,
        start: NDArray[np.float64],
        dur: NDArray[np.float64],
        peaks: NDArray[np.float64],
        *,
        salt: str,
    ) -> StrokeChunk | None:
        """Return the strokes of a timeline that start in the request's chunk, in motion.

        ``start``, ``dur`` and ``peaks`` give every stroke of the timeline its start and
        length (seconds) and its peak speed. The chunk's generator (salted ``salt``)
        draws the speed curve, then the catches, then whatever the trigger adds. None
        when no stroke starts in the chunk.
        """
        strokes = strokes_in_chunk(start, dur, request.start_s)
        if strokes is None:
            return None
        rng = chunk_rng(request.seed, salt, request.index)
        speed = self.speed(rng, strokes, peaks[strokes.mine])
        return StrokeChunk(strokes, rng, speed, self.catches.flutter(rng, speed), salt)

    def place(
        self,
        mono: NDArray[np.float32],
        chunk: StrokeChunk,
        request: ChunkRequest,
        *,
        spot: NDArray[np.float64],
        drift: NDArray[np.float64],
    ) -> NDArray[np.float32]:
        """Return the chunk buffer of a stroke mix: soft-limited, placed around the head.

        Each of the chunk's strokes sits ``spot`` degrees off the layer's path and
        slides ``drift`` degrees while it plays.
        """
        soft_limit(mono, knee=self.limit.knee, ceiling=self.limit.ceiling)
        return place_strokes(
            mono, chunk.strokes, request, spot=spot, drift=drift, salt=chunk.salt
        )


@dataclass(frozen=True, slots=True)
class StrokeChunk:
    """A chunk's strokes in motion: where they lie, the tip's speed and its catches."""

    strokes: ChunkStrokes
    """Where the strokes lie in the chunk."""

    rng: np.random.Generator
    """The chunk's generator, already drawn for the speed and the catches."""

    speed: NDArray[np.float32]
    """Speed of the tip at every ``STROKE_HOP`` control point (0 between strokes)."""

    catches: NDArray[np.float32]
    """Stick-slip flutter of the tip's friction at the same points."""

    salt: str
    """The trigger's salt, for the chunk's generator and the placement's wander."""

    @property
    def mine(self) -> NDArray[np.bool_]:
        """Select the chunk's strokes from the timeline's."""
        return self.strokes.mine

    @property
    def frames(self) -> int:
        """Frames the strokes' sound fills."""
        return self.strokes.frames

    def each(self, values: NDArray[np.float64]) -> NDArray[np.float64]:
        """Return a value per timeline stroke, held over each of the chunk's strokes."""
        s = self.strokes
        return hold(values[s.mine], s.offsets, s.lengths, self.speed.size, STROKE_HOP)


def band_table(band: NoiseBand, salt: str) -> NDArray[np.float32]:
    """Return the cached noise table of a noise band (``noise_table``)."""
    return noise_table(
        band.band.low_hz,
        band.band.high_hz,
        band.tilt_db_per_octave,
        salt,
        band.order,
    )
