"""Hair brushing: a brush drawn through hair from the crown down, close to one ear.

Each stroke is the scratching gesture model with a quick start and a long glide. The
bristles pass through many strands and each strand snaps free of a bristle as a tiny
bright click: a dense crackle (``bristle_tips``) whose rate follows the stroke's speed
and the thickness of the hair, and whose clicks brighten as the brush speeds up. Under
it the strands rub the bristles with a soft swish that flutters as tufts grip and let
go (``stick_slip``). The brush returns through the air in silence between strokes;
runs of strokes move from side to side and each stroke slides a little past the ear.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger, chunk_rng, silent_chunk
from ..cache import SEGMENTS_KEPT, shared_cache
from ..gestures import Bouts, Friction, StickSlip, StrokeRecipe, Style, Tips
from ..recipe import Band, Count, NoiseBand, Range

TIPS = Tips(
    # Strands snapping free of the bristles, in thick hair.
    per_s=2000.0,
    level=4.0,
    grain_ms=2.0,
    resonance=Band(low_hz=1500.0, high_hz=10000.0),
    rolloff_hz=7000.0,
    # A strand's click brightens fast with the brush's speed.
    brightness=2.0,
    spread=1.2,
    bank="hair",
)
"""The strands snapping free of the bristles."""

RECIPE = StrokeRecipe(
    # Calibrated so that the trigger plays at about -20 LUFS before the table's gain.
    gain=0.08,
    bouts=Bouts(
        segment_s=8,
        per_segment=8,
        # A run of long strokes from the crown down, each most of a second.
        styles=(
            Style(strokes=Count(low=3, high=7), stroke_s=Range(low=0.65, high=1.1)),
        ),
        stroke_jitter=Range(low=0.8, high=1.25),
        # The brush returns to the crown through the air, in silence.
        gap_s=Range(low=0.2, high=0.45),
        # Between runs the hand moves to another part of the head.
        pause_s=Range(low=0.2, high=0.7),
        # A brush is drawn through hair firmly: the strokes vary little in speed.
        speed=Range(low=0.8, high=1.0),
        # Runs move from side to side of the head.
        spot_deg=22.0,
        # Each stroke slides up to 14 degrees past the ear, either way.
        travel_deg=28.0,
    ),
    # A quick start, then a long glide down the hair.
    skew=0.3,
    wobble=0.15,
    bias=-0.6,
    catches=StickSlip(
        # Tufts of strands gripping the bristles and letting go.
        catches_per_s=40.0,
        depth=1.0,
        limit=1.5,
    ),
    friction=Friction(
        # A slow stroke: the strands rub the bristles with a dull swish.
        slow=NoiseBand(
            band=Band(low_hz=500.0, high_hz=3500.0), tilt_db_per_octave=-1.0
        ),
        # A fast stroke: a bright, hissing swish of many strands at once.
        fast=NoiseBand(band=Band(low_hz=2000.0, high_hz=9000.0)),
        tables=("hair-dull", "hair-swish"),
        # The swish is quiet under the strands' crackle.
        level=0.1,
        level_power=0.9,
        brightness_floor=0.15,
        brightness_per_speed=0.55,
    ),
)
"""Hair brushing: a brush drawn through hair, close to one ear."""

THICKNESS = Range(low=0.6, high=1.0)
"""Thickness of the hair a run passes through: its share of the full strand rate."""

SEGMENT_S = RECIPE.bouts.segment_s
"""Length of the timeline segments, in seconds (whole chunks)."""

Timeline = tuple[NDArray[np.float64], ...]


@shared_cache(maxsize=SEGMENTS_KEPT)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, density, spot."""
    rng = chunk_rng(seed, "hair_brushing/segment", segment)
    plan = RECIPE.bouts
    runs = plan.per_segment
    counts = plan.styles[0].strokes.draw(rng, runs)
    base = plan.styles[0].stroke_s.draw(rng, runs)
    spot = rng.normal(0.0, plan.spot_deg, runs)
    thick = THICKNESS.draw(rng, runs) * TIPS.per_s
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = base[run_of] * plan.stroke_jitter.draw(rng, strokes)
    lift = plan.gap_s.draw(rng, strokes)
    lift[np.cumsum(counts) - 1] += plan.pause_s.draw(rng, runs)
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + lift)[:-1]])
    speed = plan.speed.draw(rng, strokes)
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + plan.tail_s < SEGMENT_S * (segment + 1)
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
        ``(n, 2)`` stereo strokes placed around the head, as long as they ring.

    """
    start, dur, speed, thick, spot = _timeline(request.seed, request.index // SEGMENT_S)
    chunk = RECIPE.chunk(request, start, dur, speed, salt="hair_brushing")
    if chunk is None:
        return silent_chunk()
    rng, v, catches, frames = chunk.rng, chunk.speed, chunk.catches, chunk.frames
    gain = np.float32(RECIPE.gain)
    brightness = np.clip(RECIPE.friction.brightness(v), 0.0, 1.0)
    mono = RECIPE.friction.texture(rng, v, catches, gain, brightness, frames)
    density = chunk.each(thick)
    mono += TIPS.crackle(
        rng,
        v,
        v * density.astype(np.float32),
        v * catches * (np.float32(TIPS.level) * gain),
        frames,
    )
    half = 0.5 * RECIPE.bouts.travel_deg
    slide = rng.uniform(-half, half, chunk.strokes.offsets.size)
    return RECIPE.place(mono, chunk, request, spot=spot[chunk.mine], drift=slide)


TRIGGER = Trigger(
    id="hair_brushing", name="Hair brushing", close=True, render_chunk=render_chunk
)
