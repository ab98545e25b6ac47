"""Binaural-aware placement of close sounds around the listener's head.

A source at azimuth ``az`` (degrees: -90 left ear, 0 ahead, +90 right ear; angles behind
the head fold onto the same lateral angle) reaches the far ear later and duller:

- interaural time difference from Woodworth's spherical head,
  ``ITD = r / c * (theta + sin(theta))``, at most about 0.66 ms (32 frames at 48 kHz);
- interaural level difference that grows with frequency: the near ear gains up to
  ``NEAR_GAIN_DB``, the far ear loses ``FAR_GAIN_DB`` broadband and up to
  ``SHADOW_DB`` more above about 2 kHz (a zero-phase lowpass stands in for the head).
  The near-ear gain keeps the power summed over both ears within about half a dB of
  its value straight ahead, so a sound moving around the head keeps its loudness.

Motion (``azimuth_at``) is a pure function of absolute time, so a moving source is
continuous across chunks and any chunk can be rendered alone. Short sounds are placed
with ``place`` (one) or ``place_events`` (many, each at its own azimuth); long sounds
that move while they play with ``place_moving`` / ``place_moving_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .base import SAMPLE_RATE, Placement, chunk_rng
from .cache import shared_cache

HEAD_RADIUS_M = 0.0875
"""Radius of the spherical head model, in metres."""

SPEED_OF_SOUND_M_S = 343.0
"""Speed of sound, in metres per second."""

MAX_ITD_FRAMES = 32
"""Largest interaural delay produced, in frames (0.66 ms at 48 kHz, rounded up)."""

NEAR_GAIN_DB = 2.5
"""Gain of the near ear at 90 degrees, in dB."""

FAR_GAIN_DB = -3.5
"""Broadband gain of the far ear at 90 degrees, in dB."""

SHADOW_DB = -7.0
"""Extra high-frequency loss of the far ear at 90 degrees, in dB."""

PLACEMENT_HOP = 256
"""Frames between control points of a moving placement (5.3 ms at 48 kHz): a moving
source's gains and delay step this often, far below what an ear follows."""

_SHADOW_HALF = 7  # group delay of the 15-tap triangular head-shadow lowpass, in frames
_SHADOW_MIX = 1.0 - 10.0 ** (SHADOW_DB / 20.0)
_GAIN_DB = np.array([NEAR_GAIN_DB, FAR_GAIN_DB])
_LEFT = np.array([1.0, 0.0])
_RIGHT = np.array([0.0, 1.0])
_LATE_WHEN_RIGHT = np.array([1, -1])  # a source on the right reaches the left ear late


def azimuth_at(
    placement: Placement, seed: int, t_s: ArrayLike, *, salt: str = ""
) -> NDArray[np.float64]:
    """Return the azimuth of a placed source at absolute times.

    The source wanders ``placement.sweep`` degrees either side of ``placement.azimuth``
    along a smooth, phase-modulated sinusoid whose period is within 15 % of
    ``placement.period_s``; every cycle reaches both extremes. The motion depends only on
    ``(placement, seed, salt)`` and the absolute time, never on chunking.

    Parameters
    ----------
    placement
        Centre, sweep and period of the motion.
    seed
        The render's seed.
    t_s
        Times in seconds from the render start, any shape.
    salt
        Separates the motions of layers that share a seed (e.g. the trigger id).

    Returns
    -------
    NDArray[np.float64]
        Azimuths in degrees, same shape as ``t_s``.

    """
    t = np.asarray(t_s, dtype=np.float64)
    if placement.sweep == 0.0 or placement.period_s <= 0.0:
        return np.full(t.shape, float(placement.azimuth))
    period, phase0, mod_period, phase1, depth = _motion(seed, salt, placement.period_s)
    phase = (
        2.0 * math.pi / period * t
        + phase0
        + depth * np.sin(2.0 * math.pi / mod_period * t + phase1)
    )
    return float(placement.azimuth) + float(placement.sweep) * np.sin(phase)


