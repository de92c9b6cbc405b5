"""The DocVal server as users run it: ``twistd -n docval`` with a TOML config, the example
result server on loopback, plain ``ws://`` and TLS ``wss://``, and a WebSocket client (Autobahn
on asyncio) that reads a virtual passport in memory and speaks the v2 protocol."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ..conftest import use_txaio

use_txaio("asyncio")

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol
from autobahn.websocket.compress import (
    PerMessageDeflateOffer,
    PerMessageDeflateResponse,
    PerMessageDeflateResponseAccept,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emrtd import access, activeauth, exchange, reader
from emrtd.docval import wire
from emrtd.lds import dg15
from emrtd.sim import profiles, testpki
from emrtd.sim.chip import VirtualChip

TXAIO_FRAMEWORK = "asyncio"  # the client below is Autobahn on asyncio
ROOT = Path(__file__).resolve().parents[2]
TWISTD = Path(sys.executable).with_name("twistd")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout: float = 15.0, context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def start_result_server(folder: Path, port: int) -> subprocess.Popen[str]:
    """The example result server on loopback, and the test trust store in ``folder/trust``."""
    trust = folder / "trust"
    trust.mkdir(exist_ok=True)
    for name, data in testpki.test_pki().trust_files().items():
        (trust / name).write_bytes(data)
    command = [
        sys.executable,
        str(ROOT / "examples" / "result_server.py"),
        "--port",
        str(port),
        "--out",
        str(folder / "results"),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)


def start_twistd(folder: Path, config: str, log: Path, *plugin_args: str) -> subprocess.Popen[bytes]:
    """``twistd -n docval --config <config> [plugin_args]`` in ``folder``, output in ``log``."""
    with log.open("w") as out:
        return subprocess.Popen(
            [str(TWISTD), "-n", "--pidfile=", "docval", "--config", config, *plugin_args],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=7))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "key.pem", folder / "cert.pem"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Result server + twistd docval (ws and wss) on loopback, with the test trust store."""
    folder = tmp_path_factory.mktemp("server")
    key, cert = self_signed(folder)
    result_port, ws_port, wss_port, strict_port, dead_port = (free_port() for _ in range(5))
    results = start_result_server(folder, result_port)
    config = folder / "docval.toml"
    config.write_text(f"""
[server]
endpoint = "tcp:{ws_port}:interface=127.0.0.1"
shutdown_grace = 2.0
[trust]
paths = ["trust"]
[clients.integration]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    strict = folder / "strict.toml"  # short timeouts, an Authorization header, a dead result server
    strict.write_text(f"""
[server]
endpoint = "tcp:{strict_port}:interface=127.0.0.1"
authorization = "Bearer integration"
[limits]
start_timeout = 1.0
apdu_timeout = 1.0
max_session_time = 8.0  # above the POST retry schedule (3.5 s of backoff) plus a read
max_message_size = 65536
[trust]
paths = ["trust"]
[clients.integration]
result_url = "http://127.0.0.1:{result_port}/results"
[clients.deadend]
result_url = "http://127.0.0.1:{dead_port}/results"
""")
    servers = [
        subprocess.Popen(
            [str(TWISTD), "-n", "--pidfile=", "docval", "--config", str(cfg)] + extra,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=folder,
        )
        for cfg, extra in (
            (config, []),
            (config, ["--endpoint", f"ssl:{wss_port}:interface=127.0.0.1:privateKey={key}:certKey={cert}"]),
            (strict, []),
        )
    ]
    context = ssl.create_default_context(cafile=str(cert))
    try:
        wait_http(f"http://127.0.0.1:{ws_port}/health")
        wait_http(f"https://127.0.0.1:{wss_port}/health", context=context)
        wait_http(f"http://127.0.0.1:{strict_port}/health")
        yield {
            "strict": f"ws://127.0.0.1:{strict_port}/ws2/validate",
            "ws": f"ws://127.0.0.1:{ws_port}/ws2/validate?return_result=true",
            "wss": f"wss://127.0.0.1:{wss_port}/ws2/validate",
            "ssl": context,
            "results": f"http://127.0.0.1:{result_port}/results",
            "metrics": f"http://127.0.0.1:{ws_port}/metrics",
            "servers": servers,
            "folder": folder,
        }
    finally:
        for proc in [*servers, results]:
            proc.terminate()
            proc.wait(timeout=20)


class ClientFactory(WebSocketClientFactory):
    inbox: asyncio.Queue[Any]
    opened: asyncio.Future[Client]


class Client(WebSocketClientProtocol):
    """Queues what the server sends; the test coroutine drives the conversation."""

    factory: ClientFactory

    def onOpen(self) -> None:  # noqa: N802
        self.factory.opened.set_result(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        message = wire.parse_binary(payload) if isBinary else wire.parse_text(payload, sender="server")
        self.factory.inbox.put_nowait(message)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.factory.inbox.put_nowait(("closed", code, reason))
        if not self.factory.opened.done():
            self.factory.opened.set_exception(ConnectionError(reason))


async def connect(
    url: str,
    context: ssl.SSLContext | None,
    headers: dict[str, str] | None = None,
    *,
    deflate: bool = False,
    source: str | None = None,
) -> tuple[Client, ClientFactory]:
    """Open a WebSocket (from the loopback address ``source`` when given)."""
    loop = asyncio.get_running_loop()
    factory = ClientFactory(url, headers=headers)
    if deflate:  # as the iOS client does

        def accept(response: Any) -> PerMessageDeflateResponseAccept | None:
            return (
                PerMessageDeflateResponseAccept(response)
                if isinstance(response, PerMessageDeflateResponse)
                else None
            )

        factory.setProtocolOptions(
            perMessageCompressionOffers=[PerMessageDeflateOffer()], perMessageCompressionAccept=accept
        )
    factory.protocol = Client
    factory.inbox = asyncio.Queue()
    factory.opened = loop.create_future()
    host, port = url.split("/")[2].split(":")
    local = (source, 0) if source else None
    await loop.create_connection(factory, host, int(port), ssl=context, local_addr=local)
    return await asyncio.wait_for(factory.opened, 10), factory


async def converse(
    url: str,
    context: ssl.SSLContext | None,
    profile: str,
    client_id: str = "integration",
    validation_id: str = "it-1",
    *,
    headers: dict[str, str] | None = None,
    replace: dict[str, bytes] | None = None,
    sign_challenge: bytes | None = None,
    after_handback: tuple[Any, ...] = (),
    source: str | None = None,
    before_finish: Callable[[], Awaitable[None]] | None = None,
) -> list[Any]:
    """Read a virtual passport as the vendor clients do, relaying CA through the server.

    An attacking client can ``replace`` files it sends, sign another challenge, or send
    extra messages after the handback."""
    replace = replace or {}
    proto, factory = await connect(url, context, headers, source=source)
    received: list[Any] = []

    async def next_message() -> Any:
        message = await asyncio.wait_for(factory.inbox.get(), 20)
        received.append(message)
        return message

    def send(message: Any) -> None:
        if isinstance(message, (wire.FileMessage, wire.ApduMessage)):
            proto.sendMessage(message.serialize(), isBinary=True)
        else:
            proto.sendMessage(wire.serialize_text(message).encode(), isBinary=False)

    chip = VirtualChip(profiles.load(profile))

    transmit = chip.transmit

    send(wire.Start(validation_id, client_id, "desktop", True, False))
    accept = await next_message()
    if not isinstance(accept, wire.Accept):
        while not (isinstance(received[-1], tuple)):
            await next_message()
        return received
    key = chip.config.mrz_key
    assert key is not None
    sm = exchange.run(access.open_document(key, os.urandom), transmit).sm
    files = {
        name: exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)
        for name in ("sod", "dg14")
    }
    files.update({k: v for k, v in replace.items() if k in files})
    send(wire.FileMessage("dg14", files["dg14"]))
    send(wire.CaHandover(65536, 223, wire.SecureMessagingInfo.from_secure_messaging(sm)))
    from_server: set[str] = set()
    while True:
        message = await next_message()
        if isinstance(message, wire.ApduMessage):
            send(wire.ApduMessage(chip.transmit_raw(message.data)))
        elif isinstance(message, wire.FileMessage):
            from_server.add(message.name)
        elif isinstance(message, wire.CaHandback):
            sm = message.secure_messaging_info.to_secure_messaging()
            if message.check_result == "FAILED":  # the chip's channel is gone: as our desktop client
                sm = exchange.run(access.open_document(key, os.urandom), transmit).sm
            break
        elif isinstance(message, tuple):
            return received
    for extra in after_handback:
        send(extra)
    wanted = ("dg2", "dg11", "dg12", "dg15") + (() if "dg1" in from_server else ("dg1",))
    for name in wanted:
        files[name] = exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)
    files.update({k: v for k, v in replace.items() if k != "dg14"})
    public = dg15.parse(files["dg15"]).public_key
    signature = exchange.run(
        activeauth.internal_authenticate(
            sign_challenge or accept.active_authentication_challenge,
            sm,
            signature_length=activeauth.expected_length(public),
        ),
        transmit,
    )
    if before_finish is not None:
        await before_finish()
    for name, data in files.items():
        if name != "dg14":
            send(wire.FileMessage(name, data))
    send(wire.Finish(True, signature))
    while not isinstance(received[-1], tuple):
        await next_message()
    return received


async def raw(
    url: str,
    messages: list[Any],
    headers: dict[str, str] | None = None,
    close: tuple[int, str] | None = None,
    deflate: bool = False,
) -> list[Any]:
    """Send text (str), binary (bytes) or pauses (float seconds) as given, optionally close
    from the client side, and collect what the server sends until the connection closes."""
    proto, factory = await connect(url, None, headers, deflate=deflate)
    assert (proto._perMessageCompress is not None) == deflate
    received: list[Any] = []
    for message in messages:
        if isinstance(message, float):
            await asyncio.sleep(message)
        elif proto.state == proto.STATE_OPEN:  # the server may already have closed
            proto.sendMessage(
                message.encode() if isinstance(message, str) else message, isBinary=isinstance(message, bytes)
            )
    if close is not None:
        await asyncio.sleep(0.3)
        proto.sendCloseFrame(code=close[0], reasonUtf8=close[1].encode(), isReply=False)
    while not received or not isinstance(received[-1], tuple):
        received.append(await asyncio.wait_for(factory.inbox.get(), 15))
    return received


@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_validation_over_the_network(stack: dict[str, Any], scheme: str) -> None:
    """A genuine passport validates over ws:// and wss://: RESULT, CLOSE 1000, result server has it."""
    validation_id = f"it-{scheme}"
    received = asyncio.run(
        converse(
            stack[scheme], stack["ssl"] if scheme == "wss" else None, "utopia", validation_id=validation_id
        )
    )
    kinds = [type(m).__name__ for m in received]
    assert kinds[0] == "Accept" and "CaHandback" in kinds and "FileMessage" in kinds
    result = next(m for m in received if isinstance(m, wire.Result)).passport
    assert (
        result["passiveAuthentication"],
        result["chipAuthenticationResult"],
        result["activeAuthenticationResult"],
    ) == (True, "SUCCESS", "SUCCESS")
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1000, "") and received[-1][1] == 1000
    with urllib.request.urlopen(f"{stack['results']}/{validation_id}", timeout=5) as response:
        stored = json.load(response)
    assert stored == result


