"""Speakers: remember volumes, cast the session's stream, stop and put volumes back."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from homeassistant.components.media_player.const import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaPlayerEntityFeature,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_SET,
)
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .lights import is_available

_LOGGER = logging.getLogger(__name__)


def volumes(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, float | None]:
    """Return the current volume of each available speaker (None if it has none)."""
    result: dict[str, float | None] = {}
    for entity_id in entity_ids:
        state = hass.states.get(entity_id)
        if is_available(state) and state is not None:
            level = state.attributes.get(ATTR_MEDIA_VOLUME_LEVEL)
            result[entity_id] = float(level) if level is not None else None
    return result


def content_id(hass: HomeAssistant, entity_id: str) -> str | None:
    """Return what a speaker is playing now."""
    state = hass.states.get(entity_id)
    if state is None:
        return None
    value = state.attributes.get(ATTR_MEDIA_CONTENT_ID)
    return str(value) if value is not None else None


async def _call(
    hass: HomeAssistant, service: str, data: dict[str, Any], context: Context
) -> bool:
    """Call a media player service; return whether it worked (a failure is logged)."""
    try:
        await hass.services.async_call(
            MEDIA_PLAYER_DOMAIN, service, data, blocking=True, context=context
        )
    except HomeAssistantError as err:
        _LOGGER.warning("Could not %s on %s: %s", service, data[ATTR_ENTITY_ID], err)
        return False
    return True


async def async_set_volume(
    hass: HomeAssistant, entity_ids: list[str], level: float, context: Context
) -> None:
    """Set the volume of speakers (0..1)."""
    await asyncio.gather(
        *(
            _call(
                hass,
                SERVICE_VOLUME_SET,
                {ATTR_ENTITY_ID: entity_id, ATTR_MEDIA_VOLUME_LEVEL: level},
                context,
            )
            for entity_id in entity_ids
        )
    )


async def async_play(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    url: str,
    mime_type: str,
    volume: float | None,
    context: Context,
) -> list[str]:
    """Cast a stream to speakers at a volume; return the speakers that took it."""

    async def one(entity_id: str) -> bool:
        if not is_available(hass.states.get(entity_id)):
            return False
        if volume is not None:
            await _call(
                hass,
                SERVICE_VOLUME_SET,
                {ATTR_ENTITY_ID: entity_id, ATTR_MEDIA_VOLUME_LEVEL: volume},
                context,
            )
        return await _call(
            hass,
            SERVICE_PLAY_MEDIA,
            {
                ATTR_ENTITY_ID: entity_id,
                ATTR_MEDIA_CONTENT_ID: url,
                ATTR_MEDIA_CONTENT_TYPE: mime_type,
            },
            context,
        )

    done = await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
    return [entity_id for entity_id, ok in zip(entity_ids, done, strict=True) if ok]


async def async_stop(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    marker: str,
    volumes_before: dict[str, float | None],
    context: Context,
) -> None:
    """Stop the speakers still playing our stream (``marker`` in the URL), restore volumes.

    A speaker playing our stream is paused before its volume goes back, so the old
    (louder) volume never meets our sound; some players (MPD's software mixer) only
    take a volume while their output is open, so the volume goes back before the stop.
    """

    async def one(entity_id: str) -> None:
        state = hass.states.get(entity_id)
        if not is_available(state) or state is None:
            return
        ours = marker in (content_id(hass, entity_id) or "")
        if ours and state.attributes.get(ATTR_SUPPORTED_FEATURES, 0) & (
            MediaPlayerEntityFeature.PAUSE
        ):
            await _call(hass, SERVICE_MEDIA_PAUSE, {ATTR_ENTITY_ID: entity_id}, context)
        if (level := volumes_before.get(entity_id)) is not None:
            await _call(
                hass,
                SERVICE_VOLUME_SET,
                {ATTR_ENTITY_ID: entity_id, ATTR_MEDIA_VOLUME_LEVEL: level},
                context,
            )
        if ours:
            await _call(hass, SERVICE_MEDIA_STOP, {ATTR_ENTITY_ID: entity_id}, context)

    await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
