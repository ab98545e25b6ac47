"""A speaker someone takes is left alone; one that drops or blips gets the stream back.

The speaker changes its state by itself here, as a device does when someone uses its
own app, a voice satellite or its buttons: the change carries no Home Assistant user.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.asmr.casts import cast_registry
from custom_components.asmr.const import CONF_SPEAKERS, DOMAIN
from custom_components.asmr.session import CAST_FADE_IN_S
from homeassistant.components.media_player import MediaPlayerState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import CoreState, HomeAssistant

from .common import BED_LIGHT, add_room, room_entry, setup_entities, setup_lights
from .test_session_faults import SPEAKER, FakeSpeaker, Faults, call


class DeviceSpeaker(FakeSpeaker):
    """The fake speaker, plus what its own app or a network blip can do to it."""

    def __init__(self) -> None:
        """Initialise an idle speaker that counts what it is asked to play."""
        super().__init__(Faults())
        self.played: list[str] = []
        self.calls: list[str] = []
        self.online = True
        self.ignores_volume_while_stopped = False
        self.mixer = 0.8
        """The volume a speaker that shows none plays at."""

    @property
    def available(self) -> bool:
        """Return whether the speaker is reachable."""
        return self.online

    async def async_play_media(
        self, media_type: str, media_id: str, **kwargs: Any
    ) -> None:
        """Play a URL, and remember it."""
        self.played.append(media_id)
        self.calls.append("play_media")
        await super().async_play_media(media_type, media_id, **kwargs)
        if self.volume_level is None:  # a stopped MPD shows its volume once playing
            self._attr_volume_level = self.mixer
            self.async_write_ha_state()

    async def async_set_volume_level(self, volume: float) -> None:
        """Set the volume (ignored while stopped, as MPD does), and remember it."""
        self.calls.append("volume_set")
        if self.ignores_volume_while_stopped and self.state not in (
            MediaPlayerState.PLAYING,
            MediaPlayerState.PAUSED,
        ):
            return
        await super().async_set_volume_level(volume)

    def device_sets(self, state: MediaPlayerState, content: str | None) -> None:
        """Change state from the device's side (no Home Assistant user, no context)."""
        self._attr_state = state
        self._attr_media_content_id = content
        self.async_write_ha_state()

    def blip(self, online: bool, *, volume: float | None = 0.5) -> None:
        """Drop off the network, or come back idle (a stopped MPD shows no volume)."""
        self.online = online
        if online:
            self._attr_state = MediaPlayerState.IDLE
            self._attr_media_content_id = None
            self._attr_volume_level = volume
        self.async_write_ha_state()


@pytest.fixture
async def speaker(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> DeviceSpeaker:
    """Give Home Assistant the demo lights and the device speaker."""
    freezer.move_to("2026-11-26 21:00:00+00:00")
    await setup_lights(hass)
    await hass.config.async_update(internal_url="http://127.0.0.1:8123")
    speaker = DeviceSpeaker()

    await setup_entities(hass, "media_player", "fake_speakers", [speaker])
    return speaker


async def _start(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> str:
    """Add the room, start a 60-minute session, let 5 minutes pass; return the entry id."""
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[SPEAKER], minutes=60)
    )
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    return entry.entry_id


def _start_frame(url: str) -> int:
    """Return the session frame a cast URL starts at."""
    return int(url.rsplit("/", 1)[1].split("-")[1].split(".")[0])


