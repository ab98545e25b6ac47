"""Scratching: fingernails dragged over a textured surface, close to the ears.

The gesture model (``engine/gestures.py``, shared with brushing and hair brushing): a
stroke has a bell-shaped speed curve; speed drives the level and the brightness of the
friction noise of the nail on wood (a cross-fade between a dark and a bright band). The
nail sticks and slips: the friction level jumps from catch to catch (``stick_slip``, a
log-normal flutter about 35 catches a second at full speed, deep enough for a stuck nail
to fall almost silent), with tiny impacts where it hits the grain's ridges. Strokes come
in bouts of quick back-and-forth scratches. Within a bout the nail stays on the surface:
it reverses where the speed falls to nothing, and every other stroke is a pull, where
the nail trails instead of digging in (softer and duller than the push). Between bouts
the hand lifts and settles, so the rasp stops rather than hisses on. Each bout has its
own roughness, brightness and spot around the head, each stroke travels with the nail,
and the whole sound follows the layer's motion.

Stroke timelines are drawn per segment of ``SEGMENT_S`` seconds from the segment's own
generator, so any chunk finds its strokes without rendering the past.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import ChunkRequest, Trigger, chunk_rng, silent_chunk
from ..cache import SEGMENTS_KEPT, shared_cache
from ..gestures import Bouts, Friction, Ridges, StickSlip, StrokeRecipe, Style
from ..recipe import Band, Count, NoiseBand, Range


@dataclass(frozen=True, kw_only=True, slots=True)
class Pull:
    """The return stroke: a nail drawn back trails over the surface instead of digging in."""

    level: float
    """Level of a pulled stroke's rasp relative to a pushed one's (linear)."""

    tone: float
    """Brightness offset of a pulled stroke (share of the fast band)."""


PULL = Pull(
    # Pushed, the nail's edge digs in and chatters; pulled back, it trails and glides:
    # a softer, duller rasp every other stroke.
    level=0.7,
    tone=-0.15,
)
"""How a pulled stroke differs from a pushed one."""

RIDGES = Ridges(
    # The grain's ridges: a fine surface gives a few hundred a second, a coarse one
    # nearly a thousand.
    per_s=Range(low=250.0, high=900.0),
    # Ticks under the rasp, not taps on top of it.
    level=0.15,
    # A nail's tick is over within a millisecond and a bit.
    grain_ms=1.333,
    resonance=Band(low_hz=1500.0, high_hz=6000.0),
    # Most ridges are shallow; a few stop the nail hard, up to threefold.
    size_log_mean=-0.3,
    size_spread=0.45,
    size_cap=3.0,
    bank="scratch",
)
"""A fingernail on the ridges of the wood's grain."""

RECIPE = StrokeRecipe(
    # Calibrated so that the trigger plays at about -20 LUFS before the table's gain.
    gain=0.175,
    bouts=Bouts(
        segment_s=6,
        per_segment=8,
        # A bout is a run of quick back-and-forth scratches, a stroke every ~0.15 s.
        styles=(
            Style(strokes=Count(low=12, high=30), stroke_s=Range(low=0.12, high=0.18)),
        ),
        # No two strokes of a hand are the same length.
        stroke_jitter=Range(low=0.8, high=1.25),
        # The nail reverses without lifting: contact goes on through the turn, where
        # the speed falls to nothing for an instant.
        gap_s=Range(low=0.0, high=0.015),
        # Between bouts the hand lifts and settles again.
        pause_s=Range(low=0.1, high=0.3),
        speed=Range(low=0.55, high=1.0),
        # A nail works one patch of the surface at a time, near the layer's path.
        spot_deg=14.0,
        # Each stroke slides a few degrees, back and forth with the nail.
        travel_deg=12.0,
        # Some bouts press harder or with a sharper edge of the nail.
        tone=Range(low=-0.1, high=0.1),
    ),
    catches=StickSlip(
        # A nail on wood sticks and slips tens of times a second.
        catches_per_s=35.0,
        # A grainy, uneven rasp: catches vary about sevenfold in strength.
        depth=2.0,
        # Deep enough for a stuck nail to fall almost silent, and as high for the slips.
        limit=2.5,
        ceiling=2.5,
        # The hand keeps an even pressure on average over its moving strokes.
        even_above_speed=0.3,
    ),
    friction=Friction(
        # A slow, light stroke: a dull rasp, most of its energy at 1-4 kHz.
        slow=NoiseBand(
            band=Band(low_hz=1000.0, high_hz=4000.0), tilt_db_per_octave=-8.0, order=4
        ),
        # A fast, hard stroke: brighter, reaching 5.5 kHz.
        fast=NoiseBand(
            band=Band(low_hz=1100.0, high_hz=5500.0), tilt_db_per_octave=-5.0, order=4
        ),
        tables=("scratch-dark", "scratch-bright"),
        # Friction power grows a little slower than the speed.
        level_power=0.75,
        # A faster stroke gives a sharper, brighter burst.
        brightness_floor=0.2,
        brightness_per_speed=0.75,
    ),
)
"""Scratching: fingernails on wood, in quick bouts."""

