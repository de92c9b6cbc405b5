"""The server under abuse, as an attacker on the network would try it: a real ``twistd -n
docval`` with tight limits, hostile clients on loopback (bounded in count and seconds), and
genuine sessions from other loopback addresses that must still complete."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import use_txaio

use_txaio("asyncio")

from emrtd.docval import wire  # noqa: E402

from .test_server import (  # noqa: E402
    TWISTD,
    connect,
    converse,
    free_port,
    raw,
    start_result_server,
    start_twistd,
    wait_http,
)

TXAIO_FRAMEWORK = "asyncio"
HEADER_TIMEOUT = 2.0
PER_ADDRESS = 20


class TricklingResultServer:
    """Answers every POST with 200 and a body that never ends (one byte every 0.2 s); records
    when each attempt started and when the poster gave up on it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/results"
        self.attempts: list[tuple[float, float]] = []
        self.stopped = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        started = time.monotonic()
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(4096)
        try:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n")
            for _ in range(150):  # 30 s at most
                conn.sendall(b".")
                time.sleep(0.2)
        except OSError:
            pass  # the poster hung up
        self.attempts.append((started, time.monotonic()))
        conn.close()

    def close(self) -> None:
        self.stopped = True
        self.sock.close()


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("abuse")
    result_port, port, admin = free_port(), free_port(), free_port()
    results = start_result_server(folder, result_port)
    trickle = TricklingResultServer()
    (folder / "docval.toml").write_text(f"""
[server]
endpoint = "tcp:{port}:interface=127.0.0.1"
admin_endpoint = "tcp:{admin}:interface=127.0.0.1"
[limits]
max_connections = 60
max_connections_per_address = {PER_ADDRESS}
header_timeout = {HEADER_TIMEOUT}
failures_per_address = 5
failure_refill_seconds = 60
[trust]
paths = ["trust"]
[clients.genuine]
result_url = "http://127.0.0.1:{result_port}/results"
[clients.chatty]
result_url = "http://127.0.0.1:{result_port}/results"
[clients.trickle]
result_url = "{trickle.url}"
""")
    log = folder / "twistd.log"
    twistd = start_twistd(folder, "docval.toml", log)
    try:
        wait_http(f"http://127.0.0.1:{admin}/health")
        yield {
            "url": f"ws://127.0.0.1:{port}/ws2/validate",
            "port": port,
            "admin": f"http://127.0.0.1:{admin}",
            "folder": folder,
            "log": log,
            "trickle": trickle,
        }
    finally:
        twistd.terminate()
        twistd.wait(timeout=20)
        results.terminate()
        results.wait(timeout=20)
        trickle.close()


def _alive(sock: socket.socket) -> bool:
    """Whether the server still holds this connection open (no EOF, no reset)."""
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return True
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False


def _metrics(hostile: dict[str, Any]) -> str:
    with urllib.request.urlopen(f"{hostile['admin']}/metrics", timeout=5) as response:
        return str(response.read().decode())


def test_slowloris_is_capped_and_timed_out(hostile: dict[str, Any]) -> None:
    """30 slow-header connections from one address: 20 are accepted, the rest refused at once;
    the accepted ones are dropped at the 2 s header deadline although they keep sending lines.
    Meanwhile a genuine session from another address completes and /health answers."""
    slow = []
    for _ in range(30):
        sock = socket.create_connection(("127.0.0.1", hostile["port"]), timeout=5)
        sock.sendall(b"GET /ws2/validate HTTP/1.1\r\nHost: x\r\n")
        slow.append(sock)
    time.sleep(0.5)
    assert sum(_alive(s) for s in slow) == PER_ADDRESS
    genuine = asyncio.run(
        converse(hostile["url"], None, "utopia", "genuine", "abuse-genuine", source="127.0.0.2")
    )
    assert (
        isinstance(genuine[-2], wire.Close)
        and genuine[-2].reason == "NORMAL_CLOSURE"
        or any(isinstance(m, wire.Result) for m in genuine)
    ), genuine[-3:]
    with urllib.request.urlopen(f"{hostile['admin']}/health", timeout=5) as response:
        assert response.status == 200
    deadline = time.monotonic() + HEADER_TIMEOUT + 2.0
    while time.monotonic() < deadline and any(_alive(s) for s in slow):
        for sock in slow:
            try:
                sock.sendall(b"X-Slow: 1\r\n")  # one more header line: must not buy time
            except OSError:
                pass
        time.sleep(0.3)
    assert not any(_alive(s) for s in slow)
    for sock in slow:
        sock.close()
    metrics = _metrics(hostile)
    assert 'docval_connections_refused_total{reason="address_cap"} 10.0' in metrics
    assert 'docval_connections_refused_total{reason="header_timeout"} 20.0' in metrics


