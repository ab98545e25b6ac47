"""Soft brushing: a soft brush swept over a microphone or fabric, around the head.

The scratching gesture model, slower and softer: back-and-forth strokes of 0.4-1.9 s
whose speed drives the level and a gentle brightening of a wide, low-weighted noise
texture. The bristles stick and slip on the fabric: the level of each stroke flutters
unevenly (``stick_slip``), and faint bristle flicks ride on the harder catches. Strokes
come in runs, each in its own style (long sweeps, steady strokes or a flurry of short
ones); within a run the brush turns without lifting, so the sound dips rather than stops,
and between runs it lifts into silence. Each run sits at its own spot and every stroke
travels across it, so the sound sweeps between the ears.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, ChunkRequest, Trigger, chunk_rng
from ..events import soft_limit
from ..gestures import (
    CONTROL_HOP,
    blend,
    click_bank,
    hold,
    impact_frames,
    noise_table,
    place_strokes,
    scatter,
    stick_slip,
    stroke_controls,
    strokes_in_chunk,
)

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.155
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

CATCH_HZ = 15.0
"""Bristle catches per second at full speed (bristles bending, snagging, springing free)."""

CATCH_DEPTH = 1.2
"""Spread of the catches' strength (natural-log units)."""

FLICK_HZ = 70.0
"""Bristle flicks per second at full speed."""

FLICK_LEVEL = 1.0
"""Level of the bristle flicks."""

STYLES = (0.3, 0.55, 0.15)
"""Shares of the run styles: long sweeps, steady strokes, a flurry of short flicks."""

SOFT = (60.0, 1400.0, -2.0)
"""Band (Hz) and tilt (dB per octave) of the bristles' noise on a slow stroke."""

AIRY = (250.0, 5000.0, -1.0)
"""Band (Hz) and tilt (dB per octave) of the bristles' noise on a fast stroke."""

LEVEL_POWER = 0.9
"""How the friction level follows the stroke's speed."""

KNEE = 0.3
"""Level above which the rare hardest slips are bent softly (linear)."""

CEILING = 0.55
"""Level the bent slips never reach (linear)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, spot, tone."""
    rng = chunk_rng(seed, "brushing/segment", segment)
    runs = 12
    # Each run has a style: long sweeps, steady strokes, or a flurry of short flicks.
    style = rng.choice(3, runs, p=STYLES)
    counts = np.choose(
        style,
        [rng.integers(2, 4, runs), rng.integers(3, 7, runs), rng.integers(4, 9, runs)],
    )
    base = np.choose(
        style,
        [
            rng.uniform(1.3, 1.9, runs),
            rng.uniform(0.6, 1.1, runs),
            rng.uniform(0.4, 0.55, runs),
        ],
    )
    pause = rng.uniform(0.25, 0.9, runs)
    spot = rng.normal(0.0, 20.0, runs)
    tone = rng.uniform(-0.1, 0.1, runs)
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = np.minimum(base[run_of] * rng.uniform(0.8, 1.2, strokes), 1.9)
    # Back and forth without lifting: the next stroke starts as the last one turns.
    gap = rng.uniform(-0.06, 0.05, strokes) * np.minimum(dur, 1.0)
    gap[np.cumsum(counts) - 1] += pause
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + gap)[:-1]])
    speed = rng.uniform(0.6, 1.0, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + 0.05 < SEGMENT_S * (segment + 1)
    return start[keep], dur[keep], speed[keep], spot[run_of][keep], tone[run_of][keep]


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the brush strokes that start in one chunk.

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
    start, dur, speed, spot, tone = _timeline(request.seed, request.index // SEGMENT_S)
    strokes = strokes_in_chunk(start, dur, t0)
    if strokes is None:
        return np.zeros((BUFFER_FRAMES, 2), dtype=np.float32)
    rng = chunk_rng(request.seed, "brushing", request.index)
    mine, offsets, lengths, frames = (
        strokes.mine,
        strokes.offsets,
        strokes.lengths,
        strokes.frames,
    )
    v = stroke_controls(
        rng, offsets, lengths, speed[mine], frames, skew=0.4, wobble=0.1
    )
    tilt = hold(tone[mine], offsets, lengths, v.size, CONTROL_HOP).astype(np.float32)
    gain = np.float32(GAIN)
    catches = stick_slip(rng, v, CATCH_HZ, CATCH_DEPTH, limit=1.5)
    mono = blend(
        rng,
        noise_table(SOFT[0], SOFT[1], SOFT[2], "brush-soft", 2),
        noise_table(AIRY[0], AIRY[1], AIRY[2], "brush-airy", 2),
        v**LEVEL_POWER * catches * gain,
        np.clip(0.15 + 0.55 * v + tilt, 0.0, 1.0),
        frames,
    )
    hits = impact_frames(rng, v, FLICK_HZ)
    hits = hits[hits < frames]
    bank = click_bank(24, 192, 1500.0, 5000.0, "bristle")
    gains = (v * catches)[hits // CONTROL_HOP] * rng.uniform(
        0.1, 0.35, hits.size
    ).astype(np.float32)
    mono += scatter(
        frames,
        bank,
        rng.integers(0, bank.shape[0], hits.size),
        hits,
        gains * (FLICK_LEVEL * gain),
    )
    sweep = np.where(np.arange(offsets.size) % 2 == 0, 25.0, -25.0)
    soft_limit(mono, knee=KNEE, ceiling=CEILING)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=sweep, salt="brushing"
    )


TRIGGER = Trigger(
    id="brushing", name="Soft brushing", close=True, render_chunk=render_chunk
)