SEGMENT_S = RECIPE.bouts.segment_s
"""Length of the timeline segments, in seconds (whole chunks)."""

Timeline = tuple[NDArray[np.float64], ...]


@shared_cache(maxsize=SEGMENTS_KEPT)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment.

    Returns
    -------
    tuple
        Per stroke: start (s), length (s), peak speed, roughness (ridges per second),
        spot (degrees), tone, and 1 for a pulled stroke (0 pushed).

    """
    rng = chunk_rng(seed, "scratching/segment", segment)
    plan = RECIPE.bouts
    bouts = plan.per_segment
    counts = plan.styles[0].strokes.draw(rng, bouts)
    base = plan.styles[0].stroke_s.draw(rng, bouts)
    pause = plan.pause_s.draw(rng, bouts)
    rough = RIDGES.per_s.draw(rng, bouts)
    spot = rng.normal(0.0, plan.spot_deg, bouts)
    tone = plan.tone.draw(rng, bouts)
    strokes = int(counts.sum())
    bout_of = np.repeat(np.arange(bouts), counts)
    dur = base[bout_of] * plan.stroke_jitter.draw(rng, strokes)
    # The nail turns between strokes; between bouts the hand lifts and settles again.
    gap = plan.gap_s.draw(rng, strokes)
    gap[np.cumsum(counts) - 1] += pause
    start = SEGMENT_S * segment + np.concatenate([[0.0], np.cumsum(dur + gap)[:-1]])
    speed = plan.speed.draw(rng, strokes)
    # Back and forth: every bout starts with a push, then pull, push, ...
    pull = (np.arange(strokes) - np.repeat(np.cumsum(counts) - counts, counts)) % 2
    # A stroke still sounding when the next segment begins is left out.
    keep = start + dur + plan.tail_s < SEGMENT_S * (segment + 1)
    return (
        start[keep],
        dur[keep],
        speed[keep],
        rough[bout_of][keep],
        spot[bout_of][keep],
        tone[bout_of][keep],
        pull[keep].astype(np.float64),
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
        ``(n, 2)`` stereo strokes placed around the head, as long as they ring.

    """
    start, dur, speed, rough, spot, tone, pull = _timeline(
        request.seed, request.index // SEGMENT_S
    )
    chunk = RECIPE.chunk(request, start, dur, speed, salt="scratching")
    if chunk is None:
        return silent_chunk()
    rng, v, catches = chunk.rng, chunk.speed, chunk.catches
    pulled = pull > 0.5
    catches *= chunk.each(np.where(pulled, PULL.level, 1.0)).astype(np.float32)
    brightness = np.clip(
        RECIPE.friction.brightness(v)
        + chunk.each(tone + np.where(pulled, PULL.tone, 0.0)),
        0.0,
        1.0,
    ).astype(np.float32)
    gain = np.float32(RECIPE.gain)
    mono = RECIPE.friction.texture(rng, v, catches, gain, brightness, chunk.frames)
    rate = v * chunk.each(rough).astype(np.float32)
    mono += RIDGES.clicks(rng, v, catches, rate, gain, chunk.frames)
    half = 0.5 * RECIPE.bouts.travel_deg
    sweep = np.where(pulled[chunk.mine], -half, half)
    return RECIPE.place(mono, chunk, request, spot=spot[chunk.mine], drift=sweep)


TRIGGER = Trigger(
    id="scratching", name="Scratching", close=True, render_chunk=render_chunk
)