def test_client_id_brute_force_is_slowed(hostile: dict[str, Any]) -> None:
    """Five unknown client ids from one address are answered 4401; the sixth handshake gets
    HTTP 429; another address is not affected."""
    for guess in range(5):
        start = wire.serialize_text(wire.Start(f"guess-{guess}", f"guess-{guess}"))
        received = asyncio.run(_raw_from(hostile["url"], [start], "127.0.0.4"))
        assert any(isinstance(m, wire.Close) and m.code == 4401 for m in received), received
    with pytest.raises(ConnectionError):
        asyncio.run(_raw_from(hostile["url"], [], "127.0.0.4"))
    other = asyncio.run(
        _raw_from(hostile["url"], [wire.serialize_text(wire.Start("x", "guess"))], "127.0.0.5")
    )
    assert any(isinstance(m, wire.Close) and m.code == 4401 for m in other)
    metrics = _metrics(hostile)
    assert 'docval_handshake_failures_total{kind="failed_client_id"} 6.0' in metrics
    assert 'docval_handshake_failures_total{kind="rate_limited"} 1.0' in metrics


async def _raw_from(url: str, messages: list[Any], source: str) -> list[Any]:
    proto, factory = await connect(url, None, source=source)
    for message in messages:
        proto.sendMessage(message.encode(), isBinary=False)
    received: list[Any] = []
    while True:
        item = await asyncio.wait_for(factory.inbox.get(), 10)
        received.append(item)
        if isinstance(item, tuple):
            return received


def test_diagnostics_flood_from_a_client_not_allowed_leaves_the_log_unchanged(
    hostile: dict[str, Any],
) -> None:
    """A client that asks for diagnostics without the config allowing them: 2,000 MONITORING
    messages with forged log lines write nothing; the log gets only the session's own line."""
    start = json.dumps(
        {
            "type": "START",
            "validationId": "flood",
            "clientId": "chatty",
            "platform": "desktop\n[-] FORGED",
            "nfcAdapterSupportsExtendedLength": False,
            "enableDiagnostics": True,
        }
    )
    flood = json.dumps({"type": "MONITORING", "message": "x\n2026-12-04 [-] FORGED LINE\x1b[2J" * 20})

    async def run() -> str:
        proto, factory = await connect(hostile["url"], None, source="127.0.0.6")
        proto.sendMessage(start.encode(), isBinary=False)
        assert isinstance(await asyncio.wait_for(factory.inbox.get(), 10), wire.Accept)
        await asyncio.sleep(0.3)
        before = hostile["log"].stat().st_size
        for _ in range(2000):
            proto.sendMessage(flood.encode(), isBinary=False)
        proto.sendMessage(b'{"type": "FINISH", "sendResult": false}', isBinary=False)
        while not isinstance(await asyncio.wait_for(factory.inbox.get(), 10), tuple):
            pass
        await asyncio.sleep(0.5)
        with hostile["log"].open("rb") as log:
            log.seek(before)
            text: str = log.read().decode()
            return text

    written = asyncio.run(run())
    lines = written.splitlines()
    assert (
        len(lines) == 1
        and " session " in lines[0]
        and "PROTOCOL_ERROR: client chatty, platform other" in lines[0]
    )
    assert "FORGED" not in hostile["log"].read_text()


