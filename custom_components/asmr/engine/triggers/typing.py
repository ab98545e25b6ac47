"""Typing: someone writing on a low-profile keyboard in front of the listener.

A keystroke is a press and, a log-normal hold time later, a release. The press is the
switch giving way (a tiny, sharp tick) and, a few milliseconds later, the keycap
bottoming out: a bright clack of the plastic deck, a burst of noise through the deck's
broad resonances that dies within a few tens of milliseconds (dense, heavily damped
plastic modes blur into noise: nothing rings). The release is a shorter, quieter clack
as the cap springs back. Every key sounds through its own part of the deck and sits at
its own spot across the keyboard (left hand left, right hand right); the space bar and
enter key are heavier, lower and longer, with a stabiliser rattle. Each stroke also
excites the small room the desk stands in: a faint, diffuse tail in both ears.

The rhythm is that of prose: words of a few letters at log-normal intervals, a space,
longer pauses after sentences, occasional thinking pauses and bursts of backspace.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..base import SAMPLE_RATE, ChunkRequest, Trigger, chunk_rng, silent_chunk
from ..cache import SEGMENTS_KEPT, shared_cache
from ..events import band
from ..impacts import (
    ImpactRecipe,
    Room,
    add_room,
    burst_frequencies,
    contact_frames,
    contacts_from,
    resonance,
    shaped_bursts,
    struck_frames,
    trimmed,
)
from ..recipe import Band, Count, Range
from ..spatial import azimuth_at, head_shadow, place_events

RECIPE = ImpactRecipe(
    segment_s=8,
    # Calibrated so that the trigger plays at about -20.5 LUFS before the table's gain.
    gain=0.55,
    # A keystroke (tick, clack, stabiliser rattle) has died away well within 100 ms.
    grain_ms=100.0,
    # A press's first milliseconds are bent above half its peak.
    knee=0.5,
    # The desk's room: a faint tail 30 dB down, dying in 0.35 s.
    room=Room(level=0.03, rt60_s=0.35),
)
"""Typing: a low-profile keyboard on a desk in a small room."""

SEGMENT_S = RECIPE.segment_s
"""Length of the timeline segments, in seconds (whole chunks)."""

LETTERS = 30
"""Distinct letter keys in the grain bank."""

STRENGTHS = 3
"""Strength variants of every key, softest first."""

SPACE, ENTER, BACKSPACE = LETTERS, LETTERS + 1, LETTERS + 2

KEYS = LETTERS + 3
"""Keys in the grain bank: the letters, then space, enter and backspace."""
"""Bank indices of the special keys."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Keyboard:
    """A low-profile keyboard: its deck, its keys' clacks, ticks and rattles."""

    deck_humps: tuple[Band, ...]
    """Ranges of the centres of the deck's broad resonances (the first the loudest)."""

    deck_hump_levels: tuple[Range, ...]
    """Levels of the second and later humps relative to the first."""

    deck_hump_q: float
    """Quality factor of the humps (broad: the plastic is heavily damped)."""

    deck_floor: float
    """Share of the deck's colour that is flat under the humps."""

    key_band: Band
    """Band a letter key's clack sounds in."""

    key_band_jitter: Range
    """Each key's band corners relative to ``key_band`` (its own part of the deck)."""

    big_key_band: float
    """Band of a long key (space, enter) relative to a letter's: heavier, lower."""

    clack_s: Range
    """Decay time constant of a letter's bottom-out clack, in seconds."""

    big_key_clack: float
    """Decay of a long key's clack relative to a letter's."""

    hardness: Range
    """Where each strength variant sits within its third of the soft-to-hard range."""

    clack_dryness: float
    """How much shorter the hardest stroke's clack is than the softest's (share)."""

    press_attack_s: float
    """Rise time of a press's clack, in seconds."""

    release_attack_s: float
    """Rise time of a release's clack, in seconds."""

    release_decay_s: Range
    """Decay time constant of a release's clack, in seconds (shorter than a press)."""

    release_level: float
    """Peak of a key's release relative to its press."""

    rattles: Count
    """Rattles of a long key's stabiliser wire."""

    rattle_attack_s: float
    """Rise time of a rattle, in seconds."""

    rattle_decay_s: float
    """Decay time constant of a rattle, in seconds."""

    rattle_after_s: Range
    """Time from the bottom-out to a rattle, in seconds."""

    rattle_level: float
    """Peak of a rattle relative to the clack."""

    tick_hardness: float
    """Hardness of the switch's tick (``contacts``: 1 = a nail's click)."""

    tick_s: Range
    """Time from the touch to the switch giving way, in seconds."""

    tick_level: float
    """Peak of the switch's tick relative to the clack."""

    bottom_out_s: Range
    """Time from the switch's tick to the cap bottoming out, in seconds."""

    width_deg: float
    """Azimuth span of the keyboard, seen from the listener."""


