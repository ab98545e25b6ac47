"""The per-room session: the one place that decides what a room does.

A session goes ``idle -> starting -> playing -> fading -> idle``. Each event that can
happen to a room (start, stop, extend, a timer tick, a speaker dropping, a light changed
by hand, a restart) is one method here; it checks the transition table, changes the
phase and schedules what comes next. Entities, actions, intents, MQTT and the media
source only translate requests into calls on this class.

A room's events run one at a time (one lock per room), so none sees another half done;
whatever a light or speaker raises, an end always completes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
import hmac
import itertools
import logging
import secrets
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_NAME, STATE_PLAYING
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
from .engine import (
    FORMATS,
    SAMPLE_RATE,
    EngineError,
    playable_format,
    resolve_scene,
    warm_up,
)
from .speakers import SpeakerChange
from .stream import STREAM_PATH, Cast, async_close_streams

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
TAIL_SECONDS: Final = 10.0
"""Silence after the fade-out: a speaker still plays (and still takes a volume, which a
stopped MPD does not) when the session ends it, even if it started a little late."""
ISSUE_KEYS: Final = (
    "targets_unavailable",
    "speaker_dropped",
    "device_failed",
    "stored_session_invalid",
    "format_unavailable",
)
"""The repair issues a room can raise (each issue id is ``{key}_{entry_id}``)."""


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
    def from_dict(cls, data: Any) -> Plan:
        """Return a plan read back from storage.

        Raises ``ValueError`` for data this version cannot play: malformed, or naming a
        scene or format it does not know (a later or earlier version may have renamed it).
        """
        try:
            plan = cls(
                scene=_text(data["scene"]),
                seed=int(data["seed"]),
                token=_text(data["token"]),
                started_at=_moment(data["started_at"]),
                ends_at=_moment(data["ends_at"]),
                volume=int(data["volume"]),
                brightness=int(data["brightness"]),
                color_temp_kelvin=int(data["color_temp_kelvin"]),
                dim_seconds=int(data["dim_seconds"]),
                fade_out_seconds=int(data["fade_out_seconds"]),
                end_action=EndAction(data["end_action"]),
                audio_format=_text(data["audio_format"]),
                avoid=tuple(_text(t) for t in data["avoid"]),
                lights_before={
                    _text(entity_id): lights.LightSnapshot.from_dict(snap)
                    for entity_id, snap in data["lights_before"].items()
                },
                volumes_before={
                    _text(entity_id): _level(level)
                    for entity_id, level in data["volumes_before"].items()
                },
                released={_text(entity_id) for entity_id in data["released"]},
                end_reason=EndReason(data["end_reason"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
            raise ValueError(f"malformed stored session ({err!r})") from err
        if not plan.token or plan.seed < 0 or plan.ends_at <= plan.started_at:
            raise ValueError("stored session has no token, a bad seed or no length")
        if not (0 <= plan.volume <= 100 and 1 <= plan.brightness <= 100):
            raise ValueError("stored session has a volume or brightness out of range")
        if min(plan.dim_seconds, plan.fade_out_seconds) < 0:
            raise ValueError("stored session has a negative dim or fade-out time")
        try:
            resolve_scene(plan.scene, plan.avoid)
        except EngineError as err:
            raise ValueError(str(err)) from err
        if plan.audio_format not in FORMATS:
            raise ValueError(f"unknown audio format {plan.audio_format!r}")
        # A known format this install cannot encode now plays as one it can.
        plan.audio_format = playable_format(plan.audio_format)
        return plan

    @classmethod
    def salvage(cls, data: Any, *, end_action: EndAction) -> Plan:
        """Return what can be read of a stored plan that does not hold, to end it.

        Whatever cannot be read is left out: its lights and speakers are then only put
        back as far as the room's end action allows without a saved state.
        """
        raw: dict[str, Any] = data if isinstance(data, dict) else {}
        now = dt_util.utcnow()

        def read[T](key: str, convert: Callable[[Any], T], default: T) -> T:
            try:
                return convert(raw[key])
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                return default

        def items(key: str) -> Iterable[tuple[Any, Any]]:
            value = raw.get(key)
            return value.items() if isinstance(value, dict) else ()

        lights_before: dict[str, lights.LightSnapshot] = {}
        for entity_id, snap in items("lights_before"):
            try:
                lights_before[_text(entity_id)] = lights.LightSnapshot.from_dict(snap)
            except (KeyError, TypeError, ValueError, AttributeError, IndexError):
                continue
        volumes_before: dict[str, float | None] = {}
        for entity_id, level in items("volumes_before"):
            try:
                volumes_before[_text(entity_id)] = _level(level)
            except (TypeError, ValueError):
                continue
        return cls(
            scene=read("scene", _text, ""),
            seed=0,
            token=read("token", _text, ""),
            started_at=now,
            ends_at=now,
            volume=0,
            brightness=1,
            color_temp_kelvin=0,
            dim_seconds=0,
            fade_out_seconds=0,
            end_action=read("end_action", EndAction, end_action),
            audio_format="",
            avoid=(),
            lights_before=lights_before,
            volumes_before=volumes_before,
            released=read("released", lambda v: {_text(e) for e in v}, set()),
            end_reason=EndReason.ERROR,
        )


def _text(value: Any) -> str:
    """Return a stored string; raise ``TypeError`` for anything else."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {value!r}")
    return value


