"""How a speaker's change of state reads for the session casting to it."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.asmr.speakers import SpeakerEvent, classify
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import State

TOKEN = "s3cr3t-token"
OURS = f"http://ha.local:8123/api/asmr/stream/{TOKEN}/0-0.mp3"
RADIO = "http://radio.example/stream.mp3"


def _speaker(state: str, content: str | None = None) -> State:
    """Return a speaker's state, playing ``content`` (a URL) if given."""
    attributes: dict[str, Any] = {}
    if content is not None:
        attributes["media_content_id"] = content
    return State("media_player.bedroom", state, attributes)


@pytest.mark.parametrize(
    ("old", "new", "by_user", "settling", "expected"),
    [
        # Nothing to do: gone, unavailable, still ours, or playing nothing we can see.
        (_speaker("playing", OURS), None, False, False, SpeakerEvent.NONE),
        (
            _speaker("playing", OURS),
            _speaker(STATE_UNAVAILABLE),
            False,
            False,
            SpeakerEvent.NONE,
        ),
        (_speaker("idle"), _speaker("playing", OURS), False, False, SpeakerEvent.NONE),
        (_speaker("idle"), _speaker("playing"), False, False, SpeakerEvent.NONE),
        (_speaker("paused", OURS), _speaker("paused"), False, False, SpeakerEvent.NONE),
        (
            _speaker("playing", RADIO),
            _speaker("idle", RADIO),
            False,
            False,
            SpeakerEvent.NONE,
        ),
        # Taken over: other media, a pause (by anyone), a stop by a user.
        (
            _speaker("playing", OURS),
            _speaker("playing", RADIO),
            False,
            False,
            SpeakerEvent.TAKEN_OVER,
        ),
        (
            _speaker(STATE_UNAVAILABLE),
            _speaker("playing", RADIO),
            False,
            False,
            SpeakerEvent.TAKEN_OVER,
        ),
        (
            _speaker("playing", OURS),
            _speaker("paused", OURS),
            False,
            False,
            SpeakerEvent.TAKEN_OVER,
        ),
        (
            _speaker("playing", OURS),
            _speaker("paused", OURS),
            False,
            True,
            SpeakerEvent.TAKEN_OVER,
        ),
        (
            _speaker("playing", OURS),
            _speaker("idle"),
            True,
            False,
            SpeakerEvent.TAKEN_OVER,
        ),
        # Dropped: our stream stopped by itself, unless the session is about to end.
        (
            _speaker("playing", OURS),
            _speaker("idle"),
            False,
            False,
            SpeakerEvent.DROPPED,
        ),
        (
            _speaker("playing", OURS),
            _speaker("off"),
            False,
            False,
            SpeakerEvent.DROPPED,
        ),
        (_speaker("playing", OURS), _speaker("idle"), False, True, SpeakerEvent.NONE),
        # Back: available again (or appeared late), whoever brought it back.
        (
            _speaker(STATE_UNAVAILABLE),
            _speaker("idle"),
            False,
            False,
            SpeakerEvent.BACK,
        ),
        (None, _speaker("idle"), False, False, SpeakerEvent.BACK),
        (_speaker(STATE_UNAVAILABLE), _speaker("on"), True, False, SpeakerEvent.BACK),
    ],
)
def test_classify(
    old: State | None,
    new: State | None,
    by_user: bool,
    settling: bool,
    expected: SpeakerEvent,
) -> None:
    """Each change of a speaker's state reads as one event for the session."""
    assert (
        classify(old, new, marker=TOKEN, by_user=by_user, settling=settling) is expected
    )


def test_classify_without_a_marker_sees_nothing_as_ours() -> None:
    """Without a session token, no stream is ours: any media is someone else's."""
    assert (
        classify(_speaker("idle"), _speaker("playing", OURS), marker="")
        is SpeakerEvent.TAKEN_OVER
    )
