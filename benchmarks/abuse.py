#!/usr/bin/env python3
"""The DocVal server's limits under abuse, on loopback (bounded in count and seconds).

    .venv/bin/python benchmarks/abuse.py [--hostile 1000] [--sessions 20]

Starts ``twistd -n docval`` (default limits, except ``max_connections`` raised so that the
hostile load fits) and the example result server, then prints:

* connections one address can hold before the server refuses the next (``max_connections_
  per_address``);
* genuine-session latency p50/p99, measured side by side: alone, then while ``--hostile``
  hostile WebSocket connections (START sent, then silence) from 16 other addresses are open;
* log bytes written per hostile MONITORING message (10,000 messages with forged log lines):
  from a client the config does not allow diagnostics, and from one it does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import select
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.conftest import use_txaio

use_txaio("asyncio")

from server_network import stop  # noqa: E402

from emrtd.docval import wire  # noqa: E402
from tests.integration.test_server import (  # noqa: E402
    TWISTD,
    connect,
    converse,
    free_port,
    start_result_server,
    wait_http,
)


def start(folder: Path, max_connections: int) -> tuple[str, int, Path, list[subprocess.Popen[Any]]]:
    result_port, port = free_port(), free_port()
    (folder / "abuse.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1:backlog=4096"
[limits]
max_connections = {max_connections}
[trust]
paths = ["trust"]
[clients.genuine]
result_url = "http://127.0.0.1:{result_port}/results"
[clients.chatty]
result_url = "http://127.0.0.1:{result_port}/results"
[clients.debugging]
result_url = "http://127.0.0.1:{result_port}/results"
diagnostics = true
""")
    results = start_result_server(folder, result_port)
    log = folder / "twistd.log"
    server = subprocess.Popen(
        [str(TWISTD), "-n", "--pidfile=", f"--logfile={log}", "docval", "--config", "abuse.toml"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http(f"http://127.0.0.1:{port}/health")
    return f"ws://127.0.0.1:{port}/ws2/validate", port, log, [server, results]


def held_per_address(port: int, tries: int = 200) -> int:
    """Open ``tries`` raw connections from 127.0.0.9 at once (each an unfinished request
    head), then count those the server still holds (the rest were closed at accept)."""
    opened = []
    for _ in range(tries):
        sock = socket.socket()
        sock.bind(("127.0.0.9", 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        opened.append(sock)
    time.sleep(0.5)
    held = 0
    for sock in opened:
        readable, _, _ = select.select([sock], [], [], 0)
        try:
            held += not readable or sock.recv(1, socket.MSG_PEEK) != b""
        except OSError:
            pass
        sock.close()
    return held


async def genuine_latencies(url: str, count: int) -> list[float]:
    latencies = []
    for index in range(count):
        began = time.monotonic()
        received = await converse(
            url, None, "utopia-bac", "genuine", f"g{index}-{time.time()}", source="127.0.0.200"
        )
        assert received[-1][1] == 1000, received[-1]
        latencies.append(time.monotonic() - began)
    return sorted(latencies)


async def with_hostile(url: str, hostile: int, count: int) -> list[float]:
    start = wire.serialize_text(wire.Start("hostile", "genuine")).encode()
    held = []
    for index in range(hostile):
        proto: Any
        proto, _factory = await connect(url, None, source=f"127.0.1.{index % 16 + 1}")
        proto.sendMessage(start, isBinary=False)
        held.append(proto)
    try:
        return await genuine_latencies(url, count)
    finally:
        for proto in held:
            proto.transport.close()


async def log_bytes_per_message(url: str, log: Path, client: str, messages: int = 10_000) -> float:
    start = json.dumps(
        {
            "type": "START",
            "validationId": f"flood-{client}",
            "clientId": client,
            "platform": "desktop",
            "nfcAdapterSupportsExtendedLength": False,
            "enableDiagnostics": True,
        }
    )
    flood = json.dumps({"type": "MONITORING", "message": "x\n2026-12-04 [-] FORGED\x1b[2J" * 50}).encode()
    proto: Any
    proto, factory = await connect(url, None, source="127.0.0.201")
    proto.sendMessage(start.encode(), isBinary=False)
    await asyncio.wait_for(factory.inbox.get(), 10)
    await asyncio.sleep(0.5)
    before = log.stat().st_size
    for _ in range(messages):
        proto.sendMessage(flood, isBinary=False)
    proto.sendMessage(b'{"type": "FINISH", "sendResult": false}', isBinary=False)
    while not isinstance(await asyncio.wait_for(factory.inbox.get(), 30), tuple):
        pass
    await asyncio.sleep(0.5)
    return (log.stat().st_size - before) / messages


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hostile", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # the server inherits it
    with tempfile.TemporaryDirectory() as tmp:
        url, port, log, processes = start(Path(tmp), max_connections=args.hostile + 200)
        try:
            print(f"connections held by one address before refusal: {held_per_address(port)}")
            asyncio.run(genuine_latencies(url, 2))  # warm-up: builds the passport
            alone = asyncio.run(genuine_latencies(url, args.sessions))
            loaded = asyncio.run(with_hostile(url, args.hostile, args.sessions))

            def p99(values: list[float]) -> float:
                return values[min(len(values) - 1, int(len(values) * 0.99))]

            for label, values in (("alone", alone), (f"with {args.hostile} hostile open", loaded)):
                print(
                    f"genuine session latency {label:24}: p50 {statistics.median(values) * 1000:6.1f} ms, "
                    f"p99 {p99(values) * 1000:6.1f} ms"
                )
            ratio = statistics.median(loaded) / statistics.median(alone)
            print(f"ratio with/without hostile load: p50 ×{ratio:.2f}")
            for client, label in (
                ("chatty", "diagnostics not allowed"),
                ("debugging", "diagnostics allowed"),
            ):
                per = asyncio.run(log_bytes_per_message(url, log, client))
                print(f"log bytes per hostile MONITORING message ({label}): {per:.2f}")
        finally:
            stop(processes)


if __name__ == "__main__":
    main()
