"""Soft brushing: a soft brush flicked and swept over a microphone's foam, around the head.

Thousands of bristle tips catch on the foam (or fabric) and spring free as the brush
moves: a dense, soft, crackly fizz of tiny clicks whose rate and brightness follow the
stroke's speed (``bristle_tips``), over a quiet swish of the bristles' friction that
flutters as they stick and slip (``stick_slip``), and a faint low rumble of the brush
pressing the foam close to the capsule. Strokes come in runs, each in its own style:
quick flicks back and forth (0.2-0.45 s), sweeps of about a second, or circular dabbing
of short touches; within a run the brush turns without lifting, so the sound dips rather
than stops, and between runs it lifts into silence. Each run sits at its own spot and
every stroke travels across it, so the sound sweeps between the ears.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng, silent_chunk
from ..cache import SEGMENTS_KEPT, shared_cache
from ..gestures import (
    STROKE_HOP,
    Bouts,
    Friction,
    StickSlip,
    StrokeRecipe,
    Style,
    Tips,
    band_table,
    read_table,
)
from ..recipe import Band, Count, NoiseBand, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class Press:
    """The foam giving under the brush: a faint low rumble that follows the pressure."""

    stretch: int
    """How much slower than the bristles' noise the rumble is read (its band moves down
    by that factor)."""

    level: float
    """Level of the rumble (linear, relative to the trigger's gain)."""

    smooth_ms: float
    """Time the pressure is smoothed over, in milliseconds: the foam gives slowly."""


TIPS = Tips(
    # Thousands of bristle tips catch on the foam and spring free.
    per_s=1500.0,
    level=4.0,
    grain_ms=2.0,
    resonance=Band(low_hz=1500.0, high_hz=10000.0),
    # The foam and the air soften the very top of every click.
    rolloff_hz=6000.0,
    brightness=1.2,
    spread=0.9,
    bank="brush",
)
"""The strands snapping free of the bristles."""

RECIPE = StrokeRecipe(
    # Calibrated so that the trigger plays at about -20 LUFS before the table's gain.
    gain=0.115,
    bouts=Bouts(
        segment_s=8,
        per_segment=14,
        styles=(
            # Quick flicks back and forth, the commonest ASMR brush stroke.
            Style(
                share=0.6,
                strokes=Count(low=4, high=10),
                stroke_s=Range(low=0.2, high=0.45),
            ),
            # Sweeps of about a second across the foam.
            Style(
                share=0.2,
                strokes=Count(low=2, high=4),
                stroke_s=Range(low=0.6, high=1.1),
            ),
            # Circular dabbing: short touches in a row.
            Style(
                share=0.2,
                strokes=Count(low=5, high=11),
                stroke_s=Range(low=0.18, high=0.3),
            ),
        ),
        stroke_jitter=Range(low=0.8, high=1.2),
        # Back and forth without lifting: the next stroke starts as the last one turns
        # (the gap of a stroke of a second or more; a shorter stroke turns quicker).
        gap_s=Range(low=-0.05, high=0.08),
        # Between runs the brush lifts into silence.
        pause_s=Range(low=0.3, high=0.9),
        speed=Range(low=0.6, high=1.0),
        # Each run sits at its own spot around the head.
        spot_deg=20.0,
        # Every stroke travels across its spot: the sound sweeps between the ears.
        travel_deg=50.0,
        # Some runs press the bristles flatter (duller) or lighter (airier).
        tone=Range(low=-0.1, high=0.1),
    ),
    # A flick starts and ends at rest; its peak wanders more than a nail's.
    skew=0.4,
    wobble=0.1,
    catches=StickSlip(
        # The brush bending, snagging and springing free.
        catches_per_s=15.0,
        # Soft bristles: the catches vary less than a nail's.
        depth=0.6,
        limit=1.5,
    ),
    friction=Friction(
        # A slow stroke: a soft, dark swish of the bristles.
        slow=NoiseBand(
            band=Band(low_hz=150.0, high_hz=2000.0), tilt_db_per_octave=-2.0
        ),
        # A fast stroke: an airy swish up to 5 kHz.
        fast=NoiseBand(
            band=Band(low_hz=250.0, high_hz=5000.0), tilt_db_per_octave=-1.0
        ),
        tables=("brush-soft", "brush-airy"),
        # The swish sits under the tips' crackle.
        level=0.4,
        level_power=0.9,
        brightness_floor=0.15,
        brightness_per_speed=0.55,
    ),
)
"""Soft brushing: a soft brush on a microphone's foam."""

PRESS = Press(
    # The bristles' noise read ten times slower: 150-2000 Hz becomes 15-200 Hz.
    stretch=10,
    level=0.3,
    # 40 control points (53 ms).
    smooth_ms=53.3,
)
"""The foam giving under the brush, close to the capsule."""

SEGMENT_S = RECIPE.bouts.segment_s
"""Length of the timeline segments, in seconds (whole chunks)."""

Timeline = tuple[NDArray[np.float64], ...]


@shared_cache(maxsize=SEGMENTS_KEPT)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, spot, tone."""
    rng = chunk_rng(seed, "brushing/segment", segment)
    plan = RECIPE.bouts
    runs = plan.per_segment
    # Each run has a style: quick flicks, sweeps, or circular dabbing.
    style = rng.choice(len(plan.styles), runs, p=[s.share for s in plan.styles])
    counts = np.choose(style, [s.strokes.draw(rng, runs) for s in plan.styles])
    base = np.choose(style, [s.stroke_s.draw(rng, runs) for s in plan.styles])
    pause = plan.pause_s.draw(rng, runs)
    spot = rng.normal(0.0, plan.spot_deg, runs)
    tone = plan.tone.draw(rng, runs)
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = base[run_of] * plan.stroke_jitter.draw(rng, strokes)
    # Back and forth without lifting: the next stroke starts as the last one turns.
    gap = plan.gap_s.draw(rng, strokes) * np.minimum(dur, 1.0)
    gap[np.cumsum(counts) - 1] += pause
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + gap)[:-1]])
    speed = plan.speed.draw(rng, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + plan.tail_s < SEGMENT_S * (segment + 1)
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
        ``(n, 2)`` stereo strokes placed around the head, as long as they ring.

    """
    start, dur, speed, spot, tone = _timeline(request.seed, request.index // SEGMENT_S)
    chunk = RECIPE.chunk(request, start, dur, speed, salt="brushing")
    if chunk is None:
        return silent_chunk()
    rng, v, catches, frames = chunk.rng, chunk.speed, chunk.catches, chunk.frames
    tilt = chunk.each(tone).astype(np.float32)
    gain = np.float32(RECIPE.gain)
    brightness = np.clip(RECIPE.friction.brightness(v) + tilt, 0.0, 1.0)
    mono = RECIPE.friction.texture(rng, v, catches, gain, brightness, frames)
    mono += TIPS.crackle(
        rng,
        v,
        v * np.float32(TIPS.per_s),
        v * catches * (np.float32(TIPS.level) * gain),
        frames,
    )
    # The foam gives under the brush: a faint low rumble that follows the pressure (the
    # bristles' noise read ``stretch`` times slower, which moves its band below 200 Hz).
    points = round(PRESS.smooth_ms * SAMPLE_RATE / 1000.0 / STROKE_HOP)
    press = np.convolve(v, np.full(points, 1.0 / points), mode="same")
    soft = band_table(RECIPE.friction.slow, RECIPE.friction.tables[0])
    slow = read_table(soft, rng, frames // PRESS.stretch + 2)
    ramp = np.arange(PRESS.stretch, dtype=np.float32) / np.float32(PRESS.stretch)
    rumble = (slow[:-1, None] + np.diff(slow)[:, None] * ramp).reshape(-1)[:frames]
    level = np.repeat(
        (press * (PRESS.level * RECIPE.gain)).astype(np.float32), STROKE_HOP
    )
    mono += rumble * level[:frames]
    half = 0.5 * RECIPE.bouts.travel_deg
    sweep = np.where(np.arange(chunk.strokes.offsets.size) % 2 == 0, half, -half)
    return RECIPE.place(mono, chunk, request, spot=spot[chunk.mine], drift=sweep)


TRIGGER = Trigger(
    id="brushing", name="Soft brushing", close=True, render_chunk=render_chunk
)
