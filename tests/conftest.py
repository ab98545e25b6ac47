"""Fixtures for the ASMR Scenes tests."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
import shutil
import socket
import subprocess
import time
import wave

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components."""
    return


@pytest.fixture
def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def mpd_server(tmp_path: Path, socket_enabled: None) -> Generator[int]:
    """Run a real MPD on 127.0.0.1 with a null output; yield its port."""
    mpd = shutil.which("mpd") or "/usr/bin/mpd"
    if not Path(mpd).exists():
        pytest.fail("MPD is not installed: run scripts/setup")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    root = tmp_path / "mpd"
    (root / "music").mkdir(parents=True)
    with wave.open(str(root / "music" / "lullaby.wav"), "wb") as song:
        song.setnchannels(2)
        song.setsampwidth(2)
        song.setframerate(48000)
        song.writeframes(bytes(48000 * 4 * 30))
    conf = root / "mpd.conf"
    conf.write_text(
        f'music_directory "{root / "music"}"\n'
        f'playlist_directory "{root}"\n'
        f'db_file "{root / "db"}"\n'
        f'log_file "{root / "log"}"\n'
        'bind_to_address "127.0.0.1"\n'
        f'port "{port}"\n'
        'zeroconf_enabled "no"\n'
        "audio_output {\n"
        '  type "null"\n'
        '  name "null"\n'
        '  sync "yes"\n'
        '  mixer_type "software"\n'
        "}\n",
        encoding="utf-8",
    )
    process = subprocess.Popen(  # noqa: S603
        [mpd, "--no-daemon", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"MPD did not start: {(root / 'log').read_text()}")
            time.sleep(0.05)
    yield port
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
