"""Speakers: remember volumes, cast the session's stream, stop and put volumes back."""

from __future__ import annotations

import asyncio
from enum import StrEnum
import logging
from typing import Any

from homeassistant.components.media_player.const import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_CONTENT_TYPE,
    ATTR_MEDIA_VOLUME_LEVEL,
    DOMAIN as MEDIA_PLAYER_DOMAIN,
    SERVICE_PLAY_MEDIA,
    MediaPlayerEntityFeature,
    MediaPlayerState,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    ATTR_SUPPORTED_FEATURES,
    SERVICE_MEDIA_PAUSE,
    SERVICE_MEDIA_STOP,
    SERVICE_VOLUME_SET,
)
from homeassistant.core import Context, HomeAssistant, State

from .lights import Report, call_service, is_available, log_failure

_LOGGER = logging.getLogger(__name__)

_STOPPED: frozenset[str] = frozenset(
    {
        MediaPlayerState.IDLE,
        MediaPlayerState.OFF,
        MediaPlayerState.ON,
    }
)
"""States of a speaker that plays nothing (Home Assistant shows a stopped MPD as off)."""


class SpeakerEvent(StrEnum):
    """What a speaker's change of state means for the session casting to it."""

    NONE = "none"
    """Nothing to do: still ours, not about us, or a stop as the session ends."""
    TAKEN_OVER = "taken_over"
    """Someone took it: paused (by anyone), stopped by a user, or playing other media.
    Leave it alone."""
    DROPPED = "dropped"
    """It stopped by itself while our stream should play: cast again."""
    BACK = "back"
    """It is available again (or appeared late): cast again."""


def is_ours(state: State | None, marker: str) -> bool:
    """Return whether a speaker's state shows our stream (``marker`` in its URL)."""
    if state is None or not marker:
        return False
    return marker in str(state.attributes.get(ATTR_MEDIA_CONTENT_ID) or "")


def may_be_ours(state: State | None, marker: str) -> bool:
    """Return whether a speaker may be playing our stream.

    It shows our stream, or it plays and shows nothing: some renderers never report
    what they play.
    """
    if state is None or not marker:
        return False
    return is_ours(state, marker) or (
        state.state == MediaPlayerState.PLAYING
        and state.attributes.get(ATTR_MEDIA_CONTENT_ID) is None
    )


def classify(
    old: State | None,
    new: State | None,
    *,
    marker: str,
    by_user: bool = False,
    settling: bool = False,
) -> SpeakerEvent:
    """Tell what a speaker's change of state (not one we caused) means.

    ``marker`` is the session's token, found in the URL of our stream; ``by_user``
    says a Home Assistant user made the change; ``settling`` that the session is about
    to end. A pause is a person's (from the speaker's app, a voice satellite, an
    automation: they carry no user); a stop of our stream is a drop, unless a user
    stopped it or the session is settling at its end; a speaker that comes back from
    unavailable gets the stream again, unless it comes back playing something else.
    """
    change = _change(old, new, marker)
    if change in (SpeakerEvent.NONE, SpeakerEvent.BACK):
        return change
    if change is SpeakerEvent.TAKEN_OVER or by_user:
        return SpeakerEvent.TAKEN_OVER
    return SpeakerEvent.NONE if settling else SpeakerEvent.DROPPED


def _change(old: State | None, new: State | None, marker: str) -> SpeakerEvent:
    """Return what a change of state shows, before asking who made it and when."""
    if new is None or not is_available(new):
        return SpeakerEvent.NONE
    if new.state == MediaPlayerState.PLAYING:
        if may_be_ours(new, marker):
            return SpeakerEvent.NONE
        return SpeakerEvent.TAKEN_OVER
    if old is None or not is_available(old):
        return SpeakerEvent.BACK
    if new.state == MediaPlayerState.PAUSED:
        if old.state == MediaPlayerState.PAUSED:
            return SpeakerEvent.NONE
        return SpeakerEvent.TAKEN_OVER
    if (
        new.state in _STOPPED
        and old.state == MediaPlayerState.PLAYING
        and is_ours(old, marker)
    ):
        return SpeakerEvent.DROPPED
    return SpeakerEvent.NONE


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
) -> Exception | None:
    """Call a media player service; return what it raised (None: it worked)."""
    return await call_service(hass, MEDIA_PLAYER_DOMAIN, service, data, context=context)


def _report_once(
    report: Report, entity_id: str, what: str, errors: list[Exception | None]
) -> bool:
    """Report one speaker's part of an operation once; return whether it all worked."""
    error = next((e for e in errors if e is not None), None)
    report(entity_id, what, error)
    return error is None


