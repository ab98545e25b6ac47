"""A session's gain envelope: keyframes that shape its sound over the session's frames.

The audio of a session is a pure function of ``(scene, seed, frame)`` times this gain.
The envelope is a list of keyframes, each a ramp ``(frame, length, start, to)``: from
``frame`` the gain moves from ``start`` to ``to`` along a raised cosine over ``length``
frames, then holds ``to`` until the next keyframe's frame. Frames increase from one
keyframe to the next; before the first the gain is its ``start``. A session starts as a
fade-in ramp at frame 0 and a fade-out ramp that ends at the session's end (then
silence).

An extend or a stop with a fade never rewrites the past: it keeps the keyframes that
begin before a frame, cutting the last one short there (its curve up to the cut is the
same), and adds ramps from that frame on, starting from the gain the envelope has there,
so the sound never jumps. The session picks that frame past every frame a stream has
already rendered (see ``casts.LiveEnvelope``), so audio already served never changes and
a ``Range`` request for it gets the same bytes again. The keyframes are stored with the
session's plan: a restart resumes the same envelope.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

type Keyframe = tuple[int, int, float, float]
"""A ramp: its first frame, its length in frames, its gain at the start and at the end."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A gain curve over session frames, given by keyframes (see the module docstring)."""

    keyframes: tuple[Keyframe, ...]

    def __post_init__(self) -> None:
        """Refuse keyframes that do not make a curve (``ValueError``)."""
        if not self.keyframes:
            raise ValueError("an envelope needs at least one keyframe")
        last = -1
        for frame, length, start, to in self.keyframes:
            if frame <= last or length < 0:
                raise ValueError(f"keyframes must begin in order, got {frame}")
            for gain in (start, to):
                if not (math.isfinite(gain) and 0.0 <= gain <= 1.0):
                    raise ValueError(f"keyframe gain out of range: {gain!r}")
            last = frame

    @classmethod
    def session(cls, *, fade_in: int, fade_at: int, end: int) -> Self:
        """Return a session's envelope: fade in, hold, fade out to silence at ``end``.

        A session shorter than its fades fades in as far as its fade-out begins.
        """
        end = max(end, 1)
        fade_at = min(max(fade_at, 0), end - 1)
        rise = min(max(fade_in, 0), fade_at)
        keys: list[Keyframe] = []
        if rise > 0:
            keys.append((0, rise, 0.0, 1.0))
        keys.append((fade_at, end - fade_at, 1.0, 0.0))
        return cls(tuple(keys))

    @classmethod
    def from_data(cls, data: Any) -> Self:
        """Return an envelope read back from storage (``ValueError`` if malformed)."""
        try:
            keys = tuple(
                (int(frame), int(length), float(start), float(to))
                for frame, length, start, to in data
            )
        except (TypeError, ValueError) as err:
            raise ValueError(f"malformed envelope ({err!r})") from err
        return cls(keys)

    def as_data(self) -> list[list[float]]:
        """Return the keyframes as JSON-serialisable data."""
        return [list(key) for key in self.keyframes]

    @property
    def end(self) -> int | None:
        """Return the frame from which the envelope is silent for good (None: never)."""
        frame, length, _start, to = self.keyframes[-1]
        return frame + length if to == 0.0 else None

    @property
    def change_at(self) -> int:
        """Return the frame where the last keyframe begins (the last change so far)."""
        return self.keyframes[-1][0]

    def silent_from(self, frame: int) -> bool:
        """Return whether every frame from ``frame`` on has a gain of zero."""
        end = self.end
        return end is not None and frame >= end

    def gain(self, frame: int) -> float:
        """Return the gain at one frame."""
        gains = self.gains(frame, 1)
        return gains if isinstance(gains, float) else float(gains[0])

    def gains(self, first: int, count: int) -> NDArray[np.float32] | float:
        """Return the gains of ``count`` frames from ``first``.

        A single float stands for a constant gain over all of them.
        """
        keys = self.keyframes
        begins = np.asarray([k[0] for k in keys], dtype=np.int64)
        last = first + count - 1
        lo = int(np.searchsorted(begins, first, side="right")) - 1
        hi = int(np.searchsorted(begins, last, side="right")) - 1
        if lo < 0 and hi < 0:
            return keys[0][2]
        if lo == hi and first >= keys[lo][0] + keys[lo][1]:
            return keys[lo][3]  # past its ramp: holding
        at = np.arange(first, first + count, dtype=np.int64)
        index = np.searchsorted(begins, at, side="right") - 1
        out = np.full(count, keys[0][2], dtype=np.float64)
        for i in range(max(lo, 0), hi + 1):
            frame, length, start, to = keys[i]
            mine = index == i
            t = np.clip((at[mine] - frame) / max(length, 1), 0.0, 1.0)
            if length == 0:
                t[:] = 1.0
            out[mine] = start + (to - start) * (0.5 - 0.5 * np.cos(np.pi * t))
        return np.asarray(out, dtype=np.float32)

    def cut(self, at: int) -> list[Keyframe]:
        """Return the keyframes that shape the frames before ``at`` (as they are)."""
        return [k for k in self.keyframes if k[0] < at]

    def fading(self, at: int, end: int) -> Envelope:
        """Return this envelope up to ``at``, then a fade to silence at ``end``."""
        keys = self.cut(at)
        keys.append((at, max(end - at, 0), self.gain(at), 0.0))
        return Envelope(tuple(keys))

    def extended(self, at: int, *, fade_at: int, end: int, recover: int) -> Envelope:
        """Return this envelope up to ``at``, then a session that ends at ``end``.

        From ``at`` the gain comes back to full over ``recover`` frames (if a fade had
        begun), holds until ``fade_at`` and fades out to silence at ``end``.
        """
        keys = self.cut(at)
        gain = self.gain(at)
        fade_at = max(fade_at, at)
        # A ramp still under way at ``at`` (its first frames round to a gain of 1.0) or
        # one that ended below full would go on shaping the frames until ``fade_at``.
        frame, length, _start, to = keys[-1] if keys else self.keyframes[0]
        moving = at < frame + length or to < 1.0
        if moving and fade_at > at:
            keys.append((at, min(recover, fade_at - at), gain, 1.0))
            gain = Envelope(tuple(keys)).gain(fade_at)
        keys.append((fade_at, max(end - fade_at, 1), gain, 0.0))
        return Envelope(tuple(keys))
