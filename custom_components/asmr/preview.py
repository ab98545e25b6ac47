"""Previews: a few seconds of a mix on one speaker, while it is being composed.

A preview is a short cast outside any session: it is served through the cast registry
like a session's casts, under its own token, and once its time is up the speaker is
stopped and given its volume back (only if it still plays the preview). The volume a
speaker had before its preview is kept while the preview lasts: a second preview on the
same speaker, or a session that starts over it, gives that volume back at its end, not
the preview's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
import secrets
from typing import Final

from homeassistant.core import CALLBACK_TYPE, Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_call_later
from homeassistant.util.hass_dict import HassKey

from . import speakers
from .casts import STREAM_PATH, Cast, cast_registry
from .const import DOMAIN
from .engine import SAMPLE_RATE, Scene

PREVIEW_SECONDS: Final = 30
"""Length of a preview."""
FADE_SECONDS: Final = 2.0
"""Fade in and out of a preview."""
GRACE_SECONDS: Final = 15
"""Time after a preview's length before it is ended (a speaker may start late)."""


@dataclass(kw_only=True, slots=True)
class _Preview:
    """A preview playing on a speaker: what ends it and the volume to give back."""

    volumes_before: dict[str, float | None]
    release: Callable[[], None]
    cancel: CALLBACK_TYPE | None = None


_PREVIEWS: HassKey[dict[str, _Preview]] = HassKey(f"{DOMAIN}_previews")
"""The previews playing now, by speaker."""


def volumes_before(
    hass: HomeAssistant, entity_ids: list[str]
) -> dict[str, float | None]:
    """Return the speakers' volumes, as they were before any preview playing on them."""
    result = speakers.volumes(hass, entity_ids)
    for entity_id, preview in hass.data.get(_PREVIEWS, {}).items():
        if entity_id in result and entity_id in preview.volumes_before:
            result[entity_id] = preview.volumes_before[entity_id]
    return result


async def async_play_preview(
    hass: HomeAssistant,
    scene: Scene,
    speaker: str,
    *,
    base_url: str,
    audio_format: str,
    volume: float,
    context: Context,
) -> None:
    """Cast ``PREVIEW_SECONDS`` of a scene to one speaker at a volume (0..1).

    Raises ``HomeAssistantError`` if the speaker does not take it.
    """
    token = secrets.token_urlsafe(24)
    cast = Cast(
        scene=scene,
        seed=secrets.randbits(31),
        start=0,
        stop=PREVIEW_SECONDS * SAMPLE_RATE,
        fade_in_s=FADE_SECONDS,
        fade_out_s=FADE_SECONDS,
        audio_format=audio_format,
    )
    name = f"preview.{audio_format}"
    registry = cast_registry(hass)
    unregister = registry.register(token, name, cast)

    def release() -> None:
        unregister()
        registry.async_close(token)

    previews = hass.data.setdefault(_PREVIEWS, {})
    before = volumes_before(hass, [speaker])
    earlier = previews.get(speaker)
    if earlier is not None:
        # The new preview replaces it: its end is the new one's.
        if earlier.cancel is not None:
            earlier.cancel()
        earlier.release()
    preview = previews[speaker] = _Preview(volumes_before=before, release=release)
    failed: list[str] = []

    def report(entity_id: str, what: str, err: Exception | None) -> None:
        if err is not None:
            failed.append(entity_id)

    played = await speakers.async_play(
        hass,
        [speaker],
        url=f"{base_url}{STREAM_PATH}/{token}/{name}",
        mime_type=cast.mime_type,
        volume=volume,
        context=context,
        report=report,
        volumes_before=before,
    )

    async def end() -> None:
        if previews.get(speaker) is preview:
            del previews[speaker]
        if speakers.is_ours(hass.states.get(speaker), token):
            await speakers.async_stop(
                hass,
                [speaker],
                marker=token,
                volumes_before=before,
                context=context,
            )
        release()

    @callback
    def ended(_now: datetime) -> None:
        hass.async_create_background_task(end(), f"{DOMAIN} end preview")

    if not played or failed:
        await end()
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="preview_failed",
            translation_placeholders={"speaker": speaker},
        )
    preview.cancel = async_call_later(hass, PREVIEW_SECONDS + GRACE_SECONDS, ended)