def test_each_session_logs_one_line_without_personal_data(hostile: dict[str, Any]) -> None:
    """A genuine session ends with one structured line: outcome, client, platform, verdicts,
    relayed APDUs, duration, worker PID; never the holder's data."""
    asyncio.run(converse(hostile["url"], None, "utopia", "genuine", "abuse-line", source="127.0.0.8"))
    time.sleep(0.5)
    text = hostile["log"].read_text()
    line = next(line for line in reversed(text.splitlines()) if "NORMAL: client genuine" in line)
    assert "platform desktop, PA True, CA SUCCESS, AA SUCCESS" in line and "relayed APDUs" in line
    assert "ERIKSSON" not in text and "UT1234567" not in text


def test_finish_before_any_file_posts_nothing(hostile: dict[str, Any]) -> None:
    """START then FINISH: closed with PROTOCOL_ERROR, and the result server receives nothing."""
    start = wire.serialize_text(wire.Start("early-finish", "genuine"))
    received = asyncio.run(raw(hostile["url"], [start, '{"type": "FINISH", "sendResult": true}']))
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1008, "PROTOCOL_ERROR")
    time.sleep(0.5)
    assert not (hostile["folder"] / "results" / "early-finish.json").exists()


def test_endless_result_body_ends_each_attempt_at_3_s(hostile: dict[str, Any]) -> None:
    """A result server that answers 200 and never finishes its body: each attempt is cut at the
    3 s deadline and retried by the policy (4 attempts), then POST_TO_RESULT_SERVER_FAILED."""
    received = asyncio.run(
        converse(hostile["url"], None, "utopia", "trickle", "abuse-trickle", source="127.0.0.7")
    )
    close = next(m for m in received if isinstance(m, wire.Close))
    assert close.reason == "POST_TO_RESULT_SERVER_FAILED"
    time.sleep(1.0)
    attempts = hostile["trickle"].attempts
    assert len(attempts) == 4
    assert all(2.5 <= end - start <= 4.5 for start, end in attempts), attempts


def test_json_logs_carry_the_session_fields(hostile: dict[str, Any], tmp_path: Path) -> None:
    """With twistd --logger docval_server.logs.json_observer every line is JSON, and the
    session line carries its fields (outcome, client_id, platform, verdicts, duration, pid)."""
    port = free_port()
    config = (hostile["folder"] / "docval.toml").read_text()
    config = config.replace(f"tcp:{hostile['port']}:", f"tcp:{port}:").replace('admin_endpoint = "', '# "')
    config = config.replace('paths = ["trust"]', f'paths = ["{hostile["folder"] / "trust"}"]')
    (tmp_path / "docval.toml").write_text(config)
    out = tmp_path / "out.jsonl"
    with out.open("w") as stream:
        proc = subprocess.Popen(
            [
                str(TWISTD),
                "--logger",
                "docval_server.logs.json_observer",
                "-n",
                "--pidfile=",
                "docval",
                "--config",
                "docval.toml",
            ],
            cwd=tmp_path,
            stdout=stream,
            stderr=subprocess.DEVNULL,
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/health")
        start = wire.serialize_text(wire.Start("json-line", "genuine"))
        asyncio.run(
            raw(f"ws://127.0.0.1:{port}/ws2/validate", [start, '{"type": "FINISH", "sendResult": true}'])
        )
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    events = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    session = next(e for e in events if e.get("session_id"))
    assert session["outcome"] == "PROTOCOL_ERROR" and session["client_id"] == "genuine"
    assert session["platform"] == "desktop" and session["pid"] == proc.pid and "duration_ms" in session
