"""The per-room session: the one place that decides what a room does.

A session goes ``idle -> starting -> playing -> fading -> idle``. Each event that can
happen to a room (start, stop, extend, a timer tick, a speaker dropping, a light changed
by hand, a restart) is one method here; it checks the transition table, changes the
phase and schedules what comes next. Entities, actions, intents, MQTT and the media
source only translate requests into calls on this class.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
import hmac
import logging
import secrets
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import (
    CONF_NAME,
    STATE_PLAYING,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import lights, speakers
from .const import (
    CONF_AUDIO_FORMAT,
    CONF_AVOID,
    CONF_BRIGHTNESS,
    CONF_COLOR_TEMP_KELVIN,
    CONF_DIM_SECONDS,
    CONF_END_ACTION,
    CONF_FADE_OUT_SECONDS,
    CONF_LIGHTS,
    CONF_MINUTES,
    CONF_MQTT_TOPIC,
    CONF_SCENE,
    CONF_SPEAKERS,
    CONF_VOLUME,
    DEFAULT_OPTIONS,
    DOMAIN,
    MINUTES_MAX,
    MINUTES_MIN,
    EndAction,
)
from .engine import SAMPLE_RATE, EngineError, available_formats, resolve_scene, warm_up
from .stream import STREAM_PATH, Cast

_LOGGER = logging.getLogger(__name__)

type AsmrConfigEntry = ConfigEntry[RoomSession]

STORAGE_VERSION: Final = 1
EVENT_SESSION_STARTED: Final = "asmr_session_started"
EVENT_SESSION_ENDED: Final = "asmr_session_ended"
FADE_IN_SECONDS: Final = 8.0
MAX_RECASTS: Final = 3
"""How often a dropped speaker is cast again within one session before the user is told."""
SETTLE_SECONDS: Final = 5.0
"""A speaker that goes quiet this close to the end has simply finished."""


class Phase(StrEnum):
    """Where a room's session is."""

    IDLE = "idle"
    STARTING = "starting"
    PLAYING = "playing"
    FADING = "fading"


class EndReason(StrEnum):
    """Why a session ended."""

    TIMER = "timer"
    STOPPED = "stopped"
    REPLACED = "replaced"
    ERROR = "error"


TRANSITIONS: Final[dict[Phase, frozenset[Phase]]] = {
    Phase.IDLE: frozenset({Phase.STARTING}),
    Phase.STARTING: frozenset({Phase.PLAYING, Phase.IDLE}),
    Phase.PLAYING: frozenset({Phase.FADING, Phase.IDLE, Phase.STARTING}),
    Phase.FADING: frozenset({Phase.PLAYING, Phase.IDLE, Phase.STARTING}),
}


@dataclass(frozen=True, kw_only=True)
class StartRequest:
    """What a start asks for; unset fields come from the room's options."""

    scene: str | None = None
    minutes: int | None = None
    until: time | None = None
    volume: int | None = None
    brightness: int | None = None
    color_temp_kelvin: int | None = None
    dim_seconds: int | None = None
    fade_out_seconds: int | None = None


