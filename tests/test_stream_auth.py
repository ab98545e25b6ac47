"""Only a running session's own URL plays: 1,000 wrong ones get 404 and no audio.

Through Home Assistant's real HTTP server: forged tokens (random, or one character off
a live token, or a live token cut short or made longer), tokens of sessions that ended
in every way a session ends (stopped, replaced, stopped after a reload, room deleted),
another room's running cast asked for under a running session's token, non-ASCII and
over-long tokens, with GET or HEAD and any Range header. The live URLs
keep streaming audio throughout, so a server that refused everything would fail too.
"""

from __future__ import annotations

import random

import aiohttp
import pytest
from yarl import URL

from custom_components.asmr.const import DOMAIN
from homeassistant.core import HomeAssistant, ServiceCall

from . import test_stream
from .test_stream import (
    _errors as errors,
    _random_range as random_range,
    _start as start_room,
    _token as token_of,
)

# A real HTTP server with a speaker that records its casts; a short pacing window.
played = test_stream.played
paced = test_stream.paced

CASES = 1000
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


async def start_again(
    hass: HomeAssistant, played: list[ServiceCall], entry_id: str, scene: str
) -> str:
    """Start a scene in a room that already plays one; return the new stream URL."""
    await hass.services.async_call(
        DOMAIN,
        "start",
        {"config_entry_id": entry_id, "scene": scene},
        blocking=True,
    )
    await hass.async_block_till_done()
    return str(played[-1].data["media_content_id"])


def entry_id_of(hass: HomeAssistant, title: str) -> str:
    """Return the entry id of the room called ``title``."""
    (entry,) = [
        e for e in hass.config_entries.async_entries(DOMAIN) if e.title == title
    ]
    return entry.entry_id


def one_off(rng: random.Random, token: str) -> str:
    """Return a live token changed in one way a forger might try."""
    kind = rng.randrange(6)
    if kind == 0:  # one character changed
        i = rng.randrange(len(token))
        return token[:i] + rng.choice(URLSAFE.replace(token[i], "")) + token[i + 1 :]
    if kind == 1:  # cut short
        return token[: rng.randrange(1, len(token))]
    if kind == 2:  # made longer
        return token + "".join(rng.choices(URLSAFE, k=rng.randrange(1, 30)))
    if kind == 3:  # other case
        return token.swapcase() if token.swapcase() != token else token + "x"
    if kind == 4:  # the same characters in another order
        shuffled = list(token)
        while "".join(shuffled) == token:
            rng.shuffle(shuffled)
        return "".join(shuffled)
    return token[::-1] if token[::-1] != token else token + "y"


def non_ascii(rng: random.Random) -> str:
    """Return a token with characters outside ASCII (some look like ASCII ones)."""
    lookalikes = "АВЕКМНОРСТХаеорсух０１２ａｂｃ－＿"
    chars = [rng.choice(URLSAFE) for _ in range(rng.randrange(1, 40))]
    for _ in range(rng.randrange(1, 4)):
        chars[rng.randrange(len(chars))] = rng.choice(
            [
                rng.choice(lookalikes),
                chr(rng.randrange(0xA0, 0x800)),
                chr(rng.randrange(0x4E00, 0x9FFF)),
                chr(rng.randrange(0x1F300, 0x1FAFF)),
            ]
        )
    return "".join(chars)


def over_long(rng: random.Random, token: str) -> str:
    """Return a token far longer than any real one (a live token may start it)."""
    length = rng.choice([65, 100, 1000, rng.randrange(65, 6000)])
    prefix = token if rng.random() < 0.5 else ""
    return prefix + "".join(rng.choices(URLSAFE, k=length - len(prefix)))