def test_unknown_client_id_is_refused(stack: dict[str, Any]) -> None:
    """An unknown clientId gets CLOSE INVALID_CLIENT_ID and a close frame with code 4401."""
    received = asyncio.run(converse(stack["ws"], None, "utopia", client_id="stranger"))
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (4401, "INVALID_CLIENT_ID")
    assert received[-1][1] == 4401


def test_metrics_count_outcomes(stack: dict[str, Any]) -> None:
    """/metrics reports sessions by outcome in the Prometheus format."""
    asyncio.run(converse(stack["ws"], None, "utopia", client_id="stranger"))
    with urllib.request.urlopen(stack["metrics"], timeout=5) as response:
        text = response.read().decode()
    assert 'docval_sessions_total{outcome="INVALID_CLIENT_ID"}' in text
    assert "docval_session_duration_seconds_count" in text


AUTH = {"Authorization": "Bearer integration"}
START = wire.serialize_text(wire.Start("it-reason", "integration"))


def utopia_file(name: str, profile: str = "utopia") -> bytes:
    return profiles.passport(profile).files[name]


def handover_without_answer() -> list[Any]:
    info = wire.SecureMessagingInfo("AES", bytes(16), bytes(16), 0)
    return [
        START,
        wire.FileMessage("dg14", utopia_file("dg14")).serialize(),
        wire.serialize_text(wire.CaHandover(256, 223, info)),
    ]