def _moment(value: Any) -> datetime:
    """Return a stored moment; it must carry its time zone."""
    moment = datetime.fromisoformat(_text(value))
    if moment.tzinfo is None:
        raise ValueError(f"moment without a time zone: {value!r}")
    return moment


def _level(value: Any) -> float | None:
    """Return a stored volume level (0..1) or None."""
    if value is None:
        return None
    level = float(value)
    if not 0.0 <= level <= 1.0:
        raise ValueError(f"volume level out of range: {value!r}")
    return level


def _silence(frames: int) -> Iterator[NDArray[np.float32]]:
    """Yield ``frames`` frames of stereo silence in blocks of two seconds."""
    block = np.zeros((2 * SAMPLE_RATE, 2), dtype=np.float32)
    block.flags.writeable = False
    while frames > 0:
        yield block[: min(frames, len(block))]
        frames -= len(block)


@dataclass(frozen=True, kw_only=True)
class SessionCast(Cast):
    """A cast whose audio ends with ``tail_frames`` of silence after its fade-out.

    The speaker is then still playing when the session ends it: it is paused, gets its
    volume back and is stopped, instead of having finished on its own.
    """

    tail_frames: int = 0

    @property
    def frames(self) -> int:
        """Return the length of this cast's audio with its silent tail, in frames."""
        return self.stop - self.start + self.tail_frames

    def blocks_from(self, frame: int) -> Iterable[NDArray[np.float32]]:
        """Return the audio blocks of this cast from one of its frames to its end."""
        sounding = self.stop - self.start
        blocks = super().blocks_from(frame) if frame < sounding else ()
        return itertools.chain(blocks, _silence(self.frames - max(frame, sounding)))


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
    """A room and its ASMR session.

    Every event (start, stop, extend, a timer moment, a restart, a device's change) runs
    under the room's lock, one after the other: an event never sees another one half
    done. The ``_async_*`` steps below the public methods assume the lock is held.
    """

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
        self._lock = asyncio.Lock()
        self._casts: dict[str, Cast] = {}
        self._casts_token: str | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._contexts: deque[str] = deque(maxlen=128)
        self._recasts: dict[str, int] = {}
        self._faults: dict[str, str] = {}
        self._ramps: dict[str, lights.Ramp] = {}
        """The brightness ramp last asked of each light (to know its late reports)."""
        """The devices whose last call failed, with what failed."""
        self._timer_generation = 0
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
        """Return the cast a stream URL names, while its session lasts.

        A session's casts outlive its plan by the few moments its end needs to pause
        the speakers and put their volume back.
        """
        expected = self._casts_token
        if (
            expected is None
            or not token.isascii()
            or not hmac.compare_digest(token, expected)
        ):
            return None
        return self._casts.get(name)

    # -- life cycle ----------------------------------------------------------------

    async def async_setup(self) -> None:
        """Warm up the default scene and pick up a session that was running at stop.

        A stored session this version cannot play (or a store it cannot read) never
        stops the room's setup: it is ended once Home Assistant has started.
        """
        self.entry.async_create_background_task(
            self.hass, self._async_warm_up(), f"{DOMAIN} warm up {self.name}"
        )
        data, plan, error = await self._async_load()
        if plan is None and error is None:
            return

        async def resume(hass: HomeAssistant) -> None:
            if plan is not None:
                await self.async_restored(plan)
            else:
                await self.async_restored_invalid(data=data, error=str(error))

        self.entry.async_on_unload(async_at_started(self.hass, resume))

    async def async_remove(self) -> None:
        """End a stored session properly when its room is deleted; clear its notices."""
        async with self._lock:
            data, plan, error = await self._async_load()
            if plan is None and error is not None:
                plan = Plan.salvage(
                    data, end_action=EndAction(self.option(CONF_END_ACTION))
                )
            if plan is not None:
                self._plan = plan
                self.phase = Phase.PLAYING
                await self._async_end(EndReason.STOPPED)
            await self._attempt("forgetting the session", self._store.async_remove())
        for key in ISSUE_KEYS:
            ir.async_delete_issue(self.hass, DOMAIN, f"{key}_{self.entry.entry_id}")

    async def _async_load(self) -> tuple[Any, Plan | None, Exception | None]:
        """Read the store: its data, the plan, what is wrong with it (None: nothing)."""
        try:
            data = await self._store.async_load()
        except Exception as err:  # noqa: BLE001 - a broken store must not stop setup
            return None, None, err
        if data is None:
            return None, None, None
        try:
            return data, Plan.from_dict(data), None
        except ValueError as err:
            return data, None, err

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
        self._untrack_targets()

    # -- events ----------------------------------------------------------------------

    async def async_start(
        self, request: StartRequest, *, context: Context | None = None
    ) -> datetime:
        """Start a scene in the room, replacing a running one; return its end."""
        async with self._lock:
            return await self._async_start(request, context=context)

    async def async_stop(
        self, *, fade: bool = True, context: Context | None = None
    ) -> None:
        """Stop the room's session, fading out first unless ``fade`` is false."""
        async with self._lock:
            await self._async_stop(fade=fade, context=context)

    async def async_extend(
        self, minutes: int, *, context: Context | None = None
    ) -> datetime:
        """Move the running session's end ``minutes`` later; return the new end."""
        async with self._lock:
            return await self._async_extend(minutes, context=context)

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
        async with self._lock:
            self.hass.config_entries.async_update_entry(
                self.entry, options={**self.entry.options, CONF_VOLUME: volume}
            )
            if (plan := self._plan) is not None:
                plan.volume = volume
                await self._async_save(plan)
                await speakers.async_set_volume(
                    self.hass,
                    self._controlled_speakers(),
                    volume / 100,
                    self._context(None),
                    self._device_result,
                )
            self._notify()

    async def async_restored(self, plan: Plan) -> None:
        """Resume a stored session after a restart, or end it if its end has passed."""
        async with self._lock:
            await self._async_restored(plan)

    async def async_restored_invalid(self, *, data: Any, error: str) -> None:
        """End a stored session this version cannot resume, and tell the user once."""
        async with self._lock:
            if self._plan is not None:
                return  # a session started since has taken the store's place
            _LOGGER.warning(
                "Ending the stored ASMR session of %s, which cannot be resumed: %s",
                self.name,
                error,
            )
            self._set_issue("stored_session_invalid", {"error": error})
            self._plan = Plan.salvage(
                data, end_action=EndAction(self.option(CONF_END_ACTION))
            )
            self.phase = Phase.PLAYING
            await self._async_end(EndReason.ERROR)

    # -- what the events do (the room's lock is held) ------------------------------------

    async def _async_start(
        self, request: StartRequest, *, context: Context | None
    ) -> datetime:
        """Start a scene, replacing a running one; return its end."""
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
        try:
            await self._store.async_save(plan.as_dict())
            self._track_targets()
            own = self._context(context)
            glowing = await self._async_glow(
                lights_on,
                brightness_pct=plan.brightness,
                color_temp_kelvin=plan.color_temp_kelvin,
                transition=plan.dim_seconds,
                context=own,
            )
            playing = await self._async_cast(
                speakers_on, base_url, now, context=own, first=True
            )
            await self._async_save(plan)  # with the volumes learnt while casting
            if previous is not None:
                async_close_streams(self.hass, previous.token)
        except asyncio.CancelledError:
            self._end_later(plan)
            raise
        except Exception:
            await self._async_end(EndReason.ERROR, context=context)
            raise
        if not glowing and not playing:
            await self._async_end(EndReason.ERROR, context=context)
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="no_targets_available",
                translation_placeholders={"room": self.name},
            )
        for key in ("stored_session_invalid", "speaker_dropped"):
            self._set_issue(key, None)
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

    async def _async_stop(self, *, fade: bool, context: Context | None) -> None:
        """Stop the session, fading out first unless ``fade`` is false."""
        plan = self._plan
        if plan is None:
            return
        now = dt_util.utcnow()
        plan.end_reason = EndReason.STOPPED
        if (
            not fade
            or plan.fade_out_seconds == 0
            or now >= plan.ends_at
            or self.phase not in (Phase.PLAYING, Phase.FADING)
        ):
            await self._async_end(EndReason.STOPPED, context=context)
            return
        plan.ends_at = min(plan.ends_at, now + timedelta(seconds=plan.fade_out_seconds))
        # The end comes on time even if what follows fails.
        self._set_phase(Phase.FADING)
        self._schedule()
        await self._async_save(plan)
        await self._async_begin_fade(now, context=context)
        await self._async_recast(now, context=context)
        self._notify()

    async def _async_extend(self, minutes: int, *, context: Context | None) -> datetime:
        """Move the session's end ``minutes`` later; return the new end."""
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
        glow_again = self.phase is Phase.FADING and now < plan.fade_at
        if glow_again:
            self._set_phase(Phase.PLAYING)
        self._schedule()
        await self._async_save(plan)
        if glow_again:
            await self._attempt(
                "brightening the lights",
                self._async_glow(
                    self._controlled_lights(),
                    brightness_pct=plan.brightness,
                    color_temp_kelvin=None,
                    transition=min(plan.dim_seconds, 10),
                    context=self._context(context),
                ),
            )
        await self._async_recast(now, context=context)
        self._notify()
        return plan.ends_at

    async def _async_restored(self, plan: Plan) -> None:
        """Resume a stored session, or end it if its end has passed."""
        if self._plan is not None:
            return  # a session started since has taken the store's place
        now = dt_util.utcnow()
        self._plan = plan
        self.phase = Phase.PLAYING
        self._track_targets()
        if now >= plan.ends_at:
            await self._async_end(plan.end_reason)
            return
        self._schedule()  # first: the end comes whatever the devices do now
        self._notify()
        own = self._context(None)
        await self._attempt(
            "dimming the lights",
            self._async_glow(
                self._controlled_lights(),
                brightness_pct=plan.brightness,
                color_temp_kelvin=plan.color_temp_kelvin,
                transition=2,
                context=own,
            ),
        )
        if now >= plan.fade_at:
            self._set_phase(Phase.FADING)
            self._schedule()
            await self._async_begin_fade(now)
        try:
            base_url = self._base_url() if self._controlled_speakers() else ""
        except HomeAssistantError:
            _LOGGER.warning("Cannot resume the sound in %s: no internal URL", self.name)
        else:
            await self._async_cast(
                self._controlled_speakers(), base_url, now, context=own
            )
        self._notify()

    async def _async_tick(self, scheduled: datetime) -> None:
        """Advance the session when one of its moments has come."""
        now = max(scheduled, dt_util.utcnow())
        plan = self._plan
        if plan is None:
            return
        if now >= plan.ends_at:
            await self._async_end(plan.end_reason)
            return
        if self.phase is Phase.PLAYING and now >= plan.fade_at:
            self._set_phase(Phase.FADING)
            self._schedule()
            await self._async_begin_fade(now)
        else:
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
            await self._async_save(plan)
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

    async def _async_speaker_back(self, entity_id: str) -> None:
        """Cast again to a speaker that is available again, or appeared late."""
        plan = self._plan
        now = dt_util.utcnow()
        if (
            plan is None
            or entity_id in plan.released
            or now >= plan.ends_at - timedelta(seconds=SETTLE_SECONDS)
        ):
            return
        _LOGGER.info(
            "%s is back; casting the session of %s again", entity_id, self.name
        )
        try:
            base_url = self._base_url()
        except HomeAssistantError:
            return
        await self._async_cast([entity_id], base_url, now, context=None)

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
        audio_format = self._playable_format()
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
        first: bool = False,
    ) -> list[str]:
        """Cast the rest of the session, from ``now``, to speakers.

        The ``first`` cast of a session also learns the volume of speakers that did
        not show one before (to put it back at the end).
        """
        plan = self._plan
        if plan is None or not entity_ids:
            return []
        cast = SessionCast(
            scene=resolve_scene(plan.scene, plan.avoid),
            seed=plan.seed,
            start=max(plan.frame_at(now), 0),
            stop=plan.frame_at(plan.ends_at),
            fade_in_s=FADE_IN_SECONDS,
            fade_out_s=plan.fade_out_seconds,
            audio_format=plan.audio_format,
            tail_frames=round(TAIL_SECONDS * SAMPLE_RATE),
        )
        if self._casts_token != plan.token:
            self._casts.clear()
            self._casts_token = plan.token
        name = f"{len(self._casts)}-{cast.start}.{plan.audio_format}"
        self._casts[name] = cast
        url = f"{base_url}{STREAM_PATH}/{plan.token}/{name}"
        played: list[str] = []
        await self._attempt(
            "casting",
            _collect(
                played,
                speakers.async_play(
                    self.hass,
                    entity_ids,
                    url=url,
                    mime_type=cast.mime_type,
                    volume=plan.volume / 100,
                    context=self._context(context),
                    report=self._device_result,
                    volumes_before=plan.volumes_before if first else None,
                ),
            ),
            entity_ids,
        )
        return played

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
        """Fade the lights down towards the end (the sound fades in its stream)."""
        plan = self._plan
        if plan is None:
            return
        await self._attempt(
            "fading the lights",
            self._async_glow(
                self._controlled_lights(),
                brightness_pct=1,
                color_temp_kelvin=None,
                transition=max((plan.ends_at - now).total_seconds(), 0),
                context=self._context(context),
            ),
            self._controlled_lights(),
        )

    async def _async_end(
        self,
        reason: EndReason,
        *,
        touch_targets: bool = True,
        context: Context | None = None,
    ) -> None:
        """End the session: stop speakers, put volumes and lights back, tell everyone.

        Every step is tried whatever the one before it did, and a device that fails is
        tried once more: an end always leaves the room idle with its store empty.
        """
        plan = self._plan
        if plan is None:
            return
        self._cancel_timer()
        self._untrack_targets()
        speakers_left = self._controlled_speakers()
        for entity_id in sorted(plan.released & set(self._speakers)):
            # Paused by someone with our stream still in it: silent, so put it back.
            state = self.hass.states.get(entity_id)
            if speakers.is_ours(state, plan.token) and (
                state is not None and state.state != STATE_PLAYING
            ):
                speakers_left.append(entity_id)
        lights_left = self._controlled_lights()
        self._plan = None
        if touch_targets:
            own = self._context(context)
            for _round in range(2):
                speakers_left = await self._attempt(
                    "stopping the speakers",
                    speakers.async_stop(
                        self.hass,
                        speakers_left,
                        marker=plan.token,
                        volumes_before=plan.volumes_before,
                        context=own,
                        report=self._device_result,
                    ),
                    speakers_left,
                )
                lights_left = await self._attempt(
                    "putting the lights back",
                    self._async_lights_back(plan, lights_left, own),
                    lights_left,
                )
                if not speakers_left and not lights_left:
                    break
        self._casts.clear()
        self._casts_token = None
        self._ramps.clear()
        if touch_targets:
            # Only now: the speakers were still playing (silence) until they were put back.
            async_close_streams(self.hass, plan.token)
        await self._attempt("forgetting the session", self._store.async_remove())
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

    async def _async_glow(
        self,
        entity_ids: list[str],
        *,
        brightness_pct: int,
        color_temp_kelvin: int | None,
        transition: float,
        context: Context,
    ) -> list[str]:
        """Fade lights to a glow, remembering each light's expected ramp."""
        now = dt_util.utcnow()
        for entity_id in entity_ids:
            self._ramps[entity_id] = lights.Ramp.towards(
                self.hass.states.get(entity_id),
                brightness_pct=brightness_pct,
                transition=transition,
                now=now,
            )
        return await lights.async_glow(
            self.hass,
            entity_ids,
            brightness_pct=brightness_pct,
            color_temp_kelvin=color_temp_kelvin,
            transition=transition,
            context=context,
            report=self._device_result,
        )

    async def _async_lights_back(
        self, plan: Plan, entity_ids: list[str], context: Context
    ) -> list[str]:
        """Put lights as the end action says; return the lights that failed."""
        if plan.end_action is EndAction.OFF:
            return await lights.async_turn_off(
                self.hass,
                entity_ids,
                transition=1,
                context=context,
                report=self._device_result,
            )
        if plan.end_action is EndAction.RESTORE:
            return await lights.async_restore(
                self.hass,
                {e: s for e, s in plan.lights_before.items() if e in entity_ids},
                transition=1,
                context=context,
                report=self._device_result,
            )
        return []

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
        """Move to another phase, as the transition table allows.

        Events run one at a time, so a forbidden move is a slip of this class, never of
        the caller: it is logged and refused rather than raised at a user's tap.
        """
        if phase is self.phase:
            return
        if phase not in TRANSITIONS[self.phase]:
            _LOGGER.error(
                "%s: the session cannot go from %s to %s", self.name, self.phase, phase
            )
            return
        self.phase = phase

    async def _attempt[T](
        self, what: str, step: Awaitable[T], entity_ids: Iterable[str] = ()
    ) -> T | list[str]:
        """Await a step; an unexpected error is logged and the step's devices reported.

        Return the step's result, or the devices it concerned when it raised.
        """
        try:
            return await step
        except Exception as err:
            _LOGGER.exception("Unexpected error while %s in %s", what, self.name)
            failed = list(entity_ids)
            for entity_id in failed:
                self._device_result(entity_id, what, err)
            return failed

    @callback
    def _device_result(
        self, entity_id: str, service: str, error: Exception | None
    ) -> None:
        """Count a device's answer: a failure is logged once and becomes one notice.

        The notice lists the room's devices that failed; a device leaves it as soon as
        it does what it is asked again, and the notice goes when none is left.
        """
        if error is None:
            if self._faults.pop(entity_id, None) is not None:
                _LOGGER.info("%s answers again (%s)", entity_id, service)
                self._update_fault_issue()
            return
        if entity_id in self._faults:
            _LOGGER.debug("%s failed %s again: %r", entity_id, service, error)
            return
        self._faults[entity_id] = f"{service}: {error!r}"
        _LOGGER.warning(
            "%s failed %s for the ASMR session of %s (%r); going on without it",
            entity_id,
            service,
            self.name,
            error,
        )
        self._update_fault_issue()

    def _update_fault_issue(self) -> None:
        """Show (or clear) the notice of the devices that failed."""
        self._set_issue(
            "device_failed",
            {
                "entities": ", ".join(sorted(self._faults)),
                "error": next(iter(self._faults.values())),
            }
            if self._faults
            else None,
        )

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

    async def _async_save(self, plan: Plan) -> None:
        """Store the running plan (a failure to write is logged, not raised)."""
        await self._attempt(
            "storing the session", self._store.async_save(plan.as_dict())
        )

    def _run_locked(
        self, plan: Plan, step: Callable[[], Awaitable[None]], name: str
    ) -> None:
        """Run a step in the background, in turn with the room's other events.

        The step is skipped if the session it was meant for has ended meanwhile.
        """

        async def run() -> None:
            async with self._lock:
                if self._plan is plan:
                    await step()

        self.entry.async_create_task(self.hass, run(), name)

    def _end_later(self, plan: Plan) -> None:
        """End a session whose start was cancelled half-way (in turn, in the background)."""

        async def end() -> None:
            await self._async_end(EndReason.ERROR)

        self._run_locked(plan, end, f"{DOMAIN} end {self.name}")

    def _schedule(self) -> None:
        """Schedule the session's next moment: the fade-out, then the end."""
        self._cancel_timer()
        plan = self._plan
        if plan is None:
            return
        when = plan.fade_at if self.phase is Phase.PLAYING else plan.ends_at
        generation = self._timer_generation

        async def moment(_now: datetime) -> None:
            async with self._lock:
                if generation != self._timer_generation:
                    return  # superseded while it waited for its turn
                self._unsub_timer = None
                await self._async_tick(when)

        self._unsub_timer = async_track_point_in_utc_time(self.hass, moment, when)

    def _cancel_timer(self) -> None:
        """Cancel the session's pending moment (also one already waiting for its turn)."""
        self._timer_generation += 1
        if self._unsub_timer:
            self._unsub_timer()
            self._unsub_timer = None

    def _track_targets(self) -> None:
        """Watch the room's lights and speakers for changes that are not ours."""
        self._untrack_targets()
        self._unsub_states = async_track_state_change_event(
            self.hass, [*self._lights, *self._speakers], self._async_target_changed
        )

    def _untrack_targets(self) -> None:
        """Stop watching the room's lights and speakers."""
        if self._unsub_states:
            self._unsub_states()
            self._unsub_states = None

    @callback
    def _async_target_changed(self, event: Event[EventStateChangedData]) -> None:
        """Release a target someone took; cast again to a speaker that dropped or is back."""
        plan = self._plan
        entity_id = event.data["entity_id"]
        old, new = event.data["old_state"], event.data["new_state"]
        if (
            plan is None
            or entity_id in plan.released
            or event.context.id in self._contexts
        ):
            return
        if entity_id in self._lights:
            if lights.changed_by_hand(
                old,
                new,
                ramp=self._ramps.get(entity_id),
                moment=dt_util.utcnow(),
                by_user=event.context.user_id is not None,
            ):
                _LOGGER.info("%s was changed by hand; leaving it alone", entity_id)
                self._release(plan, entity_id)
            return
        change = speakers.classify(old, new, marker=plan.token)
        if change is SpeakerChange.NONE:
            return
        if change is SpeakerChange.BACK:
            self._run_locked(
                plan,
                lambda: self._async_speaker_back(entity_id),
                f"{DOMAIN} cast {entity_id}",
            )
            return
        if change is SpeakerChange.RELEASED or event.context.user_id is not None:
            _LOGGER.info(
                "%s was taken over (%s); leaving it alone for the rest of the session",
                entity_id,
                new.state if new else None,
            )
            self._release(plan, entity_id)
            return
        near_end = dt_util.utcnow() >= plan.ends_at - timedelta(seconds=SETTLE_SECONDS)
        if not near_end:
            self._run_locked(
                plan,
                lambda: self._async_speaker_dropped(entity_id),
                f"{DOMAIN} recast {entity_id}",
            )

    @callback
    def _release(self, plan: Plan, entity_id: str) -> None:
        """Leave a light or speaker alone for the rest of the session (also after a restart)."""
        plan.released.add(entity_id)
        self._run_locked(
            plan, lambda: self._async_save(plan), f"{DOMAIN} save {self.name}"
        )

    def _playable_format(self) -> str:
        """Return the room's audio format, or one that works here if it does not.

        A stored format this install cannot encode (libsndfile gone after an update,
        no ffmpeg) never fails a session: it plays MP3 or WAV instead, and the user is
        told once with a repair issue, which clears when the format works again.
        """
        stored = str(self.option(CONF_AUDIO_FORMAT))
        playable = playable_format(stored)
        self._set_issue(
            "format_unavailable",
            None if playable == stored else {"format": stored, "used": playable},
        )
        return playable

    def _report_unavailable(
        self, entity_ids: list[str], translation_key: str = "targets_unavailable"
    ) -> None:
        """Tell the user once (a repair issue) which targets could not be used."""
        self._set_issue(
            translation_key, {"entities": ", ".join(entity_ids)} if entity_ids else None
        )

    def _set_issue(self, key: str, placeholders: dict[str, str] | None) -> None:
        """Raise the room's repair issue ``key`` with these placeholders, or clear it.

        Its id is ``{key}_{entry_id}`` (one of ``ISSUE_KEYS``); the room's name is always
        a placeholder.
        """
        issue_id = f"{key}_{self.entry.entry_id}"
        if placeholders is None:
            ir.async_delete_issue(self.hass, DOMAIN, issue_id)
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=key,
            translation_placeholders={"room": self.name, **placeholders},
        )

    @callback
    def _notify(self) -> None:
        """Tell the faces that the session changed."""
        for update_callback in list(self._listeners):
            update_callback()


async def _collect[T](into: list[T], step: Awaitable[list[T]]) -> None:
    """Await a step that returns a list and keep its items in ``into``."""
    into.extend(await step)


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
