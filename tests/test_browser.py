"""Browser test: headless Chromium presses "Wind down" on the demo's dashboard.

It drives a running demo (scripts/develop) at ``ASMR_DEMO_URL`` (default
http://127.0.0.1:8123), starting one when nothing answers there, through Chromium's
DevTools protocol: it opens the ASMR dashboard as the demo user, clicks the "Wind down"
card with a real mouse event, and sees the lights dim and MPD play. It keeps a
screenshot in tests/artifacts/browser_wind_down.png.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator
import contextlib
import itertools
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp
import pytest

from .common import mpd_status

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import demo  # noqa: E402

DEMO_URL = os.environ.get("ASMR_DEMO_URL", "http://127.0.0.1:8123")
MPD_PORT = int(os.environ.get("ASMR_MPD_PORT", "6601"))
DASHBOARD = f"{DEMO_URL}/asmr-scenes/bedroom"
ARTIFACT = ROOT / "tests" / "artifacts" / "browser_wind_down.png"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: apt-get install chromium; scripts/setup does)",
)

FIND_WIND_DOWN = """
(() => {
  const ha = document.querySelector('home-assistant');
  const hass = ha && ha.hass;
  // The frontend is live: connected, and it knows the entity the card presses.
  const ready = !!(hass && hass.connected && hass.states['button.bedroom_wind_down']);
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      if (el.tagName === 'HUI-BUTTON-CARD' && el.shadowRoot
          && el.shadowRoot.textContent.includes('Wind down')) {
        const card = el.shadowRoot.querySelector('ha-card') || el;
        const r = card.getBoundingClientRect();
        if (r.width > 0 && r.height > 0) return {x: r.x + r.width / 2, y: r.y + r.height / 2};
      }
      if (el.shadowRoot) { const found = walk(el.shadowRoot); if (found) return found; }
    }
    return null;
  };
  const point = walk(document);
  if (!point) return {ready, point: null, hit: false};
  // What a click at the point lands on, through the shadow roots: the card, not a
  // dialog, toast or a card still moving into place.
  let el = document.elementFromPoint(point.x, point.y);
  while (el && el.shadowRoot) {
    const inner = el.shadowRoot.elementFromPoint(point.x, point.y);
    if (!inner || inner === el) break;
    el = inner;
  }
  let hit = false;
  for (let n = el; n; n = n.parentNode || n.host) {
    if (n.tagName === 'HUI-BUTTON-CARD') { hit = true; break; }
  }
  return {ready, point, hit};
})()
"""


def _listening(url: str) -> bool:
    """Return whether something answers on a URL's host and port."""
    host, port = url.split("//")[1].split(":")
    with contextlib.suppress(OSError):
        socket.create_connection((host, int(port.strip("/"))), timeout=1).close()
        return True
    return False


@pytest.fixture
def running_demo(socket_enabled: None) -> Any:
    """Use the running demo, or start scripts/develop and stop it afterwards."""
    if _listening(DEMO_URL):
        yield DEMO_URL
        return
    log = tempfile.NamedTemporaryFile(
        prefix="asmr-develop-", suffix=".log", delete=False
    )  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603
        [str(ROOT / "scripts" / "develop")],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while "ASMR Scenes demo is running" not in Path(log.name).read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            pytest.fail(f"scripts/develop did not start: {Path(log.name).read_text()}")
        time.sleep(1)
    yield DEMO_URL
    _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop scripts/develop and what it started (its trap stops Home Assistant and MPD)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class DevTools:
    """A tiny client for Chromium's DevTools protocol over a page's websocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap a page's DevTools websocket."""
        self.ws = ws
        self.ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Call a DevTools method; return its result."""
        call_id = next(self.ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == call_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page; return its value."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result["result"].get("value")

    async def open(self, url: str) -> None:
        """Navigate and wait for the page's load."""
        await self.call("Page.navigate", url=url)
        for _ in range(100):
            if await self.evaluate("document.readyState") == "complete":
                return
            await asyncio.sleep(0.2)

    async def click(self, x: float, y: float) -> None:
        """Click with the left mouse button at a point of the page."""
        await self.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=x,
                y=y,
                button="left",
                clickCount=1,
            )


