"""Hair brushing: a brush drawn through hair from the crown down, close to one ear.

Each stroke is the scratching gesture model with a quick start and a long glide: the
bristles snag strands at a rate that follows the stroke's speed (a dense granular spray
of tiny clicks, some louder snags), over a soft swish whose brightness rises with
speed. The brush lifts between strokes; runs of strokes move from side to side and each
stroke slides a little past the ear.
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

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.26
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, density, spot."""
    rng = chunk_rng(seed, "hair_brushing/segment", segment)
    runs = 8
    counts = rng.integers(3, 8, runs)
    base = rng.uniform(0.65, 1.1, runs)
    spot = rng.normal(0.0, 22.0, runs)
    thick = rng.uniform(1800.0, 3000.0, runs)
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = base[run_of] * rng.uniform(0.8, 1.25, strokes)
    lift = rng.uniform(0.2, 0.45, strokes)
    lift[np.cumsum(counts) - 1] += rng.uniform(0.2, 0.7, runs)
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + lift)[:-1]])
    speed = rng.uniform(0.8, 1.0, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + 0.05 < SEGMENT_S * (segment + 1)
    return start[keep], dur[keep], speed[keep], thick[run_of][keep], spot[run_of][keep]


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the hair-brush strokes that start in one chunk.

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
    start, dur, speed, thick, spot = _timeline(request.seed, request.index // SEGMENT_S)
    strokes = strokes_in_chunk(start, dur, t0)
    if strokes is None:
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    rng = chunk_rng(request.seed, "hair_brushing", request.index)
    mine, offsets, lengths, frames = (
        strokes.mine,
        strokes.offsets,
        strokes.lengths,
        strokes.frames,
    )
    v = stroke_controls(
        rng, offsets, lengths, speed[mine], frames, skew=0.3, wobble=0.15, bias=-0.6
    )
    gain = np.float32(GAIN)
    mono = blend(
        rng,
        noise_table(500.0, 3500.0, -1.0, "hair-dull"),
        noise_table(2000.0, 9000.0, 0.0, "hair-swish"),
        v**1.2 * (0.45 * gain),
        np.clip(0.1 + 0.8 * v, 0.0, 1.0),
        frames,
    )
    rate = v * hold(thick[mine], offsets, lengths, v.size, CONTROL_HOP).astype(
        np.float32
    )
    hits = impact_frames(rng, rate, 1.0)
    hits = hits[hits < frames]
    bank = click_bank(48, 32, 2500.0, 9000.0, "hair")
    snag = np.minimum(rng.lognormal(-0.2, 0.5, hits.size), 2.0).astype(np.float32)
    gains = (v[hits // CONTROL_HOP] + np.float32(0.15)) * snag
    mono += scatter(
        frames, bank, rng.integers(0, 48, hits.size), hits, gains * (0.2 * gain)
    )
    slide = rng.uniform(-14.0, 14.0, offsets.size)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=slide, salt="hair_brushing"
    )


TRIGGER = Trigger(
    id="hair_brushing", name="Hair brushing", close=True, render_chunk=render_chunk
)
