"""The casts that running sessions serve, by session token and name.

A session registers each cast it sends to its speakers; the stream view looks a
requested URL up here. Neither knows the other: the registry is all they share.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
import hmac
import itertools
from typing import Final

import numpy as np
from numpy.typing import NDArray

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .engine import FORMATS, SAMPLE_RATE, Scene, encoded_size, render, stream_bytes

STREAM_PATH: Final = "/api/asmr/stream"
"""Where a session's casts are served: ``{STREAM_PATH}/{token}/{name}``."""
BLOCK_FRAMES: Final = SAMPLE_RATE
"""Frames rendered per step of a response (the grain of its pacing)."""

DATA_CASTS: HassKey[CastRegistry] = HassKey(f"{DOMAIN}_casts")


@dataclass(frozen=True, kw_only=True)
class Cast:
    """One cast of a session: the audio from ``start`` to ``stop`` (session frames)."""

    scene: Scene
    seed: int
    start: int
    stop: int
    fade_in_s: float
    fade_out_s: float
    audio_format: str

    @property
    def frames(self) -> int:
        """Return the length of this cast's audio, in frames."""
        return self.stop - self.start

    @property
    def mime_type(self) -> str:
        """Return the MIME type of this cast's audio."""
        return FORMATS[self.audio_format][0]

    def size(self) -> int | None:
        """Return the byte length of the file, when the format makes it known up front."""
        return encoded_size(self.audio_format, self.frames)

    def blocks_from(self, frame: int) -> Iterable[NDArray[np.float32]]:
        """Return the audio blocks of this cast from one of its frames to its end."""
        return render(
            self.scene,
            seed=self.seed,
            start=self.start + frame,
            stop=self.stop,
            fade_in_s=self.fade_in_s,
            fade_out_s=self.fade_out_s,
            blocksize=BLOCK_FRAMES,
        )

    def bytes_from(
        self,
        first_byte: int,
        blocks_from: Callable[[int], Iterable[NDArray[np.float32]]] | None = None,
    ) -> Generator[bytes]:
        """Return the encoded file from one of its bytes to its end.

        ``blocks_from`` stands in for ``self.blocks_from`` (to watch what is rendered).
        """
        yield from stream_bytes(
            blocks_from or self.blocks_from,
            fmt=self.audio_format,
            frames=self.frames,
            first_byte=first_byte,
        )


def _silence(frames: int) -> Iterator[NDArray[np.float32]]:
    """Yield ``frames`` frames of stereo silence in blocks of two seconds."""
    block = np.zeros((2 * SAMPLE_RATE, 2), dtype=np.float32)
    block.flags.writeable = False
    while frames > 0:
        yield block[: min(frames, len(block))]
        frames -= len(block)


@dataclass(frozen=True, kw_only=True)
class SessionCast(Cast):
    """A cast whose audio ends with ``tail_frames`` of silence after its fade-out.

    The speaker is then still playing when the session ends it: it is paused, gets its
    volume back and is stopped, instead of having finished on its own.
    """

    tail_frames: int = 0

    @property
    def frames(self) -> int:
        """Return the length of this cast's audio with its silent tail, in frames."""
        return self.stop - self.start + self.tail_frames

    def blocks_from(self, frame: int) -> Iterable[NDArray[np.float32]]:
        """Return the audio blocks of this cast from one of its frames to its end."""
        sounding = self.stop - self.start
        blocks = super().blocks_from(frame) if frame < sounding else ()
        return itertools.chain(blocks, _silence(self.frames - max(frame, sounding)))


class CastRegistry:
    """The casts being served, by session token and name, and who ends their streams."""

    def __init__(self) -> None:
        """Start with none."""
        self._casts: dict[str, dict[str, Cast]] = {}
        self._closers: list[Callable[[str], None]] = []

    @callback
    def register(self, token: str, name: str, cast: Cast) -> CALLBACK_TYPE:
        """Serve a cast under ``token`` and ``name``; return a function that stops it."""
        casts = self._casts.setdefault(token, {})
        casts[name] = cast

        @callback
        def unregister() -> None:
            if (named := self._casts.get(token)) is None or named.get(name) is not cast:
                return
            del named[name]
            if not named:
                del self._casts[token]

        return unregister

    def lookup(self, token: str, name: str) -> Cast | None:
        """Return the cast a stream URL names, if it is being served.

        Tokens are compared in constant time (and non-ASCII text names nothing).
        """
        if not token.isascii():
            return None
        for known, casts in self._casts.items():
            if hmac.compare_digest(token, known):
                return casts.get(name)
        return None

    @callback
    def async_listen_close(self, closer: Callable[[str], None]) -> CALLBACK_TYPE:
        """Call ``closer(token)`` when a session's streams must end; return the undo."""
        self._closers.append(closer)

        @callback
        def remove() -> None:
            self._closers.remove(closer)

        return remove

    @callback
    def async_close(self, token: str) -> None:
        """End the responses still streaming a session's casts."""
        for closer in list(self._closers):
            closer(token)


@callback
def cast_registry(hass: HomeAssistant) -> CastRegistry:
    """Return the integration's registry of casts, made on first use."""
    if (registry := hass.data.get(DATA_CASTS)) is None:
        registry = hass.data[DATA_CASTS] = CastRegistry()
    return registry
