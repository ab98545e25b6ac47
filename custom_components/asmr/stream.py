"""The HTTP view that serves a session's audio, rendered block by block.

Every response is paced: its first ``BURST_SECONDS`` of audio go out as fast as the
speaker reads them, then it renders at most ``AHEAD_SECONDS`` ahead of real time, so a
speaker that prefetches a whole night costs a few seconds of CPU, not half an hour.

A running session's stream can still change (an extend, a stop with a fade change the
audio still to come, from the first frame no response has rendered): whatever a
response has rendered, the speaker will play. So its lead is short: a burst of
``LIVE_BURST_SECONDS`` (enough for a speaker to start and probe its decoders), then at
most ``LIVE_AHEAD_SECONDS`` ahead of real time. A stop with a fade is then heard fading
within about that lead (plus what the speaker itself buffers of what it has read),
and a few seconds of lead still ride out a slow render on a busy machine. Fixed files
(the media browser's) keep the long lead.
Responses are capped per session token and in all, and the responses of a session
close when it ends (``async_close_streams``). Their audio is synthesised and encoded on
threads of the integration's own, one per CPU: the work is CPU-bound, so more threads
would not make it faster, and however many rooms play, only that many threads hold a
render's scratch memory (about 6 MB each) instead of one per room.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import contextlib
from dataclasses import dataclass, field
from http import HTTPStatus
import logging
import os
import re
import threading

from aiohttp import web
import numpy as np
from numpy.typing import NDArray

from homeassistant.const import EVENT_HOMEASSISTANT_CLOSE, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.util.executor import InterruptibleThreadPoolExecutor
from homeassistant.util.hass_dict import HassKey

from .casts import BLOCK_FRAMES, STREAM_PATH, Cast, cast_registry
from .const import DOMAIN
from .engine import SAMPLE_RATE, EngineError

_LOGGER = logging.getLogger(__name__)

BURST_SECONDS = 120.0
"""Audio a response may send as fast as it is read, in seconds."""
AHEAD_SECONDS = 120.0
"""How far ahead of real time (since the response began) it may render after its burst."""
LIVE_BURST_SECONDS = 10.0
"""The burst of a stream whose audio can still change (a running session's)."""
LIVE_AHEAD_SECONDS = 5.0
"""How far ahead of real time a stream whose audio can still change may render."""
MAX_RESPONSES_PER_TOKEN = 4
"""Responses in flight for one session token; one more is answered 429. A room of more
than two speakers allows two for each (a speaker cast again overlaps its old one)."""
RESPONSES_PER_SPEAKER = 2
"""Responses in flight a session token allows for each of its room's speakers."""
MAX_RESPONSES = 16
"""Responses in flight for all streams together; one more is answered 503."""
RETRY_AFTER_SECONDS = 30
"""What a refused speaker is told to wait before it tries again."""

_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
_HUGE = 2**63
"""Stands for a byte position written with too many digits to mean any real file."""

DATA_STREAMS: HassKey[StreamRegistry] = HassKey(f"{DOMAIN}_streams")


class _Feed:
    """A cast's bytes, pulled one step at a time off the event loop.

    Counts the frames rendered; a lock lets ``close`` wait for a step still running in
    the executor when the response is cancelled.
    """

    def __init__(self, cast: Cast, first_byte: int) -> None:
        """Prepare (not start) the encoded file from ``first_byte``."""
        self.frames = 0
        """Frames of audio rendered so far."""
        self._cast = cast
        self._lock = threading.Lock()
        self._chunks = cast.bytes_from(first_byte, self._blocks_from)

    def _blocks_from(self, frame: int) -> Iterator[NDArray[np.float32]]:
        """Yield the cast's blocks from ``frame``, counting them."""
        for block in self._cast.blocks_from(frame):
            self.frames += block.shape[0]
            yield block

    def step(self) -> bytes | None:
        """Return the next bytes of the file (None at its end). Runs in the executor."""
        with self._lock:
            return next(self._chunks, None)

    def close(self) -> None:
        """Stop rendering and free the encoder. Runs in the executor."""
        with self._lock:
            self._chunks.close()


@dataclass(eq=False, kw_only=True)
class _Response:
    """A response in flight, as the registry sees it."""

    key: str
    transport: asyncio.Transport | None
    started: float
    live: bool = False
    """Whether its audio can still change (the short lead applies)."""
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def async_wait_for_room(self, hass: HomeAssistant, rendered: int) -> bool:
        """Wait until one more block keeps the response within its pacing window.

        The response may have rendered ``max(BURST_SECONDS, AHEAD_SECONDS + elapsed)``
        seconds of audio after ``elapsed`` seconds (each no more than its live value
        for a stream that can still change). Return False when it is closed.
        """
        burst, ahead = BURST_SECONDS, AHEAD_SECONDS
        if self.live:
            burst, ahead = (
                min(burst, LIVE_BURST_SECONDS),
                min(ahead, LIVE_AHEAD_SECONDS),
            )
        while not self.closing.is_set():
            elapsed = hass.loop.time() - self.started
            allowed = max(burst, ahead + elapsed) * SAMPLE_RATE
            early = (rendered + BLOCK_FRAMES - allowed) / SAMPLE_RATE
            if early <= 0:
                return True
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(early):
                    await self.closing.wait()
        return False

    @callback
    def async_close(self) -> None:
        """End the response now: stop rendering and drop the connection."""
        self.closing.set()
        if self.transport is not None:
            # The file cannot be completed: abort, so the speaker does not wait for it.
            self.transport.abort()


class StreamRegistry:
    """The responses in flight, by session token (or another key naming one stream)."""

    def __init__(self) -> None:
        """Start with none, and the threads that render them (started when needed)."""
        self._responses: dict[str, set[_Response]] = {}
        self.executor = InterruptibleThreadPoolExecutor(
            max_workers=os.cpu_count() or 1, thread_name_prefix=f"{DOMAIN}_sound"
        )
        """Where the responses' audio is synthesised and encoded."""

    def count(self, key: str | None = None) -> int:
        """Return how many responses are in flight for ``key`` (None: for all keys)."""
        if key is not None:
            return len(self._responses.get(key, ()))
        return sum(len(responses) for responses in self._responses.values())

    def refusal(self, key: str, allowed: int) -> HTTPStatus | None:
        """Return the status refusing one more response for ``key``, if over a cap.

        ``key`` may have ``allowed`` responses in flight; all keys together
        ``MAX_RESPONSES``.
        """
        if self.count(key) >= allowed:
            return HTTPStatus.TOO_MANY_REQUESTS
        if self.count() >= MAX_RESPONSES:
            return HTTPStatus.SERVICE_UNAVAILABLE
        return None

    @contextlib.contextmanager
    def admitted(self, response: _Response) -> Iterator[_Response]:
        """Hold a place for a response while it streams."""
        self._responses.setdefault(response.key, set()).add(response)
        try:
            yield response
        finally:
            responses = self._responses[response.key]
            responses.discard(response)
            if not responses:
                del self._responses[response.key]

    @callback
    def async_close(self, key: str | None = None) -> None:
        """End every response in flight for ``key`` (None: for all keys)."""
        keys = list(self._responses) if key is None else [key]
        for each in keys:
            for response in list(self._responses.get(each, ())):
                response.async_close()


@callback
def _registry(hass: HomeAssistant) -> StreamRegistry:
    """Return the registry of responses in flight, made on first use."""
    if (registry := hass.data.get(DATA_STREAMS)) is None:
        registry = hass.data[DATA_STREAMS] = StreamRegistry()

        @callback
        def close_all(_event: Event) -> None:
            registry.async_close()

        async def shut_down(_event: Event) -> None:
            await hass.async_add_executor_job(registry.executor.shutdown)

        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, close_all)
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_CLOSE, shut_down)
        cast_registry(hass).async_listen_close(registry.async_close)
    return registry


