"""ASMR Scenes: turn a room into an ASMR space."""

from __future__ import annotations

from homeassistant.components.ffmpeg import get_ffmpeg_manager
from homeassistant.const import CONF_NAME, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.typing import ConfigType

from .const import CONF_AREA, CONF_MQTT_TOPIC, DOMAIN
from .engine import encoders, use_ffmpeg
from .mixes import SUBENTRY_MIX
from .mqtt_bridge import async_clear_mqtt_state, async_setup_mqtt_bridge
from .services import async_setup_services
from .session import AsmrConfigEntry, RoomSession
from .stream import AsmrStreamView

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)
PLATFORMS = [
    Platform.BUTTON,
    Platform.EVENT,
    Platform.MEDIA_PLAYER,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Set up the ASMR Scenes actions, the audio stream and the encoder chain.

    Formats libsndfile cannot encode here (Home Assistant OS and Container ship no
    libsndfile for soundfile) are encoded by the ffmpeg binary Home Assistant uses.
    """
    use_ffmpeg(get_ffmpeg_manager(hass).binary)
    await hass.async_add_executor_job(encoders)
    async_setup_services(hass)
    hass.http.register_view(AsmrStreamView())
    return True


async def async_setup_entry(hass: HomeAssistant, entry: AsmrConfigEntry) -> bool:
    """Set up a room from a config entry."""
    devices = dr.async_get(hass)
    new = devices.async_get_device({(DOMAIN, entry.entry_id)}) is None
    device = devices.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.data[CONF_NAME],
        manufacturer="ASMR Scenes",
        model="Room",
        entry_type=dr.DeviceEntryType.SERVICE,
    )
    if new and (area := entry.data.get(CONF_AREA)):
        # The area chosen in the config flow; the user may move the device later.
        devices.async_update_device(device.id, area_id=area)
    room = RoomSession(hass, entry)
    entry.runtime_data = room
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    await room.async_setup()
    if room.mqtt_topic:
        entry.async_on_unload(await async_setup_mqtt_bridge(hass, entry))
    mixes = _mix_versions(entry)

    async def entry_updated(hass: HomeAssistant, entry: AsmrConfigEntry) -> None:
        """Follow changed mixes; reload a room whose MQTT topic changed.

        Other options apply to the next session.
        """
        nonlocal mixes
        known, mixes = mixes, _mix_versions(entry)
        sounding_different = {  # deleted, or with other layers (a new name is not)
            mix_id
            for mix_id, (_name, layers) in known.items()
            if mix_id not in mixes or mixes[mix_id][1] != layers
        }
        if mixes != known:
            await room.async_mixes_changed(sounding_different)
        if entry.options.get(CONF_MQTT_TOPIC, "") != room.mqtt_topic:
            # No client may see the room's last state on the topic it leaves.
            await async_clear_mqtt_state(hass, entry, room.mqtt_topic)
            await hass.config_entries.async_reload(entry.entry_id)

    entry.async_on_unload(entry.add_update_listener(entry_updated))
    return True


def _mix_versions(entry: AsmrConfigEntry) -> dict[str, tuple[str, object]]:
    """Return the room's mixes as they are now (name and layers), by id."""
    return {
        subentry.subentry_id: (subentry.title, subentry.data)
        for subentry in entry.subentries.values()
        if subentry.subentry_type == SUBENTRY_MIX
    }


async def async_remove_entry(hass: HomeAssistant, entry: AsmrConfigEntry) -> None:
    """End a session that was running in a deleted room: speakers stop, lights follow."""
    await RoomSession(hass, entry).async_remove()
    await async_clear_mqtt_state(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: AsmrConfigEntry) -> bool:
    """Unload a room; a running session stays stored and resumes on the next load.

    A room being disabled does not load again by itself: its session ends as a stop
    does, so that no light is left glowing and no speaker playing.
    """
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    if unloaded:
        if entry.disabled_by is not None:
            await entry.runtime_data.async_stop(fade=False)
        await entry.runtime_data.async_shutdown()
    return unloaded
