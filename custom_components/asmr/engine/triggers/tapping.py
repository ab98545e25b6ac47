"""Tapping: fingertips and nails tapping on wood, plastic and glass, close to the ears.

A tap is an impact: a contact burst whose brightness is set by what strikes (a nail is
hard and brief, a fingertip soft and a few milliseconds long), then the struck object's
answer. Objects held in a hand or lying on a table are heavily damped, so the answer is
short: a burst of noise shaped by the object's broad body resonances, and a few low
modes, all gone within some tens of milliseconds (wood is dull and quick, plastic a
little brighter, glass bright with the longest, still brief, ring). Nothing rings on
like a bell. Each tap also wakes a faint, diffuse tail of the room, different in each
ear.

A cached bank holds several objects per material, each struck in several ways (strike
point, nail or fingertip). Taps come in clusters: quick four-finger nail runs, slow
single taps and double taps, on one object at one spot around the head, with varied
strength; the object and the spot change from cluster to cluster. ASMR tapping is
near-continuous: clusters follow each other after a short breath.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..base import SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng, silent_chunk
from ..cache import SEGMENTS_KEPT, shared_cache
from ..impacts import (
    ImpactRecipe,
    Room,
    add_room,
    burst_frequencies,
    contacts,
    damped_modes,
    noise_bursts,
    resonance,
    struck_frames,
)
from ..recipe import Band, Count, Range
from ..spatial import azimuth_at, place_events

RECIPE = ImpactRecipe(
    segment_s=6,
    # Calibrated so that the trigger plays at about -21.5 LUFS before the table's gain.
    gain=0.465,
    # Every tap, glass included, has died away within 90 ms.
    grain_ms=90.0,
    # The strike's first milliseconds are bent above 40 % of the peak.
    knee=0.4,
    # Taps are close: the room answers 32 dB down, and a small room dies in 0.35 s.
    room=Room(level=0.025, rt60_s=0.35),
)
"""Tapping: fingertips and nails on objects held close, in a small room."""

SEGMENT_S = RECIPE.segment_s
"""Length of the timeline segments, in seconds (whole chunks)."""

OBJECTS = 10
"""Objects per material in the grain bank."""

STRIKES = 4
"""Ways each object is struck, darkest (soft fingertip) first, brightest (nail) last."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Material:
    """What a tapped object is made of: where its modes and its body sound."""

    lowest_mode: Band
    """Range the object's lowest mode is drawn from (log-uniformly)."""

    mode_decay_ms: float
    """Decay time constant of the lowest mode, in milliseconds (held objects are
    heavily damped)."""

    body: Band
    """Range the body's broad resonances are drawn from (log-uniformly)."""

    body_decay_scale: float = 1.0
    """The body burst's decay relative to the tap model's."""

    level: float = 1.0
    """Peak of the material's grains (linear)."""

    share: float
    """Share of the clusters tapped on this material."""