@shared_cache(maxsize=64)
def _motion(
    seed: int, salt: str, period_s: float
) -> tuple[float, float, float, float, float]:
    """Return a motion's period, phase, modulation period, modulation phase and depth."""
    rng = chunk_rng(seed, "spatial:" + salt, 0)
    period = period_s * rng.uniform(0.85, 1.15)
    phase0, phase1 = rng.uniform(0.0, 2.0 * math.pi, 2)
    mod_period = period * rng.uniform(2.3, 3.1)
    depth = rng.uniform(0.5, 0.9)
    return float(period), float(phase0), float(mod_period), float(phase1), float(depth)


def itd_frames(azimuth_deg: ArrayLike) -> NDArray[np.float64]:
    """Return the interaural time difference of azimuths, in frames.

    Parameters
    ----------
    azimuth_deg
        Azimuths in degrees, any shape.

    Returns
    -------
    NDArray[np.float64]
        Signed delays, same shape: positive when the source is on the right (the left
        ear hears it later), within ``[-MAX_ITD_FRAMES, MAX_ITD_FRAMES]``.

    """
    return _itd_of_side(np.sin(np.radians(np.asarray(azimuth_deg, dtype=np.float64))))


def _itd_of_side(side: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return ``itd_frames`` of azimuths given as the sines of their angles."""
    lateral = np.arcsin(side)
    seconds = HEAD_RADIUS_M / SPEED_OF_SOUND_M_S * (lateral + np.sin(lateral))
    return np.asarray(seconds * SAMPLE_RATE, dtype=np.float64)


def ear_weights(
    azimuth_deg: ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Return per-ear mixing weights and delays of azimuths.

    Each ear hears ``direct * x + shadow * head_shadow(x)``, delayed by ``delay`` frames.

    Parameters
    ----------
    azimuth_deg
        Azimuths in degrees, shape ``(m,)`` (or a scalar, treated as ``(1,)``).

    Returns
    -------
    tuple
        ``direct`` and ``shadow`` of shape ``(m, 2)`` float64 (left, right), and
        ``delay`` of shape ``(m, 2)`` int64 frames (the near ear is never delayed).

    """
    az = np.atleast_1d(np.asarray(azimuth_deg, dtype=np.float64))
    side = np.sin(np.radians(az))  # -1 left .. +1 right
    amount = np.abs(side)
    # Per azimuth, (near ear, far ear): their broadband gains; part of the far ear's
    # sound reaches it shadowed.
    by_role = 10.0 ** (np.multiply.outer(amount, _GAIN_DB) / 20.0)
    mix = _SHADOW_MIX * amount
    far_shadow = by_role[:, 1] * mix
    by_role[:, 1] *= 1.0 - mix
    # Columns (left, right): the near ear is the right one when the source is right.
    right_near = (side >= 0.0)[:, None]
    direct = np.where(right_near, by_role[:, ::-1], by_role)
    # Only the far ear (the left one for a source on the right) hears a shadowed part.
    shadow = far_shadow[:, None] * np.where(right_near, _LEFT, _RIGHT)
    itd = np.rint(_itd_of_side(side)).astype(np.int64)
    delay = np.maximum(itd[:, None] * _LATE_WHEN_RIGHT, 0)
    return direct, shadow, delay


def head_shadow(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """Return the far ear's lowpass of a signal (zero phase, about 2 kHz corner).

    Two cascaded 8-tap boxes (a 15-tap triangle), built from shifted sums and
    re-centred, so the result lines up with ``x``.

    Parameters
    ----------
    x
        Signal, shape ``(n,)`` or ``(n, k)`` along axis 0.

    Returns
    -------
    NDArray[np.float32]
        Lowpassed signal, same shape as ``x``.

    """
    y = np.asarray(x, dtype=np.float32)
    n = y.shape[0]
    pad = np.zeros((_SHADOW_HALF * 2, *y.shape[1:]), dtype=np.float32)
    y = np.concatenate([y, pad])
    z = np.empty_like(y)
    for shift in (1, 2, 4, 1, 2, 4):
        z[:shift] = y[:shift]
        np.add(y[shift:], y[:-shift], out=z[shift:])
        y, z = z, y
    out = y[_SHADOW_HALF : _SHADOW_HALF + n] * np.float32(1.0 / 64.0)
    return np.asarray(out, dtype=np.float32)


def place(grain: NDArray[np.float32], azimuth_deg: float) -> NDArray[np.float32]:
    """Place a short mono sound at a fixed azimuth.

    Parameters
    ----------
    grain
        Mono sound, shape ``(n,)``. Its last ``MAX_ITD_FRAMES + 8`` frames should be
        silent: the delayed (and lowpassed) ear is cut at ``n``.
    azimuth_deg
        Azimuth in degrees.

    Returns
    -------
    NDArray[np.float32]
        Stereo sound, shape ``(n, 2)`` float32.

    """
    x = np.asarray(grain, dtype=np.float32)
    direct, shadow, delay = ear_weights(azimuth_deg)
    low = head_shadow(x) if shadow.any() else x
    out = np.zeros((x.size, 2), dtype=np.float32)
    for ear in range(2):
        d = int(delay[0, ear])
        ear_sig = np.float32(direct[0, ear]) * x + np.float32(shadow[0, ear]) * low
        out[d:, ear] = ear_sig[: x.size - d]
    return out


def place_events(
    n_frames: int,
    grains: Sequence[NDArray[np.float32]],
    starts: NDArray[np.int64],
    gains: NDArray[np.float64],
    azimuth_deg: NDArray[np.float64],
    *,
    shadows: Sequence[NDArray[np.float32]] | None = None,
) -> NDArray[np.float32]:
    """Mix short sounds, each at its own start, level and azimuth.

    Meant for sparse events (taps, keystrokes: tens per second); dense granular
    textures are cheaper mixed in mono and placed with ``place_moving``.

    Parameters
    ----------
    n_frames
        Length of the result in frames.
    grains
        ``e`` mono sounds, shapes ``(length_i,)`` float32 (entries may repeat).
    starts
        ``(e,)`` first frame of each event, non-negative; sounds running past
        ``n_frames`` are cut there.
    gains
        ``(e,)`` linear level of each event.
    azimuth_deg
        ``(e,)`` azimuth of each event in degrees.
    shadows
        ``head_shadow`` of each grain, if the caller keeps them cached (computed here
        otherwise).

    Returns
    -------
    NDArray[np.float32]
        Stereo mix, shape ``(n_frames, 2)`` float32.

    """
    out = np.zeros((n_frames, 2), dtype=np.float32)
    if len(starts) == 0:
        return out
    direct, shadow, delay = ear_weights(azimuth_deg)
    direct *= np.asarray(gains, dtype=np.float64)[:, None]
    shadow *= np.asarray(gains, dtype=np.float64)[:, None]
    for i, grain in enumerate(grains):
        low = None
        for ear in range(2):
            first = int(starts[i] + delay[i, ear])
            size = min(grain.size, n_frames - first)
            if size <= 0:
                continue
            out[first : first + size, ear] += np.float32(direct[i, ear]) * grain[:size]
            if shadow[i, ear]:
                if low is None:
                    low = head_shadow(grain) if shadows is None else shadows[i]
                out[first : first + size, ear] += (
                    np.float32(shadow[i, ear]) * low[:size]
                )
    return out


def place_moving(
    mono: NDArray[np.float32],
    azimuth_deg: NDArray[np.float64],
    *,
    hop: int = PLACEMENT_HOP,
) -> NDArray[np.float32]:
    """Place a long mono sound whose azimuth changes while it plays.

    Gains and the interaural delay are held for ``hop`` frames at a time: with motions
    of a few seconds the steps are far below what an ear can notice (hundredths of a dB,
    a fraction of a degree), and the delay steps by whole frames on the noisy textures
    this is meant for.

    Parameters
    ----------
    mono
        Mono sound, shape ``(n,)``.
    azimuth_deg
        Azimuth in degrees at frames ``0, hop, 2 * hop, ...``; shape ``(m,)`` with
        ``m >= ceil(n / hop)``.
    hop
        Frames between control points.

    Returns
    -------
    NDArray[np.float32]
        Stereo sound, shape ``(n, 2)`` float32 (a view of channel-planar memory).

    """
    x = np.asarray(mono, dtype=np.float32)
    n = x.size
    steps = -(-n // hop)
    direct, shadow, delay = ear_weights(azimuth_deg[:steps])
    padded = np.zeros(MAX_ITD_FRAMES + steps * hop, dtype=np.float32)
    padded[MAX_ITD_FRAMES : MAX_ITD_FRAMES + n] = x
    low = head_shadow(padded)
    blocks = np.arange(steps)
    planar = np.empty((2, steps, hop), dtype=np.float32)
    for ear in range(2):
        first = MAX_ITD_FRAMES - delay[:, ear]
        g_direct = direct[:, ear, None].astype(np.float32)
        np.multiply(
            _delayed_blocks(padded, steps, hop)[blocks, first],
            g_direct,
            out=planar[ear],
        )
        if shadow[:, ear].any():
            g_shadow = shadow[:, ear, None].astype(np.float32)
            planar[ear] += _delayed_blocks(low, steps, hop)[blocks, first] * g_shadow
    return planar.reshape(2, steps * hop)[:, :n].T


def place_moving_at(
    mono: NDArray[np.float32],
    placement: Placement,
    seed: int,
    start_s: float,
    *,
    salt: str = "",
    offset_deg: ArrayLike = 0.0,
    drift_deg: float = 0.0,
) -> NDArray[np.float32]:
    """Place a long mono sound that follows a placement's motion from a start time.

    Parameters
    ----------
    mono
        Mono sound, shape ``(n,)``, starting at absolute time ``start_s``.
    placement
        The layer's placement.
    seed
        The render's seed.
    start_s
        Absolute time of ``mono[0]``, in seconds.
    salt
        Separates layers that share a seed (passed to ``azimuth_at``).
    offset_deg
        Extra azimuth added to the motion (e.g. a per-gesture jitter): a scalar, or one
        value per control point (``control_points(n)`` values, ``PLACEMENT_HOP`` apart).
    drift_deg
        Extra azimuth the sound travels, linearly, from its start to its end (a stroke
        sweeping past the ear).

    Returns
    -------
    NDArray[np.float32]
        Stereo sound, shape ``(n, 2)`` float32.

    """
    steps = control_points(mono.size) - 1
    t = start_s + np.arange(steps + 1) * (PLACEMENT_HOP / SAMPLE_RATE)
    az = azimuth_at(placement, seed, t, salt=salt) + np.asarray(
        offset_deg, dtype=np.float64
    )
    if drift_deg:
        az += np.linspace(-0.5 * drift_deg, 0.5 * drift_deg, steps + 1)
    return place_moving(mono, az)


def control_points(frames: int) -> int:
    """Return how many control points (``PLACEMENT_HOP`` apart) cover ``frames`` frames."""
    return -(-frames // PLACEMENT_HOP) + 1


def _delayed_blocks(
    padded: NDArray[np.float32], steps: int, hop: int
) -> NDArray[np.float32]:
    """Return a view ``v[b, k] = padded[b * hop + k : b * hop + k + hop]``."""
    stride = padded.strides[0]
    view = np.lib.stride_tricks.as_strided(
        padded,
        shape=(steps, MAX_ITD_FRAMES + 1, hop),
        strides=(hop * stride, stride, stride),
        writeable=False,
    )
    return np.asarray(view)
