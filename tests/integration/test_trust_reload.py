"""Trust material changes without a restart: SIGHUP makes a running ``twistd -n docval`` load
its trust paths again. A new CRL revoking the DSC fails the next session's Passive
Authentication while a session already in flight completes on the store it started with; a
broken file keeps the previous store and logs one error line."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import use_txaio

use_txaio("asyncio")

from emrtd.docval import wire  # noqa: E402
from emrtd.sim import pki, testpki  # noqa: E402

from .test_server import converse, free_port, start_result_server, start_twistd, wait_http  # noqa: E402

TXAIO_FRAMEWORK = "asyncio"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[dict[str, Any]]:
    result_port, port = free_port(), free_port()
    results = start_result_server(tmp_path, result_port)
    (tmp_path / "docval.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1"
[trust]
paths = ["trust"]
[clients.reload]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    log = tmp_path / "twistd.log"
    proc = start_twistd(tmp_path, "docval.toml", log)
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        yield {
            "url": f"ws://127.0.0.1:{port}/ws2/validate",
            "port": port,
            "proc": proc,
            "folder": tmp_path,
            "log": log,
        }
    finally:
        for process in (proc, results):
            process.terminate()
            process.wait(timeout=20)


def _generation(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
        return int(json.load(response)["trustGeneration"])


def _reloaded(state: dict[str, Any], before: int) -> None:
    state["proc"].send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while _generation(state["port"]) == before:
        assert time.monotonic() < deadline, state["log"].read_text()[-2000:]
        time.sleep(0.1)


def _passport(received: list[Any]) -> dict[str, Any]:
    return next(m for m in received if isinstance(m, wire.Result)).passport


def test_sighup_revokes_for_the_next_session_not_the_running_one(running: dict[str, Any]) -> None:
    """A CRL revoking the utopia DSC arrives while a session runs: that session still passes,
    the next one fails PA with 'revoked'."""
    keys = testpki.test_pki()
    revoking = pki.revocation_list(
        keys.csca_ec,
        [(0x2004, pki.utc(2025, 6, 1)), (keys.dsc_ec.certificate.serial_number, pki.utc(2026, 1, 2))],
        pki.utc(2026, 1, 2),
        pki.utc(2036, 1, 1),
        number=2,
    ).dump()

    async def swap_crl() -> None:
        (running["folder"] / "trust" / "csca-ut-ecdsa.crl").write_bytes(revoking)
        _reloaded(running, _generation(running["port"]))

    in_flight = asyncio.run(
        converse(running["url"], None, "utopia", "reload", "in-flight", before_finish=swap_crl)
    )
    assert _passport(in_flight)["passiveAuthentication"] is True
    after = _passport(asyncio.run(converse(running["url"], None, "utopia", "reload", "after")))
    assert after["passiveAuthentication"] is False
    assert any("revoked" in error for error in after["errors"]), after["errors"]


def test_a_broken_file_keeps_the_previous_store(running: dict[str, Any]) -> None:
    """A new master list that does not parse: one error line, the old store stays, sessions pass."""
    (running["folder"] / "trust" / "broken.ml").write_bytes(b"\x30\x03\x02\x01")
    running["proc"].send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while "trust store NOT reloaded" not in running["log"].read_text():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert _generation(running["port"]) == 1
    lines = [line for line in running["log"].read_text().splitlines() if "NOT reloaded" in line]
    assert len(lines) == 1 and "broken.ml" in lines[0]
    assert _passport(asyncio.run(converse(running["url"], None, "utopia", "reload", "kept")))[
        "passiveAuthentication"
    ]