CLOSE_CASES: list[tuple[str, list[Any], int]] = [
    ("TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE", [], 1001),
    ("MALFORMED_JSON", ["{not json"], 1008),
    ("INVALID_START_MESSAGE", ['{"type": "START"}'], 1008),
    ("UNEXPECTED_MESSAGE", ['{"type": "FINISH", "sendResult": true}'], 1008),
    ("PROTOCOL_ERROR", [START, b"\x07"], 1008),
    ("FILE_READ_ERROR", [START, b"\x01\x03dg1" + bytes(2000)], 1011),  # over DG1's size cap
    ("INVALID_CLIENT_ID", [wire.serialize_text(wire.Start("it-reason", "stranger"))], 4401),
    ("TIMEOUT_WHILE_WAITING_FOR_RESPONSE", handover_without_answer(), 1001),
    (
        "MAX_SESSION_TIME_EXCEEDED",
        [START] + [0.5, '{"type": "MONITORING", "message": "still here"}'] * 18,
        1011,
    ),
]


@pytest.mark.parametrize(("reason", "messages", "code"), CLOSE_CASES, ids=[c[0] for c in CLOSE_CASES])
def test_server_close_reasons(stack: dict[str, Any], reason: str, messages: list[Any], code: int) -> None:
    """Each server-side error closes with the CLOSE text message and a frame of the same code and reason."""
    received = asyncio.run(raw(stack["strict"], messages, AUTH))
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (code, reason)
    assert received[-1][1] == code and received[-1][2] == reason


