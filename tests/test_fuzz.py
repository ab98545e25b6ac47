"""Property-based fuzzing of everything a room takes from outside.

10,000 generated inputs in all: the actions with random field values and types, MQTT
commands through a real mosquitto, stream URLs and Range headers against the real HTTP
server. Whatever comes in: nothing raises what it should not, nothing is logged as an
error, every refusal says what is wrong, and each room is idle or runs one session.

Each test is a plain function that drives Home Assistant's event loop from inside a
hypothesis test, so it can count the examples that really ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
import datetime as dt
import json
import logging
import math
import re
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import voluptuous as vol
from yarl import URL

from custom_components.asmr.const import DOMAIN
from homeassistant.components import mqtt
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .common import (
    BED_LIGHT,
    COLOUR_LIGHT,
    add_room,
    room_entry,
    room_problems,
    setup_entities,
    setup_http,
    setup_lights,
    state_of,
)
from .mosquitto import Broker, Peer, running_broker
from .test_mqtt import bridge_warnings, setup_mqtt, subscribed
from .test_session_faults import SPEAKER, FakeSpeaker, Faults

NURSERY_SPEAKER = "media_player.nursery_speaker"
SCENES = ["rain_on_window", "ocean_night", "forest_stream", "fireside_pages"]
START_FIELDS = [
    "scene",
    "minutes",
    "until",
    "volume",
    "brightness",
    "color_temp_kelvin",
    "dim_seconds",
    "fade_out_seconds",
]
FIELDS = {*START_FIELDS, "fade", "config_entry_id"}
"""Every field an action takes."""
REFUSALS = {
    "unknown_room",
    "room_not_loaded",
    "bad_scene",
    "minutes_and_until",
    "minutes_out_of_range",
    "not_running",
}
"""The reasons the room may give for refusing a well-formed action."""
BASE = "asmr/bedroom"
SET = f"{BASE}/set"

ACTION_EXAMPLES = 4000
MQTT_EXAMPLES = 3000
URL_EXAMPLES = 2000
RANGE_EXAMPLES = 1000


# -- fixtures ------------------------------------------------------------------------


class Rooms:
    """Two rooms with lights and fake speakers, and what they told the bus."""

    def __init__(
        self,
        hass: HomeAssistant,
        entries: dict[str, MockConfigEntry],
        storage: dict[str, Any],
    ) -> None:
        """Start listening to the rooms' events."""
        self.hass = hass
        self.entries = entries
        self.storage = storage
        self.started: list[Event] = async_capture_events(hass, "asmr_session_started")
        self.ended: list[Event] = async_capture_events(hass, "asmr_session_ended")

    def problems(self) -> list[str]:
        """Return what is inconsistent in either room (nothing, if all is well)."""
        return [
            problem
            for room, entry in self.entries.items()
            for problem in room_problems(
                self.hass, room, entry.entry_id, self.started, self.ended, self.storage
            )
        ]


@pytest.fixture
async def rooms(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    socket_enabled: None,
    free_port: int,
) -> Rooms:
    """Serve Home Assistant on 127.0.0.1; add a bedroom and a nursery."""
    await setup_http(hass, free_port)
    await setup_lights(hass)
    nursery = FakeSpeaker(Faults())
    nursery._attr_name = "Nursery speaker"  # noqa: SLF001
    await setup_entities(
        hass, "media_player", "fake_speakers", [FakeSpeaker(Faults()), nursery]
    )
    entries = {
        "bedroom": await add_room(
            hass,
            room_entry(
                "Bedroom",
                lights=[BED_LIGHT],
                speakers=[SPEAKER],
                audio_format="wav",
                mqtt_topic=BASE,
            ),
        ),
        "nursery": await add_room(
            hass,
            room_entry("Nursery", lights=[COLOUR_LIGHT], speakers=[NURSERY_SPEAKER]),
        ),
    }
    return Rooms(hass, entries, hass_storage)


@pytest.fixture
def broker(
    socket_enabled: None, tmp_path_factory: pytest.TempPathFactory
) -> Generator[Broker]:
    """Run a real mosquitto on a free loopback port."""
    with running_broker(tmp_path_factory.mktemp("mosquitto")) as running:
        yield running