KEYBOARD = Keyboard(
    # Dense, heavily damped plastic: a few broad humps (2-8.5 kHz) over a flat floor.
    deck_humps=(
        Band(low_hz=2200.0, high_hz=3000.0),
        Band(low_hz=3800.0, high_hz=5200.0),
        Band(low_hz=6500.0, high_hz=8500.0),
    ),
    deck_hump_levels=(Range(low=0.6, high=0.9), Range(low=0.4, high=0.6)),
    deck_hump_q=1.4,
    deck_floor=0.5,
    # A keycap's clack is bright: 2-12 kHz.
    key_band=Band(low_hz=2000.0, high_hz=12000.0),
    key_band_jitter=Range(low=0.8, high=1.2),
    big_key_band=0.6,
    # The clack dies within a few tens of milliseconds: nothing rings.
    clack_s=Range(low=0.012, high=0.016),
    big_key_clack=1.4,
    hardness=Range(low=0.2, high=0.8),
    clack_dryness=0.3,
    press_attack_s=0.0003,
    release_attack_s=0.0002,
    # The cap springing back against its stop: a shorter, quieter clack.
    release_decay_s=Range(low=0.007, high=0.009),
    release_level=0.3,
    # A stabiliser wire rattles two or three times, briefly.
    rattles=Count(low=2, high=3),
    rattle_attack_s=0.0001,
    rattle_decay_s=0.0015,
    rattle_after_s=Range(low=0.004, high=0.016),
    rattle_level=0.3,
    # The switch gives way under the fingertip with a tiny, sharp tick...
    tick_hardness=0.95,
    tick_s=Range(low=0.001, high=0.003),
    tick_level=0.15,
    # ...and a few milliseconds later the cap bottoms out.
    bottom_out_s=Range(low=0.002, high=0.005),
    # A keyboard in front of the listener, a little over 20 degrees wide.
    width_deg=22.0,
)
"""The keyboard being typed on."""

Grains = tuple[NDArray[np.float32], ...]
Bank = tuple[Grains, ...]
Timeline = tuple[NDArray[np.float64], ...]