MATERIALS: dict[str, Material] = {
    # Wood is dull and quick: low modes, a low body, a slower body burst.
    "wood": Material(
        lowest_mode=Band(low_hz=170.0, high_hz=520.0),
        mode_decay_ms=12.0,
        body=Band(low_hz=500.0, high_hz=2600.0),
        body_decay_scale=1.4,
        share=0.45,
    ),
    # Plastic is a little brighter and damps fastest.
    "plastic": Material(
        lowest_mode=Band(low_hz=380.0, high_hz=1100.0),
        mode_decay_ms=9.0,
        body=Band(low_hz=900.0, high_hz=4200.0),
        share=0.38,
    ),
    # Glass is bright with the longest, still brief, ring; a little quieter.
    "glass": Material(
        lowest_mode=Band(low_hz=1300.0, high_hz=3200.0),
        mode_decay_ms=16.0,
        body=Band(low_hz=2200.0, high_hz=7000.0),
        level=0.9,
        share=0.17,
    ),
}
"""The materials tapped, by name."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Tap:
    """How a fingertip or a nail strikes a held object, and how the object answers."""

    mode_ratios: tuple[Range, ...]
    """Frequencies of the second and later modes relative to the lowest."""

    mode_decay_jitter: Range
    """An object's mode decay relative to its material's."""

    mode_damping_power: float
    """How the modes' decay times follow their frequency ratio (tau ~ ratio ** power)."""

    mode_excitation: Range
    """How strongly a strike excites each mode, before the contact's low-pass."""

    lowest_mode_floor: float
    """Least excitation of the lowest mode: every strike moves the whole object."""

    mode_retune: Range
    """Each strike's mode decays relative to the object's."""

    mode_level: float
    """Peak of an object's low modes relative to its body burst."""

    body_q: Range
    """Quality factor of the body's broad resonances."""

    body_weight: Range
    """Level of each body resonance."""

    body_rolloff_hz: float
    """Corner of the fourth-order roll-off over the body's answer, in Hz."""

    body_decay_ms: float
    """Decay time constant of the body burst, in milliseconds."""

    body_decay_jitter: Range
    """A strike's body decay relative to its object's."""

    attack_ms: float
    """Rise time of the body burst under a soft fingertip, in milliseconds."""

    nail_attack: float
    """A nail's rise time relative to a fingertip's."""

    nail_contact_s: float
    """How long a nail stays on the surface, in seconds."""

    pad_contact_s: float
    """How much longer a soft fingertip stays on it, in seconds."""

    contact_smear: float
    """Strength of the low-pass a contact of some length puts on the body burst."""

    body_level: float
    """Level of a fingertip's body burst."""

    body_level_per_hardness: float
    """Extra level of the body burst under the hardest strike (a nail)."""

    tick_level: float
    """Level of a fingertip's contact burst."""

    tick_level_per_hardness: float
    """Extra level of the contact burst under the hardest strike (a nail's click)."""


TAP = Tap(
    # A plate-like object: inharmonic modes, the higher ones damped faster.
    mode_ratios=(Range(low=1.5, high=1.9), Range(low=2.3, high=3.0)),
    mode_decay_jitter=Range(low=0.75, high=1.3),
    mode_damping_power=-0.7,
    mode_excitation=Range(low=0.4, high=1.0),
    lowest_mode_floor=0.5,
    mode_retune=Range(low=0.9, high=1.1),
    mode_level=0.5,
    # Held objects sound through a few broad, heavily damped body resonances.
    body_q=Range(low=1.2, high=2.5),
    body_weight=Range(low=0.5, high=1.0),
    body_rolloff_hz=12000.0,
    body_decay_ms=8.0,
    body_decay_jitter=Range(low=0.8, high=1.3),
    # A fingertip presses in over a couple of milliseconds; a nail five times quicker.
    attack_ms=2.0,
    nail_attack=0.2,
    # A nail touches for a fraction of a millisecond, a soft fingertip for four more:
    # it excites the low modes and barely the high ones.
    nail_contact_s=0.0003,
    pad_contact_s=0.004,
    contact_smear=2.0,
    body_level=0.72,
    body_level_per_hardness=0.28,
    tick_level=0.15,
    tick_level_per_hardness=0.55,
)
"""The tap model every object is struck with."""

STRENGTH_POWER = 0.6
"""How much of the strength of a tap reaches its level (the rest only its brightness)."""

Bank = tuple[NDArray[np.float32], ...]
Timeline = tuple[NDArray[np.float64], ...]


