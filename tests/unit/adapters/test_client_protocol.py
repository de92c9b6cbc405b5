"""The desktop client's Autobahn adapter (``docval_client.protocol``: Driver and ClientProtocol)
in memory against the server's adapter: a whole validation through both WebSocket stacks,
cancelling, and a server that closes. The card runs synchronously (``blocking=maybeDeferred``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.defer import Deferred, maybeDeferred
from twisted.internet.task import Clock

from docval_client.protocol import Driver, factory
from docval_client.session import Options, Outcome, validation
from docval_server.protocol import make_site
from emrtd.docval.reasons import CloseReason
from emrtd.sim import VirtualChip, profiles
from emrtd.truststore import TrustStore

from .memory import clock_for_autobahn, connect, settle
from .test_server_protocol import make_server, trust  # noqa: F401 - the fixture

TXAIO_FRAMEWORK = "twisted"
URL = "ws://127.0.0.1:8765/ws2/validate"


NOW = 1_795_000_000.0  # 2026-11-18: the test PKI's certificates are valid


@pytest.fixture
def clock() -> Iterator[Clock]:
    with clock_for_autobahn() as clock:
        clock.advance(NOW)
        yield clock


def driver_for(
    chip: VirtualChip, client_id: str = "c-1", blocking: Any = maybeDeferred
) -> tuple[Driver, list[Outcome]]:
    assert chip.config.mrz_key is not None
    flow = validation(Options("v-mem", client_id, chip.config.mrz_key, extended_length=True))
    driver = Driver(flow, chip.transmit_raw, lambda _event: None, blocking=blocking)
    outcomes: list[Outcome] = []
    driver.done.addCallback(outcomes.append)
    return driver, outcomes


def test_validation_through_both_adapters(trust: TrustStore, clock: Clock) -> None:  # noqa: F811
    """The client adapter and the server adapter complete a validation: RESULT, 1000, posted."""
    server, results = make_server(trust, clock)
    driver, outcomes = driver_for(VirtualChip(profiles.load("utopia")))
    pump = connect(make_site(server), factory(URL, driver))[2]
    settle(pump, clock, steps=2000)
    assert outcomes, "the session did not finish"
    passport = outcomes[0].passport
    assert passport is not None and passport["chipAuthenticationResult"] == "SUCCESS"
    assert results.bodies == [passport] and outcomes[0].reason == ""


def test_cancel_sends_cancelled_by_user(trust: TrustStore, clock: Clock) -> None:  # noqa: F811
    """Driver.cancel() (Ctrl-C) closes with 1001 CANCELLED_BY_USER; the server posts nothing."""
    server, results = make_server(trust, clock)
    chip = VirtualChip(profiles.load("utopia"))
    assert chip.config.mrz_key is not None
    waiting: list[Deferred[Any]] = []

    def card_busy(_function: Any, *_args: Any) -> Deferred[Any]:  # the chip never answers
        waiting.append(Deferred())
        return waiting[-1]

    driver, outcomes = driver_for(chip, blocking=card_busy)
    pump = connect(make_site(server), factory(URL, driver))[2]
    settle(pump, clock, steps=50)
    assert waiting and server.connections  # START sent, ACCEPT back, reading the chip
    driver.cancel()
    settle(pump, clock, steps=200)
    assert outcomes and outcomes[0].reason is CloseReason.CANCELLED_BY_USER
    assert results.bodies == [] and not server.connections


def test_server_close_ends_the_session(trust: TrustStore, clock: Clock) -> None:  # noqa: F811
    """A server that refuses the client id: the driver ends with the server's reason."""
    server, _results = make_server(trust, clock)
    driver, outcomes = driver_for(VirtualChip(profiles.load("utopia")), "stranger")
    pump = connect(make_site(server), factory(URL, driver))[2]
    settle(pump, clock, steps=200)
    assert outcomes and outcomes[0].reason == "INVALID_CLIENT_ID" and outcomes[0].passport is None
    assert json.dumps(outcomes[0].reason)


def test_queued_apdus_reach_the_card_one_at_a_time_in_order(trust: TrustStore, clock: Clock) -> None:  # noqa: F811
    """The server sends the CA flight back to back; the desktop driver relays it to a slow card
    one command at a time, in the order sent, and CA succeeds."""
    server, results = make_server(trust, clock)
    chip = VirtualChip(profiles.load("utopia"))
    outstanding: list[int] = []
    most = [0]

    def slow_card(function: Any, command: bytes) -> Deferred[Any]:
        outstanding.append(1)
        most[0] = max(most[0], len(outstanding))
        answer: Deferred[Any] = Deferred()

        def reply() -> None:
            outstanding.pop()
            answer.callback(function(command))

        clock.callLater(0.01, reply)
        return answer

    driver, outcomes = driver_for(chip, blocking=slow_card)
    pump = connect(make_site(server), factory(URL, driver))[2]
    for _ in range(400):
        settle(pump, clock, steps=5)
        clock.advance(0.01)
        if outcomes:
            break
    assert outcomes and outcomes[0].passport is not None
    assert outcomes[0].passport["chipAuthenticationResult"] == "SUCCESS"
    assert most[0] == 1 and results.bodies == [outcomes[0].passport]


class _SilentServer:
    """The protocol side of a server that completed the handshake and says nothing."""

    STATE_OPEN = 3
    state = 3

    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.close_frames: list[tuple[int | None, bytes | None]] = []

    def sendMessage(self, payload: bytes, isBinary: bool = False) -> None:  # noqa: N802, N803
        self.sent.append(payload)

    def sendCloseFrame(
        self, code: int | None = None, reasonUtf8: bytes | None = None, isReply: bool = False
    ) -> None:  # noqa: N802, N803
        self.close_frames.append((code, reasonUtf8))

    def sendClose(self) -> None:  # noqa: N802
        pass


def test_a_silent_server_times_out_with_the_step_named() -> None:
    """No ACCEPT within server_timeout: the driver closes with TIMEOUT_WHILE_WAITING_FOR_RESPONSE
    and says what it waited for; nothing fires before the timeout."""
    chip = VirtualChip(profiles.load("utopia"))
    assert chip.config.mrz_key is not None
    clock = Clock()
    flow = validation(Options("v-silent", "c-1", chip.config.mrz_key, extended_length=True, server_timeout=5))
    driver = Driver(flow, chip.transmit_raw, lambda _event: None, blocking=maybeDeferred, clock=clock)
    outcomes: list[Outcome] = []
    driver.done.addCallback(outcomes.append)
    server = _SilentServer()
    driver.start(server)  # type: ignore[arg-type]
    assert server.sent and not outcomes  # START went out
    clock.advance(4.9)
    assert not outcomes
    clock.advance(0.2)
    assert outcomes and outcomes[0].reason is CloseReason.TIMEOUT_WHILE_WAITING_FOR_RESPONSE
    assert server.close_frames == [(1001, b"TIMEOUT_WHILE_WAITING_FOR_RESPONSE")]
    assert driver.error is not None and "nothing for 5 s while we waited for ACCEPT" in driver.error
