"""A real mosquitto broker and an independent paho-mqtt client for the tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
import json
from pathlib import Path
import shutil
import socket
import subprocess
import threading
import time
from typing import Any

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST = "127.0.0.1"
TIMEOUT = 10.0


def free_port() -> int:
    """Return a TCP port on the loopback interface that is free right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Broker:
    """A running mosquitto on the loopback interface."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start mosquitto and wait until it takes connections."""
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} {HOST}\nallow_anonymous true\npersistence false\n",
            encoding="utf-8",
        )
        with (self.directory / "mosquitto.log").open("ab") as log:
            self.process = subprocess.Popen(
                [MOSQUITTO, "-c", str(config)], stdout=log, stderr=log
            )
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log()}")
            try:
                socket.create_connection((HOST, self.port), timeout=0.5).close()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
            else:
                return

    def stop(self) -> None:
        """Stop mosquitto (it keeps nothing: persistence is off)."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=TIMEOUT)
            self.process = None

    def log(self) -> str:
        """Return what mosquitto logged."""
        return (self.directory / "mosquitto.log").read_text(encoding="utf-8")


@contextmanager
def running_broker(directory: Path) -> Iterator[Broker]:
    """Run a mosquitto broker on a free loopback port for the duration."""
    broker = Broker(port=free_port(), directory=directory)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


class Peer:
    """An independent MQTT client (paho-mqtt 2.x), as a button or Node-RED would be."""

    def __init__(self, port: int) -> None:
        """Connect to the broker on ``port``."""
        self.messages: list[MQTTMessage] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client = Client(callback_api_version=CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        self._client.on_connect = lambda *_: self._connected.set()
        self._client.connect(HOST, port)
        self._client.loop_start()
        if not self._connected.wait(TIMEOUT):
            self.close()
            raise TimeoutError("paho client did not connect")

    def _on_message(self, _client: Client, _userdata: Any, msg: MQTTMessage) -> None:
        """Keep every message."""
        with self._lock:
            self.messages.append(msg)

    def subscribe(self, topic: str) -> None:
        """Subscribe to ``topic`` and wait for the broker to confirm."""
        done = threading.Event()
        self._client.on_subscribe = lambda *_: done.set()
        self._client.subscribe(topic, qos=1)
        if not done.wait(TIMEOUT):
            raise TimeoutError(f"no SUBACK for {topic}")

    def publish(
        self, topic: str, payload: str | bytes, *, retain: bool = False
    ) -> None:
        """Publish one message and wait until it has left."""
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(
            TIMEOUT
        )

    def received(self, topic: str) -> list[MQTTMessage]:
        """Return the messages received on ``topic``, oldest first."""
        with self._lock:
            return [msg for msg in self.messages if msg.topic == topic]

    def payloads(self, topic: str) -> list[Any]:
        """Return the decoded JSON payloads received on ``topic``, oldest first."""
        return [json.loads(msg.payload) for msg in self.received(topic)]

    async def wait_for(
        self, topic: str, match: Callable[[Any], bool] = lambda _: True
    ) -> Any:
        """Wait until the latest JSON payload on ``topic`` satisfies ``match``; return it."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                if (payloads := self.payloads(topic)) and match(payloads[-1]):
                    return payloads[-1]
                await asyncio.sleep(0.02)

    def close(self) -> None:
        """Disconnect and stop the client's network thread."""
        self._client.disconnect()
        self._client.loop_stop()
