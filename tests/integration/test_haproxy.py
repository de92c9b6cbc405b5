"""Several servers behind HAProxy (Debian's ``haproxy``, with ``examples/haproxy.cfg`` on
loopback ports): validations succeed through it and reach both servers; when one server is
killed mid-run only its sessions in flight are lost, and new sessions go to the other."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import use_txaio

use_txaio("asyncio")

from emrtd.docval import wire  # noqa: E402

from .test_server import ROOT, converse, free_port, start_result_server, start_twistd, wait_http  # noqa: E402

TXAIO_FRAMEWORK = "asyncio"
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


@pytest.fixture
def farm(tmp_path: Path) -> Iterator[dict[str, Any]]:
    if not Path(HAPROXY).exists():
        pytest.fail("haproxy is not installed (scripts/test.sh installs Debian's haproxy)")
    result_port, front, one, two = (free_port() for _ in range(4))
    results = start_result_server(tmp_path, result_port)
    servers: dict[str, subprocess.Popen[bytes]] = {}
    for name, port in (("docval1", one), ("docval2", two)):
        (tmp_path / f"{name}.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1"
shutdown_grace = 5.0
[trust]
paths = ["trust"]
[clients.farm]
result_url = "http://127.0.0.1:{result_port}/results"
""")
        servers[name] = start_twistd(tmp_path, f"{name}.toml", tmp_path / f"{name}.log")
    config = (ROOT / "examples" / "haproxy.cfg").read_text()
    config = (
        config.replace("127.0.0.1:8765", f"127.0.0.1:{front}")
        .replace("127.0.0.1:8766", f"127.0.0.1:{one}")
        .replace("127.0.0.1:8767", f"127.0.0.1:{two}")
    )
    (tmp_path / "haproxy.cfg").write_text(config)
    proxy = subprocess.Popen(
        [HAPROXY, "-db", "-f", str(tmp_path / "haproxy.cfg")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for port in (one, two):
            wait_http(f"http://127.0.0.1:{port}/health")
        wait_http(f"http://127.0.0.1:{front}/health")
        time.sleep(2.5)  # both servers marked up by the health checks
        yield {"url": f"ws://127.0.0.1:{front}/ws2/validate", "servers": servers, "folder": tmp_path}
    finally:
        processes: list[subprocess.Popen[Any]] = [proxy, *servers.values(), results]
        for proc in processes:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)


def _sessions_logged(folder: Path, name: str) -> int:
    return (folder / f"{name}.log").read_text().count("NORMAL: client farm")


def _valid(received: list[Any]) -> bool:
    result = next((m for m in received if isinstance(m, wire.Result)), None)
    return result is not None and result.passport["passiveAuthentication"] is True


def test_sessions_through_haproxy_reach_both_servers(farm: dict[str, Any]) -> None:
    """Six concurrent validations through HAProxy all succeed, spread over both servers."""

    async def run() -> list[list[Any]]:
        return list(
            await asyncio.gather(
                *(converse(farm["url"], None, "utopia", "farm", f"lb-{i}") for i in range(6))
            )
        )

    assert all(_valid(r) for r in asyncio.run(run()))
    time.sleep(0.5)
    assert (
        _sessions_logged(farm["folder"], "docval1") >= 1 and _sessions_logged(farm["folder"], "docval2") >= 1
    )


def test_a_killed_server_loses_only_its_sessions(farm: dict[str, Any]) -> None:
    """Kill one server while six sessions wait before FINISH: those on it fail, the others
    complete; the next sessions all go to the survivor and succeed."""
    pause = asyncio.Event

    async def run() -> list[Any]:
        gate = pause()

        async def wait() -> None:
            await gate.wait()

        tasks = [
            asyncio.ensure_future(
                converse(farm["url"], None, "utopia", "farm", f"kill-{i}", before_finish=wait)
            )
            for i in range(6)
        ]
        await asyncio.sleep(3.0)  # every session is past the handover, waiting at the gate
        farm["servers"]["docval1"].send_signal(signal.SIGKILL)
        farm["servers"]["docval1"].wait(timeout=10)
        await asyncio.sleep(0.5)
        gate.set()
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    outcomes = [not isinstance(r, BaseException) and _valid(r) for r in asyncio.run(run())]
    time.sleep(1.0)  # the survivor writes each session's line as its connection closes
    survived = _sessions_logged(farm["folder"], "docval2")
    assert 0 < outcomes.count(True) < 6 and outcomes.count(True) == survived, (outcomes, survived)
    time.sleep(2.5)  # HAProxy marks docval1 down
    after = [asyncio.run(converse(farm["url"], None, "utopia", "farm", f"after-{i}")) for i in range(3)]
    assert all(_valid(r) for r in after)
