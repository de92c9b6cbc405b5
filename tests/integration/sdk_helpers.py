"""Starting ``docval-client sdk`` for the SDK tests and talking to it as an app would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import websocket

CLIENT = Path(sys.executable).with_name("docval-client")


#: A kiosk-style sdk.toml: apps on 127.0.0.1 may use loopback DocVal servers without asking
#: and get the passport's data (what the tests of the workflow itself need).
TRUSTING = """
[[app]]
origin = "http://127.0.0.1:*"
send_result = true
[[app.server]]
url = "ws://127.0.0.1:*/ws2/validate"
approved = true
"""


@contextmanager
def running_sdk(folder: Path, *extra: str, config: str | None = TRUSTING) -> Iterator[dict[str, Any]]:
    """``docval-client sdk --port 0 --simulator`` with TMPDIR=folder and its configuration
    directory in folder (``config``: the sdk.toml text, None for no file: the defaults);
    yields port, process (its stdin is the console the user answers on) and the path of its
    console output."""
    log = folder / "sdk.log"
    config_dir = folder / "config"
    (config_dir / "docval").mkdir(parents=True, exist_ok=True)
    toml = config_dir / "docval" / "sdk.toml"
    toml.unlink(missing_ok=True)
    if config is not None:
        toml.write_text(config)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(CLIENT), "sdk", "--port", "0", "--simulator", *extra],
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": str(folder), "XDG_CONFIG_HOME": str(config_dir)},
        )
    port_file = folder / f"docval-client.{proc.pid}.port"
    try:
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "no port file"
            time.sleep(0.05)
        yield {"port": int(port_file.read_text()), "proc": proc, "log": log, "port_file": port_file}
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stdin is not None:
            proc.stdin.close()


def wait_for_line(log: Path, text: str, timeout: float = 30) -> str:
    """The first console line containing ``text``, waiting for it to appear."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if text in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no console line with {text!r}:\n{log.read_text()}")


def answer(sdk: dict[str, Any], text: str) -> None:
    """Type a line on the SDK's console (after its question appeared)."""
    wait_for_line(sdk["log"], "[y/N]")
    sdk["proc"].stdin.write(f"{text}\n".encode())
    sdk["proc"].stdin.flush()


class App:
    """A synchronous SDK client (websocket-client) with a message log."""

    def __init__(self, port: int, agent: str = "pytest-app/1.0", origin: str | None = None) -> None:
        options: dict[str, Any] = {"origin": origin} if origin else {}
        self.ws = websocket.create_connection(  # websocket-client sends Origin http://127.0.0.1:port
            f"ws://127.0.0.1:{port}/sdk", header=[f"User-Agent: {agent}"], timeout=30, **options
        )
        self.seen: list[dict[str, Any]] = []

    def send(self, **command: Any) -> None:
        self.ws.send(json.dumps(command))

    def until(self, msg: str, **match: Any) -> dict[str, Any]:
        """Read messages until one named ``msg`` whose fields match ``match``."""
        while True:
            message: dict[str, Any] = json.loads(self.ws.recv())
            self.seen.append(message)
            if message.get("msg") == msg and all(message.get(k) == v for k, v in match.items()):
                return message

    def close(self) -> None:
        self.ws.close()