def test_post_to_result_server_failed(stack: dict[str, Any]) -> None:
    """A result server refusing connections: 4 attempts, then POST_TO_RESULT_SERVER_FAILED, no RESULT."""
    received = asyncio.run(converse(stack["strict"], None, "utopia-pace", client_id="deadend", headers=AUTH))
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1011, "POST_TO_RESULT_SERVER_FAILED")
    assert not any(isinstance(m, wire.Result) for m in received)


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("ACCESS_CONTROL_FAILED", 4403),
        ("INVALID_ACCESS_KEY_VALUES", 1008),
        ("NFC_CHIP_COMMUNICATION_FAILED", 1001),
        ("CANCELLED_BY_USER", 1001),
        ("COMMUNICATION_FAILED", 1011),
        ("EMRTD_PASSPORT_READER_ERROR", 1011),
    ],
)
def test_client_side_closes_post_nothing(stack: dict[str, Any], reason: str, code: int) -> None:
    """A client that gives up mid-session is let go; nothing reaches the result server."""
    start = wire.serialize_text(wire.Start(f"it-{reason.lower()}", "integration"))
    received = asyncio.run(
        raw(stack["strict"], [start, b"\x01\x03dg1" + utopia_file("dg1")], AUTH, close=(code, reason))
    )
    assert isinstance(received[0], wire.Accept) and received[-1][0] == "closed"
    assert not any(isinstance(m, (wire.Result, wire.Close)) for m in received)
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{stack['results']}/it-{reason.lower()}", timeout=5)


def test_authorization_header_is_required(stack: dict[str, Any]) -> None:
    """Without the configured Authorization header the handshake is refused."""
    with pytest.raises(ConnectionError):
        asyncio.run(raw(stack["strict"], [START]))