def _object_taps(rng: np.random.Generator, name: str) -> list[NDArray[np.float64]]:
    """Return one object's ``STRIKES`` taps, darkest (fingertip) to brightest (nail).

    A tap is the contact burst, the body burst (noise through the object's broad
    resonances) and the object's few low modes, all brief.
    """
    frames = RECIPE.grain_frames
    material = MATERIALS[name]
    lo, hi = material.lowest_mode.low_hz, material.lowest_mode.high_hz
    decay_s = material.mode_decay_ms / 1000.0
    body_lo, body_hi = material.body.low_hz, material.body.high_hz
    f0 = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    # A plate-like object: inharmonic modes, the higher ones damped faster.
    ratios = np.array([1.0, *[r.draw_one(rng) for r in TAP.mode_ratios]])
    freqs = f0 * ratios
    taus = (
        decay_s * TAP.mode_decay_jitter.draw_one(rng) * ratios**TAP.mode_damping_power
    )
    centres = np.exp(rng.uniform(np.log(body_lo), np.log(body_hi), 3))
    qs = TAP.body_q.draw(rng, 3)
    weights = TAP.body_weight.draw(rng, 3)
    f = burst_frequencies(frames)
    body = sum(
        w * resonance(f, c, q) for c, q, w in zip(centres, qs, weights, strict=True)
    )
    body = body / np.sqrt(1.0 + (f / TAP.body_rolloff_hz) ** 4)

    hardness = (np.arange(STRIKES) + rng.uniform(0.0, 1.0, STRIKES)) / STRIKES
    # A soft fingertip stays on the surface for milliseconds: it excites the low modes
    # and barely the high ones, and its body burst rises slowly. A nail excites all.
    contact_s = TAP.nail_contact_s + TAP.pad_contact_s * (1.0 - hardness)
    body_decay = TAP.body_decay_ms / 1000.0 * material.body_decay_scale
    nail = TAP.nail_attack
    bursts = noise_bursts(
        rng,
        frames,
        body / np.sqrt(1.0 + (np.outer(contact_s, f) * TAP.contact_smear) ** 2),
        attack_s=TAP.attack_ms / 1000.0 * (nail + (1.0 - nail) * (1.0 - hardness)),
        decay_s=body_decay * TAP.body_decay_jitter.draw(rng, STRIKES),
    )
    ticks = contacts(rng, frames, hardness)
    taps: list[NDArray[np.float64]] = []
    for s in range(STRIKES):
        amps = np.abs(np.sinc(freqs * contact_s[s])) * TAP.mode_excitation.draw(rng, 3)
        amps[0] = max(amps[0], TAP.lowest_mode_floor)
        retuned = taus * TAP.mode_retune.draw(rng, 3)
        low = damped_modes(rng, freqs, retuned, amps, frames)
        grain = TAP.mode_level * low / (np.max(np.abs(low)) + 1e-12)
        grain += (TAP.body_level + TAP.body_level_per_hardness * hardness[s]) * bursts[
            s
        ]
        grain += (TAP.tick_level + TAP.tick_level_per_hardness * hardness[s]) * ticks[s]
        grain[:4] *= np.linspace(0.0, 1.0, 4)
        taps.append(RECIPE.tamed(grain))
    return taps


@shared_cache(maxsize=len(MATERIALS) * OBJECTS)
def object_taps(name: str, obj: int) -> Bank:
    """Return the cached taps of one object: its ``STRIKES`` grains.

    Each object is built on its own (from its own generator) when a tap first needs
    it, so a session's first block builds only the objects it strikes.

    Parameters
    ----------
    name
        The object's material.
    obj
        Which of the material's ``OBJECTS`` objects.

    Returns
    -------
    Bank
        Grain ``s`` is the object struck the ``s``-th way (brighter for larger ``s``).
        Grains are float32 with a peak of the material's level. The far-ear lowpass is
        left to placement: caching it too would double the memory.

    """
    level = MATERIALS[name].level
    grains: list[NDArray[np.float32]] = []
    for tap in _object_taps(chunk_rng(0, "tapping-object:" + name, obj), name):
        grain = (tap * (level / np.max(np.abs(tap)))).astype(np.float32)
        grain.flags.writeable = False
        grains.append(grain)
    return tuple(grains)


