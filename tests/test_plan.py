"""A session's persisted plan and a room's typed defaults."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from custom_components.asmr.const import DEFAULT_OPTIONS, EndAction
from custom_components.asmr.lights import LightSnapshot
from custom_components.asmr.plan import (
    EndReason,
    Plan,
    RoomDefaults,
    StartRequest,
    new_plan,
)
from homeassistant.exceptions import ServiceValidationError

NOW = datetime(2026, 1, 1, 21, 0, tzinfo=UTC)


def _plan(**changes: Any) -> Plan:
    """Return the plan a start with the default options makes, with some changes."""
    plan = new_plan(
        StartRequest(**changes),
        RoomDefaults.from_options({}),
        now=NOW,
        audio_format="wav",
        lights_before={"light.bed": LightSnapshot(on=True, brightness=200)},
        volumes_before={"media_player.bedroom": 0.4, "media_player.mpd": None},
    )
    plan.released.add("light.bed")
    return plan


def test_defaults_come_from_the_options_or_the_built_in_defaults() -> None:
    """A room without options plays the built-in defaults; its options win."""
    built_in = RoomDefaults.from_options({})
    assert built_in.scene == DEFAULT_OPTIONS["scene"]
    assert built_in.end_action is EndAction.OFF
    assert built_in.avoid == ()
    mine = RoomDefaults.from_options({"minutes": 30, "end_action": "restore"})
    assert (mine.minutes, mine.end_action) == (30, EndAction.RESTORE)


def test_new_plan_takes_the_request_over_the_defaults() -> None:
    """Fields the request sets win; the rest come from the room's defaults."""
    plan = _plan(scene="ocean_night", minutes=10, volume=60)
    assert (plan.scene, plan.volume) == ("ocean_night", 60)
    assert plan.ends_at == NOW + timedelta(minutes=10)
    assert plan.brightness == DEFAULT_OPTIONS["brightness"]
    assert plan.fade_at == plan.ends_at - timedelta(seconds=plan.fade_out_seconds)


def test_new_plan_refuses_minutes_with_until_and_unknown_scenes() -> None:
    """A request that cannot be played is refused before anything happens."""
    with pytest.raises(ServiceValidationError):
        _plan(minutes=10, until=time(23, 30))
    with pytest.raises(ServiceValidationError):
        _plan(scene="no_such_scene")
    with pytest.raises(ServiceValidationError):
        _plan(minutes=721)


def test_plan_survives_the_store() -> None:
    """What is stored reads back as the same plan."""
    plan = _plan(until=time(23, 30))
    assert Plan.from_dict(plan.as_dict()) == plan


@pytest.mark.parametrize(
    "change",
    [
        {"scene": "no_such_scene"},
        {"audio_format": "aiff"},
        {"volume": 101},
        {"started_at": "2026-01-01T21:00:00"},
        {"token": ""},
        {"volumes_before": {"media_player.bedroom": 2}},
    ],
)
def test_plan_that_does_not_hold_is_refused_and_salvaged(
    change: dict[str, object],
) -> None:
    """A stored plan this version cannot play is refused; what it can read ends it."""
    data = {**_plan().as_dict(), **change}
    with pytest.raises(ValueError):
        Plan.from_dict(data)
    salvaged = Plan.salvage(data, end_action=EndAction.KEEP)
    assert salvaged.end_reason is EndReason.ERROR
    assert salvaged.end_action is EndAction.OFF
    assert "light.bed" in salvaged.lights_before
    assert salvaged.released == {"light.bed"}


def test_salvage_of_garbage_ends_with_the_room_end_action() -> None:
    """Nothing readable: the room's end action and no saved state."""
    salvaged = Plan.salvage(["not", "a", "plan"], end_action=EndAction.RESTORE)
    assert salvaged.end_action is EndAction.RESTORE
    assert (salvaged.lights_before, salvaged.volumes_before) == ({}, {})