@pytest.fixture
async def browser(
    socket_enabled: None, tmp_path: Path
) -> AsyncGenerator[tuple[DevTools, aiohttp.ClientSession]]:
    """Start headless Chromium; yield a DevTools client on its page."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert CHROMIUM is not None
    process = subprocess.Popen(  # noqa: ASYNC220, S603
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--window-size=1280,1000",
            f"--remote-debugging-port={port}",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    async with aiohttp.ClientSession() as session:
        try:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/json/list") as r:
                        pages = [t for t in await r.json() if t["type"] == "page"]
                        if pages:
                            break
                await asyncio.sleep(0.2)
            else:
                pytest.fail("Chromium did not open its DevTools port")
            async with session.ws_connect(
                pages[0]["webSocketDebuggerUrl"], max_msg_size=0
            ) as ws:
                tools = DevTools(ws)
                await tools.call("Page.enable")
                yield tools, session
        finally:
            process.terminate()
            process.wait(timeout=10)


async def _screenshot(tools: DevTools) -> None:
    """Keep a screenshot of the page."""
    shot = await tools.call("Page.captureScreenshot", format="png")
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {ARTIFACT}")  # noqa: T201


async def _state(
    session: aiohttp.ClientSession, headers: dict[str, str], entity_id: str
) -> dict[str, Any]:
    """Return an entity's state from the demo's REST API."""
    async with session.get(f"{DEMO_URL}/api/states/{entity_id}", headers=headers) as r:
        state: dict[str, Any] = await r.json()
        return state


async def _ws(
    session: aiohttp.ClientSession, token: str, message: dict[str, Any]
) -> Any:
    """Send one command over the demo's websocket API; return its result."""
    async with session.ws_connect(f"{DEMO_URL}/api/websocket") as ws:
        await ws.receive_json()  # auth_required
        await ws.send_json({"type": "auth", "access_token": token})
        assert (await ws.receive_json())["type"] == "auth_ok"
        await ws.send_json({"id": 1, **message})
        reply = await ws.receive_json()
        assert reply["success"], reply
        return reply["result"]


async def _assert_quiet(session: aiohttp.ClientSession, token: str) -> None:
    """Assert the demo has no notification, no repair issue and no error in its log."""
    notifications = await _ws(session, token, {"type": "persistent_notification/get"})
    assert notifications == []
    issues = await _ws(session, token, {"type": "repairs/list_issues"})
    assert [i for i in issues["issues"] if not i["ignored"]] == []
    log = ROOT / "config" / "home-assistant.log"
    if log.exists():
        errors = [line for line in log.read_text().splitlines() if " ERROR " in line]
        assert errors == []


async def test_wind_down_from_the_dashboard(
    running_demo: str, browser: tuple[DevTools, aiohttp.ClientSession]
) -> None:
    """Pressing "Wind down" in the page dims the Bedroom's lights and plays on MPD.

    The demo is quiet before and after: no notification, repair issue or logged error.
    """
    tools, session = browser
    token = await demo.login(session, DEMO_URL, "demo", "asmr-demo")
    await _assert_quiet(session, token)
    headers = {"Authorization": f"Bearer {token}"}
    async with session.get(
        f"{DEMO_URL}/api/config/config_entries/entry",
        params={"domain": "asmr"},
        headers=headers,
    ) as r:
        room = (await r.json())[0]["entry_id"]
    await session.post(
        f"{DEMO_URL}/api/services/asmr/stop",
        json={"config_entry_id": room, "fade": False},
        headers=headers,
    )
    await session.post(
        f"{DEMO_URL}/api/services/light/turn_on",
        json={"entity_id": "light.bed_light", "brightness": 255},
        headers=headers,
    )

    # Log the page in as the demo user: the frontend keeps its tokens in localStorage.
    tokens = await demo.tokens(session, DEMO_URL, "demo", "asmr-demo")
    await tools.open(f"{DEMO_URL}/manifest.json")
    stored = {**tokens, "hassUrl": DEMO_URL, "clientId": demo.CLIENT_ID}
    stored["expires"] = int(time.time() * 1000) + tokens["expires_in"] * 1000
    await tools.evaluate(
        f"localStorage.setItem('hassTokens', {json.dumps(json.dumps(stored))})"
    )
    await tools.open(DASHBOARD)

    # Click only once the page is live and the card has settled where the click lands:
    # the same place in two looks in a row, and the topmost element there is the card.
    point, seen, ready = None, None, False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # None while the page is still navigating (nothing to evaluate in yet).
        seen = await tools.evaluate(FIND_WIND_DOWN) or {}
        if seen.get("ready") and seen.get("hit") and seen.get("point") == point:
            ready = True
            break
        point = seen.get("point")
        await asyncio.sleep(0.3)
    if not ready:
        await _screenshot(tools)
    assert ready, (
        f"the Wind down card never became clickable ({seen}); the page: {ARTIFACT}"
    )
    pressed_before = (await _state(session, headers, "button.bedroom_wind_down"))[
        "state"
    ]
    await tools.click(point["x"], point["y"])

    # The press reaches Home Assistant (a button's state is the time of its last press),
    # then the session plays.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pressed = (await _state(session, headers, "button.bedroom_wind_down"))["state"]
        if pressed != pressed_before:
            break
        await asyncio.sleep(0.2)
    assert pressed != pressed_before, "the click on Wind down did not press the button"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        light = await _state(session, headers, "light.bed_light")
        phase = await _state(session, headers, "sensor.bedroom_phase")
        if phase["state"] == "playing" and mpd_status(MPD_PORT).get("state") == "play":
            break
        await asyncio.sleep(0.2)
    assert phase["state"] == "playing"
    assert light["attributes"]["brightness"] < 255
    assert mpd_status(MPD_PORT)["state"] == "play"
    player = await _state(session, headers, "media_player.music_player_daemon")
    assert "/api/asmr/stream/" in player["attributes"]["media_content_id"]

    await asyncio.sleep(1.5)  # the page shows the session's state
    await _screenshot(tools)

    await session.post(
        f"{DEMO_URL}/api/services/asmr/stop",
        json={"config_entry_id": room, "fade": False},
        headers=headers,
    )
    await _assert_quiet(session, token)
