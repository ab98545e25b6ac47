"""Provision the demo Home Assistant (scripts/develop) through its own HTTP API.

Waits for Home Assistant, onboards it with a local demo user (first run only), adds the
MPD speaker and a "Bedroom" room through the config flows, then checks that the demo
user can log in through the login flow the frontend uses. Everything goes through the
same public endpoints as the onboarding screens and the integrations page.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

import aiohttp

CLIENT_ID = "http://127.0.0.1:8123/"
ROOM = "Bedroom"
ROOM_LIGHTS = ["light.bed_light", "light.ceiling_light"]


class DemoError(Exception):
    """The demo could not be provisioned."""


async def _json(response: aiohttp.ClientResponse) -> Any:
    """Return a response's JSON, or fail with its text."""
    if response.status >= 400:
        raise DemoError(
            f"{response.method} {response.url.path}: {response.status} "
            f"{await response.text()}"
        )
    return await response.json()


async def wait_until_up(
    session: aiohttp.ClientSession, url: str, timeout: float
) -> None:
    """Wait until Home Assistant's HTTP server answers.

    It asks the public list of login providers, not the API: an unauthenticated API
    request would count as a failed login and raise a notification.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with session.get(f"{url}/auth/providers") as response:
                if response.status < 500:
                    return
        except aiohttp.ClientError:
            pass
        if time.monotonic() > deadline:
            raise DemoError(f"Home Assistant did not answer on {url} in {timeout} s")
        await asyncio.sleep(1)


async def _tokens(
    session: aiohttp.ClientSession, url: str, code: str
) -> dict[str, Any]:
    """Exchange an authorization code for tokens (access, refresh, expires_in)."""
    async with session.post(
        f"{url}/auth/token",
        data={"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID},
    ) as response:
        tokens: dict[str, Any] = await _json(response)
        return tokens


async def tokens(
    session: aiohttp.ClientSession, url: str, username: str, password: str
) -> dict[str, Any]:
    """Log in through the login flow the frontend uses; return the tokens."""
    async with session.post(
        f"{url}/auth/login_flow",
        json={
            "client_id": CLIENT_ID,
            "handler": ["homeassistant", None],
            "redirect_uri": CLIENT_ID,
        },
    ) as response:
        flow = await _json(response)
    async with session.post(
        f"{url}/auth/login_flow/{flow['flow_id']}",
        json={"client_id": CLIENT_ID, "username": username, "password": password},
    ) as response:
        result = await _json(response)
    if result.get("type") != "create_entry":
        raise DemoError(f"the demo user cannot log in: {result}")
    return await _tokens(session, url, result["result"])


async def login(
    session: aiohttp.ClientSession, url: str, username: str, password: str
) -> str:
    """Log in through the login flow the frontend uses; return an access token."""
    token: str = (await tokens(session, url, username, password))["access_token"]
    return token


async def onboard(
    session: aiohttp.ClientSession, url: str, username: str, password: str
) -> None:
    """Do Home Assistant's onboarding with the demo user, unless it was done."""
    async with session.get(f"{url}/api/onboarding") as response:
        if response.status == 404:  # the onboarding views are gone once it is done
            return
        steps = await _json(response)
    if all(step["done"] for step in steps):
        return
    done = {step["step"] for step in steps if step["done"]}
    async with session.post(
        f"{url}/api/onboarding/users",
        json={
            "client_id": CLIENT_ID,
            "name": "Demo",
            "username": username,
            "password": password,
            "language": "en",
        },
    ) as response:
        code = (await _json(response))["auth_code"]
    token = (await _tokens(session, url, code))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for step, body in (
        ("core_config", {}),
        ("analytics", {}),
        ("integration", {"client_id": CLIENT_ID, "redirect_uri": CLIENT_ID}),
    ):
        if step in done:
            continue
        async with session.post(
            f"{url}/api/onboarding/{step}", json=body, headers=headers
        ) as response:
            await _json(response)
    print(f"scripts/demo: onboarding done with user {username!r}")


async def _flow(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    handler: str,
    data: dict[str, Any],
) -> dict[str, Any]:
    """Run a one-step config flow; return its result."""
    async with session.post(
        f"{url}/api/config/config_entries/flow",
        json={"handler": handler, "show_advanced_options": False},
        headers=headers,
    ) as response:
        form = await _json(response)
    async with session.post(
        f"{url}/api/config/config_entries/flow/{form['flow_id']}",
        json=data,
        headers=headers,
    ) as response:
        result: dict[str, Any] = await _json(response)
    if result.get("type") != "create_entry":
        raise DemoError(f"adding {handler} failed: {result}")
    return result


async def _entries(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], domain: str
) -> list[dict[str, Any]]:
    """Return the config entries of an integration."""
    async with session.get(
        f"{url}/api/config/config_entries/entry",
        params={"domain": domain},
        headers=headers,
    ) as response:
        entries: list[dict[str, Any]] = await _json(response)
        return entries


async def _media_players(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> set[str]:
    """Return the media players Home Assistant has."""
    async with session.get(f"{url}/api/states", headers=headers) as response:
        states = await _json(response)
    return {
        s["entity_id"] for s in states if s["entity_id"].startswith("media_player.")
    }


async def _wait_for_lights(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> None:
    """Wait until the demo lights exist."""
    for _ in range(60):
        async with session.get(f"{url}/api/states", headers=headers) as response:
            have = {s["entity_id"] for s in await _json(response)}
        if have.issuperset(ROOM_LIGHTS):
            return
        await asyncio.sleep(1)
    raise DemoError(f"the demo lights {ROOM_LIGHTS} did not appear")


async def add_room(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], mpd_port: int
) -> None:
    """Add the MPD speaker and the Bedroom room, unless they exist."""
    await _wait_for_lights(session, url, headers)
    speakers: list[str] = []
    if mpd_port:
        if not await _entries(session, url, headers, "mpd"):
            before = await _media_players(session, url, headers)
            await _flow(
                session, url, headers, "mpd", {"host": "127.0.0.1", "port": mpd_port}
            )
            for _ in range(30):
                if new := await _media_players(session, url, headers) - before:
                    speakers = sorted(new)
                    break
                await asyncio.sleep(1)
            print(f"scripts/demo: added the MPD speaker {speakers}")
    if await _entries(session, url, headers, "asmr"):
        return
    await _flow(
        session,
        url,
        headers,
        "asmr",
        {"name": ROOM, "lights": ROOM_LIGHTS, "speakers": speakers},
    )
    print(f"scripts/demo: added the room {ROOM} ({ROOM_LIGHTS + speakers})")


async def provision(args: argparse.Namespace) -> None:
    """Onboard, add the room and check the login."""
    async with aiohttp.ClientSession() as session:
        await wait_until_up(session, args.url, args.timeout)
        await onboard(session, args.url, args.username, args.password)
        token = await login(session, args.url, args.username, args.password)
        headers = {"Authorization": f"Bearer {token}"}
        await add_room(session, args.url, headers, args.mpd_port)


def main() -> int:
    """Run the provisioning."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="asmr-demo")
    parser.add_argument("--mpd-port", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=300)
    try:
        asyncio.run(provision(parser.parse_args()))
    except DemoError as err:
        print(f"scripts/demo: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