@pytest.mark.parametrize(
    ("state", "content"),
    [
        (MediaPlayerState.PAUSED, "ours"),
        (MediaPlayerState.PLAYING, "http://radio.example/stream.mp3"),
        (MediaPlayerState.PAUSED, "http://radio.example/stream.mp3"),
    ],
    ids=["paused_on_the_device", "other_media", "other_media_paused"],
)
async def test_speaker_taken_by_anyone_is_left_alone(
    hass: HomeAssistant,
    speaker: DeviceSpeaker,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    state: MediaPlayerState,
    content: str,
) -> None:
    """Paused from its own app, or playing something else: never cast again.

    Not even after a restart: the release is stored with the session.
    """
    entry_id = await _start(hass, freezer)
    ours = speaker.played[-1]
    speaker.device_sets(state, ours if content == "ours" else content)
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert speaker.played == [ours]
    assert hass_storage[f"asmr.{entry_id}"]["data"]["released"] == [SPEAKER]

    assert await hass.config_entries.async_reload(entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bedroom_phase").state == "playing"
    assert speaker.played == [ours]


async def test_paused_speaker_gets_its_volume_back_at_the_end(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """A speaker paused on the device with our stream in it is put back at the end."""
    await _start(hass, freezer)
    speaker.device_sets(MediaPlayerState.PAUSED, speaker.played[-1])
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bedroom_phase").state == "idle"
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.5
    assert hass.states.get(SPEAKER).state == MediaPlayerState.IDLE


async def test_speaker_that_drops_by_itself_gets_the_stream_from_now(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """Idle (or off) while our stream should play: cast again from the current time."""
    await _start(hass, freezer)
    speaker.device_sets(MediaPlayerState.IDLE, None)
    await hass.async_block_till_done()
    assert len(speaker.played) == 2
    assert _start_frame(speaker.played[-1]) == 5 * 60 * 48000
    assert hass.states.get(SPEAKER).state == MediaPlayerState.PLAYING


async def test_speakers_that_stop_while_home_assistant_stops_are_left_alone(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """Home Assistant closes the streams when it stops: that is no drop to cast again.

    Casting again then would only count against the speaker's recasts, and a speaker
    that runs out of them is left alone after the restart.
    """
    await _start(hass, freezer)
    hass.set_state(CoreState.stopping)
    try:
        speaker.device_sets(MediaPlayerState.IDLE, None)
        await hass.async_block_till_done()
        assert len(speaker.played) == 1
    finally:
        hass.set_state(CoreState.running)


async def test_speaker_back_from_unavailable_gets_the_stream_again(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """A Wi-Fi speaker that blips is cast again when it comes back."""
    await _start(hass, freezer)
    speaker.blip(online=False)
    await hass.async_block_till_done()
    assert hass.states.get(SPEAKER).state == STATE_UNAVAILABLE
    freezer.tick(timedelta(minutes=1))
    speaker.blip(online=True)
    await hass.async_block_till_done()
    assert len(speaker.played) == 2
    assert _start_frame(speaker.played[-1]) == 6 * 60 * 48000
    assert hass.states.get(SPEAKER).state == MediaPlayerState.PLAYING


async def test_speaker_back_without_a_volume_plays_first_then_gets_its_volume(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """A speaker that comes back showing no volume (a stopped MPD) is cast, then set.

    Such a speaker ignores a volume while stopped, so a volume set before the cast
    would leave it at its old level; the cast starts from silence (its own fade-in),
    so the session's volume is in place before anything is heard.
    """
    entry_id = await _start(hass, freezer)
    speaker.ignores_volume_while_stopped = True
    speaker.blip(online=False)
    await hass.async_block_till_done()
    speaker.blip(online=True, volume=None)
    speaker.calls.clear()
    await hass.async_block_till_done()
    assert speaker.calls == ["play_media", "volume_set"]
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.25
    room = hass.config_entries.async_get_entry(entry_id).runtime_data
    token = room.plan.token
    name = speaker.played[-1].rsplit("/", 1)[1]
    assert cast_registry(hass).lookup(token, name).fade_in_s == CAST_FADE_IN_S


async def test_a_speaker_put_in_mid_session_gets_its_volume_back(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """A speaker put in the room mid-session, showing no volume, is put back after.

    Its volume is learnt once it plays, as at a start, and goes back at the end.
    """
    entry = await add_room(
        hass, room_entry(lights=[BED_LIGHT], speakers=[], minutes=60)
    )
    await hass.services.async_call(
        DOMAIN, "start", {"config_entry_id": entry.entry_id}, blocking=True
    )
    speaker.ignores_volume_while_stopped = True
    speaker.blip(online=True, volume=None)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_SPEAKERS: [SPEAKER]}
    )
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert speaker.calls == ["play_media", "volume_set"]
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.25
    await call(hass, "stop", config_entry_id=entry.entry_id, fade=False)
    assert hass.states.get(SPEAKER).attributes["volume_level"] == 0.8


async def test_speaker_that_connects_late_after_a_restart_gets_the_stream(
    hass: HomeAssistant, speaker: DeviceSpeaker, freezer: FrozenDateTimeFactory
) -> None:
    """After a restart, a speaker still unavailable when the session resumes gets it later."""
    entry_id = await _start(hass, freezer)
    assert await hass.config_entries.async_unload(entry_id)
    speaker.blip(online=False)
    await hass.async_block_till_done()
    assert await hass.config_entries.async_setup(entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.bedroom_phase").state == "playing"
    assert len(speaker.played) == 1
    freezer.tick(timedelta(seconds=30))
    speaker.blip(online=True)
    await hass.async_block_till_done()
    assert len(speaker.played) == 2
    assert _start_frame(speaker.played[-1]) == round(5.5 * 60 * 48000)