def _refused_with_protocol_error(received: list[Any]) -> None:
    """The CLOSE text message and a close frame, both PROTOCOL_ERROR (1008); no result."""
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1008, "PROTOCOL_ERROR")
    assert received[-1][1] == 1008 and not any(isinstance(m, wire.Result) for m in received)


def test_oversized_message_is_refused(stack: dict[str, Any]) -> None:
    """A message over max_message_size is refused with PROTOCOL_ERROR (CLOSE text + frame)."""
    _refused_with_protocol_error(
        asyncio.run(raw(stack["strict"], [START, b"\x01\x03dg2" + bytes(70000)], AUTH))
    )


def test_deflate_bomb_is_bounded_after_inflation(stack: dict[str, Any]) -> None:
    """With permessage-deflate, a tiny compressed message that inflates past the limit is refused."""
    received = asyncio.run(
        raw(stack["strict"], [START, b"\x01\x03dg2" + bytes(1_000_000)], AUTH, deflate=True)
    )
    _refused_with_protocol_error(received)


def test_invalid_utf8_text_is_refused(stack: dict[str, Any]) -> None:
    """A text message that is not UTF-8 is refused with PROTOCOL_ERROR (CLOSE text + frame)."""

    async def run() -> list[Any]:
        proto, factory = await connect(stack["strict"], None, AUTH)
        proto.sendMessage(START.encode(), isBinary=False)
        # a text frame by hand (Autobahn's client would refuse to send invalid UTF-8)
        proto.sendFrame(opcode=1, payload=b'{"type": "\xff\xfe"}')
        received: list[Any] = []
        while not received or not isinstance(received[-1], tuple):
            received.append(await asyncio.wait_for(factory.inbox.get(), 10))
        return received

    _refused_with_protocol_error(asyncio.run(run()))


def test_deflate_session_is_served(stack: dict[str, Any]) -> None:
    """A client that negotiates permessage-deflate (as iOS does) is served normally."""
    received = asyncio.run(
        raw(
            stack["strict"],
            [START, '{"type": "MONITORING", "message": "hi"}'],
            AUTH,
            deflate=True,
            close=(1000, ""),
        )
    )
    assert isinstance(received[0], wire.Accept)


def attack_result(stack: dict[str, Any], **attack: Any) -> dict[str, Any]:
    received = asyncio.run(converse(stack["ws"], None, "utopia", validation_id="it-attack", **attack))
    result = next(m for m in received if isinstance(m, wire.Result)).passport
    assert isinstance(result, dict)
    return result


def test_attack_forged_dg14_key(stack: dict[str, Any]) -> None:
    """A DG14 carrying another chip's CA key: CA fails at the relay and PA rejects DG14."""
    result = attack_result(stack, replace={"dg14": utopia_file("dg14", "utopia-bac")})
    assert result["chipAuthenticationResult"] == "FAILED" and result["passiveAuthentication"] is False


def test_attack_foreign_sod(stack: dict[str, Any]) -> None:
    """Another passport's SOD: every hash fails, so PA fails and CA/AA cannot be trusted."""
    result = attack_result(stack, replace={"sod": utopia_file("sod", "utopia-bac")})
    assert result["passiveAuthentication"] is False
    assert (result["chipAuthenticationResult"], result["activeAuthenticationResult"]) == ("FAILED", "FAILED")


def test_attack_aa_signature_for_another_challenge(stack: dict[str, Any]) -> None:
    """A signature over a challenge of the client's choosing: AA FAILED."""
    result = attack_result(stack, sign_challenge=bytes(8))
    assert (
        result["activeAuthenticationResult"] == "FAILED" and result["chipAuthenticationResult"] == "SUCCESS"
    )


def test_attack_dg1_from_another_passport(stack: dict[str, Any]) -> None:
    """Sending a different DG1 after the server read it under the new keys: PROTOCOL_ERROR."""
    other = wire.FileMessage("dg1", utopia_file("dg1", "utopia-bac").replace(b"ERIKSSON", b"MALLORY<"))
    received = asyncio.run(converse(stack["ws"], None, "utopia", after_handback=(other,)))
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1008, "PROTOCOL_ERROR")