async def test_wrong_tokens_get_404_and_no_audio(
    hass: HomeAssistant,
    played: list[ServiceCall],
    paced: tuple[float, float],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1,000 wrong tokens in six families: each 404 with an empty body, no error."""
    bedroom = await start_room(hass, played, audio_format="wav", minutes=30)
    # The nursery casts MP3: its cast's name is one the bedroom's token never had.
    nursery = await start_room(hass, played, name="Nursery", audio_format="mp3")
    live = {token_of(bedroom): URL(bedroom).name, token_of(nursery): URL(nursery).name}
    assert URL(nursery).name != URL(bedroom).name

    # Sessions that ended, each in its own way, leave their URLs behind.
    stopped = await start_room(hass, played, name="Study", audio_format="wav")
    await hass.services.async_call(
        DOMAIN,
        "stop",
        {"config_entry_id": entry_id_of(hass, "Study"), "fade": False},
        blocking=True,
    )
    replaced = await start_room(hass, played, name="Attic", audio_format="wav")
    attic = await start_again(hass, played, entry_id_of(hass, "Attic"), "ocean_night")
    live[token_of(attic)] = URL(attic).name
    # Reloaded (the session resumes, casting again), then stopped: both casts end.
    before_reload = await start_room(hass, played, name="Loft", audio_format="wav")
    loft = entry_id_of(hass, "Loft")
    assert await hass.config_entries.async_unload(loft)
    assert await hass.config_entries.async_setup(loft)
    await hass.async_block_till_done()
    resumed = str(played[-1].data["media_content_id"])
    await hass.services.async_call(
        DOMAIN, "stop", {"config_entry_id": loft, "fade": False}, blocking=True
    )
    deleted = await start_room(hass, played, name="Cellar", audio_format="wav")
    assert await hass.config_entries.async_remove(entry_id_of(hass, "Cellar"))
    await hass.async_block_till_done()
    ended = [stopped, replaced, before_reload, resumed, deleted]
    assert not {token_of(url) for url in ended} & set(live)

    rng = random.Random(2026)
    base = URL(bedroom).origin()
    families = ["forged", "one_off", "ended", "foreign", "non_ascii", "over_long"]
    cases: list[tuple[str, str, str]] = []
    for i in range(CASES):
        family = families[i % len(families)]
        real_token = rng.choice(list(live))
        name = live[real_token]
        if family == "forged":
            token = "".join(rng.choices(URLSAFE, k=len(real_token)))
        elif family == "one_off":
            token = one_off(rng, real_token)
        elif family == "ended":
            url = URL(rng.choice(ended))
            token, name = token_of(str(url)), url.name
        elif family == "foreign":
            # Another room's running cast, under a running session's token.
            token = rng.choice([t for t in live if t != token_of(nursery)])
            name = URL(nursery).name
        elif family == "non_ascii":
            token = non_ascii(rng)
        else:
            token = over_long(rng, real_token)
        assert (token, name) not in live.items()
        cases.append((family, token, name))

    seen: dict[str, int] = {}
    async with aiohttp.ClientSession(auto_decompress=False) as client:
        for n, (family, token, name) in enumerate(cases):
            method = rng.choice(["GET", "HEAD"])
            range_ = random_range(rng)
            headers = {"Range": range_} if range_ is not None else {}
            url = base.with_path(f"/api/asmr/stream/{token}/{name}")
            async with client.request(method, url, headers=headers) as response:
                body = await response.read()
                assert response.status == 404, (family, token[:80], name)
                assert body == b"", (family, token[:80], name)
                assert not response.content_type.startswith("audio/"), family
            seen[family] = seen.get(family, 0) + 1
            if n % 100 == 0:
                # The live URLs still play: a server refusing all would fail here.
                for live_token, live_name in live.items():
                    live_url = base.with_path(
                        f"/api/asmr/stream/{live_token}/{live_name}"
                    )
                    async with client.get(live_url) as response:
                        assert response.status == 200
                        assert response.content_type.startswith("audio/")
                        assert await response.content.readexactly(4096)
    assert sum(seen.values()) == CASES
    assert set(seen) == set(families)
    assert errors(caplog) == []