def drive[T](hass: HomeAssistant, step: Coroutine[Any, Any, T]) -> T:
    """Run one example's coroutine on Home Assistant's (idle) event loop."""
    return hass.loop.run_until_complete(step)


def errors_since(caplog: pytest.LogCaptureFixture, mark: int) -> list[str]:
    """Return the ERROR (or worse) records logged since record ``mark``."""
    return [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records[mark:]
        if r.levelno >= logging.ERROR
    ]


# -- what is fed in -----------------------------------------------------------------

TEXT = st.text(max_size=40) | st.text(
    alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000
)
NUMBER_TEXT = st.integers(-(10**6), 10**6).map(str) | st.floats().map(str)
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | TEXT
    | NUMBER_TEXT,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)
"""Any value a person, a template or a YAML file could put in a field."""


def numbers(low: int, high: int) -> st.SearchStrategy[Any]:
    """Return values around a field's range: in it, at its edges, out of it, as text."""
    return st.one_of(
        st.integers(low, high),
        st.sampled_from([low - 1, low, high, high + 1, 0, -1, 10**30, -(10**30)]),
        st.sampled_from([math.inf, -math.inf, math.nan, 1e300, 0.5, high + 0.5]),
        st.integers(low, high).map(str),
        st.floats(low - 10, high + 10),
        ANY_VALUE,
    )


FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "scene": st.sampled_from(SCENES) | TEXT | ANY_VALUE,
    "minutes": numbers(1, 720),
    "until": st.one_of(
        st.times().map(lambda t: t.strftime("%H:%M")),
        st.times(),
        st.sampled_from(["23:30", "24:00", "25:99", "7", "noon", "23:30:00", ""]),
        ANY_VALUE,
    ),
    "volume": numbers(1, 100),
    "brightness": numbers(1, 100),
    "color_temp_kelvin": numbers(1500, 6500),
    "dim_seconds": numbers(0, 3600),
    "fade_out_seconds": numbers(0, 3600),
    "fade": st.booleans()
    | st.sampled_from(["on", "off", "yes", "no", "maybe", "", 0, 1, 2])
    | ANY_VALUE,
}
EXTRA_KEYS = st.sampled_from(["colour", "Minutes", "config_entry", "", "é", "scene "])


@st.composite
def action_data(draw: st.DrawFn, room_ids: list[str]) -> tuple[str, dict[str, Any]]:
    """Return an action and its data: some fields set, any of them possibly wrong."""
    service = draw(st.sampled_from(["start", "start", "stop", "extend"]))
    allowed = {
        "start": START_FIELDS,
        "stop": ["fade"],
        "extend": ["minutes"],
    }[service]
    data: dict[str, Any] = {}
    room = draw(
        st.sampled_from(room_ids)
        | st.sampled_from(room_ids).map(str.upper)
        | TEXT
        | ANY_VALUE
    )
    if draw(st.integers(0, 19)):  # now and then, no room at all
        data["config_entry_id"] = room
    chosen = draw(st.lists(st.sampled_from(allowed), unique=True, max_size=4))
    if service == "extend" and draw(st.integers(0, 4)):
        chosen.append("minutes")
    for field in chosen:
        data[field] = draw(FIELD_VALUES[field])
    if not draw(st.integers(0, 14)):
        data[draw(EXTRA_KEYS)] = draw(ANY_VALUE)
    return service, data


def field_named(message: str, fields: set[str]) -> bool:
    """Return whether a refusal's message names one of the fields it was given."""
    return any(f"'{field}'" in message or field in message for field in fields)


# -- the actions ---------------------------------------------------------------------


