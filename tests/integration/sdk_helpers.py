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


@contextmanager
def running_sdk(folder: Path, *extra: str) -> Iterator[dict[str, Any]]:
    """``docval-client sdk --port 0 --simulator`` with TMPDIR=folder; yields port, process and
    the path of its console output."""
    log = folder / "sdk.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(CLIENT), "sdk", "--port", "0", "--simulator", *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": str(folder)},
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


class App:
    """A synchronous SDK client (websocket-client) with a message log."""

    def __init__(self, port: int, agent: str = "pytest-app/1.0") -> None:
        self.ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/sdk", header=[f"User-Agent: {agent}"], timeout=30
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