async def async_set_volume(
    hass: HomeAssistant,
    entity_ids: list[str],
    level: float,
    context: Context,
    report: Report = log_failure,
) -> None:
    """Set the volume of speakers (0..1)."""

    async def one(entity_id: str) -> None:
        error = await _call(
            hass,
            SERVICE_VOLUME_SET,
            {ATTR_ENTITY_ID: entity_id, ATTR_MEDIA_VOLUME_LEVEL: level},
            context,
        )
        report(entity_id, f"{MEDIA_PLAYER_DOMAIN}.{SERVICE_VOLUME_SET}", error)

    await asyncio.gather(
        *(one(e) for e in entity_ids if is_available(hass.states.get(e)))
    )


async def async_play(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    url: str,
    mime_type: str,
    volume: float | None,
    context: Context,
    report: Report = log_failure,
    volumes_before: dict[str, float | None] | None = None,
) -> list[str]:
    """Cast a stream to speakers at a volume; return the speakers that took it.

    A speaker that shows no volume (a stopped MPD shows none, and takes none) starts
    playing first and gets the volume after; one listed in ``volumes_before`` without
    a volume has the volume it plays at written there first. Every cast starts from
    silence, so nothing is heard at the old volume meanwhile.
    """

    async def one(entity_id: str) -> bool:
        state = hass.states.get(entity_id)
        if not is_available(state) or state is None:
            return False
        learn = volumes_before is not None and (
            entity_id in volumes_before and volumes_before[entity_id] is None
        )
        play_first = learn or state.attributes.get(ATTR_MEDIA_VOLUME_LEVEL) is None
        set_volume = {ATTR_ENTITY_ID: entity_id, ATTR_MEDIA_VOLUME_LEVEL: volume}
        errors: list[Exception | None] = []
        if volume is not None and not play_first:
            errors.append(await _call(hass, SERVICE_VOLUME_SET, set_volume, context))
        played = await _call(
            hass,
            SERVICE_PLAY_MEDIA,
            {
                ATTR_ENTITY_ID: entity_id,
                ATTR_MEDIA_CONTENT_ID: url,
                ATTR_MEDIA_CONTENT_TYPE: mime_type,
            },
            context,
        )
        if learn and volumes_before is not None:
            volumes_before[entity_id] = volumes(hass, [entity_id]).get(entity_id)
        if play_first and volume is not None:
            errors.append(await _call(hass, SERVICE_VOLUME_SET, set_volume, context))
        _report_once(report, entity_id, "play", [*errors, played])
        return played is None

    done = await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
    return [entity_id for entity_id, ok in zip(entity_ids, done, strict=True) if ok]


async def async_stop(
    hass: HomeAssistant,
    entity_ids: list[str],
    *,
    marker: str,
    volumes_before: dict[str, float | None],
    context: Context,
    report: Report = log_failure,
) -> list[str]:
    """Stop the speakers still playing our stream (``marker`` in the URL), restore volumes.

    A speaker playing our stream is paused before its volume goes back, so the old
    (louder) volume never meets our sound (if it cannot pause, it is stopped first);
    some players (MPD's software mixer) only take a volume while their output is open,
    so the volume goes back before the stop. A speaker that can be neither paused nor
    stopped keeps the session's volume; the others' steps are each tried even when the
    one before failed. Return the speakers for which a step failed.
    """

    async def one(entity_id: str) -> bool:
        state = hass.states.get(entity_id)
        if not is_available(state) or state is None:
            return True
        ours = may_be_ours(state, marker)
        target = {ATTR_ENTITY_ID: entity_id}
        errors: list[Exception | None] = []
        paused = stopped = not ours
        if ours and state.attributes.get(ATTR_SUPPORTED_FEATURES, 0) & (
            MediaPlayerEntityFeature.PAUSE
        ):
            errors.append(await _call(hass, SERVICE_MEDIA_PAUSE, target, context))
            paused = errors[-1] is None
        if not paused:  # never let the old volume meet our sound
            errors.append(await _call(hass, SERVICE_MEDIA_STOP, target, context))
            stopped = errors[-1] is None
            if not stopped:  # still playing it: it keeps the session's volume
                return _report_once(report, entity_id, "stop", errors)
        if (level := volumes_before.get(entity_id)) is not None:
            errors.append(
                await _call(
                    hass,
                    SERVICE_VOLUME_SET,
                    {**target, ATTR_MEDIA_VOLUME_LEVEL: level},
                    context,
                )
            )
        if not stopped:
            errors.append(await _call(hass, SERVICE_MEDIA_STOP, target, context))
        return _report_once(report, entity_id, "stop", errors)

    done = await asyncio.gather(*(one(entity_id) for entity_id in entity_ids))
    return [e for e, ok in zip(entity_ids, done, strict=True) if not ok]
