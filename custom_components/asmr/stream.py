"""The HTTP view that serves a session's audio, rendered block by block."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from dataclasses import dataclass
from http import HTTPStatus
import logging
import re

from aiohttp import web
import numpy as np
from numpy.typing import NDArray

from homeassistant.core import HomeAssistant
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView

from .const import DOMAIN
from .engine import FORMATS, SAMPLE_RATE, Scene, encoded_size, render, stream_bytes

_LOGGER = logging.getLogger(__name__)

STREAM_PATH = "/api/asmr/stream"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


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
            blocksize=SAMPLE_RATE * 2,
        )

    def bytes_from(self, first_byte: int) -> Generator[bytes]:
        """Return the encoded file from one of its bytes to its end."""
        yield from stream_bytes(
            self.blocks_from,
            fmt=self.audio_format,
            frames=self.frames,
            first_byte=first_byte,
        )


def _find_cast(hass: HomeAssistant, token: str, name: str) -> Cast | None:
    """Return the cast a request names, if its session is still running."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        cast: Cast | None = entry.runtime_data.cast_for(token, name)
        if cast is not None:
            return cast
    return None


def _byte_range(header: str | None, size: int | None) -> tuple[int, int] | None:
    """Return the first and last byte a Range header asks for (None = the whole file)."""
    if header is None or size is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first:  # the last N bytes
        length = int(last or 0)
        return (max(size - length, 0), size - 1)
    return (int(first), min(int(last), size - 1) if last else size - 1)


class AsmrStreamView(HomeAssistantView):
    """Serve the audio of a running session to the room's speakers.

    The URL carries an unguessable per-session token; it answers only while the
    session lasts. Formats with a known length get ``Content-Length``, ``HEAD`` and
    ``Range`` (206) answers, as Cast and DLNA players expect.
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
        return _find_cast(hass, token, name)

    async def _serve(
        self, request: web.Request, token: str, name: str, *, body: bool
    ) -> web.StreamResponse:
        """Answer a request for a cast's audio."""
        hass = request.app[KEY_HASS]
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
        await response.prepare(request)
        if not body:
            return response
        remaining = response.content_length
        chunks = cast.bytes_from(first)  # a generator: closed when we stop early
        while True:
            # Not a tracked executor job: a stream lasts as long as the speaker reads it.
            data: bytes | None = await hass.loop.run_in_executor(
                None, next, chunks, None
            )
            if data is None:
                break
            if remaining is not None:
                data = data[:remaining]
                remaining -= len(data)
            try:
                await response.write(data)
            except ConnectionResetError:
                _LOGGER.debug("Speaker closed the stream %s", name)
                break
            if remaining == 0:
                break
        chunks.close()
        await response.write_eof()
        return response
