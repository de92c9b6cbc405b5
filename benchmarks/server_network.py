#!/usr/bin/env python3
"""The DocVal server over real WebSockets: concurrency, latency and idle-connection memory.

    .venv/bin/python benchmarks/server_network.py [--clients 8] [--seconds 10] [--idle 1000 10000]

Starts ``twistd -n docval`` and the example result server on loopback (as the integration
tests do), then:

* runs ``--clients`` concurrent in-process clients (Autobahn on asyncio, each reading a
  virtual passport) for ``--seconds``: full sessions per second, p50/p99 session latency,
  and server CPU per session from /proc (user+system of the twistd process);
* holds ``--idle`` open connections that have sent nothing (START timeout raised for the
  run) and reports the server's resident memory per connection.

The clients share one process and one core with each other, so the session rate is bounded
by client work too; server CPU per session is the server's own figure.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.integration.test_server import (
    TWISTD,
    Client,
    connect,
    converse,
    free_port,
    start_result_server,
    wait_http,
)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start(folder: Path) -> tuple[str, list[subprocess.Popen[str]], int]:
    result_port, ws_port = free_port(), free_port()
    (folder / "bench.toml").write_text(f"""
[server]
endpoint = "tcp:{ws_port}:interface=127.0.0.1:backlog=4096"
[limits]
start_timeout = 600.0
max_session_time = 600.0
max_connections = 60000            # the idle-memory runs hold 10,000 from one address
max_connections_per_address = 60000
header_timeout = 600.0
[trust]
paths = ["trust"]
[clients.bench]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    results = start_result_server(folder, result_port)
    server = subprocess.Popen(
        [
            str(TWISTD),
            "-n",
            "--pidfile=",
            f"--logfile={os.environ.get('DOCVAL_BENCH_LOG', '/dev/null')}",
            "docval",
            "--config",
            str(folder / "bench.toml"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=folder,
    )
    wait_http(f"http://127.0.0.1:{ws_port}/health")
    return f"ws://127.0.0.1:{ws_port}/ws2/validate", [server, results], server.pid


def stop(processes: list[subprocess.Popen[str]]) -> None:
    """End the server and the result server started by :func:`start`."""
    for proc in processes:
        proc.terminate()
        proc.wait(timeout=20)


async def sessions(url: str, clients: int, seconds: float, profile: str) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        count = 0
        while time.monotonic() < deadline:
            began = time.monotonic()
            received = await converse(
                url, None, profile, client_id="bench", validation_id=f"b{index}-{count}"
            )
            assert received[-1][1] == 1000, received[-1]
            latencies.append(time.monotonic() - began)
            count += 1

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies


async def hold_idle(url: str, count: int) -> list[Client]:
    connections: list[Client] = []
    for start_index in range(0, count, 200):
        batch = await asyncio.gather(*(connect(url, None) for _ in range(min(200, count - start_index))))
        connections += [proto for proto, _factory in batch]
    return connections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--idle", type=int, nargs="*", default=[1000, 10000])
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # the server inherits it
    with tempfile.TemporaryDirectory() as tmp:
        url, processes, pid = start(Path(tmp))
        try:
            for profile, label in (("utopia-bac", "P-256 CA / RSA"), ("utopia", "brainpoolP256r1")):
                asyncio.run(sessions(url, 1, 0.01, profile))  # warm-up: builds the passport, fills caches
                cpu_before = cpu_seconds(pid)
                latencies = sorted(asyncio.run(sessions(url, args.clients, args.seconds, profile)))
                cpu = cpu_seconds(pid) - cpu_before
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(
                    f"{label:16} {args.clients} clients: {len(latencies) / args.seconds:6.1f} sessions/s, "
                    f"latency p50 {statistics.median(latencies) * 1000:6.1f} ms p99 {p99 * 1000:6.1f} ms, "
                    f"server CPU {cpu / len(latencies) * 1000:5.2f} ms/session"
                )
            for count in args.idle:

                async def measure(count: int = count) -> tuple[int, int]:
                    before = rss_kib(pid)
                    held = await hold_idle(url, count)
                    await asyncio.sleep(1.0)
                    after = rss_kib(pid)
                    for proto in held:
                        proto.transport.close()
                    return before, after

                before, after = asyncio.run(measure())
                print(
                    f"{count:6} idle connections: server RSS {before / 1024:6.1f} → {after / 1024:6.1f} MiB, "
                    f"{(after - before) / count:5.1f} KiB per connection"
                )
        finally:
            stop(processes)


if __name__ == "__main__":
    main()
