"""The MQTT base topic check shared by the options flow and the MQTT bridge."""

from __future__ import annotations

import pytest
import voluptuous as vol

from custom_components.asmr.plan import StartRequest
from custom_components.asmr.schema import (
    EXTEND_FIELDS,
    START_FIELDS,
    start_request,
    valid_base_topic,
)


@pytest.mark.parametrize("topic", ["asmr/bedroom", "home/asmr", "a", "ü/room"])
def test_valid_base_topics(topic: str) -> None:
    """A plain base topic carries a room's state and commands."""
    assert valid_base_topic(topic) == topic


@pytest.mark.parametrize(
    "topic", ["asmr/#", "asmr/+/x", "asmr/", " asmr", "asmr ", "as\0mr", "a\x01b"]
)
def test_invalid_base_topics(topic: str) -> None:
    """Wildcards, a trailing slash, stray spaces and control characters are refused."""
    with pytest.raises(vol.Invalid):
        valid_base_topic(topic)


def test_start_fields_become_a_start_request() -> None:
    """Validated start fields fill a start request; the rest stay unset."""
    data = vol.Schema(START_FIELDS)({"scene": "fireside_pages", "minutes": "30"})
    assert start_request(data) == StartRequest(scene="fireside_pages", minutes=30)


@pytest.mark.parametrize("minutes", [0, 721, "x"])
def test_extend_minutes_out_of_range_are_refused(minutes: object) -> None:
    """A duration outside 1-720 minutes is refused by the schema."""
    with pytest.raises(vol.Invalid):
        vol.Schema(EXTEND_FIELDS)({"minutes": minutes})
