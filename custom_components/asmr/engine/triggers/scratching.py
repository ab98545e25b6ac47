"""Scratching: fingernails dragged over a textured surface, close to the ears.

The gesture model (``engine/gestures.py``, shared with brushing and hair brushing): a stroke has a bell-shaped
speed curve; speed drives the level and the spectral centroid of a surface-noise texture
(a cross-fade between a dark and a bright noise band) and the rate of granular
micro-impacts (the nail catching on the texture's ridges). Strokes come in bouts of quick
back-and-forth scratches separated by short pauses; each bout has its own roughness,
brightness and spot around the head, and the whole sound follows the layer's motion.

Stroke timelines are drawn per segment of ``SEGMENT_S`` seconds from the segment's own
generator, so any chunk finds its strokes without rendering the past.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, ChunkRequest, Trigger, chunk_rng
from ..gestures import (
    CONTROL_HOP,
    blend,
    click_bank,
    hold,
    impact_frames,
    noise_table,
    place_strokes,
    scatter,
    stroke_controls,
    strokes_in_chunk,
)

SEGMENT_S = 6
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.225
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, roughness, spot, tone."""
    rng = chunk_rng(seed, "scratching/segment", segment)
    bouts = 12
    counts = rng.integers(3, 10, bouts)
    base = rng.uniform(0.12, 0.34, bouts)
    pause = rng.uniform(0.12, 0.7, bouts)
    rough = rng.uniform(250.0, 900.0, bouts)
    spot = rng.normal(0.0, 14.0, bouts)
    tone = rng.uniform(-0.15, 0.15, bouts)
    strokes = int(counts.sum())
    bout_of = np.repeat(np.arange(bouts), counts)
    dur = base[bout_of] * rng.uniform(0.8, 1.25, strokes)
    gap = rng.uniform(0.01, 0.05, strokes)
    gap[np.cumsum(counts) - 1] += pause
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + gap)[:-1]])
    speed = rng.uniform(0.55, 1.0, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + 0.05 < SEGMENT_S * (segment + 1)
    return (
        start[keep],
        dur[keep],
        speed[keep],
        rough[bout_of][keep],
        spot[bout_of][keep],
        tone[bout_of][keep],
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the scratch strokes that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(BUFFER_FRAMES, 2)`` stereo strokes placed around the head.

    """
    t0 = request.start_s
    start, dur, speed, rough, spot, tone = _timeline(
        request.seed, request.index // SEGMENT_S
    )
    strokes = strokes_in_chunk(start, dur, t0)
    if strokes is None:
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    rng = chunk_rng(request.seed, "scratching", request.index)
    mine, offsets, lengths, frames = (
        strokes.mine,
        strokes.offsets,
        strokes.lengths,
        strokes.frames,
    )
    v = stroke_controls(rng, offsets, lengths, speed[mine], frames)
    points = v.size
    brightness = np.clip(
        0.2 + 0.75 * v + hold(tone[mine], offsets, lengths, points, CONTROL_HOP),
        0.0,
        1.0,
    ).astype(np.float32)
    gain = np.float32(GAIN)
    mono = blend(
        rng,
        noise_table(400.0, 3200.0, -1.5, "scratch-dark"),
        noise_table(1500.0, 7000.0, 0.0, "scratch-bright"),
        v**0.8 * (0.6 * gain),
        brightness,
        frames,
    )
    rate = v * hold(rough[mine], offsets, lengths, points, CONTROL_HOP).astype(
        np.float32
    )
    hits = impact_frames(rng, rate, 1.0)
    hits = hits[hits < frames]
    bank = click_bank(32, 64, 1500.0, 6000.0, "scratch")
    gains = v[hits // CONTROL_HOP] * rng.lognormal(-0.3, 0.45, hits.size).astype(
        np.float32
    )
    ids = rng.integers(0, bank.shape[0], hits.size)
    mono += scatter(
        frames,
        bank,
        ids,
        hits,
        np.minimum(gains, np.float32(1.5)) * (np.float32(0.3) * gain),
    )
    sweep = np.where(np.arange(offsets.size) % 2 == 0, 6.0, -6.0)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=sweep, salt="scratching"
    )


TRIGGER = Trigger(
    id="scratching", name="Scratching", close=True, render_chunk=render_chunk
)
