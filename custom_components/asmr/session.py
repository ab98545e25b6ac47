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
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from enum import StrEnum
import functools
import logging
from typing import Any, Concatenate, Final

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
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.helpers.start import async_at_started
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from . import lights, speakers
from .casts import (
    HORIZON_SECONDS,
    STREAM_PATH,
    LiveEnvelope,
    SessionCast,
    cast_registry,
)
from .const import (
    CONF_LIGHTS,
    CONF_MINUTES,
    CONF_SCENE,
    CONF_SPEAKERS,
    CONF_VOLUME,
    DEFAULT_SCENE,
    DOMAIN,
    EndAction,
)
from .engine import (
    MIX_LEVEL_DB,
    SAMPLE_RATE,
    EngineError,
    Scene,
    catalogue,
    playable_format,
    resolve_scene,
    warm_up,
)
from .envelope import Envelope
from .issues import RoomIssues
from .mixes import CONF_LAYERS, CONF_LEVEL_DB, SUBENTRY_MIX, room_mixes
from .plan import (
    EndReason,
    Plan,
    RoomDefaults,
    StartRequest,
    check_minutes,
    checked_scene,
    new_plan,
)
from .preview import async_play_preview, volumes_before as preview_volumes_before
from .speakers import SpeakerEvent

_LOGGER = logging.getLogger(__name__)

type AsmrConfigEntry = ConfigEntry[RoomSession]

STORAGE_VERSION: Final = 1
EVENT_SESSION_STARTED: Final = "asmr_session_started"
EVENT_SESSION_ENDED: Final = "asmr_session_ended"
RETURN_WATCH: Final = timedelta(minutes=30)
"""How long after an end a light it could not reach is put back when it returns: a bulb
back from a network blip or a power cut is, one switched on at the wall later is not."""
RECOVER_SECONDS: Final = 5.0
"""How fast the sound comes back to full when an extend interrupts its fade-out."""
MAX_RECASTS: Final = 3
"""How often a dropped speaker is cast again within one session before the user is told."""
CAST_FADE_IN_S: Final = 3.0
"""Every cast starts from silence over this long: a speaker that joins, comes back or
resumes mid-session is given its volume before it is heard."""
SETTLE_SECONDS: Final = 5.0
"""A speaker that goes quiet this close to the end has simply finished."""
TAIL_SECONDS: Final = 10.0
"""Silence a cast holds at least after the fade-out: a speaker still plays (and still
takes a volume, which a stopped MPD does not) when the session ends it, even if it
started a little late. An extend whose end leaves less than this before the horizon of
the casts playing is cast again."""


class Phase(StrEnum):
    """Where a room's session is."""

    IDLE = "idle"
    STARTING = "starting"
    PLAYING = "playing"
    FADING = "fading"


TRANSITIONS: Final[dict[Phase, frozenset[Phase]]] = {
    Phase.IDLE: frozenset({Phase.STARTING}),
    Phase.STARTING: frozenset({Phase.PLAYING, Phase.IDLE}),
    Phase.PLAYING: frozenset({Phase.FADING, Phase.IDLE, Phase.STARTING}),
    Phase.FADING: frozenset({Phase.PLAYING, Phase.IDLE, Phase.STARTING}),
}


