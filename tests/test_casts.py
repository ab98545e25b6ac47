"""The registry of the casts that running sessions serve."""

from __future__ import annotations

from custom_components.asmr.casts import Cast, CastRegistry, cast_registry
from custom_components.asmr.engine import SCENES
from homeassistant.core import HomeAssistant

TOKEN = "A1b2C3d4E5f6G7h8I9j0K1l2"


def _cast(start: int = 0) -> Cast:
    """Return a short cast of the default scene."""
    return Cast(
        scene=SCENES["rain_on_window"],
        seed=7,
        start=start,
        stop=start + 48000,
        fade_in_s=0.0,
        fade_out_s=0.0,
        audio_format="wav",
    )


def test_lookup_finds_a_registered_cast_by_token_and_name() -> None:
    """A cast is found under its session token and name, and nowhere else."""
    registry = CastRegistry()
    cast = _cast()
    registry.register(TOKEN, "0-0.wav", cast)
    assert registry.lookup(TOKEN, "0-0.wav") is cast
    assert registry.lookup(TOKEN, "1-0.wav") is None
    assert registry.lookup(TOKEN[:-1] + "x", "0-0.wav") is None
    assert registry.lookup("", "0-0.wav") is None


def test_lookup_refuses_non_ascii_tokens() -> None:
    """A token with non-ASCII text names nothing (and is never compared)."""
    registry = CastRegistry()
    registry.register(TOKEN, "0-0.wav", _cast())
    assert registry.lookup(TOKEN[:-1] + "é", "0-0.wav") is None


def test_unregister_stops_serving_only_that_cast() -> None:
    """Unregistering one cast leaves the session's others; twice does nothing more."""
    registry = CastRegistry()
    first, second = _cast(), _cast(48000)
    unregister_first = registry.register(TOKEN, "0-0.wav", first)
    unregister_second = registry.register(TOKEN, "1-48000.wav", second)
    unregister_first()
    unregister_first()
    assert registry.lookup(TOKEN, "0-0.wav") is None
    assert registry.lookup(TOKEN, "1-48000.wav") is second
    unregister_second()
    assert registry.lookup(TOKEN, "1-48000.wav") is None


def test_unregister_of_a_replaced_cast_keeps_the_new_one() -> None:
    """A name registered again belongs to its new cast; the old undo leaves it."""
    registry = CastRegistry()
    old, new = _cast(), _cast(96000)
    unregister_old = registry.register(TOKEN, "0-0.wav", old)
    registry.register(TOKEN, "0-0.wav", new)
    unregister_old()
    assert registry.lookup(TOKEN, "0-0.wav") is new


def test_close_tells_every_listener_until_removed() -> None:
    """Closing a token tells the listeners (the stream view) to end its responses."""
    registry = CastRegistry()
    closed: list[str] = []
    remove = registry.async_listen_close(closed.append)
    registry.async_close(TOKEN)
    remove()
    registry.async_close("other")
    assert closed == [TOKEN]


async def test_one_registry_per_home_assistant(hass: HomeAssistant) -> None:
    """The integration's registry is made once and kept in hass.data."""
    assert cast_registry(hass) is cast_registry(hass)