def deck_colour(
    rng: np.random.Generator, f: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return the keyboard deck's colour at ``f``: a few broad humps over a flat floor."""
    k = KEYBOARD
    centres = np.array([rng.uniform(h.low_hz, h.high_hz) for h in k.deck_humps])
    weights = np.array([1.0, *[level.draw_one(rng) for level in k.deck_hump_levels]])
    humps = sum(
        w * resonance(f, c, k.deck_hump_q)
        for c, w in zip(centres, weights, strict=True)
    )
    return np.asarray(k.deck_floor + (1.0 - k.deck_floor) * humps)


@dataclass(frozen=True, slots=True)
class KeyDraws:
    """Every random number one key is built from, in the order they are drawn."""

    low_hz: float
    """Lower corner of the key's part of the deck, in Hz."""

    high_hz: float
    """Upper corner of the key's part of the deck, in Hz."""

    clack_s: float
    """Decay of the key's clack, in seconds."""

    rattles: int
    """Rattles of the stabiliser wire after each press (long keys only)."""

    hardness: NDArray[np.float64]
    """Hardness of each strength of press, soft to hard."""

    release_decay_s: float
    """Decay of the release's clack, in seconds."""

    clack_noise: NDArray[np.float64]
    """Noise of the clacks: one row per press, the release, then the rattles."""

    tick_noise: NDArray[np.float64]
    """Noise of the switch's tick, one row per press."""

    tick_s: tuple[float, ...]
    """Time from a press's start to the switch's tick, per press, in seconds."""

    bottom_out_s: tuple[float, ...]
    """Time from the tick to the cap bottoming out, per press, in seconds."""

    rattle_after_s: tuple[tuple[float, ...], ...]
    """Time from bottoming out to each rattle, per press, in seconds."""


def draw_key(rng: np.random.Generator, *, big: bool) -> KeyDraws:
    """Draw everything one key is built from (see ``build_key``)."""
    k = KEYBOARD
    frames = RECIPE.grain_frames
    scale = k.big_key_band if big else 1.0
    low_hz = k.key_band.low_hz * scale * k.key_band_jitter.draw_one(rng)
    high_hz = k.key_band.high_hz * scale * k.key_band_jitter.draw_one(rng)
    clack_s = k.clack_s.draw_one(rng) * (k.big_key_clack if big else 1.0)
    rattles = k.rattles.draw_one(rng) if big else 0
    hardness = (np.arange(STRENGTHS) + k.hardness.draw(rng, STRENGTHS)) / STRENGTHS
    release_decay_s = k.release_decay_s.draw_one(rng)
    clack_noise = rng.standard_normal((STRENGTHS * (1 + rattles) + 1, frames))
    ticks = np.full(STRENGTHS, k.tick_hardness)
    tick_noise = rng.standard_normal((STRENGTHS, contact_frames(frames, ticks)))
    tick_s, bottom_out_s, rattle_after_s = [], [], []
    for _ in range(STRENGTHS):
        tick_s.append(k.tick_s.draw_one(rng))
        bottom_out_s.append(k.bottom_out_s.draw_one(rng))
        rattle_after_s.append(
            tuple(k.rattle_after_s.draw_one(rng) for _ in range(rattles))
        )
    return KeyDraws(
        low_hz,
        high_hz,
        clack_s,
        rattles,
        hardness,
        release_decay_s,
        clack_noise,
        tick_noise,
        tuple(tick_s),
        tuple(bottom_out_s),
        tuple(rattle_after_s),
    )


def build_key(
    draws: KeyDraws, board: NDArray[np.float64]
) -> tuple[NDArray[np.float64], ...]:
    """Return one key's press grains (``STRENGTHS``, soft to hard) and release grain.

    Each key sounds through its own part of the deck: its band moves a little. A long
    key (space, enter) is heavier: lower, longer, with a stabiliser wire that rattles.
    """
    k = KEYBOARD
    frames = RECIPE.grain_frames
    f = burst_frequencies(frames)
    deck = band(f, low_hz=draws.low_hz, high_hz=draws.high_hz, order=2) * board
    rattles = draws.rattles

    # A harder stroke is louder (set at placement) and a little drier. The release
    # (the cap springing back against its stop) is a shorter clack; the rattles of the
    # stabiliser wire are shorter still.
    hardness = draws.hardness
    attack = np.concatenate(
        [
            np.full(STRENGTHS, k.press_attack_s),
            [k.release_attack_s],
            np.full(STRENGTHS * rattles, k.rattle_attack_s),
        ]
    )
    decay = np.concatenate(
        [
            draws.clack_s * (1.0 + 0.5 * k.clack_dryness - k.clack_dryness * hardness),
            [draws.release_decay_s],
            np.full(STRENGTHS * rattles, k.rattle_decay_s),
        ]
    )
    clacks = shaped_bursts(draws.clack_noise, deck, attack_s=attack, decay_s=decay)
    ticks = contacts_from(draws.tick_noise, frames, np.full(STRENGTHS, k.tick_hardness))
    grains: list[NDArray[np.float64]] = []
    for v in range(STRENGTHS):
        press = np.zeros(frames)
        # The switch gives way under the fingertip: a tiny, sharp tick.
        at = int(draws.tick_s[v] * SAMPLE_RATE)
        press[at:] += k.tick_level * ticks[v, : frames - at]
        # A few milliseconds later the cap bottoms out and the deck clacks.
        at += int(draws.bottom_out_s[v] * SAMPLE_RATE)
        press[at:] += clacks[v, : frames - at]
        for r in range(rattles):
            at2 = at + int(draws.rattle_after_s[v][r] * SAMPLE_RATE)
            rattle = clacks[STRENGTHS + 1 + v * rattles + r, : frames - at2]
            press[at2:] += k.rattle_level * rattle
        press[:4] *= np.linspace(0.0, 1.0, 4)
        # The first milliseconds are bent softly, as the loudest strokes would
        # otherwise stand far above the rest.
        grains.append(RECIPE.tamed(press))
    grains.append(trimmed(k.release_level * clacks[STRENGTHS]))
    return tuple(grains)


def is_long_key(key: int) -> bool:
    """Return whether a key is a long one (space, enter), with a stabiliser wire."""
    return key in (SPACE, ENTER)


@shared_cache(maxsize=1)
def keyboard() -> tuple[NDArray[np.float64], tuple[Mapping[str, Any], ...]]:
    """Return the deck's colour and, per key, the generator's state where its draws begin.

    The keyboard is drawn from one generator (a fixed seed), the deck first, then key
    after key. The draws alone are cheap: taken once in that order, with the
    generator's state kept where each key begins, any key can be built on its own,
    exactly as a pass over the whole keyboard would build it.
    """
    rng = chunk_rng(0, "typing-bank", 0)
    board = deck_colour(rng, burst_frequencies(RECIPE.grain_frames))
    starts = []
    for key in range(KEYS):
        starts.append(rng.bit_generator.state)
        draw_key(rng, big=is_long_key(key))
    return board, tuple(starts)


@shared_cache(maxsize=KEYS)
def key_grains(key: int) -> tuple[Grains, Grains]:
    """Return one key's cached grains and their far-ear lowpasses.

    A key is built the first time a keystroke needs it, so a session's first block
    builds only the keys it strikes.

    Parameters
    ----------
    key
        A letter key ``0 .. LETTERS - 1``, or ``SPACE``, ``ENTER`` or ``BACKSPACE``.

    Returns
    -------
    tuple
        ``(grains, shadows)``: ``STRENGTHS`` presses (soft to hard) and the release,
        float32 and read-only, and the same through the far ear's head shadow.

    """
    board, starts = keyboard()
    rng = np.random.Generator(np.random.PCG64())
    rng.bit_generator.state = starts[key]  # where this key's draws begin
    draws = draw_key(rng, big=is_long_key(key))
    grains = tuple(g.astype(np.float32) for g in build_key(draws, board))
    for grain in grains:
        grain.flags.writeable = False
    return grains, tuple(head_shadow(g) for g in grains)


def grain_bank() -> tuple[Bank, Bank]:
    """Return every key's grains and far-ear lowpasses (see ``key_grains``), key by key."""
    keys = [key_grains(key) for key in range(KEYS)]
    return tuple(k[0] for k in keys), tuple(k[1] for k in keys)


def _key_spot(key: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return where each key sits across the keyboard, from -0.5 (left) to 0.5 (right)."""
    spot = (key % 10) / 9.0 - 0.5
    spot = np.where(key == SPACE, 0.0, spot)
    spot = np.where(key == ENTER, 0.45, spot)
    return np.where(key == BACKSPACE, 0.5, spot)


@dataclass(frozen=True, kw_only=True, slots=True)
class Prose:
    """The rhythm of someone writing prose: words, spaces, sentences and second thoughts."""

    lead_s: Range
    """Time from a segment's start to its first keystroke, in seconds."""

    tempo: Range
    """Pace of a sentence relative to the typist's usual (gaps scale with it)."""

    first_words: Count
    """Words left in the sentence under way when a segment begins."""

    sentence_words: Count
    """Words in a sentence."""

    letters_per_word: float
    """Mean letters of a word, beyond the first (Poisson)."""

    longest_word: int
    """Most letters a word has."""

    letter_gap_s: float
    """Median time between letters of a word at the usual pace, in seconds."""

    letter_gap_spread: float
    """Spread of the letter gaps (natural-log units)."""

    space_gap_s: float
    """Median time after a space at the usual pace, in seconds."""

    space_gap_spread: float
    """Spread of the gaps after a space (natural-log units)."""

    sentence_pause_s: float
    """Median pause at the end of a sentence, in seconds."""

    sentence_pause_spread: float
    """Spread of the sentence pauses (natural-log units)."""

    enter_chance: float
    """Chance that a sentence ends with the enter key (else a space)."""

    think_chance: float
    """Chance of a thinking pause after a word."""

    think_s: Range
    """Length of a thinking pause, in seconds."""

    backspace_chance: float
    """Chance that a word begins with a burst of backspaces (a second thought)."""

    backspaces: Count
    """Backspaces in a burst."""

    backspace_step_s: Range
    """Time between backspaces, in seconds."""

    hold_s: float
    """Median time a key is held down, in seconds."""

    hold_spread: float
    """Spread of the hold times (natural-log units)."""

    strength_spread: float
    """Spread of the keystrokes' strength (natural-log units)."""

    strength_bounds: Range
    """Softest and hardest keystroke."""

    big_key_boost: float
    """Strength of the space, enter and backspace keys relative to letters."""


PROSE = Prose(
    lead_s=Range(low=0.0, high=0.3),
    # Typists speed up and slow down from one sentence to the next.
    tempo=Range(low=0.85, high=1.2),
    first_words=Count(low=1, high=9),
    sentence_words=Count(low=4, high=11),
    # English words: about five letters on average, up to a dozen.
    letters_per_word=3.8,
    longest_word=11,
    # About 60 words a minute: a letter every 130 ms inside a word.
    letter_gap_s=0.13,
    letter_gap_spread=0.35,
    # A slightly longer gap after a space, where the next word is chosen.
    space_gap_s=0.2,
    space_gap_spread=0.4,
    # A breath at the end of a sentence.
    sentence_pause_s=1.1,
    sentence_pause_spread=0.35,
    enter_chance=0.25,
    think_chance=0.07,
    think_s=Range(low=1.0, high=2.2),
    backspace_chance=0.06,
    backspaces=Count(low=1, high=4),
    backspace_step_s=Range(low=0.1, high=0.16),
    # A key is held for most of a tenth of a second.
    hold_s=0.085,
    hold_spread=0.3,
    strength_spread=0.15,
    strength_bounds=Range(low=0.65, high=1.3),
    # The long keys are struck with a little more force (a thumb, a little finger).
    big_key_boost=1.1,
)
"""How the typist writes."""


@shared_cache(maxsize=SEGMENTS_KEPT)
def _timeline(seed: int, segment: int) -> Timeline:
    """Return one segment's keystrokes: press time (s), hold (s), key, strength."""
    rng = chunk_rng(seed, "typing/segment", segment)
    p = PROSE
    end = SEGMENT_S * (segment + 1)
    t = SEGMENT_S * segment + p.lead_s.draw_one(rng)
    times: list[float] = []
    keys: list[int] = []
    tempo = p.tempo.draw_one(rng)
    words_left = p.first_words.draw_one(rng)
    while t < end:
        if rng.uniform() < p.backspace_chance:
            for _ in range(p.backspaces.draw_one(rng)):
                times.append(t)
                keys.append(BACKSPACE)
                t += p.backspace_step_s.draw_one(rng)
        letters = int(np.clip(rng.poisson(p.letters_per_word) + 1, 1, p.longest_word))
        word = rng.integers(0, LETTERS, letters)
        gaps = rng.lognormal(
            np.log(p.letter_gap_s * tempo), p.letter_gap_spread, letters
        )
        for key, gap in zip(word, gaps, strict=True):
            times.append(t)
            keys.append(int(key))
            t += float(gap)
        words_left -= 1
        if words_left <= 0:
            times.append(t)
            keys.append(ENTER if rng.uniform() < p.enter_chance else SPACE)
            t += float(
                rng.lognormal(np.log(p.sentence_pause_s), p.sentence_pause_spread)
            )
            tempo = p.tempo.draw_one(rng)
            words_left = p.sentence_words.draw_one(rng)
        else:
            times.append(t)
            keys.append(SPACE)
            t += float(rng.lognormal(np.log(p.space_gap_s * tempo), p.space_gap_spread))
            if rng.uniform() < p.think_chance:
                t += p.think_s.draw_one(rng)
    n = len(times)
    hold = rng.lognormal(np.log(p.hold_s), p.hold_spread, n)
    strength = np.clip(
        rng.lognormal(0.0, p.strength_spread, n),
        p.strength_bounds.low,
        p.strength_bounds.high,
    )
    strength *= np.where(np.asarray(keys) >= LETTERS, p.big_key_boost, 1.0)
    when = np.asarray(times)
    keep = when < end
    return (
        when[keep],
        hold[keep],
        np.asarray(keys, dtype=np.float64)[keep],
        strength[keep],
    )


def render_chunk(request: ChunkRequest) -> NDArray[np.float32]:
    """Render the keystrokes that start in one chunk.

    Parameters
    ----------
    request
        Seed, chunk index and the layer's placement (kept in front: the centre is
        limited to 30 degrees either side and the sweep is damped).

    Returns
    -------
    NDArray[np.float32]
        ``(n, 2)`` stereo keystrokes, as long as they ring.

    """
    t0 = request.start_s
    times, hold, key_f, strength = _timeline(request.seed, request.index // SEGMENT_S)
    mine = (times >= t0) & (times < t0 + 1.0)
    if not mine.any():
        return silent_chunk()
    key = key_f[mine].astype(np.int64)
    banks = [key_grains(int(k)) for k in key]
    level = strength[mine]
    variant = np.clip((level - 0.7) * 5.0, 0, STRENGTHS - 1).astype(np.int64)
    press_at = np.round((times[mine] - t0) * SAMPLE_RATE).astype(np.int64)
    release_at = press_at + np.round(hold[mine] * SAMPLE_RATE).astype(np.int64)
    placement = request.placement
    centre = float(np.clip(placement.azimuth, -30.0, 30.0))
    wander = azimuth_at(placement, request.seed, times[mine], salt="typing")
    az = (
        centre
        + 0.25 * (wander - placement.azimuth)
        + KEYBOARD.width_deg * _key_spot(key)
    )
    events = [grains[v] for (grains, _), v in zip(banks, variant, strict=True)]
    events += [grains[STRENGTHS] for grains, _ in banks]
    lows = [shadows[v] for (_, shadows), v in zip(banks, variant, strict=True)]
    lows += [shadows[STRENGTHS] for _, shadows in banks]
    starts = np.concatenate([press_at, release_at])
    gains = np.concatenate([level, level * 0.8]) * RECIPE.gain
    frames = struck_frames(events, starts)
    out = place_events(
        frames, events, starts, gains, np.concatenate([az, az]), shadows=lows
    )
    rng = chunk_rng(request.seed, "typing/room", request.index)
    room = RECIPE.room
    add_room(out, rng, press_at, level * (RECIPE.gain * room.level), rt60_s=room.rt60_s)
    return out


TRIGGER = Trigger(
    id="typing",
    name="Typing",
    close=False,
    render_chunk=render_chunk,
    prepare=grain_bank,
)