def _tls_handshake(port: int, cafile: str, *, version: ssl.TLSVersion, ciphers: str | None = None) -> str:
    """Connect with one TLS version (and TLS 1.2 cipher list); the suite agreed, or raise."""
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = context.maximum_version = version
    if ciphers:
        context.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
            cipher = tls.cipher()
            assert cipher is not None
            return f"{tls.version()} {cipher[0]}"


def test_tls_is_aead_and_forward_secret_by_default(stack: dict[str, Any], tmp_path: Path) -> None:
    """The wss endpoint (a self-signed certificate made here): TLS 1.3 when offered; on TLS 1.2
    only ECDHE with AES-GCM/ChaCha20 (CBC/SHA-1 suites refused); tls_min_version = "1.3" refuses
    TLS 1.2 altogether, and a cipher string selecting nothing is one usage-error line."""
    port = int(stack["wss"].split(":")[2].split("/")[0])
    cafile = str(stack["folder"] / "cert.pem")
    assert _tls_handshake(port, cafile, version=ssl.TLSVersion.TLSv1_3).startswith("TLSv1.3 ")
    agreed = _tls_handshake(port, cafile, version=ssl.TLSVersion.TLSv1_2)
    assert agreed.startswith("TLSv1.2 ECDHE-") and ("GCM" in agreed or "CHACHA20" in agreed), agreed
    with pytest.raises(ssl.SSLError):
        _tls_handshake(port, cafile, version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-ECDSA-AES128-SHA")
    strict_port = free_port()
    key, cert = stack["folder"] / "key.pem", stack["folder"] / "cert.pem"
    (tmp_path / "tls.toml").write_text(
        (stack["folder"] / "docval.toml")
        .read_text()
        .replace("[server]", '[server]\ntls_min_version = "1.3"')
        .replace('paths = ["trust"]', f'paths = ["{stack["folder"] / "trust"}"]')
    )
    endpoint = f"ssl:{strict_port}:interface=127.0.0.1:privateKey={key}:certKey={cert}"
    proc = subprocess.Popen(
        [str(TWISTD), "-n", "--pidfile=", "docval", "--config", "tls.toml", "--endpoint", endpoint],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_http(f"https://127.0.0.1:{strict_port}/health", context=stack["ssl"])
        with pytest.raises(ssl.SSLError):
            _tls_handshake(strict_port, cafile, version=ssl.TLSVersion.TLSv1_2)
        assert _tls_handshake(strict_port, cafile, version=ssl.TLSVersion.TLSv1_3).startswith("TLSv1.3 ")
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    (tmp_path / "bad.toml").write_text(
        (tmp_path / "tls.toml").read_text().replace("[server]", '[server]\ntls_ciphers = "NOSUCHCIPHER"')
    )
    bad = subprocess.run(
        [str(TWISTD), "-n", "--pidfile=", "docval", "--config", "bad.toml", "--endpoint", endpoint],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0 and "tls_ciphers 'NOSUCHCIPHER'" in bad.stderr + bad.stdout


def test_graceful_shutdown_closes_sessions_with_a_known_reason(stack: dict[str, Any]) -> None:
    """On SIGTERM the server stops accepting, waits its grace, then closes running sessions with
    SERVER_ERROR (1011), a reason the vendor clients know."""

    async def run() -> list[Any]:
        proto, factory = await connect(stack["wss"], stack["ssl"])
        proto.sendMessage(wire.serialize_text(wire.Start("it-stop", "integration")).encode(), isBinary=False)
        received = [await asyncio.wait_for(factory.inbox.get(), 10)]
        stack["servers"][1].terminate()  # the wss server; this test runs last
        while not isinstance(received[-1], tuple):
            received.append(await asyncio.wait_for(factory.inbox.get(), 15))
        return received

    received = asyncio.run(run())
    assert isinstance(received[0], wire.Accept)
    close = next(m for m in received if isinstance(m, wire.Close))
    assert (close.code, close.reason) == (1011, "SERVER_ERROR") and received[-1][1] == 1011
    assert stack["servers"][1].wait(timeout=15) in (0, -15)  # twistd re-raises SIGTERM after a clean stop
