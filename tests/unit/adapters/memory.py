"""Twisted and Autobahn adapters connected in memory: ``twisted.test.iosim`` transports and a
``Clock`` for every timer (txaio's loop, which Autobahn's timers use, points at the clock)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import txaio
from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.test import iosim

TXAIO: Any = txaio  # txaio.config is set by use_twisted(), which mypy cannot see


@contextmanager
def clock_for_autobahn() -> Iterator[Clock]:
    """A Clock that Autobahn's timers (handshake, ping, close) run on, for the block."""
    clock = Clock()
    config: Any = TXAIO.config
    before = config.loop
    config.loop = clock
    try:
        yield clock
    finally:
        config.loop = before


class RecordingClient(WebSocketClientProtocol):
    """A WebSocket client that records what it gets: messages (text decoded), the close."""

    def onOpen(self) -> None:  # noqa: N802
        self.factory.opened = True

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        self.factory.received.append(payload if isBinary else payload.decode("utf-8"))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.factory.closed = (code, reason)


class RecordingFactory(WebSocketClientFactory):
    """What the recording client saw: whether it opened, the messages, the close."""

    protocol = RecordingClient
    opened: bool = False
    closed: tuple[int | None, str | None] | None = None

    def __init__(self, url: str, headers: dict[str, str] | None = None, origin: str | None = None) -> None:
        super().__init__(url, headers=headers or {}, origin=origin, reactor=Clock())
        self.received: list[Any] = []


def recording_factory(
    url: str, headers: dict[str, str] | None = None, origin: str | None = None
) -> RecordingFactory:
    return RecordingFactory(url, headers, origin)


def connect(
    server_factory: Any, client_factory: Any, peer: str = "127.0.0.1"
) -> tuple[Any, Any, iosim.IOPump]:
    """Connect a client factory's protocol to a server factory's over in-memory transports;
    returns (server protocol, client protocol, pump). ``peer`` is the client's address."""
    client_address = IPv4Address("TCP", peer, 40000)
    server_address = IPv4Address("TCP", "127.0.0.1", 8765)
    server = server_factory.buildProtocol(client_address)
    client = client_factory.buildProtocol(server_address)
    server_transport = iosim.FakeTransport(
        server, isServer=True, hostAddress=server_address, peerAddress=client_address
    )
    client_transport = iosim.FakeTransport(
        client, isServer=False, hostAddress=client_address, peerAddress=server_address
    )
    pump = iosim.connect(server, server_transport, client, client_transport, greet=True)
    return server, client, pump


def settle(pump: iosim.IOPump, clock: Clock, *, steps: int = 50, tick: float = 0.0) -> None:
    """Pump until quiet, letting zero-delay (or ``tick``) timers run in between."""
    for _ in range(steps):
        clock.advance(tick)
        if not pump.pump() and not clock.getDelayedCalls():
            break
    pump.flush()


Factory = Callable[..., Any]