@dataclass(kw_only=True)
class Plan:
    """A running session's timing, settings and the room's saved "before" state.

    This is everything that is persisted: a restart rebuilds the session from it.
    """

    scene: str
    seed: int
    token: str
    started_at: datetime
    ends_at: datetime
    volume: int
    brightness: int
    color_temp_kelvin: int
    dim_seconds: int
    fade_out_seconds: int
    end_action: EndAction
    audio_format: str
    avoid: tuple[str, ...]
    lights_before: dict[str, lights.LightSnapshot]
    volumes_before: dict[str, float | None]
    released: set[str] = field(default_factory=set)
    end_reason: EndReason = EndReason.TIMER

    @property
    def fade_at(self) -> datetime:
        """Return when the fade-out begins."""
        return max(
            self.started_at, self.ends_at - timedelta(seconds=self.fade_out_seconds)
        )

    def frame_at(self, moment: datetime) -> int:
        """Return the session frame that plays at a moment."""
        return round((moment - self.started_at).total_seconds() * SAMPLE_RATE)

    def as_dict(self) -> dict[str, Any]:
        """Return the plan as JSON-serialisable data."""
        return {
            "scene": self.scene,
            "seed": self.seed,
            "token": self.token,
            "started_at": self.started_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "volume": self.volume,
            "brightness": self.brightness,
            "color_temp_kelvin": self.color_temp_kelvin,
            "dim_seconds": self.dim_seconds,
            "fade_out_seconds": self.fade_out_seconds,
            "end_action": self.end_action.value,
            "audio_format": self.audio_format,
            "avoid": list(self.avoid),
            "lights_before": {
                entity_id: snap.as_dict()
                for entity_id, snap in self.lights_before.items()
            },
            "volumes_before": self.volumes_before,
            "released": sorted(self.released),
            "end_reason": self.end_reason.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Return a plan read back from storage."""
        return cls(
            scene=data["scene"],
            seed=int(data["seed"]),
            token=data["token"],
            started_at=datetime.fromisoformat(data["started_at"]),
            ends_at=datetime.fromisoformat(data["ends_at"]),
            volume=int(data["volume"]),
            brightness=int(data["brightness"]),
            color_temp_kelvin=int(data["color_temp_kelvin"]),
            dim_seconds=int(data["dim_seconds"]),
            fade_out_seconds=int(data["fade_out_seconds"]),
            end_action=EndAction(data["end_action"]),
            audio_format=data["audio_format"],
            avoid=tuple(data["avoid"]),
            lights_before={
                entity_id: lights.LightSnapshot.from_dict(snap)
                for entity_id, snap in data["lights_before"].items()
            },
            volumes_before=dict(data["volumes_before"]),
            released=set(data["released"]),
            end_reason=EndReason(data["end_reason"]),
        )


def next_time_of_day(moment: datetime, until: time) -> datetime:
    """Return the next moment (UTC) after ``moment`` when the local clock shows ``until``."""
    local = dt_util.as_local(moment)
    candidate = datetime.combine(local.date(), until, tzinfo=local.tzinfo)
    if candidate <= local:
        candidate = datetime.combine(
            local.date() + timedelta(days=1), until, tzinfo=local.tzinfo
        )
    return dt_util.as_utc(candidate)


class RoomSession:
    """A room and its ASMR session."""

    def __init__(self, hass: HomeAssistant, entry: AsmrConfigEntry) -> None:
        """Initialise an idle room."""
        self.hass = hass
        self.entry = entry
        self.phase = Phase.IDLE
        self.mqtt_topic: str = entry.options.get(CONF_MQTT_TOPIC, "")
        """The MQTT base topic the room was set up with."""
        self._plan: Plan | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self._casts: dict[str, Cast] = {}
        self._listeners: list[CALLBACK_TYPE] = []
        self._contexts: deque[str] = deque(maxlen=128)
        self._recasts: dict[str, int] = {}
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_states: CALLBACK_TYPE | None = None

    # -- what the faces read ------------------------------------------------------

    @property
    def name(self) -> str:
        """Return the room's name."""
        return str(self.entry.data[CONF_NAME])

    @property
    def scene(self) -> str | None:
        """Return the running scene's id."""
        return self._plan.scene if self._plan else None

    @property
    def ends_at(self) -> datetime | None:
        """Return when the running session ends."""
        return self._plan.ends_at if self._plan else None

    @property
    def volume(self) -> int:
        """Return the session's volume (percent), or the room's default when idle."""
        return self._plan.volume if self._plan else int(self.option(CONF_VOLUME))

    @property
    def plan(self) -> Plan | None:
        """Return the running session's plan."""
        return self._plan

    def option(self, key: str) -> Any:
        """Return one of the room's options, or its default."""
        return self.entry.options.get(key, DEFAULT_OPTIONS[key])

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update_callback`` on every change; return a function that stops it."""
        self._listeners.append(update_callback)

        @callback
        def remove() -> None:
            self._listeners.remove(update_callback)

        return remove

    def cast_for(self, token: str, name: str) -> Cast | None:
        """Return the cast a stream URL names, while its session lasts."""
        if self._plan is None or not hmac.compare_digest(token, self._plan.token):
            return None
        return self._casts.get(name)

    # -- life cycle ----------------------------------------------------------------

    async def async_setup(self) -> None:
        """Warm up the default scene and pick up a session that was running at stop."""
        self.entry.async_create_background_task(
            self.hass, self._async_warm_up(), f"{DOMAIN} warm up {self.name}"
        )
        data = await self._store.async_load()
        if not data:
            return
        try:
            plan = Plan.from_dict(data)
        except (KeyError, TypeError, ValueError) as err:
            _LOGGER.warning("Ignoring the stored session of %s: %s", self.name, err)
            await self._store.async_remove()
            return

        async def resume(hass: HomeAssistant) -> None:
            await self.async_restored(plan)

        self.entry.async_on_unload(async_at_started(self.hass, resume))

    async def async_remove(self) -> None:
        """End a stored session properly when its room is deleted."""
        data = await self._store.async_load()
        if data:
            try:
                self._plan = Plan.from_dict(data)
            except (KeyError, TypeError, ValueError):
                self._plan = None
        if self._plan is not None:
            self.phase = Phase.PLAYING
            await self._async_end(EndReason.STOPPED)
        await self._store.async_remove()

    async def _async_warm_up(self) -> None:
        """Build the default scene's sound banks off the event loop."""
        try:
            scene = resolve_scene(self.option(CONF_SCENE), self.option(CONF_AVOID))
        except EngineError:
            return
        await self.hass.loop.run_in_executor(
            None, warm_up, [layer.trigger for layer in scene.layers]
        )

    async def async_shutdown(self) -> None:
        """Detach from Home Assistant; a running session stays stored and resumes."""
        self._cancel_timer()
        if self._unsub_states:
            self._unsub_states()
            self._unsub_states = None

    # -- events ----------------------------------------------------------------------

    async def async_start(
        self, request: StartRequest, *, context: Context | None = None
    ) -> datetime:
        """Start a scene in the room, replacing a running one; return its end."""
        now = dt_util.utcnow()
        plan = self._new_plan(request, now)
        lights_on = [
            e for e in self._lights if lights.is_available(self.hass.states.get(e))
        ]
        speakers_on = [
            e for e in self._speakers if lights.is_available(self.hass.states.get(e))
        ]
        if not lights_on and not speakers_on:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_targets_available",
                translation_placeholders={"room": self.name},
            )
        base_url = self._base_url() if speakers_on else ""
        self._report_unavailable(
            [
                e
                for e in (*self._lights, *self._speakers)
                if e not in (*lights_on, *speakers_on)
            ]
        )

        previous = self._plan
        if previous is not None:
            await self._async_end(EndReason.REPLACED, touch_targets=False)
            kept = {
                e: snap
                for e, snap in previous.lights_before.items()
                if e not in previous.released
            }
            plan.lights_before = {**plan.lights_before, **kept}
            kept_volumes = {
                e: level
                for e, level in previous.volumes_before.items()
                if e not in previous.released
            }
            plan.volumes_before = {**plan.volumes_before, **kept_volumes}
        self._set_phase(Phase.STARTING)
        self._plan = plan
        self._recasts.clear()
        self._notify()
        await self._store.async_save(plan.as_dict())
        self._track_targets()

        own = self._context(context)
        glowing = await lights.async_glow(
            self.hass,
            lights_on,
            brightness_pct=plan.brightness,
            color_temp_kelvin=plan.color_temp_kelvin,
            transition=plan.dim_seconds,
            context=own,
        )
        playing = await self._async_cast(speakers_on, base_url, now, context=own)
        if not glowing and not playing:
            await self._async_end(EndReason.ERROR)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_targets_available",
                translation_placeholders={"room": self.name},
            )
        self._set_phase(Phase.PLAYING)
        self.hass.bus.async_fire(
            EVENT_SESSION_STARTED,
            {
                "config_entry_id": self.entry.entry_id,
                "scene": plan.scene,
                "ends_at": plan.ends_at.isoformat(),
            },
            context=context,
        )
        self._schedule()
        self._notify()
        return plan.ends_at

    async def async_stop(
        self, *, fade: bool = True, context: Context | None = None
    ) -> None:
        """Stop the room's session, fading out first unless ``fade`` is false."""
        plan = self._plan
        if plan is None:
            return
        now = dt_util.utcnow()
        plan.end_reason = EndReason.STOPPED
        if not fade or plan.fade_out_seconds == 0 or now >= plan.ends_at:
            await self._async_end(EndReason.STOPPED, context=context)
            return
        plan.ends_at = min(plan.ends_at, now + timedelta(seconds=plan.fade_out_seconds))
        await self._store.async_save(plan.as_dict())
        await self._async_begin_fade(now, context=context)
        await self._async_recast(now, context=context)
        self._schedule()
        self._notify()

    async def async_extend(
        self, minutes: int, *, context: Context | None = None
    ) -> datetime:
        """Move the running session's end ``minutes`` later; return the new end."""
        plan = self._plan
        if plan is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_running",
                translation_placeholders={"room": self.name},
            )
        _check_minutes(minutes)
        now = dt_util.utcnow()
        plan.ends_at += timedelta(minutes=minutes)
        plan.end_reason = EndReason.TIMER
        await self._store.async_save(plan.as_dict())
        if self.phase is Phase.FADING and now < plan.fade_at:
            self._set_phase(Phase.PLAYING)
            await lights.async_glow(
                self.hass,
                self._controlled_lights(),
                brightness_pct=plan.brightness,
                color_temp_kelvin=None,
                transition=min(plan.dim_seconds, 10),
                context=self._context(context),
            )
        await self._async_recast(now, context=context)
        self._schedule()
        self._notify()
        return plan.ends_at

    async def async_set_default_scene(self, scene_id: str) -> None:
        """Make a scene the room's default; refused if unknown or wholly avoided."""
        try:
            resolve_scene(scene_id, tuple(self.option(CONF_AVOID)))
        except EngineError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="bad_scene",
                translation_placeholders={"scene": scene_id, "error": str(err)},
            ) from err
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_SCENE: scene_id}
        )
        self._notify()

    async def async_set_volume(self, volume: int) -> None:
        """Set the room's volume: the default, and the running session's speakers."""
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_VOLUME: volume}
        )
        if (plan := self._plan) is not None:
            plan.volume = volume
            await self._store.async_save(plan.as_dict())
            await speakers.async_set_volume(
                self.hass,
                self._controlled_speakers(),
                volume / 100,
                self._context(None),
            )
        self._notify()

    async def async_restored(self, plan: Plan) -> None:
        """Resume a stored session after a restart, or end it if its end has passed."""
        now = dt_util.utcnow()
        self._plan = plan
        self._track_targets()
        if now >= plan.ends_at:
            self.phase = Phase.PLAYING
            await self._async_end(plan.end_reason)
            return
        self.phase = Phase.PLAYING
        own = self._context(None)
        await lights.async_glow(
            self.hass,
            self._controlled_lights(),
            brightness_pct=plan.brightness,
            color_temp_kelvin=plan.color_temp_kelvin,
            transition=2,
            context=own,
        )
        if now >= plan.fade_at:
            await self._async_begin_fade(now)
        try:
            base_url = self._base_url() if self._controlled_speakers() else ""
        except HomeAssistantError:
            _LOGGER.warning("Cannot resume the sound in %s: no internal URL", self.name)
        else:
            await self._async_cast(
                self._controlled_speakers(), base_url, now, context=own
            )
        self._schedule()
        self._notify()

    async def _async_tick(self, scheduled: datetime) -> None:
        """Advance the session when one of its moments has come."""
        self._unsub_timer = None
        now = max(scheduled, dt_util.utcnow())
        plan = self._plan
        if plan is None:
            return
        if now >= plan.ends_at:
            await self._async_end(plan.end_reason)
            return
        if self.phase is Phase.PLAYING and now >= plan.fade_at:
            await self._async_begin_fade(now)
        self._schedule()
        self._notify()

    async def _async_speaker_dropped(self, entity_id: str) -> None:
        """Cast again to a speaker that stopped before the end, a bounded number of times."""
        plan = self._plan
        if plan is None or entity_id in plan.released:
            return
        count = self._recasts.get(entity_id, 0) + 1
        self._recasts[entity_id] = count
        if count > MAX_RECASTS:
            _LOGGER.warning(
                "%s keeps dropping the ASMR stream of %s; leaving it alone",
                entity_id,
                self.name,
            )
            plan.released.add(entity_id)
            self._report_unavailable([entity_id], translation_key="speaker_dropped")
            return
        _LOGGER.info(
            "%s stopped early; casting again (%s/%s)", entity_id, count, MAX_RECASTS
        )
        try:
            base_url = self._base_url()
        except HomeAssistantError:
            return
        await self._async_cast([entity_id], base_url, dt_util.utcnow(), context=None)

    # -- the steps -----------------------------------------------------------------

    def _new_plan(self, request: StartRequest, now: datetime) -> Plan:
        """Validate a start request against the room's options; return the new plan."""

        def pick(value: Any, key: str) -> Any:
            return self.option(key) if value is None else value

        scene_id = str(pick(request.scene, CONF_SCENE))
        avoid = tuple(self.option(CONF_AVOID))
        try:
            resolve_scene(scene_id, avoid)
        except EngineError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="bad_scene",
                translation_placeholders={"scene": scene_id, "error": str(err)},
            ) from err
        audio_format = str(self.option(CONF_AUDIO_FORMAT))
        if self._speakers and audio_format not in available_formats():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="format_unavailable",
                translation_placeholders={
                    "format": audio_format,
                    "available": ", ".join(available_formats()),
                },
            )
        if request.until is not None:
            if request.minutes is not None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN, translation_key="minutes_and_until"
                )
            ends_at = next_time_of_day(now, request.until)
        else:
            minutes = int(pick(request.minutes, CONF_MINUTES))
            _check_minutes(minutes)
            ends_at = (now + timedelta(minutes=minutes)).replace(microsecond=0)
        return Plan(
            scene=scene_id,
            seed=secrets.randbits(31),
            token=secrets.token_urlsafe(24),
            started_at=now,
            ends_at=ends_at,
            volume=int(pick(request.volume, CONF_VOLUME)),
            brightness=int(pick(request.brightness, CONF_BRIGHTNESS)),
            color_temp_kelvin=int(
                pick(request.color_temp_kelvin, CONF_COLOR_TEMP_KELVIN)
            ),
            dim_seconds=int(pick(request.dim_seconds, CONF_DIM_SECONDS)),
            fade_out_seconds=int(pick(request.fade_out_seconds, CONF_FADE_OUT_SECONDS)),
            end_action=EndAction(self.option(CONF_END_ACTION)),
            audio_format=audio_format,
            avoid=avoid,
            lights_before=lights.snapshot(self.hass, self._lights),
            volumes_before=speakers.volumes(self.hass, self._speakers),
        )

    async def _async_cast(
        self,
        entity_ids: list[str],
        base_url: str,
        now: datetime,
        *,
        context: Context | None,
    ) -> list[str]:
        """Cast the rest of the session, from ``now``, to speakers."""
        plan = self._plan
        if plan is None or not entity_ids:
            return []
        cast = Cast(
            scene=resolve_scene(plan.scene, plan.avoid),
            seed=plan.seed,
            start=max(plan.frame_at(now), 0),
            stop=plan.frame_at(plan.ends_at),
            fade_in_s=FADE_IN_SECONDS,
            fade_out_s=plan.fade_out_seconds,
            audio_format=plan.audio_format,
        )
        name = f"{len(self._casts)}-{cast.start}.{plan.audio_format}"
        self._casts[name] = cast
        url = f"{base_url}{STREAM_PATH}/{plan.token}/{name}"
        return await speakers.async_play(
            self.hass,
            entity_ids,
            url=url,
            mime_type=cast.mime_type,
            volume=plan.volume / 100,
            context=self._context(context),
        )

    async def _async_recast(self, now: datetime, *, context: Context | None) -> None:
        """Cast the session again from now, after its end moved."""
        if targets := self._controlled_speakers():
            try:
                base_url = self._base_url()
            except HomeAssistantError:
                return
            await self._async_cast(targets, base_url, now, context=context)

    async def _async_begin_fade(
        self, now: datetime, *, context: Context | None = None
    ) -> None:
        """Start fading the lights down towards the end (the sound fades in its stream)."""
        plan = self._plan
        if plan is None:
            return
        self._set_phase(Phase.FADING)
        await lights.async_glow(
            self.hass,
            self._controlled_lights(),
            brightness_pct=1,
            color_temp_kelvin=None,
            transition=max((plan.ends_at - now).total_seconds(), 0),
            context=self._context(context),
        )

    async def _async_end(
        self,
        reason: EndReason,
        *,
        touch_targets: bool = True,
        context: Context | None = None,
    ) -> None:
        """End the session: stop speakers, put volumes and lights back, tell everyone."""
        plan = self._plan
        if plan is None:
            return
        self._cancel_timer()
        if self._unsub_states:
            self._unsub_states()
            self._unsub_states = None
        speakers_left = self._controlled_speakers()
        lights_left = self._controlled_lights()
        self._plan = None
        self._casts.clear()
        if touch_targets:
            own = self._context(context)
            await speakers.async_stop(
                self.hass,
                speakers_left,
                marker=plan.token,
                volumes_before=plan.volumes_before,
                context=own,
            )
            if plan.end_action is EndAction.OFF:
                await lights.async_turn_off(
                    self.hass, lights_left, transition=1, context=own
                )
            elif plan.end_action is EndAction.RESTORE:
                await lights.async_restore(
                    self.hass,
                    {e: s for e, s in plan.lights_before.items() if e in lights_left},
                    transition=1,
                    context=own,
                )
        await self._store.async_remove()
        self._set_phase(Phase.IDLE)
        self.hass.bus.async_fire(
            EVENT_SESSION_ENDED,
            {
                "config_entry_id": self.entry.entry_id,
                "scene": plan.scene,
                "reason": reason.value,
            },
            context=context,
        )
        self._notify()

    # -- plumbing ----------------------------------------------------------------------

    @property
    def _lights(self) -> list[str]:
        """Return the room's lights."""
        return list(self.entry.data[CONF_LIGHTS])

    @property
    def _speakers(self) -> list[str]:
        """Return the room's speakers."""
        return list(self.entry.data[CONF_SPEAKERS])

    def _controlled_lights(self) -> list[str]:
        """Return the lights the session still controls."""
        released = self._plan.released if self._plan else set()
        return [e for e in self._lights if e not in released]

    def _controlled_speakers(self) -> list[str]:
        """Return the speakers the session still controls."""
        released = self._plan.released if self._plan else set()
        return [e for e in self._speakers if e not in released]

    def _set_phase(self, phase: Phase) -> None:
        """Move to another phase, as the transition table allows."""
        if phase is self.phase:
            return
        if phase not in TRANSITIONS[self.phase]:
            raise RuntimeError(f"session cannot go from {self.phase} to {phase}")
        self.phase = phase

    def _context(self, parent: Context | None) -> Context:
        """Return a new context for our own service calls, remembered as ours."""
        context = Context(
            user_id=parent.user_id if parent else None,
            parent_id=parent.id if parent else None,
        )
        self._contexts.append(context.id)
        return context

    def _base_url(self) -> str:
        """Return Home Assistant's internal URL, which the speakers fetch from."""
        try:
            return get_url(self.hass, allow_external=False, allow_cloud=False)
        except NoURLAvailableError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN, translation_key="no_internal_url"
            ) from err

    def _schedule(self) -> None:
        """Schedule the session's next moment: the fade-out, then the end."""
        self._cancel_timer()
        plan = self._plan
        if plan is None:
            return
        when = plan.fade_at if self.phase is Phase.PLAYING else plan.ends_at
        self._unsub_timer = async_track_point_in_utc_time(
            self.hass, self._async_tick, when
        )

    def _cancel_timer(self) -> None:
        """Cancel the session's pending moment."""
        if self._unsub_timer:
            self._unsub_timer()
            self._unsub_timer = None

    def _track_targets(self) -> None:
        """Watch the room's lights and speakers for changes that are not ours."""
        if self._unsub_states:
            self._unsub_states()
        self._unsub_states = async_track_state_change_event(
            self.hass, [*self._lights, *self._speakers], self._async_target_changed
        )

    @callback
    def _async_target_changed(self, event: Event[EventStateChangedData]) -> None:
        """Release a target changed by hand; cast again to a speaker that dropped."""
        plan = self._plan
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if (
            plan is None
            or entity_id in plan.released
            or event.context.id in self._contexts
            or old is None
            or new is None
            or STATE_UNAVAILABLE in (old.state, new.state)
            or STATE_UNKNOWN in (old.state, new.state)
        ):
            return
        if entity_id in self._lights:
            if old.state != new.state or old.attributes.get(
                "brightness"
            ) != new.attributes.get("brightness"):
                _LOGGER.info("%s was changed by hand; leaving it alone", entity_id)
                plan.released.add(entity_id)
                self.hass.async_create_task(self._store.async_save(plan.as_dict()))
            return
        ours_before = plan.token in str(old.attributes.get("media_content_id", ""))
        ours_now = plan.token in str(new.attributes.get("media_content_id", ""))
        if new.state == STATE_PLAYING and ours_now:
            return
        if event.context.user_id is not None:
            _LOGGER.info("%s was taken over by hand; leaving it alone", entity_id)
            plan.released.add(entity_id)
            return
        near_end = dt_util.utcnow() >= plan.ends_at - timedelta(seconds=SETTLE_SECONDS)
        if ours_before and old.state == STATE_PLAYING and not near_end:
            self.entry.async_create_task(
                self.hass,
                self._async_speaker_dropped(entity_id),
                f"{DOMAIN} recast {entity_id}",
            )

    def _report_unavailable(
        self, entity_ids: list[str], translation_key: str = "targets_unavailable"
    ) -> None:
        """Tell the user once (a repair issue) which targets could not be used."""
        issue_id = f"{translation_key}_{self.entry.entry_id}"
        if not entity_ids:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=translation_key,
            translation_placeholders={
                "room": self.name,
                "entities": ", ".join(entity_ids),
            },
        )

    @callback
    def _notify(self) -> None:
        """Tell the faces that the session changed."""
        for update_callback in list(self._listeners):
            update_callback()


def _check_minutes(minutes: int) -> None:
    """Refuse a duration outside 1-720 minutes."""
    if not MINUTES_MIN <= minutes <= MINUTES_MAX:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="minutes_out_of_range",
            translation_placeholders={
                "minutes": str(minutes),
                "min": str(MINUTES_MIN),
                "max": str(MINUTES_MAX),
            },
        )
