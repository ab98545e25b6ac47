"""Scratching: fingernails dragged over a textured surface, close to the ears.

The gesture model (``engine/gestures.py``, shared with brushing and hair brushing): a
stroke has a bell-shaped speed curve; speed drives the level and the brightness of the
friction noise of the nail on wood (a cross-fade between a dark and a bright band). The
nail sticks and slips: the friction level jumps from catch to catch (``stick_slip``, a
log-normal flutter about 35 catches a second at full speed, deep enough for a stuck nail
to fall almost silent), with tiny impacts where it hits the grain's ridges. Strokes come
in bouts of quick back-and-forth scratches; the nail turns between strokes and the hand
lifts and settles between bouts, so the rasp stops rather than hisses on. Each bout has
its own roughness, brightness and spot around the head, and the whole sound follows the
layer's motion.

Stroke timelines are drawn per segment of ``SEGMENT_S`` seconds from the segment's own
generator, so any chunk finds its strokes without rendering the past.
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

SEGMENT_S = 6
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.175
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

CATCH_HZ = 35.0
"""Stick-slip catches of the nail per second at full speed."""

CATCH_DEPTH = 2.0
"""Spread of the catches' strength (natural-log units): a grainy, uneven rasp."""

CATCH_LIMIT = 2.5
"""Softest and hardest catch, in standard deviations of the flutter (soft bound)."""

CATCH_BRIGHTNESS = 0.0
"""How much brighter a harder catch sounds (share of the bright band per log unit)."""

DARK = (1000.0, 4000.0, -8.0)
"""Band (Hz) and tilt (dB per octave) of the friction noise of a slow, light stroke."""

BRIGHT = (1100.0, 5500.0, -5.0)
"""Band (Hz) and tilt (dB per octave) of the friction noise of a fast, hard stroke."""

LEVEL_POWER = 0.75
"""How the friction level follows the stroke's speed."""

CATCH_CEILING = 2.5
"""Hardest slip, in standard deviations of the flutter (soft bound): sets the peaks."""

STEADY_SPEED = 0.3
"""Stroke speed above which the catches count towards the chunk's steady strength."""

CLICK_LEVEL = 0.15
"""Level of the nail's micro-impacts against the friction noise."""

KNEE = 0.3
"""Level above which the rare hardest slips are bent softly (linear)."""

CEILING = 0.55
"""Level the bent slips never reach (linear)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, roughness, spot, tone."""
    rng = chunk_rng(seed, "scratching/segment", segment)
    bouts = 8
    counts = rng.integers(12, 31, bouts)
    base = rng.uniform(0.12, 0.18, bouts)
    pause = rng.uniform(0.1, 0.3, bouts)
    rough = rng.uniform(250.0, 900.0, bouts)
    spot = rng.normal(0.0, 14.0, bouts)
    tone = rng.uniform(-0.1, 0.1, bouts)
    strokes = int(counts.sum())
    bout_of = np.repeat(np.arange(bouts), counts)
    dur = base[bout_of] * rng.uniform(0.8, 1.25, strokes)
    # The nail turns between strokes; between bouts the hand lifts and settles again.
    gap = rng.uniform(0.015, 0.045, strokes)
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
    catches = stick_slip(
        rng, v, CATCH_HZ, CATCH_DEPTH, limit=CATCH_LIMIT, ceiling=CATCH_CEILING
    )
    # The hand keeps an even pressure on average: the catches are scaled to a steady
    # strength over the chunk's strokes, so a few hard slips do not set the loudness of
    # a whole stretch (the grain within it stays as uneven as it was).
    moving = v > STEADY_SPEED
    if moving.any():
        catches /= np.float32(np.sqrt(np.mean(catches[moving] ** 2)))
    # A faster stroke and a harder slip both give a sharper, brighter burst.
    brightness = np.clip(
        0.2
        + 0.75 * v
        + CATCH_BRIGHTNESS * np.log(catches)
        + hold(tone[mine], offsets, lengths, points, CONTROL_HOP),
        0.0,
        1.0,
    ).astype(np.float32)
    gain = np.float32(GAIN)
    mono = blend(
        rng,
        noise_table(DARK[0], DARK[1], DARK[2], "scratch-dark", 4),
        noise_table(BRIGHT[0], BRIGHT[1], BRIGHT[2], "scratch-bright", 4),
        v**LEVEL_POWER * catches * gain,
        brightness,
        frames,
    )
    rate = v * hold(rough[mine], offsets, lengths, points, CONTROL_HOP).astype(
        np.float32
    )
    hits = impact_frames(rng, rate, 1.0)
    hits = hits[hits < frames]
    bank = click_bank(32, 64, 1500.0, 6000.0, "scratch")
    gains = (v * catches)[hits // CONTROL_HOP] * rng.lognormal(
        -0.3, 0.45, hits.size
    ).astype(np.float32)
    mono += scatter(
        frames,
        bank,
        rng.integers(0, bank.shape[0], hits.size),
        hits,
        np.minimum(gains, np.float32(3.0)) * (np.float32(CLICK_LEVEL) * gain),
    )
    sweep = np.where(np.arange(offsets.size) % 2 == 0, 6.0, -6.0)
    soft_limit(mono, knee=KNEE, ceiling=CEILING)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=sweep, salt="scratching"
    )


TRIGGER = Trigger(
    id="scratching", name="Scratching", close=True, render_chunk=render_chunk
)
