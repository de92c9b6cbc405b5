"""The server's Autobahn/Twisted adapter (``docval_server.protocol``) in memory: handshake
checks, what it sends for the session's effects (CLOSE text then close frame), timers on a
Clock, the result POST through StubTreq. No sockets, no real reactor, no subprocess."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, cast

import pytest
from treq.testing import StubTreq
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import Request

from docval_server._types import HTTPClient
from docval_server.config import Config
from docval_server.guard import GuardLimits
from docval_server.posting import ResultPoster, Target
from docval_server.protocol import Server, make_site
from docval_server.session import Limits
from emrtd.sim import testpki
from emrtd.truststore import TrustStore

from .memory import clock_for_autobahn, connect, recording_factory, settle

TXAIO_FRAMEWORK = "twisted"
URL = "ws://127.0.0.1:8765/ws2/validate"


class ResultServer(Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def render_POST(self, request: Request) -> bytes:  # noqa: N802
        assert request.content is not None
        self.bodies.append(json.loads(request.content.read()))
        return b"{}"


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    keys = testpki.test_pki()
    return TrustStore.from_der([keys.csca_ec.der, keys.csca_rsa.der], crls=keys.crls)


@pytest.fixture
def clock() -> Iterator[Clock]:
    with clock_for_autobahn() as clock:
        yield clock


def make_server(trust: TrustStore, clock: Clock, **settings: Any) -> tuple[Server, ResultServer]:
    results = ResultServer()
    config = Config(
        clients={"c-1": Target("http://results.example/post")},
        limits=Limits(start_timeout=5.0, apdu_timeout=5.0, max_session_time=60.0),
        **settings,
    )
    poster = ResultPoster(cast(HTTPClient, StubTreq(results)), clock)
    return Server(config, trust, poster, clock), results


def closing(received: list[Any]) -> dict[str, Any]:
    texts: list[dict[str, Any]] = [json.loads(m) for m in received if isinstance(m, str)]
    return texts[-1]


def test_unknown_client_id_gets_close_text_and_frame(trust: TrustStore, clock: Clock) -> None:
    """START with an unknown client id: the CLOSE message, then a close frame 4401 with the reason."""
    server, _results = make_server(trust, clock)
    client_factory = recording_factory(URL)
    _server, client, pump = connect(make_site(server), client_factory)
    settle(pump, clock)
    assert client_factory.opened
    start = {"type": "START", "validationId": "v", "clientId": "nobody", "platform": "desktop"}
    client.sendMessage(json.dumps(start).encode(), isBinary=False)
    settle(pump, clock)
    assert closing(client_factory.received) == {"type": "CLOSE", "code": 4401, "reason": "INVALID_CLIENT_ID"}
    assert client_factory.closed == (4401, "INVALID_CLIENT_ID")


def test_start_timeout_runs_on_the_clock(trust: TrustStore, clock: Clock) -> None:
    """No START within start_timeout: TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE, 1001."""
    server, _results = make_server(trust, clock)
    client_factory = recording_factory(URL)
    connect_result = connect(make_site(server), client_factory)
    pump = connect_result[2]
    settle(pump, clock)
    clock.advance(4.9)
    settle(pump, clock)
    assert client_factory.closed is None
    clock.advance(0.2)
    settle(pump, clock)
    assert closing(client_factory.received)["reason"] == "TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE"
    assert client_factory.closed == (1001, "TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE")
    assert not server.connections


def test_authorization_is_checked_at_the_handshake(trust: TrustStore, clock: Clock) -> None:
    """With an Authorization setting, a handshake without it is refused (HTTP 401, no session)."""
    server, _results = make_server(trust, clock, authorization="Bearer s3cret")
    refused = recording_factory(URL)
    settle(connect(make_site(server), refused)[2], clock)
    assert not refused.opened and not server.connections
    allowed = recording_factory(URL, headers={"Authorization": "Bearer s3cret"})
    settle(connect(make_site(server), allowed)[2], clock)
    assert allowed.opened and len(server.connections) == 1


def test_wrong_authorization_spends_the_address_budget(trust: TrustStore, clock: Clock) -> None:
    """Wrong Authorization headers from one address: 401 until its budget is spent, then the
    right header too is refused (429) until a token comes back; the counters show both."""
    server, _results = make_server(
        trust, clock, authorization="Bearer s3cret", guard=GuardLimits(failures_per_address=3)
    )
    for _ in range(3):
        wrong = recording_factory(URL, headers={"Authorization": "Bearer guess"})
        settle(connect(make_site(server), wrong)[2], clock)
        assert not wrong.opened
    right = recording_factory(URL, headers={"Authorization": "Bearer s3cret"})
    settle(connect(make_site(server), right)[2], clock)
    assert not right.opened
    clock.advance(6.1)
    later = recording_factory(URL, headers={"Authorization": "Bearer s3cret"})
    settle(connect(make_site(server), later)[2], clock)
    assert later.opened
    assert server.metrics.value("docval_handshake_failures_total", kind="failed_authorization") == 3
    assert server.metrics.value("docval_handshake_failures_total", kind="rate_limited") == 1


def test_malformed_json_closes_with_its_reason(trust: TrustStore, clock: Clock) -> None:
    """A text message that is not JSON: CLOSE MALFORMED_JSON with code 1008."""
    server, _results = make_server(trust, clock)
    client_factory = recording_factory(URL)
    _server, client, pump = connect(make_site(server), client_factory)
    settle(pump, clock)
    client.sendMessage(b"{not json", isBinary=False)
    settle(pump, clock)
    assert client_factory.closed == (1008, "MALFORMED_JSON")


def test_drain_closes_sessions_after_the_grace(trust: TrustStore, clock: Clock) -> None:
    """Shutdown: new sessions are refused, running ones get the grace period, then SERVER_ERROR (1011)."""
    server, _results = make_server(trust, clock)
    client_factory = recording_factory(URL)
    pump = connect(make_site(server), client_factory)[2]
    settle(pump, clock)
    drained = server.drain(2.0)
    late = recording_factory(URL)
    settle(connect(make_site(server), late)[2], clock)
    assert not late.opened
    clock.advance(1.9)
    settle(pump, clock)
    assert client_factory.closed is None and not drained.called
    clock.advance(0.2)
    settle(pump, clock)
    assert client_factory.closed is not None and client_factory.closed == (1011, "SERVER_ERROR")
    assert drained.called
