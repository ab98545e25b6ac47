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

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from ..base import BUFFER_FRAMES, ChunkRequest, Trigger, chunk_rng
from ..events import soft_limit
from ..gestures import (
    CONTROL_HOP,
    blend,
    bristle_tips,
    graded_click_bank,
    hold,
    noise_table,
    place_strokes,
    read_table,
    stick_slip,
    stroke_controls,
    strokes_in_chunk,
)

SEGMENT_S = 8
"""Length of the timeline segments, in seconds (whole chunks)."""

GAIN = 0.115
"""Output gain that brings the trigger to its working level (about -20 LUFS)."""

CATCH_HZ = 15.0
"""Bristle catches per second at full speed (the brush bending, snagging, springing free)."""

CATCH_DEPTH = 0.6
"""Spread of the catches' strength (natural-log units)."""

SWISH_LEVEL = 0.4
"""Level of the bristles' friction noise."""

SOFT = (150.0, 2000.0, -2.0)
"""Band (Hz) and tilt (dB per octave) of the bristles' noise on a slow stroke."""

AIRY = (250.0, 5000.0, -1.0)
"""Band (Hz) and tilt (dB per octave) of the bristles' noise on a fast stroke."""

LEVEL_POWER = 0.9
"""How the friction level follows the stroke's speed."""

TIP_HZ = 1500.0
"""Bristle tips springing free of the foam per second at full speed."""

TIP_LEVEL = 4.0
"""Level of the bristle tips' clicks (unit-energy grains)."""

TIP_GRAINS = 32
"""Grains of the tips' bank, from dull to bright."""

TIP_FRAMES = 96
"""Length of a tip's click, in frames (its decay is a fifth of that)."""

TIP_BAND = (1500.0, 10000.0)
"""Resonances of the dullest and the brightest tip click, in Hz."""

TIP_ROLLOFF = 6000.0
"""Corner of the low-pass that softens the top of every click, in Hz."""

TIP_BRIGHTNESS = 1.2
"""How bright the tips get at full speed (1 = the brightest grain)."""

TIP_SPREAD = 0.9
"""Spread of the tips' levels (natural-log units)."""

PRESS_STRETCH = 10
"""How much slower than the bristles' noise the pressing rumble runs (its band shifts
from 150-2000 Hz to 15-200 Hz)."""

PRESS_LEVEL = 0.3
"""Level of the pressing rumble."""

PRESS_POINTS = 40
"""Control points the pressure is smoothed over (50 ms): the foam gives slowly."""

STYLES = (0.6, 0.2, 0.2)
"""Shares of the run styles: quick flicks, sweeps, circular dabbing."""

STROKE_S = ((0.2, 0.45), (0.6, 1.1), (0.18, 0.3))
"""Range of the strokes' typical length in each style, in seconds."""

KNEE = 0.3
"""Level above which the rare hardest slips are bent softly (linear)."""

CEILING = 0.55
"""Level the bent slips never reach (linear)."""

Timeline = tuple[NDArray[np.float64], ...]


@lru_cache(maxsize=8)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return the strokes of one segment: start (s), length (s), speed, spot, tone."""
    rng = chunk_rng(seed, "brushing/segment", segment)
    runs = 14
    # Each run has a style: quick flicks, sweeps, or circular dabbing.
    style = rng.choice(3, runs, p=STYLES)
    counts = np.choose(
        style,
        [
            rng.integers(4, 11, runs),
            rng.integers(2, 5, runs),
            rng.integers(5, 12, runs),
        ],
    )
    base = np.choose(style, [rng.uniform(*span, runs) for span in STROKE_S])
    pause = rng.uniform(0.3, 0.9, runs)
    spot = rng.normal(0.0, 20.0, runs)
    tone = rng.uniform(-0.1, 0.1, runs)
    strokes = int(counts.sum())
    run_of = np.repeat(np.arange(runs), counts)
    dur = base[run_of] * rng.uniform(0.8, 1.2, strokes)
    # Back and forth without lifting: the next stroke starts as the last one turns.
    gap = rng.uniform(-0.05, 0.08, strokes) * np.minimum(dur, 1.0)
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
    soft = noise_table(SOFT[0], SOFT[1], SOFT[2], "brush-soft", 2)
    mono = blend(
        rng,
        soft,
        noise_table(AIRY[0], AIRY[1], AIRY[2], "brush-airy", 2),
        v**LEVEL_POWER * catches * (np.float32(SWISH_LEVEL) * gain),
        np.clip(0.15 + 0.55 * v + tilt, 0.0, 1.0),
        frames,
    )
    mono += bristle_tips(
        rng,
        v,
        v * np.float32(TIP_HZ),
        v * catches * (np.float32(TIP_LEVEL) * gain),
        graded_click_bank(
            TIP_GRAINS, TIP_FRAMES, TIP_BAND[0], TIP_BAND[1], "brush", TIP_ROLLOFF
        ),
        frames,
        brightness=TIP_BRIGHTNESS,
        spread=TIP_SPREAD,
    )
    # The foam gives under the brush: a faint low rumble that follows the pressure (the
    # bristles' noise read ten times slower, which moves its band below 200 Hz).
    press = np.convolve(v, np.full(PRESS_POINTS, 1.0 / PRESS_POINTS), mode="same")
    slow = read_table(soft, rng, frames // PRESS_STRETCH + 2)
    ramp = np.arange(PRESS_STRETCH, dtype=np.float32) / np.float32(PRESS_STRETCH)
    rumble = (slow[:-1, None] + np.diff(slow)[:, None] * ramp).reshape(-1)[:frames]
    level = np.repeat((press * (PRESS_LEVEL * GAIN)).astype(np.float32), CONTROL_HOP)
    mono += rumble * level[:frames]
    sweep = np.where(np.arange(offsets.size) % 2 == 0, 25.0, -25.0)
    soft_limit(mono, knee=KNEE, ceiling=CEILING)
    return place_strokes(
        mono, strokes, request, spot=spot[mine], drift=sweep, salt="brushing"
    )


TRIGGER = Trigger(
    id="brushing", name="Soft brushing", close=True, render_chunk=render_chunk
)
