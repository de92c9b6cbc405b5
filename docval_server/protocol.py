"""The Autobahn/Twisted adapter: one :class:`ValidationProtocol` per WebSocket connection
carries out what its :class:`~docval_server.session.ServerSession` asks (send, close, timers,
POST, log). Served with ``/health`` and ``/metrics`` on one twisted.web site.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.defer import Deferred
from twisted.logger import Logger
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.truststore import TrustStore

from ._types import Clock
from .config import Config
from .metrics import Metrics
from .posting import ResultPoster
from .session import (
    CancelTimer,
    CloseConnection,
    Effect,
    Log,
    PostResult,
    Send,
    ServerSession,
    SetTimer,
    State,
)

log = Logger()
SHUTTING_DOWN = (1001, "SERVER_SHUTTING_DOWN")


class Server:
    """What all connections share: config, trust store, poster, metrics, live sessions."""

    def __init__(
        self,
        config: Config,
        trust: TrustStore,
        poster: ResultPoster,
        clock: Clock,
        random: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.config, self.trust, self.poster, self.clock, self.random = config, trust, poster, clock, random
        self.metrics = Metrics()
        self.connections: set[ValidationProtocol] = set()
        self.stopping = False
        self._drained: list[Deferred[None]] = []

    def new_session(self) -> ServerSession:
        return ServerSession(
            known_clients=self.config.clients.__contains__,
            trust=self.trust,
            random=self.random,
            now=lambda: datetime.fromtimestamp(self.clock.seconds(), UTC),
            limits=self.config.limits,
            diagnostics_allowed=self.config.diagnostics.__contains__,
        )

    def forget(self, connection: ValidationProtocol) -> None:
        self.connections.discard(connection)
        if not self.connections:
            drained, self._drained = self._drained, []
            for waiter in drained:
                waiter.callback(None)

    def drain(self, grace: float) -> Deferred[None]:
        """Refuse new sessions; let the running ones finish for ``grace`` seconds, then close
        them with 1001."""
        self.stopping = True
        done: Deferred[None] = Deferred()
        if not self.connections:
            done.callback(None)
            return done
        self._drained.append(done)

        def going_away() -> None:
            for connection in list(self.connections):
                connection.shut_down()

        self.clock.callLater(grace, going_away)
        return done


class ValidationProtocol(WebSocketServerProtocol):
    server: Server
    session: ServerSession | None = None

    def onConnect(self, request: ConnectionRequest) -> None:  # noqa: N802
        if self.server.stopping:
            raise ConnectionDeny(503, "server is shutting down")
        required = self.server.config.authorization
        if required and request.headers.get("authorization") != required:
            raise ConnectionDeny(401, "authorization required")
        log.debug(
            "connection from {peer}, user agent {agent}",
            peer=request.peer,
            agent=request.headers.get("user-agent", "-"),
        )

    def onOpen(self) -> None:  # noqa: N802
        self.session = self.server.new_session()
        self.timers: dict[str, Any] = {}
        self.opened = time.monotonic()
        self.outcome = "CLIENT_CLOSED"
        self.server.connections.add(self)
        self.server.metrics.started()
        self.apply(self.session.connected())

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        if self.session is None:
            return
        self.apply(self.session.receive_binary(payload) if isBinary else self.session.receive_text(payload))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        session, self.session = self.session, None
        if session is None:
            return
        if session.state is not State.CLOSED:
            session.connection_lost()
        for call in getattr(self, "timers", {}).values():
            if call.active():
                call.cancel()
        self.server.metrics.ended(self.outcome, time.monotonic() - self.opened)
        self.server.forget(self)

    def shut_down(self) -> None:
        if self.session is not None and self.session.state is not State.CLOSED:
            self.session.connection_lost()
        self.outcome = SHUTTING_DOWN[1]
        self._send_close(*SHUTTING_DOWN)

    # -- effects ----------------------------------------------------------------------------

    def apply(self, effects: list[Effect]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                message = effect.message
                if isinstance(message, (wire.FileMessage, wire.ApduMessage)):
                    self.sendMessage(message.serialize(), isBinary=True)
                else:
                    self.sendMessage(wire.serialize_text(message).encode("utf-8"), isBinary=False)
            elif isinstance(effect, CloseConnection):
                self.outcome = effect.reason.name
                self._send_close(effect.reason.code, effect.reason.value)
            elif isinstance(effect, SetTimer):
                self._cancel(effect.name)
                self.timers[effect.name] = self.server.clock.callLater(
                    effect.seconds, self._fire, effect.name
                )
            elif isinstance(effect, CancelTimer):
                self._cancel(effect.name)
            elif isinstance(effect, PostResult):
                target = self.server.config.clients[effect.client_id]
                self.server.poster.post(target, effect.body).addCallback(self._posted)
            elif isinstance(effect, Log):
                log.info("{text}", text=effect.text) if effect.level == "info" else log.error(
                    "{text}", text=effect.text
                )

    def _posted(self, ok: bool) -> None:
        if self.session is not None:
            self.apply(self.session.post_finished(ok))

    def _fire(self, name: str) -> None:
        self.timers.pop(name, None)
        if self.session is not None:
            self.apply(self.session.timer_fired(name))

    def _cancel(self, name: str) -> None:
        call = self.timers.pop(name, None)
        if call is not None and call.active():
            call.cancel()

    def _send_close(self, code: int, reason: str) -> None:
        """The CLOSE text message, then a close frame with the same code and reason. Autobahn's
        sendClose() only allows 1000 and 3000-4999; the spec needs 1001/1008/1011 too."""
        self.sendMessage(wire.serialize_text(wire.Close(code, reason)).encode("utf-8"), isBinary=False)
        self.sendCloseFrame(code=code, reasonUtf8=reason.encode("utf-8") if reason else None, isReply=False)


class _Page(Resource):
    isLeaf = True

    def __init__(self, server: Server) -> None:
        super().__init__()
        self.docval = server


class Health(_Page):
    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        request.setHeader(b"content-type", b"application/json")
        if self.docval.stopping:
            request.setResponseCode(503)
            return b'{"status":"stopping"}'
        return b'{"status":"ok","trustedCscas":%d}' % len(self.docval.trust)


class MetricsPage(_Page):
    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        request.setHeader(b"content-type", b"text/plain; version=0.0.4")
        return self.docval.metrics.render().encode("utf-8")


def _accept_deflate(offers: list[Any]) -> PerMessageDeflateOfferAccept | None:
    """permessage-deflate is accepted (iOS offers it); inflated messages stay under the
    factory's maxMessagePayloadSize, which Autobahn enforces after decompression."""
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def make_site(server: Server) -> Site:
    """``/ws2/validate`` (query string tolerated), ``/health`` and ``/metrics``."""
    factory = WebSocketServerFactory()
    factory.protocol = ValidationProtocol
    ValidationProtocol.server = server
    size = server.config.max_message_size
    factory.setProtocolOptions(
        maxMessagePayloadSize=size,
        maxFramePayloadSize=size,
        perMessageCompressionAccept=_accept_deflate,
        autoPingInterval=20,
        autoPingTimeout=20,
    )
    root = Resource()
    ws2 = Resource()
    root.putChild(b"ws2", ws2)
    ws2.putChild(b"validate", WebSocketResource(factory))
    root.putChild(b"health", Health(server))
    root.putChild(b"metrics", MetricsPage(server))
    return Site(root)


__all__ = ["CloseReason", "Server", "ValidationProtocol", "make_site"]
