"""A session's persisted plan and a room's typed defaults.

``Plan`` is everything a running session stores (its timing, settings and the room's
saved "before" state): a restart rebuilds the session from it, or salvages what it
can to end it. ``RoomDefaults`` reads a room's options with their defaults, and
``new_plan`` turns a start request and those defaults into a checked plan.

The plan holds the session's gain envelope (``envelope.Envelope``) as keyframes, stored
with the rest: an extend or a stop with a fade changes the keyframes after the audio
already served, and a restart renders the same envelope again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
import secrets
from typing import Any, Final, Self

from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from . import lights
from .const import (
    CONF_AUDIO_FORMAT,
    CONF_AVOID,
    CONF_BRIGHTNESS,
    CONF_COLOR_TEMP_KELVIN,
    CONF_DIM_SECONDS,
    CONF_END_ACTION,
    CONF_EXTEND_MINUTES,
    CONF_FADE_OUT_SECONDS,
    CONF_MINUTES,
    CONF_MQTT_TOPIC,
    CONF_SCENE,
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
    Scene,
    playable_format,
    resolve_scene,
)
from .envelope import Envelope

FADE_IN_SECONDS: Final = 8.0
"""Length of a session's fade-in, in seconds."""
_TIMED: Final = Envelope(((0, 0, 1.0, 1.0),))
"""Stands for "the envelope the plan's timing gives" until the plan is made."""


class EndReason(StrEnum):
    """Why a session ended."""

    TIMER = "timer"
    STOPPED = "stopped"
    REPLACED = "replaced"
    ERROR = "error"


@dataclass(frozen=True, kw_only=True)
class RoomDefaults:
    """A room's options, typed, each with its default where the room sets none."""

    scene: str
    minutes: int
    volume: int
    brightness: int
    color_temp_kelvin: int
    dim_seconds: int
    fade_out_seconds: int
    end_action: EndAction
    audio_format: str
    avoid: tuple[str, ...]
    extend_minutes: int
    mqtt_topic: str

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Self:
        """Return the defaults a room's options give."""

        def get(key: str) -> Any:
            return options.get(key, DEFAULT_OPTIONS[key])

        return cls(
            scene=str(get(CONF_SCENE)),
            minutes=int(get(CONF_MINUTES)),
            volume=int(get(CONF_VOLUME)),
            brightness=int(get(CONF_BRIGHTNESS)),
            color_temp_kelvin=int(get(CONF_COLOR_TEMP_KELVIN)),
            dim_seconds=int(get(CONF_DIM_SECONDS)),
            fade_out_seconds=int(get(CONF_FADE_OUT_SECONDS)),
            end_action=EndAction(get(CONF_END_ACTION)),
            audio_format=str(get(CONF_AUDIO_FORMAT)),
            avoid=tuple(get(CONF_AVOID)),
            extend_minutes=int(get(CONF_EXTEND_MINUTES)),
            mqtt_topic=str(get(CONF_MQTT_TOPIC)),
        )


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
    envelope: Envelope = field(default_factory=lambda: _TIMED)
    """The gain of the session's sound over its frames (by default its timing's)."""
    ending: bool = False
    """Whether the session's end has begun: a restart before it is done finishes it."""

    def __post_init__(self) -> None:
        """Give a plan made without an envelope the one its timing gives."""
        if self.envelope is _TIMED:
            self.envelope = self.timed_envelope()

    def timed_envelope(self) -> Envelope:
        """Return the envelope of this plan's timing: fade in, hold, fade out, silence."""
        return Envelope.session(
            fade_in=round(FADE_IN_SECONDS * SAMPLE_RATE),
            fade_at=self.frame_at(self.fade_at),
            end=self.frame_at(self.ends_at),
        )

    def moment_of(self, frame: int) -> datetime:
        """Return the moment a session frame plays (the inverse of ``frame_at``)."""
        return self.started_at + timedelta(
            microseconds=round(frame * 1_000_000 / SAMPLE_RATE)
        )

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
            "envelope": self.envelope.as_data(),
            "ending": self.ending,
        }

    @classmethod
    def from_dict(cls, data: Any, *, mixes: Iterable[Scene] = ()) -> Plan:
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
                # Stored before sessions had envelopes: the timing gives it.
                envelope=(
                    Envelope.from_data(data["envelope"])
                    if "envelope" in data
                    else _TIMED
                ),
                ending=data.get("ending", False) is True,
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
            resolve_scene(plan.scene, plan.avoid, mixes=mixes)
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


def next_time_of_day(moment: datetime, until: time) -> datetime:
    """Return the next moment (UTC) after ``moment`` when the local clock shows ``until``."""
    local = dt_util.as_local(moment)
    candidate = datetime.combine(local.date(), until, tzinfo=local.tzinfo)
    if candidate <= local:
        candidate = datetime.combine(
            local.date() + timedelta(days=1), until, tzinfo=local.tzinfo
        )
    return dt_util.as_utc(candidate)


def checked_scene(
    scene_id: str, avoid: tuple[str, ...], *, mixes: Iterable[Scene] = ()
) -> Scene:
    """Return a scene as the room plays it (built-in or one of ``mixes``).

    Refuse one unknown or wholly avoided.
    """
    try:
        return resolve_scene(scene_id, avoid, mixes=mixes)
    except EngineError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="bad_scene",
            translation_placeholders={"scene": scene_id, "error": str(err)},
        ) from err


def check_minutes(minutes: int) -> None:
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


def new_plan(
    request: StartRequest,
    defaults: RoomDefaults,
    *,
    now: datetime,
    audio_format: str,
    lights_before: dict[str, lights.LightSnapshot],
    volumes_before: dict[str, float | None],
    mixes: Iterable[Scene] = (),
) -> Plan:
    """Validate a start request against the room's defaults; return the new plan."""

    def pick[T](value: T | None, default: T) -> T:
        return default if value is None else value

    scene_id = pick(request.scene, defaults.scene)
    checked_scene(scene_id, defaults.avoid, mixes=mixes)
    if request.until is not None:
        if request.minutes is not None:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="minutes_and_until"
            )
        ends_at = next_time_of_day(now, request.until)
    else:
        minutes = int(pick(request.minutes, defaults.minutes))
        check_minutes(minutes)
        ends_at = (now + timedelta(minutes=minutes)).replace(microsecond=0)
    return Plan(
        scene=scene_id,
        seed=secrets.randbits(31),
        token=secrets.token_urlsafe(24),
        started_at=now,
        ends_at=ends_at,
        volume=int(pick(request.volume, defaults.volume)),
        brightness=int(pick(request.brightness, defaults.brightness)),
        color_temp_kelvin=int(
            pick(request.color_temp_kelvin, defaults.color_temp_kelvin)
        ),
        dim_seconds=int(pick(request.dim_seconds, defaults.dim_seconds)),
        fade_out_seconds=int(pick(request.fade_out_seconds, defaults.fade_out_seconds)),
        end_action=defaults.end_action,
        audio_format=audio_format,
        avoid=defaults.avoid,
        lights_before=lights_before,
        volumes_before=volumes_before,
    )
