"""Whether a light's change during a session is a person's or the session's own ramp."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.asmr.lights import Ramp, changed_by_hand
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import State

T0 = datetime(2026, 1, 1, 22, 0, tzinfo=UTC)
RAMP = Ramp.towards(
    State("light.bed", STATE_ON, {"brightness": 255}),
    brightness_pct=15,
    transition=100,
    now=T0,
)
"""Full brightness down to 15 % (38 of 255) over 100 seconds."""


def _light(state: str, brightness: int | None = None, **attributes: object) -> State:
    """Return a light's state."""
    if brightness is not None:
        attributes["brightness"] = brightness
    return State("light.bed", state, attributes)


def test_ramp_runs_from_the_light_to_its_target() -> None:
    """The ramp starts at the light's brightness and ends at the asked percentage."""
    assert (RAMP.start_brightness, RAMP.target) == (255, 38)
    assert RAMP.expected(T0 + timedelta(seconds=50)) == pytest.approx(146.5)
    assert RAMP.expected(T0 + timedelta(seconds=500)) == 38


@pytest.mark.parametrize(
    ("old", "new", "ramp", "seconds", "by_user", "expected"),
    [
        # Not a change anyone made: gone, unavailable, or the same light.
        (None, _light(STATE_ON, 100), RAMP, 10, False, False),
        (_light(STATE_ON, 100), None, RAMP, 10, False, False),
        (_light(STATE_UNAVAILABLE), _light(STATE_ON, 100), RAMP, 10, False, False),
        (_light(STATE_ON, 100), _light(STATE_UNAVAILABLE), RAMP, 10, True, False),
        (
            _light(STATE_ON, 100),
            _light(STATE_ON, 100, color_temp_kelvin=2200),
            None,
            10,
            True,
            False,
        ),
        # The session's own ramp, reported late or ahead towards its target.
        (_light(STATE_ON, 255), _light(STATE_ON, 200), RAMP, 50, False, False),
        (_light(STATE_ON, 255), _light(STATE_ON, 40), RAMP, 1, False, False),
        (_light(STATE_ON, 60), _light(STATE_ON, 38), RAMP, 300, False, False),
        (_light(STATE_ON, 60), _light(STATE_ON, 14), RAMP, 300, False, False),
        # A person's: a user, no ramp asked, off, no brightness, or off the ramp.
        (_light(STATE_ON, 255), _light(STATE_ON, 200), RAMP, 50, True, True),
        (_light(STATE_ON, 255), _light(STATE_ON, 200), None, 50, False, True),
        (_light(STATE_ON, 38), _light(STATE_OFF), RAMP, 300, False, True),
        (_light(STATE_OFF), _light(STATE_ON), RAMP, 300, False, True),
        (_light(STATE_ON, 38), _light(STATE_ON, 200), RAMP, 300, False, True),
        (_light(STATE_ON, 38), _light(STATE_ON, 5), RAMP, 300, False, True),
    ],
)
def test_changed_by_hand(
    old: State | None,
    new: State | None,
    ramp: Ramp | None,
    seconds: float,
    by_user: bool,
    expected: bool,
) -> None:
    """A change on the session's ramp is its own; anything else is a person's."""
    moment = T0 + timedelta(seconds=seconds)
    assert (
        changed_by_hand(old, new, ramp=ramp, moment=moment, by_user=by_user) is expected
    )
