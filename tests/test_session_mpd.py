"""A whole session against real peers: demo lights and a real MPD speaker."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from mpd import MPDClient
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.asmr.const import DOMAIN
from homeassistant.components.light import ATTR_BRIGHTNESS, ATTR_COLOR_TEMP_KELVIN
from homeassistant.components.media_player import (
    ATTR_MEDIA_CONTENT_ID,
    ATTR_MEDIA_VOLUME_LEVEL,
    MediaPlayerState,
)
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_component import async_update_entity
from homeassistant.util import dt as dt_util

from .common import (
    BED_LIGHT,
    COLOUR_LIGHT,
    add_room,
    mpd_pause_song,
    mpd_status,
    room_entry,
    setup_http,
    setup_lights,
    setup_mpd,
    wait_for,
)


@pytest.mark.timeout(240)
async def test_session_dims_plays_extends_and_ends(
    hass: HomeAssistant,
    mpd_server: int,
    free_port: int,
) -> None:
    """Wind down: lights dim, MPD plays the stream, extend moves the end, all ends well."""
    await setup_http(hass, free_port)
    await setup_lights(hass)
    await hass.async_add_executor_job(mpd_pause_song, mpd_server, 55)
    speaker = await setup_mpd(hass, mpd_server)
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == MediaPlayerState.PAUSED,
        refresh=speaker,
        what="speaker paused",
    )
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.55
    entry = await add_room(
        hass,
        room_entry(
            lights=[BED_LIGHT, COLOUR_LIGHT],
            speakers=[speaker],
            minutes=1,
            fade_out_seconds=20,
            audio_format="wav",
            end_action="off",
        ),
    )
    started = async_capture_events(hass, "asmr_session_started")
    ended = async_capture_events(hass, "asmr_session_ended")

    before = dt_util.utcnow()
    response = await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "rain_on_window", "volume": 30},
        blocking=True,
        return_response=True,
    )
    await hass.async_block_till_done()
    assert response is not None
    ends_at = dt_util.parse_datetime(str(response["ends_at"]))
    assert ends_at is not None
    minute = timedelta(minutes=1)
    assert (
        before.replace(microsecond=0) + minute <= ends_at <= dt_util.utcnow() + minute
    )
    assert [event.data["scene"] for event in started] == ["rain_on_window"]

    # The lights glow at 15 % and 2200 K; the colour-only lamp gets brightness only.
    bed = hass.states.get(BED_LIGHT)
    assert bed.state == STATE_ON
    assert bed.attributes[ATTR_BRIGHTNESS] == round(255 * 15 / 100)
    assert bed.attributes[ATTR_COLOR_TEMP_KELVIN] == 2200
    lamp = hass.states.get(COLOUR_LIGHT)
    assert lamp.state == STATE_ON
    assert lamp.attributes[ATTR_BRIGHTNESS] == round(255 * 15 / 100)

    # MPD fetched the stream from Home Assistant and plays it at the session volume.
    def playing_ours() -> bool:
        state = hass.states.get(speaker)
        return state.state == MediaPlayerState.PLAYING and "/api/asmr/stream/" in str(
            state.attributes.get(ATTR_MEDIA_CONTENT_ID)
        )

    await wait_for(hass, playing_ours, refresh=speaker, what="mpd playing")
    assert hass.states.get(speaker).attributes[ATTR_MEDIA_VOLUME_LEVEL] == 0.3
    phase = hass.states.get("sensor.bedroom_phase")
    assert phase.state == "playing"
    assert (
        dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
        == ends_at
    )
    assert hass.states.get("switch.bedroom_rain_on_the_window").state == STATE_ON

    # Extend moves the end; MPD plays on in the same stream, which now lasts longer.
    url_before = hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID]
    response = await hass.services.async_call(
        DOMAIN,
        "extend",
        {"config_entry_id": entry.entry_id, "minutes": 1},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    new_end = dt_util.parse_datetime(str(response["ends_at"]))
    assert new_end == ends_at + timedelta(minutes=1)
    for _ in range(3):  # a few polls: still our first stream, still playing
        await asyncio.sleep(0.5)
        await async_update_entity(hass, speaker)
        await hass.async_block_till_done()
        assert playing_ours()
        assert hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID] == url_before
    assert (
        dt_util.parse_datetime(hass.states.get("sensor.bedroom_session_end").state)
        == new_end
    )

    # In real time (MPD plays in real time): the fade-out begins 20 s before the end.
    await wait_for(
        hass,
        lambda: hass.states.get("sensor.bedroom_phase").state == "fading",
        timeout=150,
        what="fading",
    )
    assert dt_util.utcnow() >= new_end - timedelta(seconds=20)

    # At the end: MPD stops, its volume is back, the lights are off.
    await wait_for(
        hass,
        lambda: hass.states.get("sensor.bedroom_phase").state == "idle",
        timeout=30,
        what="idle",
    )
    assert dt_util.utcnow() >= new_end
    assert hass.states.get(BED_LIGHT).state == STATE_OFF
    assert hass.states.get(COLOUR_LIGHT).state == STATE_OFF
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == STATE_OFF,
        refresh=speaker,
        what="mpd stopped",
    )
    status = await hass.async_add_executor_job(mpd_status, mpd_server)
    assert status["state"] == "stop"
    assert status["volume"] == "55"
    assert [event.data["reason"] for event in ended] == ["timer"]
    assert hass.states.get("switch.bedroom_rain_on_the_window").state == STATE_OFF


def _mpd_stop_at(port: int, volume: int) -> None:
    """Leave MPD stopped at a volume (Home Assistant shows it off, without a volume)."""
    client = MPDClient()
    client.connect("127.0.0.1", port)
    try:
        client.setvol(volume)
        client.stop()
    finally:
        client.disconnect()


async def _mpd_room(
    hass: HomeAssistant,
    mpd_server: int,
    free_port: int,
    *,
    before: str = "paused",
    **options: object,
) -> tuple[str, str]:
    """Set up lights, HTTP and a real MPD at 50 %, paused or stopped; start a session.

    Return the speaker's entity id and the room's entry id once MPD plays our stream.
    """
    await setup_http(hass, free_port)
    await setup_lights(hass)
    if before == "paused":
        await hass.async_add_executor_job(mpd_pause_song, mpd_server, 50)
    else:
        await hass.async_add_executor_job(_mpd_stop_at, mpd_server, 50)
    speaker = await setup_mpd(hass, mpd_server)
    expected = MediaPlayerState.PAUSED if before == "paused" else STATE_OFF
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == expected,
        refresh=speaker,
        what=f"speaker {before}",
    )
    entry = await add_room(
        hass,
        room_entry(
            lights=[BED_LIGHT],
            speakers=[speaker],
            **{"minutes": 1, "audio_format": "wav", "end_action": "off", **options},
        ),
    )
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry.entry_id, "scene": "pink_noise", "volume": 30},
        blocking=True,
    )
    await hass.async_block_till_done()

    def playing_ours() -> bool:
        state = hass.states.get(speaker)
        return state.state == MediaPlayerState.PLAYING and "/api/asmr/stream/" in str(
            state.attributes.get(ATTR_MEDIA_CONTENT_ID)
        )

    await wait_for(hass, playing_ours, refresh=speaker, what="mpd playing ours")
    status = await hass.async_add_executor_job(mpd_status, mpd_server)
    assert status["volume"] == "30"
    return speaker, entry.entry_id


async def _assert_put_back(hass: HomeAssistant, speaker: str, mpd_server: int) -> None:
    """Wait for the room to be idle; MPD must be stopped at its old volume (50 %)."""
    await wait_for(
        hass,
        lambda: hass.states.get("sensor.bedroom_phase").state == "idle",
        timeout=90,
        what="idle",
    )
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == STATE_OFF,
        refresh=speaker,
        what="mpd stopped",
    )
    status = await hass.async_add_executor_job(mpd_status, mpd_server)
    assert status["state"] == "stop"
    assert status["volume"] == "50"
    assert hass.states.get(BED_LIGHT).state == STATE_OFF


@pytest.mark.timeout(240)
@pytest.mark.parametrize("before", ["paused", "stopped"])
async def test_timer_end_puts_the_speaker_volume_back(
    hass: HomeAssistant, mpd_server: int, free_port: int, before: str
) -> None:
    """A one-minute session at 30 % on a speaker at 50 %: at its end MPD is at 50 %.

    A stopped MPD shows Home Assistant no volume: the session learns it as it casts.
    The stream ends with silence after its fade, so MPD is still playing (and takes a
    volume on any renderer) when the end pauses it, puts the volume back and stops it.
    """
    speaker, _entry_id = await _mpd_room(
        hass, mpd_server, free_port, before=before, fade_out_seconds=10
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await _assert_put_back(hass, speaker, mpd_server)
    assert [event.data["reason"] for event in ended] == ["timer"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fade", [False, True], ids=["now", "with_fade"])
@pytest.mark.parametrize("before", ["paused", "stopped"])
async def test_stop_puts_the_speaker_volume_back(
    hass: HomeAssistant, mpd_server: int, free_port: int, fade: bool, before: str
) -> None:
    """A stop, at once or with its fade, leaves MPD stopped at its old volume."""
    speaker, entry_id = await _mpd_room(
        hass, mpd_server, free_port, before=before, fade_out_seconds=5
    )
    ended = async_capture_events(hass, "asmr_session_ended")
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": fade}, blocking=True
    )
    await _assert_put_back(hass, speaker, mpd_server)
    assert [event.data["reason"] for event in ended] == ["stopped"]


def _mpd_command(port: int, command: str) -> None:
    """Send MPD one command over its own protocol, as its app or a remote would."""
    client = MPDClient()
    client.connect("127.0.0.1", port)
    try:
        if command == "pause":
            client.pause(1)
        else:
            client.stop()
    finally:
        client.disconnect()


@pytest.mark.timeout(120)
async def test_mpd_paused_by_its_own_client_is_left_alone(
    hass: HomeAssistant, mpd_server: int, free_port: int
) -> None:
    """A pause from MPD's own protocol is a person pausing: no cast again; put back."""
    speaker, entry_id = await _mpd_room(hass, mpd_server, free_port)
    await asyncio.sleep(6)  # past the few seconds Home Assistant credits our calls
    await hass.async_add_executor_job(_mpd_command, mpd_server, "pause")
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == MediaPlayerState.PAUSED,
        refresh=speaker,
        what="mpd paused",
    )
    for _ in range(3):  # a few polls: nobody casts to it again
        await asyncio.sleep(1)
        await async_update_entity(hass, speaker)
        await hass.async_block_till_done()
    status = await hass.async_add_executor_job(mpd_status, mpd_server)
    assert status["state"] == "pause"
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": entry_id, "fade": False}, blocking=True
    )
    await _assert_put_back(hass, speaker, mpd_server)


@pytest.mark.timeout(120)
async def test_mpd_stopped_without_its_stream_is_cast_again(
    hass: HomeAssistant, mpd_server: int, free_port: int
) -> None:
    """MPD stopping while our stream should play is a drop: it gets the stream again."""
    speaker, _entry_id = await _mpd_room(hass, mpd_server, free_port)
    url = hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID]
    await asyncio.sleep(6)  # past the few seconds Home Assistant credits our calls
    await hass.async_add_executor_job(_mpd_command, mpd_server, "stop")
    await wait_for(
        hass,
        lambda: hass.states.get(speaker).state == MediaPlayerState.PLAYING
        and hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID] != url,
        refresh=speaker,
        what="mpd playing our stream again",
    )
    assert (
        "/api/asmr/stream/"
        in hass.states.get(speaker).attributes[ATTR_MEDIA_CONTENT_ID]
    )