@callback
def async_close_streams(hass: HomeAssistant, token: str) -> None:
    """End the responses in flight of a session's stream (at the session's end)."""
    _registry(hass).async_close(token)


@callback
def active_responses(hass: HomeAssistant, token: str | None = None) -> int:
    """Return how many responses of a session (None: of all streams) are in flight."""
    return _registry(hass).count(token)


def _byte_range(header: str | None, size: int | None) -> tuple[int, int] | None:
    """Return the first and last byte a Range header asks for (None = the whole file).

    A header that is not one byte range is ignored (RFC 9110 allows it); a range that
    starts past the end comes back with ``first > last`` (416).
    """
    if header is None or size is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = (_position(group) for group in match.groups())
    if first is None:  # the last N bytes
        length = last or 0
        return (max(size - length, 0), size - 1)
    return (first, min(last, size - 1) if last is not None else size - 1)


def _position(digits: str) -> int | None:
    """Return a byte position of a Range header (None when left out)."""
    if not digits:
        return None
    return int(digits) if len(digits) <= 18 else _HUGE


class AsmrStreamView(HomeAssistantView):
    """Serve the audio of a running session to the room's speakers.

    The URL carries an unguessable per-session token; it answers only while the
    session lasts. Formats with a known length get ``Content-Length``, ``HEAD`` and
    ``Range`` (206) answers, as Cast and DLNA players expect. Bodies are paced and
    capped (see the module's docstring); ``HEAD`` and 416 answers render nothing.
    """

    url = STREAM_PATH + "/{token}/{name}"
    name = "api:asmr:stream"
    requires_auth = False

    async def head(
        self, request: web.Request, token: str, name: str
    ) -> web.StreamResponse:
        """Answer the headers of a session's audio."""
        return await self._serve(request, token, name, body=False)

    async def get(
        self, request: web.Request, token: str, name: str
    ) -> web.StreamResponse:
        """Stream a session's audio."""
        return await self._serve(request, token, name, body=True)

    def find_cast(self, hass: HomeAssistant, token: str, name: str) -> Cast | None:
        """Return the cast a URL names: a running session's, by its token."""
        return cast_registry(hass).lookup(token, name)

    def stream_key(self, token: str, name: str) -> str:
        """Return what the per-stream cap counts responses by: the session token."""
        return token

    async def _serve(
        self, request: web.Request, token: str, name: str, *, body: bool
    ) -> web.StreamResponse:
        """Answer a request for a cast's audio."""
        hass = request.app[KEY_HASS]
        # Tokens and names are ASCII: anything else names nothing (and must never reach
        # a constant-time comparison, which refuses non-ASCII text).
        if not (_TOKEN.fullmatch(token) and _NAME.fullmatch(name)):
            return web.Response(status=HTTPStatus.NOT_FOUND)
        cast = self.find_cast(hass, token, name)
        if cast is None:
            return web.Response(status=HTTPStatus.NOT_FOUND)
        size = cast.size()
        wanted = _byte_range(request.headers.get("Range"), size)
        response = web.StreamResponse()
        response.content_type = cast.mime_type
        response.headers["Cache-Control"] = "no-store"
        first = 0
        if size is not None:
            response.headers["Accept-Ranges"] = "bytes"
            if wanted is not None:
                first, last = wanted
                if first > last:
                    response.set_status(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    response.headers["Content-Range"] = f"bytes */{size}"
                    response.content_length = 0
                    await response.prepare(request)
                    return response
                response.set_status(HTTPStatus.PARTIAL_CONTENT)
                response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
                response.content_length = last - first + 1
            else:
                response.content_length = size
        if not body:
            await response.prepare(request)
            return response
        registry = _registry(hass)
        key = self.stream_key(token, name)
        allowed = max(MAX_RESPONSES_PER_TOKEN, RESPONSES_PER_SPEAKER * cast.speakers)
        if (refused := registry.refusal(key, allowed)) is not None:
            _LOGGER.debug("Refused a stream of %s: %s", name, refused.phrase)
            return web.Response(
                status=refused, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
        _LOGGER.debug(
            "Streaming %s from byte %d (Range %s; %d in flight for it)",
            name,
            first,
            request.headers.get("Range"),
            registry.count(key),
        )
        entry = _Response(
            key=key,
            transport=request.transport,
            started=hass.loop.time(),
            live=cast.LIVE,
        )
        feed = _Feed(cast, first)
        try:
            # The place is free as soon as the speaker has gone: one probing its decoders
            # opens and drops several responses in a second.
            with registry.admitted(entry):
                await self._send(request, response, entry, feed, registry.executor)
        finally:
            # In the executor, after a step that may still run there if the speaker went
            # away; the handler lasts until rendering has stopped.
            closed = hass.loop.run_in_executor(registry.executor, feed.close)
            closed.add_done_callback(_closed)
            await asyncio.wait([closed])
        return response

    async def _send(
        self,
        request: web.Request,
        response: web.StreamResponse,
        entry: _Response,
        feed: _Feed,
        executor: InterruptibleThreadPoolExecutor,
    ) -> None:
        """Write a cast's bytes, paced, until its end, its session's end or the reader's."""
        hass = request.app[KEY_HASS]
        remaining = response.content_length
        try:
            await response.prepare(request)
            while remaining != 0 and await entry.async_wait_for_room(hass, feed.frames):
                # Not a tracked executor job: a stream lasts as long as the speaker reads it.
                data = await hass.loop.run_in_executor(executor, feed.step)
                if data is None or entry.closing.is_set():
                    break
                if remaining is not None:
                    data = data[:remaining]
                    remaining -= len(data)
                await response.write(data)
            if not entry.closing.is_set():
                await response.write_eof()
        except ConnectionError:
            _LOGGER.debug("A speaker closed its stream")
        except EngineError as err:
            # Cut short, not padded: the speaker stops and the session casts it again.
            _LOGGER.error("An ASMR audio stream stopped early: %s", err)
            entry.async_close()


def _closed(future: asyncio.Future[None]) -> None:
    """Log a failure to free a stream's encoder (the stream itself is over)."""
    if not future.cancelled() and (err := future.exception()) is not None:
        _LOGGER.warning("Could not close an audio stream cleanly: %r", err)