def test_actions(
    hass: HomeAssistant, rooms: Rooms, caplog: pytest.LogCaptureFixture
) -> None:
    """Random data for asmr.start, stop and extend: refused clearly or done, no error."""
    room_ids = [entry.entry_id for entry in rooms.entries.values()]
    ran = 0
    outcomes: dict[str, int] = {}

    async def run(service: str, data: dict[str, Any]) -> str:
        refusal: Exception | None = None
        try:
            await rooms.hass.services.async_call(DOMAIN, service, data, blocking=True)
        except (vol.Invalid, HomeAssistantError) as err:
            refusal = err
        await rooms.hass.async_block_till_done()
        if refusal is None:
            return "done"
        message = str(refusal)
        if isinstance(refusal, vol.Invalid):
            # A schema refusal points at the field that is wrong.
            assert field_named(message, {*map(str, data), *FIELDS}), message
            return "invalid"
        assert isinstance(refusal, ServiceValidationError), repr(refusal)
        assert refusal.translation_key in REFUSALS, repr(refusal)
        assert message and message != refusal.translation_key, repr(refusal)
        return str(refusal.translation_key)

    @settings(
        max_examples=ACTION_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(action_data(room_ids))
    def example(action: tuple[str, dict[str, Any]]) -> None:
        nonlocal ran
        ran += 1
        service, data = action
        mark = len(caplog.records)
        outcome = drive(hass, run(service, data))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert errors_since(caplog, mark) == [], (service, data)
        assert rooms.problems() == [], (service, data)

    example()
    assert ran >= ACTION_EXAMPLES
    # The generator reaches every kind of answer, not only the schema's refusals.
    assert {"done", "invalid", "bad_scene", "unknown_room"} <= set(outcomes), outcomes
    assert outcomes["done"] > ACTION_EXAMPLES // 20, outcomes


# -- MQTT commands -------------------------------------------------------------------


@st.composite
def command_payload(draw: st.DrawFn) -> bytes:
    """Return a command as a person, a button or a broken bridge might publish it."""
    kind = draw(st.integers(0, 9))
    if kind <= 5:  # a JSON object, close to a real command
        action = draw(
            st.sampled_from(["start", "stop", "extend"])
            | st.sampled_from(["START", "dance", ""])
            | ANY_VALUE
        )
        command: dict[str, Any] = {}
        if draw(st.integers(0, 9)):
            command["action"] = action
        fields = [*START_FIELDS, "fade"]
        for field in draw(st.lists(st.sampled_from(fields), unique=True, max_size=3)):
            value = draw(FIELD_VALUES[field])
            if isinstance(value, dt.time):
                value = value.isoformat()
            command[field] = value
        if not draw(st.integers(0, 9)):
            command[draw(EXTRA_KEYS)] = draw(ANY_VALUE)
        return json.dumps(command, default=str).encode()
    if kind == 6:  # JSON, but not an object
        value = draw(ANY_VALUE.filter(lambda v: not isinstance(v, dict)))
        return json.dumps(value, default=str).encode()
    if kind == 7:  # text that is not JSON
        return draw(st.text(max_size=200)).encode()
    if kind == 8:  # bytes that are not even UTF-8
        return draw(st.binary(min_size=1, max_size=200))
    return (
        b'{"action": "start", "scene": "' + b"x" * draw(st.integers(1, 50_000)) + b'"}'
    )


PROBLEM = re.compile(
    rf"Ignored MQTT command on {re.escape(SET)}: (.+) \(payload: ", re.DOTALL
)


def check_command(
    payload: bytes, warnings: list[str], errors: list[str], rooms: Rooms
) -> None:
    """Check what one command did: a clear warning or an effect, never an error."""
    assert errors == [], payload[:200]
    assert len(warnings) <= 1, warnings
    for warning in warnings:
        if warning.startswith("Can't decode"):
            continue
        match = PROBLEM.match(warning)
        assert match is not None, warning
        assert match.group(1).strip(), warning
    if not payload:
        return  # clears a retained command: nothing to say
    try:
        data = json.loads(payload)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("action") not in (
        "start",
        "stop",
        "extend",
    ):
        # Not a command: it must have been refused, and said so.
        assert len(warnings) == 1, payload[:200]
    assert rooms.problems() == [], payload[:200]


def mqtt_warnings(caplog: pytest.LogCaptureFixture, mark: int) -> list[str]:
    """Return the warnings about MQTT commands logged since record ``mark``."""
    return [
        r.getMessage()
        for r in caplog.records[mark:]
        if r.levelno == logging.WARNING
        and (
            r.name == "custom_components.asmr.mqtt_bridge"
            or r.getMessage().startswith("Can't decode")
        )
    ]


@pytest.fixture
def mqtt_ready(
    hass: HomeAssistant, broker: Broker, mock_hass_config: None, rooms: Rooms
) -> Generator[None]:
    """Connect Home Assistant's MQTT integration; wait for the bedroom's subscription."""
    entry = drive(hass, setup_mqtt(hass, broker))
    drive(hass, subscribed(hass))
    yield
    drive(hass, hass.config_entries.async_unload(entry.entry_id))


def test_mqtt_commands(
    hass: HomeAssistant,
    rooms: Rooms,
    broker: Broker,
    mqtt_ready: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random commands on the room's topic: a warning that says why, or done; no error.

    Every command goes through the real broker: an outside client publishes it and
    Home Assistant's MQTT client receives it (measured: about 6 ms a command, no slower
    than handing it to the client directly).
    """
    peer = Peer(broker.port)
    heard: list[object] = []
    stop_hearing = drive(
        hass,
        mqtt.async_subscribe(
            hass, SET, lambda msg: heard.append(msg.payload), encoding=None
        ),
    )
    drive(hass, subscribed(hass))
    ran = 0

    async def publish(payload: bytes) -> None:
        before = len(heard)
        await hass.async_add_executor_job(peer.publish, SET, payload)
        async with asyncio.timeout(10):
            while len(heard) == before:
                await asyncio.sleep(0.002)
        await hass.async_block_till_done()

    @settings(
        max_examples=MQTT_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(command_payload())
    def example(payload: bytes) -> None:
        nonlocal ran
        ran += 1
        mark = len(caplog.records)
        drive(hass, publish(payload))
        check_command(
            payload, mqtt_warnings(caplog, mark), errors_since(caplog, mark), rooms
        )

    try:
        example()
    finally:
        stop_hearing()
        peer.close()
    assert ran >= MQTT_EXAMPLES
    assert bridge_warnings(caplog)  # the bridge did refuse things


# -- stream URLs and Range headers ----------------------------------------------------

URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def start_bedroom(hass: HomeAssistant, rooms: Rooms) -> str:
    """Start a session in the bedroom; return the stream URL its speaker was given."""
    drive(
        hass,
        hass.services.async_call(
            DOMAIN,
            "start",
            {"config_entry_id": rooms.entries["bedroom"].entry_id, "minutes": 30},
            blocking=True,
        ),
    )
    url = str(state_of(hass, SPEAKER).attributes["media_content_id"])
    assert "/api/asmr/stream/" in url
    return url


@st.composite
def stream_path(draw: st.DrawFn, token: str, name: str) -> tuple[str, bool]:
    """Return a stream path (percent-encoded as sent) and whether it names our audio."""
    tokens = st.one_of(
        st.text(alphabet=URLSAFE, min_size=len(token), max_size=len(token)),
        st.text(alphabet=URLSAFE, min_size=1, max_size=64),
        st.text(alphabet=URLSAFE, min_size=65, max_size=3000),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
        st.sampled_from(
            [
                token.upper(),
                token[:-1],
                token + "A",
                token[1:],
                f"{token}/..",
                "..",
                ".",
                "%00",
            ]
        ),
        st.integers(0, len(token) - 1).map(
            lambda i: token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        ),
        st.just(token),
    )
    names = st.one_of(
        st.just(name),
        st.text(alphabet=URLSAFE + ".", min_size=1, max_size=64),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60),
        st.sampled_from([name + ".mp3", name.upper(), "..", "0-0.wav/..", "1-0.wav"]),
    )
    got_token, got_name = draw(tokens), draw(names)
    ours = got_token == token and got_name == name
    encoded = "/".join(
        URL.build(path="/" + part).raw_path.lstrip("/")
        for part in (got_token, got_name)
    )
    return f"/api/asmr/stream/{encoded}", ours


RANGES = st.one_of(
    st.none(),
    st.builds(
        "bytes={}-{}".format,
        st.integers(0, 2**70) | st.just(""),
        st.integers(0, 2**70) | st.just(""),
    ),
    st.integers(0, 10**7).map("bytes=-{}".format),
    st.integers(0, 10**7).map("bytes={}-".format),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
    .map(str.strip)
    .filter(lambda text: "\x7f" not in text),
    st.sampled_from(["bytes=0-1,5-9", "items=0-9", "bytes=-", "bytes=", "bytes=5-2"]),
)


def test_stream_urls(
    hass: HomeAssistant, rooms: Rooms, caplog: pytest.LogCaptureFixture
) -> None:
    """Random tokens and names: anything but a live cast gets 404 and no audio."""
    url = URL(start_bedroom(hass, rooms))
    token, name = url.parts[4], url.parts[5]
    client = drive(hass, new_client())
    ran = 0
    served = 0

    async def fetch(path: str, method: str) -> tuple[int, str, bytes]:
        async with client.request(
            method, url.origin().with_path(path, encoded=True)
        ) as response:
            body = await response.content.read(4096)
            return response.status, response.content_type, body

    @settings(
        max_examples=URL_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(stream_path(token, name), st.sampled_from(["GET", "HEAD"]))
    def example(path_ours: tuple[str, bool], method: str) -> None:
        nonlocal ran, served
        ran += 1
        path, ours = path_ours
        mark = len(caplog.records)
        status, content_type, body = drive(hass, fetch(path, method))
        if ours:
            served += 1
            assert status == 200, path
            assert content_type == "audio/wav"
        else:
            assert status in (400, 404), (path[:200], status)
            assert not content_type.startswith("audio/"), path[:200]
            assert body in (b"", b"404: Not Found", b"400: Bad Request"), body[:100]
        assert errors_since(caplog, mark) == [], path[:200]

    try:
        example()
    finally:
        drive(hass, client.close())
    assert ran >= URL_EXAMPLES
    assert served > 0  # the live URL itself was among them, and played
    assert rooms.problems() == []


def test_range_headers(
    hass: HomeAssistant, rooms: Rooms, caplog: pytest.LogCaptureFixture
) -> None:
    """Random Range headers on a live cast: 200, 206 or 416, consistent, never an error."""
    url = URL(start_bedroom(hass, rooms))
    client = drive(hass, new_client())
    size = drive(hass, _head_size(client, url))
    ran = 0
    statuses: dict[int, int] = {}

    async def fetch(method: str, range_: str | None) -> None:
        headers = {"Range": range_} if range_ is not None else {}
        async with client.request(method, url, headers=headers) as response:
            status = response.status
            statuses[status] = statuses.get(status, 0) + 1
            assert status in (200, 206, 416), (range_ or "")[:80]
            if status == 416:
                assert response.headers["Content-Range"] == f"bytes */{size}"
                assert await response.read() == b""
                return
            if status == 206:
                first, last = map(
                    int,
                    response.headers["Content-Range"]
                    .removeprefix("bytes ")
                    .split("/")[0]
                    .split("-"),
                )
                assert 0 <= first <= last < size, response.headers["Content-Range"]
                assert response.content_length == last - first + 1
            else:
                assert response.content_length == size
            if method == "GET":
                got = await response.content.read(512)
                assert got, (range_ or "")[:80]

    @settings(
        max_examples=RANGE_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )
    @given(st.sampled_from(["GET", "HEAD", "HEAD"]), RANGES)
    def example(method: str, range_: str | None) -> None:
        nonlocal ran
        ran += 1
        mark = len(caplog.records)
        drive(hass, fetch(method, range_))
        assert errors_since(caplog, mark) == [], (range_ or "")[:80]

    try:
        example()
    finally:
        drive(hass, client.close())
    assert ran >= RANGE_EXAMPLES
    assert {200, 206, 416} <= set(statuses), statuses
    assert rooms.problems() == []


async def new_client() -> aiohttp.ClientSession:
    """Return an HTTP client that hands over bodies exactly as sent."""
    return aiohttp.ClientSession(auto_decompress=False)


async def _head_size(client: aiohttp.ClientSession, url: URL) -> int:
    """Return the byte length a HEAD request announces."""
    async with client.head(url) as response:
        assert response.status == 200
        return int(response.headers["Content-Length"])