def _runs_to_its_end[**P, R](
    event: Callable[Concatenate[RoomSession, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[RoomSession, P], Coroutine[Any, Any, R]]:
    """Make an event finish even when its caller stops waiting for it.

    Home Assistant cancels the action an automation or script waits on when it restarts
    (``mode: restart``), is stopped, or is reloaded. An event cut there would leave the
    room half-way: lights at the glow, a stream playing on at a speaker's daytime
    volume, nothing stored. So the event runs in a task of the room's own entry (an
    unload waits for it), and only the caller stops waiting; what goes wrong after it
    gave up is logged.
    """

    @functools.wraps(event)
    async def run(room: RoomSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        name = event.__name__.removeprefix("async_")
        task = room.entry.async_create_task(
            room.hass, event(room, *args, **kwargs), f"{DOMAIN} {name}"
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if not task.done():
                task.add_done_callback(
                    functools.partial(_log_unawaited, room.name, name)
                )
            raise

    return run


def _log_unawaited(room: str, name: str, task: asyncio.Task[Any]) -> None:
    """Log the failure of an event whose caller had stopped waiting for it."""
    if not task.cancelled() and (err := task.exception()) is not None:
        _LOGGER.error(
            "ASMR room %s: the %s failed after its caller stopped waiting: %s",
            room,
            name,
            err,
        )


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
        self.mqtt_topic = RoomDefaults.from_options(entry.options).mqtt_topic
        """The MQTT base topic the room was set up with."""
        self._plan: Plan | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}"
        )
        self._lock = asyncio.Lock()
        self._casts: list[CALLBACK_TYPE] = []
        self._cast_serial = 0  # numbers a session's casts: every one has its own URL
        """How to stop serving each cast of the running session (or the one ending)."""
        self._casts_token: str | None = None
        self._live: LiveEnvelope | None = None
        """The envelope the session's casts render (and how far they have)."""
        self._horizon: int | None = None
        """The earliest end (frame) of the casts the speakers play."""
        self._listeners: list[CALLBACK_TYPE] = []
        self._contexts: deque[str] = deque(maxlen=128)
        self._recasts: dict[str, int] = {}
        self._issues = RoomIssues(hass, entry)
        self._ramps: dict[str, lights.Ramp] = {}
        """The brightness ramp last asked of each light (to know its late reports)."""
        self._timer_generation = 0
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_states: CALLBACK_TYPE | None = None
        self._unsub_returning: CALLBACK_TYPE | None = None
        """Stops watching the lights an end could not reach (see ``_await_return``)."""
        self._waiting: Plan | None = None
        """A stored session waiting for Home Assistant to start before it resumes."""
        self._mixer: str | None = None

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
        return self._plan.volume if self._plan else self.defaults.volume

    @property
    def plan(self) -> Plan | None:
        """Return the running session's plan."""
        return self._plan

    @property
    def defaults(self) -> RoomDefaults:
        """Return the room's defaults (its options, typed)."""
        return RoomDefaults.from_options(self.entry.options)

    @property
    def mixes(self) -> tuple[Scene, ...]:
        """Return the room's own mixes (its mix subentries) as scenes."""
        return room_mixes(self.entry)

    @property
    def catalogue(self) -> dict[str, Scene]:
        """Return every scene the room plays, by id: the built-in ones, then its mixes."""
        return catalogue(self.mixes)

    def scene_named(self, name: str) -> Scene | None:
        """Return the scene or mix the room plays under this name (None: no such one)."""
        return next((s for s in self.catalogue.values() if s.name == name), None)

    @property
    def speakers_in_use(self) -> list[str]:
        """Return the speakers the room's session plays on (none when idle)."""
        return self._controlled_speakers() if self._plan else []

    def free_speakers(self) -> list[str]:
        """Return the room's available speakers that no room's session plays on.

        Speakers that play nothing come first.
        """
        busy = {
            entity_id
            for entry in self.hass.config_entries.async_loaded_entries(DOMAIN)
            for entity_id in entry.runtime_data.speakers_in_use
        }
        free = [
            e
            for e in self._speakers
            if e not in busy and lights.is_available(self.hass.states.get(e))
        ]

        def playing(entity_id: str) -> bool:
            state = self.hass.states.get(entity_id)
            return state is not None and state.state == STATE_PLAYING

        return sorted(free, key=playing)

    @callback
    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call ``update_callback`` on every change; return a function that stops it."""
        self._listeners.append(update_callback)

        @callback
        def remove() -> None:
            self._listeners.remove(update_callback)

        return remove

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
        if plan is None:
            # What can be read of it ends once Home Assistant has started.
            plan = Plan.salvage(data, end_action=self.defaults.end_action)
            plan.ending = True
            plan.end_reason = EndReason.ERROR
        self._waiting = stored = plan

        async def resume(hass: HomeAssistant) -> None:
            if error is None:
                await self.async_restored(stored)
            else:
                await self.async_restored_invalid(stored, error=str(error))

        self.entry.async_on_unload(async_at_started(self.hass, resume))

    async def async_remove(self) -> None:
        """End a stored session properly when its room is deleted; clear its notices."""
        async with self._lock:
            data, plan, error = await self._async_load()
            if plan is None and error is not None:
                plan = Plan.salvage(data, end_action=self.defaults.end_action)
            if plan is not None:
                self._plan = plan
                self.phase = Phase.PLAYING
                await self._async_end(EndReason.STOPPED)
            self._stop_awaiting_return()  # a deleted room watches nothing
            await self._attempt("forgetting the session", self._store.async_remove())
        self._issues.clear_all()

    async def _async_load(self) -> tuple[Any, Plan | None, Exception | None]:
        """Read the store: its data, the plan, what is wrong with it (None: nothing)."""
        try:
            data = await self._store.async_load()
        except Exception as err:  # noqa: BLE001 - a broken store must not stop setup
            return None, None, err
        if data is None:
            return None, None, None
        try:
            return data, Plan.from_dict(data, mixes=self.mixes), None
        except ValueError as err:
            return data, None, err

    async def _async_warm_up(self) -> None:
        """Build the default scene's sound banks off the event loop."""
        try:
            defaults = self.defaults
            scene = resolve_scene(defaults.scene, defaults.avoid, mixes=self.mixes)
        except EngineError:
            return
        await self.hass.async_add_executor_job(
            warm_up, [layer.trigger for layer in scene.layers]
        )

    async def async_shutdown(self) -> None:
        """Detach from Home Assistant; a running session stays stored and resumes.

        Waits for the event in progress (a start, stop or end may be waiting for a
        device), then lets go of the session: no timer fires, no cast is served and no
        plan is held by this unloaded room, so the next setup alone resumes or ends it.
        """
        async with self._lock:
            self._cancel_timer()
            self._untrack_targets()
            self._stop_awaiting_return()
            self._forget_casts()
            self._plan = None
            self._waiting = None

    # -- events ----------------------------------------------------------------------

    @_runs_to_its_end
    async def async_start(
        self, request: StartRequest, *, context: Context | None = None
    ) -> datetime:
        """Start a scene in the room, replacing a running one; return its end."""
        async with self._lock:
            self._adopt_waiting(replacing=True)
            return await self._async_start(request, context=context)

    @_runs_to_its_end
    async def async_play(
        self, scene_id: str, *, context: Context | None = None
    ) -> None:
        """Start a scene with the room's defaults, unless it is the one playing.

        Asked again (an automation making sure it is on, a repeated voice command), a
        playing session keeps its end and its sound; one fading out starts again.
        """
        async with self._lock:
            self._adopt_waiting(replacing=True)
            plan = self._plan
            if (
                plan is not None
                and plan.scene == scene_id
                and not plan.ending
                and self.phase is Phase.PLAYING
                and dt_util.utcnow() < plan.fade_at  # (a stored one's may have passed)
            ):
                return
            await self._async_start(StartRequest(scene=scene_id), context=context)

    @_runs_to_its_end
    async def async_stop(
        self,
        *,
        fade: bool = True,
        scene: str | None = None,
        context: Context | None = None,
    ) -> bool:
        """Stop the room's session, fading out first unless ``fade`` is false.

        With a ``scene``, only if that scene is the one playing. Return whether a
        session was stopped. A stored session still waiting for Home Assistant to start
        is marked as ending: it ends as soon as Home Assistant has started.
        """
        async with self._lock:
            if (waiting := self._takeable()) is not None:
                if scene not in (None, waiting.scene):
                    return False
                # Ended once Home Assistant has started, when its devices are there.
                waiting.ending = True
                waiting.end_reason = EndReason.STOPPED
                await self._async_save(waiting)
                return True
            if self._plan is None or scene not in (None, self._plan.scene):
                return False
            await self._async_stop(fade=fade, context=context)
            return True

    @_runs_to_its_end
    async def async_extend(
        self, minutes: int, *, context: Context | None = None
    ) -> datetime:
        """Move the running session's end ``minutes`` later; return the new end."""
        async with self._lock:
            self._adopt_waiting()
            return await self._async_extend(minutes, context=context)

    async def async_set_default_scene(self, scene_id: str) -> None:
        """Make a scene the room's default; refused if unknown or wholly avoided."""
        checked_scene(scene_id, self.defaults.avoid, mixes=self.mixes)
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_SCENE: scene_id}
        )
        self._notify()

    async def async_set_default_minutes(self, minutes: int) -> None:
        """Make a duration (1-720 minutes) the room's default."""
        check_minutes(minutes)
        self.hass.config_entries.async_update_entry(
            self.entry, options={**self.entry.options, CONF_MINUTES: minutes}
        )

    @_runs_to_its_end
    async def async_set_volume(self, volume: int) -> None:
        """Set the room's volume: the default, and the running session's speakers.

        A stored session still waiting for Home Assistant to start resumes at it.
        """
        async with self._lock:
            self.hass.config_entries.async_update_entry(
                self.entry, options={**self.entry.options, CONF_VOLUME: volume}
            )
            if (waiting := self._takeable()) is not None:
                waiting.volume = volume
                await self._async_save(waiting)
            if (plan := self._plan) is not None:
                plan.volume = volume
                await self._async_save(plan)
                await speakers.async_set_volume(
                    self.hass,
                    self._controlled_speakers(),
                    volume / 100,
                    self._context(None),
                    self._issues.device_result,
                )
            self._notify()

    @_runs_to_its_end
    async def async_preview(self, scene: Scene, speaker: str) -> None:
        """Play a short preview of a scene on a speaker the session does not use.

        No session starts; a speaker the running session plays on is refused.
        """
        if speaker not in self.free_speakers():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="speaker_busy",
                translation_placeholders={"speaker": speaker},
            )
        await async_play_preview(
            self.hass,
            scene,
            speaker,
            base_url=self._base_url(),
            audio_format=playable_format(self.defaults.audio_format),
            volume=self.defaults.volume / 100,
            context=self._context(None),
        )

    @property
    def mixer(self) -> Scene | None:
        """Return the mix the mixer shows: the one chosen, else the one playing, else the first."""
        mixes = {mix.id: mix for mix in self.mixes}
        for mix_id in (self._mixer, self.scene):
            if mix_id in mixes:
                return mixes[mix_id]
        return next(iter(mixes.values()), None)

    def set_mixer(self, mix_id: str) -> None:
        """Show one of the room's mixes in its mixer."""
        if mix_id not in {mix.id for mix in self.mixes}:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_mix",
                translation_placeholders={"mix": mix_id},
            )
        self._mixer = mix_id
        self._notify()

    async def async_set_mix_level(
        self, mix_id: str, layer: int, level_db: float
    ) -> None:
        """Set the level of one layer (from 0) of one of the room's mixes.

        The mix is stored with its new level; a session playing it goes on with it.
        """
        subentry = self.entry.subentries.get(mix_id)
        if subentry is None or subentry.subentry_type != SUBENTRY_MIX:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_mix",
                translation_placeholders={"mix": mix_id},
            )
        layers = [dict(stored) for stored in subentry.data.get(CONF_LAYERS, ())]
        if not 0 <= layer < len(layers):
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="unknown_mix_layer",
                translation_placeholders={
                    "mix": subentry.title,
                    "layer": str(layer + 1),
                },
            )
        low, high = MIX_LEVEL_DB
        if not low <= level_db <= high:  # also refuses NaN
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="mix_level_out_of_range",
                translation_placeholders={
                    "level": str(level_db),
                    "low": f"{low:g}",
                    "high": f"{high:g}",
                },
            )
        layers[layer][CONF_LEVEL_DB] = float(level_db)
        self.hass.config_entries.async_update_subentry(
            self.entry, subentry, data={**subentry.data, CONF_LAYERS: layers}
        )

    @_runs_to_its_end
    async def async_mixes_changed(self, changed: Iterable[str]) -> None:
        """Follow the room's mixes after some were edited or deleted.

        A deleted mix that plays ends at once (reason ``stopped``); an edited one that
        plays goes on, cast again from now with its new layers, to the same end. A
        deleted default scene gives way to the built-in default.
        """
        async with self._lock:
            scenes = self.catalogue
            if self.defaults.scene not in scenes:
                self.hass.config_entries.async_update_entry(
                    self.entry,
                    options={**self.entry.options, CONF_SCENE: DEFAULT_SCENE},
                )
            plan = self._plan
            if plan is not None and plan.scene in set(changed):
                try:
                    resolve_scene(plan.scene, plan.avoid, mixes=self.mixes)
                except EngineError:
                    await self._async_end(EndReason.STOPPED)
                else:
                    await self._async_recast(dt_util.utcnow(), context=None)
            self._notify()

    async def async_restored(self, plan: Plan) -> None:
        """Resume a stored session after a restart, or end it if its end has passed.

        Nothing happens if a start or stop took the stored session up meanwhile, unless
        it left it running (an extend): then it resumes as it is now.
        """
        async with self._lock:
            if self._waiting is not plan and self._plan is not plan:
                return
            self._waiting = None
            if self._plan is plan:
                self._plan = None
            await self._async_restored(plan)

    def _adopt_waiting(self, *, replacing: bool = False) -> None:
        """Take up the stored session an event found still waiting to resume.

        A start or extend that comes while Home Assistant is still starting acts on it
        (replaces or extends it) instead of finding nothing playing; the sound and
        lights come back, if it is still running, once Home Assistant has started. (A
        stop marks it as ending, see ``async_stop``.) A session already ending is left
        to end, unless a start is ``replacing`` it: the devices are still as that
        session left them, so the new one takes over what it remembered of before.
        """
        waiting = self._waiting if replacing else self._takeable()
        if self._plan is None and waiting is not None:
            self._plan, self._waiting = waiting, None
            self.phase = Phase.PLAYING

    def _takeable(self) -> Plan | None:
        """Return the stored session still waiting to resume that an event may act on.

        None while a session runs, when none waits, or when the one waiting is ending.
        """
        waiting = self._waiting
        if self._plan is None and waiting is not None and not waiting.ending:
            return waiting
        return None

    async def async_restored_invalid(self, salvaged: Plan, *, error: str) -> None:
        """End a stored session this version cannot resume, and tell the user once.

        ``salvaged`` is what could be read of it (``Plan.salvage``); nothing happens if
        a start took it over meanwhile.
        """
        async with self._lock:
            if salvaged is not self._waiting and salvaged is not self._plan:
                return  # a start took it over
            # (Still waiting, or taken up by a start that then failed.)
            self._waiting = None
            _LOGGER.warning(
                "Ending the stored ASMR session of %s, which cannot be resumed: %s",
                self.name,
                error,
            )
            self._issues.set("stored_session_invalid", {"error": error})
            self._plan = salvaged
            self.phase = Phase.PLAYING
            await self._async_end(EndReason.ERROR)

    # -- what the events do (the room's lock is held) ------------------------------------

    async def _async_start(
        self, request: StartRequest, *, context: Context | None
    ) -> datetime:
        """Start a scene, replacing a running one; return its end."""
        now = dt_util.utcnow()
        defaults = self.defaults
        plan = new_plan(
            request,
            defaults,
            now=now,
            audio_format=self._playable_format(defaults.audio_format),
            lights_before=lights.snapshot(self.hass, self._lights),
            volumes_before=preview_volumes_before(self.hass, self._speakers),
            mixes=self.mixes,
        )
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
        self._issues.unavailable(
            [
                e
                for e in (*self._lights, *self._speakers)
                if e not in (*lights_on, *speakers_on)
            ]
        )

        self._stop_awaiting_return()  # the new session remembers them as they are
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
                cast_registry(self.hass).async_close(previous.token)
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
            self._issues.set(key, None)
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
        # The sound fades in the stream the speakers play, from the first frame no
        # stream has rendered yet (a few seconds ahead at most): no new cast.
        fade_time = timedelta(seconds=plan.fade_out_seconds)
        ends_at = plan.ends_at

        def fade_out(envelope: Envelope, at: int) -> Envelope:
            nonlocal ends_at
            begin = now if at <= plan.frame_at(now) else plan.moment_of(at)
            if begin + fade_time >= plan.ends_at:
                return envelope  # it already fades out sooner
            ends_at = begin + fade_time
            return envelope.fading(at, plan.frame_at(ends_at))

        self._change_envelope(plan, now, fade_out)
        plan.ends_at = ends_at
        # The end comes on time even if what follows fails.
        self._set_phase(Phase.FADING)
        self._schedule()
        await self._async_save(plan)
        await self._async_begin_fade(now, context=context)
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
        check_minutes(minutes)
        now = dt_util.utcnow()
        plan.ends_at += timedelta(minutes=minutes)
        plan.end_reason = EndReason.TIMER

        def longer(envelope: Envelope, at: int) -> Envelope:
            return envelope.extended(
                at,
                fade_at=plan.frame_at(plan.fade_at),
                end=plan.frame_at(plan.ends_at),
                recover=round(RECOVER_SECONDS * SAMPLE_RATE),
            )

        # The stream the speakers play follows the new envelope: no new cast, unless
        # the new end passes the horizon of the casts playing.
        self._change_envelope(plan, now, longer)
        tail = round(TAIL_SECONDS * SAMPLE_RATE)
        beyond = (
            self._horizon is not None
            and plan.frame_at(plan.ends_at) + tail > self._horizon
        )
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
        if beyond:
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
        await self._async_follow_room(plan)
        if now >= plan.ends_at or plan.ending:
            await self._async_end(plan.end_reason)
            return
        self._schedule()  # first: the end comes whatever the devices do now
        self._notify()
        own = self._context(None)
        if now >= plan.fade_at:
            # Dimming on from where the lights are: never back up to the glow first.
            self._set_phase(Phase.FADING)
            self._schedule()
            await self._async_begin_fade(now)
        else:
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
        try:
            base_url = self._base_url() if self._controlled_speakers() else ""
        except HomeAssistantError:
            _LOGGER.warning("Cannot resume the sound in %s: no internal URL", self.name)
        else:
            # Like a start's: a speaker put in without a volume shown has it learnt.
            await self._async_cast(
                self._controlled_speakers(), base_url, now, context=own, first=True
            )
            await self._async_save(plan)
        self._notify()

    async def _async_follow_room(self, plan: Plan) -> None:
        """Fit a resumed session to the room's lights and speakers as they are now.

        The room may have been reconfigured while the session ran. Lights and speakers
        taken out of it are let go at once, put back as the end would put them; those
        put in (or back from being unavailable at the start) are remembered as they are
        now, before the session touches them, so that the end puts them back too.
        """
        own = self._context(None)
        gone_speakers = [
            e
            for e in plan.volumes_before
            if e not in self._speakers and e not in plan.released
        ]
        gone_lights = [
            e
            for e in plan.lights_before
            if e not in self._lights and e not in plan.released
        ]
        await self._async_put_back(plan, gone_speakers, gone_lights, own)
        new_lights = [
            e
            for e in self._lights
            if e not in plan.lights_before and e not in plan.released
        ]
        new_speakers = [
            e
            for e in self._speakers
            if e not in plan.volumes_before
            and e not in plan.released
            and not speakers.is_ours(self.hass.states.get(e), plan.token)
        ]
        if not (gone_speakers or gone_lights or new_lights or new_speakers):
            return
        plan.lights_before = {
            **{e: s for e, s in plan.lights_before.items() if e not in gone_lights},
            **lights.snapshot(self.hass, new_lights),
        }
        plan.volumes_before = {
            **{e: v for e, v in plan.volumes_before.items() if e not in gone_speakers},
            **preview_volumes_before(self.hass, new_speakers),
        }
        await self._async_save(plan)

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
            self._issues.unavailable([entity_id], "speaker_dropped")
            return
        _LOGGER.info(
            "%s stopped early; casting again (%s/%s)", entity_id, count, MAX_RECASTS
        )
        try:
            base_url = self._base_url()
        except HomeAssistantError:
            _LOGGER.warning(
                "Cannot cast to %s again in %s: no internal URL", entity_id, self.name
            )
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
            _LOGGER.warning(
                "Cannot cast to %s again in %s: no internal URL", entity_id, self.name
            )
            return
        await self._async_cast([entity_id], base_url, now, context=None)

    # -- the steps -----------------------------------------------------------------

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
        if self._casts_token != plan.token or self._live is None:
            self._forget_casts()
            self._casts_token = plan.token
            self._live = LiveEnvelope(
                plan.envelope, lambda: plan.frame_at(dt_util.utcnow())
            )
        start = max(plan.frame_at(now), 0)
        cast = SessionCast(
            scene=resolve_scene(plan.scene, plan.avoid, mixes=self.mixes),
            seed=plan.seed,
            start=start,
            stop=max(plan.frame_at(plan.ends_at), start)
            + round(HORIZON_SECONDS * SAMPLE_RATE),
            fade_in_s=CAST_FADE_IN_S,
            fade_out_s=0.0,
            audio_format=plan.audio_format,
            speakers=len(self._speakers),
            envelope=self._live,
        )
        self._horizon = min(self._horizon or cast.stop, cast.stop)
        name = f"{self._cast_serial}-{cast.start}.{plan.audio_format}"
        self._cast_serial += 1
        self._casts.append(cast_registry(self.hass).register(plan.token, name, cast))
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
                    report=self._issues.device_result,
                    volumes_before=plan.volumes_before if first else None,
                ),
            ),
            entity_ids,
        )
        return played

    async def _async_recast(self, now: datetime, *, context: Context | None) -> None:
        """Cast the session again from now (its end passed the casts' horizon)."""
        if targets := self._controlled_speakers():
            try:
                base_url = self._base_url()
            except HomeAssistantError:
                _LOGGER.warning(
                    "Cannot cast the session of %s again: no internal URL", self.name
                )
                return
            self._horizon = None  # the new casts replace the old ones on every speaker
            earlier = list(self._casts)
            played = await self._async_cast(targets, base_url, now, context=context)
            if set(played) >= set(targets):
                # Every speaker took the new cast: the ones it replaces serve no one.
                for unregister in earlier:
                    unregister()
                self._casts = [c for c in self._casts if c not in earlier]

    def _change_envelope(
        self, plan: Plan, now: datetime, edit: Callable[[Envelope, int], Envelope]
    ) -> int:
        """Change the session's envelope from the first frame no stream has rendered.

        ``edit`` gets the envelope and that frame (never before now) and returns the
        new envelope, which the plan keeps and the streams follow. Return the frame.
        """
        earliest = max(plan.frame_at(now), 0)
        live = self._live if self._casts_token == plan.token else None
        if live is None:
            plan.envelope = edit(plan.envelope, earliest)
            return earliest
        plan.envelope, at = live.change(earliest, edit)
        return at

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
        room_lights = list(lights_left)
        self._plan = None
        if touch_targets:
            # Stored first: a restart before the devices are done ends it again.
            plan.ending = True
            plan.end_reason = reason
            await self._async_save(plan)
            own = self._context(context)
            for _round in range(2):
                speakers_left, lights_left = await self._async_put_back(
                    plan, speakers_left, lights_left, own
                )
                if not speakers_left and not lights_left:
                    break
            # Unavailable now, whether it was before the end or dropped while put back.
            unreachable = [
                e
                for e in room_lights
                if not lights.is_available(self.hass.states.get(e))
            ]
            self._await_return(plan, unreachable)
        # A session's casts outlive its plan by the moments its end needs to pause the
        # speakers and put their volume back.
        self._forget_casts()
        self._ramps.clear()
        if touch_targets:
            # Only now: the speakers were still playing (silence) until they were put back.
            cast_registry(self.hass).async_close(plan.token)
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

    async def _async_put_back(
        self,
        plan: Plan,
        speaker_ids: list[str],
        light_ids: list[str],
        context: Context,
    ) -> tuple[list[str], list[str]]:
        """Stop speakers still playing the session, then put volumes and lights back.

        Each step is tried whatever the other did; return the speakers and the lights
        that failed.
        """
        speakers_left = await self._attempt(
            "stopping the speakers",
            speakers.async_stop(
                self.hass,
                speaker_ids,
                marker=plan.token,
                volumes_before=plan.volumes_before,
                context=context,
                report=self._issues.device_result,
            ),
            speaker_ids,
        )
        lights_left = await self._attempt(
            "putting the lights back",
            self._async_lights_back(plan, light_ids, context),
            light_ids,
        )
        return speakers_left, lights_left

    def _await_return(self, plan: Plan, entity_ids: list[str]) -> None:
        """Put lights that were unavailable at the end as it says once they come back.

        A bulb that drops off the network at the end (or loses power) comes back later,
        often on: it is put back then, once, instead of glowing all night. The watch
        ends when every such light has been put back, when a new session starts, or
        ``RETURN_WATCH`` after the end: a bulb switched on at the wall the next morning
        is meant to be on.
        """
        self._stop_awaiting_return()
        if plan.end_action is EndAction.KEEP or not entity_ids:
            return
        _LOGGER.warning(
            "%s could not be put back at the end of the ASMR session in %s "
            "(unavailable); waiting for it to come back",
            ", ".join(entity_ids),
            self.name,
        )
        waiting = set(entity_ids)

        async def put_back(entity_id: str) -> None:
            async with self._lock:
                if self._plan is None:  # a session started since remembers it anew
                    await self._async_lights_back(
                        plan, [entity_id], self._context(None)
                    )

        @callback
        def returned(event: Event[EventStateChangedData]) -> None:
            entity_id = event.data["entity_id"]
            if entity_id not in waiting or not lights.is_available(
                event.data["new_state"]
            ):
                return
            waiting.discard(entity_id)
            if not waiting:
                self._stop_awaiting_return()
            self.entry.async_create_background_task(
                self.hass, put_back(entity_id), f"{DOMAIN} put back {entity_id}"
            )

        unsub_states = async_track_state_change_event(self.hass, entity_ids, returned)

        @callback
        def give_up(_now: datetime) -> None:
            if waiting:
                _LOGGER.warning(
                    "%s did not come back within %s of the end of the ASMR session in "
                    "%s and was not put back",
                    ", ".join(sorted(waiting)),
                    RETURN_WATCH,
                    self.name,
                )
            unsub_states()
            self._unsub_returning = None

        unsub_timer = async_track_point_in_utc_time(
            self.hass, give_up, dt_util.utcnow() + RETURN_WATCH
        )

        @callback
        def unsub() -> None:
            unsub_states()
            unsub_timer()

        self._unsub_returning = unsub

    def _stop_awaiting_return(self) -> None:
        """Stop watching for lights an end could not reach."""
        if self._unsub_returning:
            self._unsub_returning()
            self._unsub_returning = None

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
            report=self._issues.device_result,
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
                report=self._issues.device_result,
            )
        if plan.end_action is EndAction.RESTORE:
            return await lights.async_restore(
                self.hass,
                {e: s for e, s in plan.lights_before.items() if e in entity_ids},
                transition=1,
                context=context,
                report=self._issues.device_result,
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

    def _forget_casts(self) -> None:
        """Stop serving the casts of the session (its streams answer 404 from now)."""
        for unregister in self._casts:
            unregister()
        self._casts.clear()
        self._casts_token = None
        self._live = None
        self._horizon = None

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
                self._issues.device_result(entity_id, what, err)
            return failed

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
            # Stopping, Home Assistant closes the streams itself: no drop, no takeover.
            or self.hass.is_stopping
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
        event_kind = speakers.classify(
            old,
            new,
            marker=plan.token,
            by_user=event.context.user_id is not None,
            settling=dt_util.utcnow()
            >= plan.ends_at - timedelta(seconds=SETTLE_SECONDS),
        )
        if event_kind is SpeakerEvent.TAKEN_OVER:
            _LOGGER.info(
                "%s was taken over (%s); leaving it alone for the rest of the session",
                entity_id,
                new.state if new else None,
            )
            self._release(plan, entity_id)
        elif event_kind is SpeakerEvent.DROPPED:
            self._run_locked(
                plan,
                lambda: self._async_speaker_dropped(entity_id),
                f"{DOMAIN} recast {entity_id}",
            )
        elif event_kind is SpeakerEvent.BACK:
            self._run_locked(
                plan,
                lambda: self._async_speaker_back(entity_id),
                f"{DOMAIN} cast {entity_id}",
            )

    @callback
    def _release(self, plan: Plan, entity_id: str) -> None:
        """Leave a light or speaker alone for the rest of the session (also after a restart)."""
        plan.released.add(entity_id)
        self._run_locked(
            plan, lambda: self._async_save(plan), f"{DOMAIN} save {self.name}"
        )

    def _playable_format(self, stored: str) -> str:
        """Return the room's audio format, or one that works here if it does not.

        A stored format this install cannot encode (libsndfile gone after an update,
        no ffmpeg) never fails a session: it plays MP3 or WAV instead, and the user is
        told once with a repair issue, which clears when the format works again.
        """
        playable = playable_format(stored)
        self._issues.set(
            "format_unavailable",
            None if playable == stored else {"format": stored, "used": playable},
        )
        return playable

    @callback
    def _notify(self) -> None:
        """Tell the faces that the session changed."""
        for update_callback in list(self._listeners):
            update_callback()


async def _collect[T](into: list[T], step: Awaitable[list[T]]) -> None:
    """Await a step that returns a list and keep its items in ``into``."""
    into.extend(await step)
