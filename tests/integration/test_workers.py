"""All cores: ``twistd -n docval --workers 2``. Sessions are served by both worker processes
(two PIDs in the per-session lines), the supervisor's admin /metrics sums them, a killed worker
is replaced, and SIGTERM drains both (a session in flight completes)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import use_txaio

use_txaio("asyncio")

from emrtd.docval import wire  # noqa: E402

from .test_server import converse, free_port, start_result_server, start_twistd, wait_http  # noqa: E402

TXAIO_FRAMEWORK = "asyncio"


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[dict[str, Any]]:
    result_port, port, admin = free_port(), free_port(), free_port()
    results = start_result_server(tmp_path, result_port)
    (tmp_path / "docval.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1"
admin_endpoint = "tcp:{admin}:interface=127.0.0.1"
shutdown_grace = 5.0
[trust]
paths = ["trust"]
[clients.workers]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    log = tmp_path / "twistd.log"
    proc = start_twistd(tmp_path, "docval.toml", log, "--workers", "2")
    try:
        wait_http(f"http://127.0.0.1:{admin}/health")
        deadline = time.monotonic() + 30
        while log.read_text().count(" serving") < 2:  # both workers listening
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.1)
        yield {
            "url": f"ws://127.0.0.1:{port}/ws2/validate",
            "admin": f"http://127.0.0.1:{admin}",
            "proc": proc,
            "log": log,
        }
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
        results.terminate()
        results.wait(timeout=20)


def _pids(log: Path) -> set[str]:
    return set(re.findall(r"NORMAL: client workers.*worker (\d+)", log.read_text()))


def _valid(received: list[Any]) -> bool:
    result = next((m for m in received if isinstance(m, wire.Result)), None)
    return result is not None and result.passport["passiveAuthentication"] is True


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def test_two_workers_serve_sessions_and_are_supervised(workers: dict[str, Any]) -> None:
    """Sixteen concurrent sessions: all valid, served by two PIDs, summed in the admin /metrics;
    a killed worker is replaced and the next session succeeds."""

    async def batch(tag: str) -> list[list[Any]]:
        return list(
            await asyncio.gather(
                *(converse(workers["url"], None, "utopia", "workers", f"{tag}-{i}") for i in range(16))
            )
        )

    assert all(_valid(r) for r in asyncio.run(batch("a")))
    time.sleep(0.5)
    pids = _pids(workers["log"])
    assert len(pids) == 2, workers["log"].read_text()[-3000:]
    metrics = _get(f"{workers['admin']}/metrics")
    assert 'docval_sessions_total{outcome="NORMAL"} 16.0' in metrics
    victim = int(sorted(pids)[0])
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while (
        json.loads(_get(f"{workers['admin']}/health"))["workers"] < 2
        or f"worker {victim} ended" not in workers["log"].read_text()
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert all(_valid(r) for r in asyncio.run(batch("b")))


def test_sigterm_drains_both_workers(workers: dict[str, Any]) -> None:
    """SIGTERM while a session waits before FINISH: it completes; then every process exits."""

    async def run() -> list[Any]:
        async def terminate() -> None:
            workers["proc"].send_signal(signal.SIGTERM)
            await asyncio.sleep(1.0)

        return await converse(workers["url"], None, "utopia", "workers", "drain", before_finish=terminate)

    assert _valid(asyncio.run(run()))
    workers["proc"].wait(timeout=30)
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", "docval_server.workers"], capture_output=True, text=True).stdout
    assert not left.strip(), left
