"""The casts that running sessions serve, by session token and name.

A session registers each cast it sends to its speakers; the stream view looks a
requested URL up here. Neither knows the other: the registry is all they share.

A session's cast (``SessionCast``) does not end where the session is planned to end: its
file runs to a horizon ``HORIZON_SECONDS`` past that end, and its audio is the scene times
the session's live envelope (``LiveEnvelope``), silence once the envelope is over. So an
extend or a stop with a fade changes the audio still to come in the stream the speaker
already plays: no new URL, no gap. The file's length is still fixed and known up front
(``Content-Length``, ``HEAD`` and ``Range`` answers as before, MP3 byte offsets on its
frame grid): Cast, Sonos and DLNA renderers play a finite file far more reliably than an
endless stream, and MPD plays either. The session ends the speaker (pause, volume back,
stop) and then the responses, long before the horizon; only an extend past the horizon
casts a new URL. A speaker that joins mid-session, or is cast again after it dropped,
gets a new cast from the frame playing now under the same live envelope: it hears what
the others hear, from where they are.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
import hmac
import threading
from typing import ClassVar, Final

import numpy as np
from numpy.typing import NDArray

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .engine import FORMATS, SAMPLE_RATE, Scene, encoded_size, render, stream_bytes
from .envelope import Envelope

STREAM_PATH: Final = "/api/asmr/stream"
"""Where a session's casts are served: ``{STREAM_PATH}/{token}/{name}``."""
BLOCK_FRAMES: Final = SAMPLE_RATE
"""Frames rendered per step of a response (the grain of its pacing)."""
COMMIT_REACH_FRAMES: Final = 60 * SAMPLE_RATE
"""How far past the frame playing now a response must begin for its frames to commit."""
HORIZON_SECONDS: Final = 2 * 3600
"""How far past the session's planned end a session's cast runs (its file's length).

Extends that stay within it change the stream in place; the silence after the end costs
nothing (the scene is not rendered there) and is never played (the session stops the
speaker at its end). Two hours keep WAV files of sessions up to four hours within the
32-bit sizes of a RIFF header."""

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
    speakers: int = 1
    """How many speakers the cast's session streams to (its room's speakers)."""

    LIVE: ClassVar[bool] = False
    """Whether the audio still to come can change while it streams (see ``SessionCast``)."""

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


class LiveEnvelope:
    """A session's envelope as its streams render it, and how far they have rendered.

    Every block a stream renders takes its gains from here and marks its frames as
    committed: from then on they never change. A change of the envelope (an extend, a
    stop with a fade) applies only from the committed frame on, so every stream of the
    session, and any ``Range`` request for audio already served, hears the same audio
    before it. A lock makes a block's gains and its commitment one step, whichever
    thread renders it.
    """

    def __init__(
        self, envelope: Envelope, playing: Callable[[], int], committed: int = 0
    ) -> None:
        """Start from an envelope, with the frames before ``committed`` committed.

        ``playing()`` returns the session frame that plays now.
        """
        self._envelope = envelope
        self._playing = playing
        self._committed = committed
        self._lock = threading.Lock()

    @property
    def envelope(self) -> Envelope:
        """Return the envelope as it stands."""
        return self._envelope

    @property
    def committed(self) -> int:
        """Return the first frame no stream has rendered yet."""
        return self._committed

    def claim(self, first: int, count: int) -> NDArray[np.float32] | float | None:
        """Commit ``count`` frames from ``first``; return their gains (None: silence).

        None means the envelope is silent from ``first`` on, as it stands. Frames that
        do not follow on from what is committed or playing (within
        ``COMMIT_REACH_FRAMES``) are not committed: a renderer probing the end of the
        file gets them as the envelope stands, but they do not hold back a change of
        the audio that plays next.
        """
        with self._lock:
            reach = max(self._committed, self._playing() + COMMIT_REACH_FRAMES)
            if first <= reach:
                self._committed = max(self._committed, first + count)
            if self._envelope.silent_from(first):
                return None
            return self._envelope.gains(first, count)

    def change(
        self, earliest: int, edit: Callable[[Envelope, int], Envelope]
    ) -> tuple[Envelope, int]:
        """Change the envelope from the first frame that is free to change.

        That frame is the later of ``earliest`` and the committed frame; ``edit`` gets
        the envelope and that frame and returns the new envelope. Return both.
        """
        with self._lock:
            at = max(earliest, self._committed)
            self._envelope = edit(self._envelope, at)
            return self._envelope, at


@dataclass(frozen=True, kw_only=True)
class SessionCast(Cast):
    """A cast of a running session: its audio follows the session's live envelope.

    The file runs from ``start`` to ``stop`` (the cast's horizon, past the session's
    planned end): after the envelope's end it is silence, so the speaker still plays
    (and still takes a volume) when the session ends it, and an extend that stays
    within the horizon needs no new cast. The envelope is the session's fades;
    ``fade_in_s`` is the cast's own, from its first frame: a speaker that joins while
    the session plays at full level starts from silence. ``fade_out_s`` is unused.
    """

    envelope: LiveEnvelope

    LIVE: ClassVar[bool] = True

    def blocks_from(self, frame: int) -> Iterator[NDArray[np.float32]]:
        """Return the audio blocks of this cast from one of its frames to its end.

        The scene is rendered only where the envelope is not silent; a render resumes
        (deterministically) where the envelope comes back.
        """
        position = self.start + frame
        rise = round(self.fade_in_s * SAMPLE_RATE)
        blocks: Iterator[NDArray[np.float32]] | None = None
        try:
            while position < self.stop:
                count = min(BLOCK_FRAMES, self.stop - position)
                gains = self.envelope.claim(position, count)
                if gains is not None and position - self.start < rise:
                    t = (np.arange(count) + (position - self.start)) / rise
                    gains = gains * (
                        0.5 - 0.5 * np.cos(np.pi * np.minimum(t, 1.0))
                    ).astype(np.float32)
                if gains is None:
                    _closed(blocks)
                    blocks = None
                    yield np.zeros((count, 2), dtype=np.float32)
                else:
                    if blocks is None:
                        blocks = iter(
                            render(
                                self.scene,
                                seed=self.seed,
                                start=position,
                                stop=self.stop,
                                fade_in_s=0.0,
                                fade_out_s=0.0,
                                blocksize=BLOCK_FRAMES,
                            )
                        )
                    block = next(blocks)
                    if isinstance(gains, float):
                        yield block if gains == 1.0 else block * np.float32(gains)
                    else:
                        yield block * gains[:, None]
                position += count
        finally:
            _closed(blocks)


def _closed(blocks: Iterator[NDArray[np.float32]] | None) -> None:
    """Close a render that is no longer read (its memory goes back at once)."""
    if isinstance(blocks, Generator):
        blocks.close()


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