def grain_bank() -> dict[str, Bank]:
    """Return the taps of every material, object by object (see ``object_taps``).

    Grain ``o * STRIKES + s`` of a material is object ``o`` struck the ``s``-th way.
    """
    return {
        name: tuple(g for obj in range(OBJECTS) for g in object_taps(name, obj))
        for name in MATERIALS
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Clusters:
    """How the taps come: clusters of one kind on one object, at one spot."""

    per_segment: int
    """Clusters drawn per segment (more than fit: the ones past its end are cut)."""

    deck: tuple[int, ...]
    """Kinds a shuffled deck holds (0 nail run, 1 single taps, 2 double taps)."""

    run_taps: Count
    """Taps in a nail run."""

    few_taps: Count
    """Taps (or pairs) in a cluster of single or double taps."""

    run_step_s: Range
    """Time between the taps of a nail run, in seconds (drawn per run)."""

    run_jitter: float
    """Spread of a run's steps relative to its own (standard deviation)."""

    single_step_s: Range
    """Time between single taps, in seconds (drawn per cluster)."""

    single_jitter: Range
    """Each single tap's step relative to its cluster's."""

    double_gap_s: Range
    """Time between the two taps of a double tap, in seconds."""

    double_spacing: float
    """Time between double taps relative to a single tap's step."""

    breath_s: Range
    """Pause after a cluster, in seconds."""

    lead_s: float
    """Time from a segment's start to its first tap, in seconds."""

    finger_level: float
    """Mean strength of a nail run's taps."""

    finger_stress: float
    """Swing of a nail run's strength over its four fingers."""

    single_boost: float
    """Strength of single taps relative to the rest."""

    strength: Range
    """Strength of a cluster (1 = a firm tap)."""

    strength_spread: float
    """Spread of each tap's strength within its cluster (natural-log units)."""

    strength_bounds: Range
    """Softest and hardest tap."""

    strike_scatter: float
    """Spread of the way a tap strikes around what its strength asks (in strikes)."""

    spot_deg: float
    """Spread of the clusters' spots around the layer's path, in degrees."""

    tap_spot_deg: float
    """Spread of each tap around its cluster's spot, in degrees."""


CLUSTERS = Clusters(
    per_segment=24,
    # Dealt from shuffled decks of four, so every few seconds hold a similar mix and
    # the level stays steady: two nail runs, one cluster of single taps, one of doubles.
    deck=(0, 0, 1, 2),
    run_taps=Count(low=6, high=9),
    few_taps=Count(low=3, high=5),
    # Four fingernails drummed in turn: 12 to 28 taps a second.
    run_step_s=Range(low=0.035, high=0.08),
    run_jitter=0.12,
    # Slow, deliberate single taps, two to five a second.
    single_step_s=Range(low=0.19, high=0.45),
    single_jitter=Range(low=0.8, high=1.25),
    # A double tap: two taps a tenth of a second apart, pairs a little further apart.
    double_gap_s=Range(low=0.08, high=0.14),
    double_spacing=1.3,
    # ASMR tapping is near-continuous: a short breath between clusters.
    breath_s=Range(low=0.15, high=0.38),
    lead_s=0.05,
    # Runs sweep through four fingers: a repeating stress pattern (0.85, 0.65, 0.45,
    # 0.65) with human wobble.
    finger_level=0.65,
    finger_stress=0.2,
    single_boost=1.1,
    strength=Range(low=0.7, high=1.0),
    strength_spread=0.15,
    strength_bounds=Range(low=0.2, high=1.2),
    strike_scatter=0.8,
    # Each cluster is on one object at one spot; the hand wanders a little within it.
    spot_deg=15.0,
    tap_spot_deg=3.0,
)
"""The rhythm of tapping: nail runs, single taps and double taps."""


@shared_cache(maxsize=SEGMENTS_KEPT)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return one segment's taps: time (s), material, grain, strength, cluster spot."""
    rng = chunk_rng(seed, "tapping/segment", segment)
    c = CLUSTERS
    clusters = c.per_segment
    deck = len(c.deck)
    kind = rng.permuted(np.tile(list(c.deck), (clusters // deck, 1)), axis=1).ravel()
    count = np.where(
        kind == 0, c.run_taps.draw(rng, clusters), c.few_taps.draw(rng, clusters)
    )
    count = np.where(kind == 2, count * 2, count)
    taps = int(count.sum())
    of = np.repeat(np.arange(clusters), count)
    pos = np.arange(taps) - np.repeat(np.cumsum(count) - count, count)
    run_step = c.run_step_s.draw(rng, clusters)[of] * (
        1.0 + rng.normal(0.0, c.run_jitter, taps)
    )
    single_step = c.single_step_s.draw(rng, clusters)[of] * c.single_jitter.draw(
        rng, taps
    )
    double_step = np.where(
        pos % 2 == 1, c.double_gap_s.draw(rng, taps), single_step * c.double_spacing
    )
    step = np.choose(kind[of], [run_step, single_step, double_step])
    step[np.cumsum(count) - 1] = c.breath_s.draw(rng, clusters)
    times = (
        SEGMENT_S * segment + c.lead_s + np.concatenate([[0.0], np.cumsum(step)[:-1]])
    )
    shares = [m.share for m in MATERIALS.values()]
    material = rng.choice(len(MATERIALS), clusters, p=shares)[of]
    obj = rng.integers(0, OBJECTS, clusters)[of]
    finger = np.where(
        kind[of] == 0, c.finger_level + c.finger_stress * np.cos(np.pi * pos / 2.0), 1.0
    )
    finger *= np.where(kind[of] == 1, c.single_boost, 1.0)
    strength = np.clip(
        c.strength.draw(rng, clusters)[of]
        * finger
        * rng.lognormal(0.0, c.strength_spread, taps),
        c.strength_bounds.low,
        c.strength_bounds.high,
    )
    # Harder taps sound brighter; nail runs are brighter still than fingertip taps.
    nails = np.where(kind[of] == 0, 1.0, 0.0)
    strike_of = np.clip(
        np.round(
            strength / c.strength_bounds.high * (STRIKES - 1)
            + nails
            + rng.normal(0.0, c.strike_scatter, taps)
        ),
        0,
        STRIKES - 1,
    )
    grain = obj * STRIKES + strike_of
    spot = rng.normal(0.0, c.spot_deg, clusters)[of] + rng.normal(
        0.0, c.tap_spot_deg, taps
    )
    keep = times < SEGMENT_S * (segment + 1)
    return (
        times[keep],
        material[keep].astype(np.float64),
        grain[keep].astype(np.float64),
        strength[keep],
        spot[keep],
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the taps that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement.

    Returns
    -------
    NDArray[np.float32]
        ``(n, 2)`` stereo taps placed around the head, as long as they ring.

    """
    t0 = request.start_s
    times, material, grain, strength, spot = _timeline(
        request.seed, request.index // SEGMENT_S
    )
    mine = (times >= t0) & (times < t0 + 1.0)
    if not mine.any():
        return silent_chunk()
    names = tuple(MATERIALS)
    grains = [
        object_taps(names[int(m)], int(g) // STRIKES)[int(g) % STRIKES]
        for m, g in zip(material[mine], grain[mine], strict=True)
    ]
    starts = np.round((times[mine] - t0) * SAMPLE_RATE).astype(np.int64)
    az = azimuth_at(request.placement, request.seed, times[mine], salt="tapping")
    gains = strength[mine] ** STRENGTH_POWER * RECIPE.gain
    frames = struck_frames(grains, starts)
    out = place_events(frames, grains, starts, gains, az + spot[mine])
    rng = chunk_rng(request.seed, "tapping/room", request.index)
    add_room(out, rng, starts, gains * RECIPE.room.level, rt60_s=RECIPE.room.rt60_s)
    return out


TRIGGER = Trigger(
    id="tapping",
    name="Tapping",
    close=True,
    render_chunk=render_chunk,
    prepare=grain_bank,
)
