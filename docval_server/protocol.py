"""The Autobahn/Twisted adapter: one :class:`ValidationProtocol` per WebSocket connection
carries out what its :class:`~docval_server.session.ServerSession` asks (send, close, timers,
POST, log). Served with ``/health`` and ``/metrics`` on one twisted.web site behind the
connection budget of :mod:`docval_server.guard` (and, optionally, on an admin site of their
own). Handshakes from an address that spent its budget of failed client ids or failed
``Authorization`` headers get HTTP 429; the Authorization header is compared in constant time.
"""

from __future__ import annotations

import hmac
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.compress import PerMessageDeflateOffer, PerMessageDeflateOfferAccept
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import connectionDone
from twisted.internet.threads import deferToThread
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.truststore import TrustStore

from ._types import Clock
from .config import Config
from .guard import ConnectionBudget, FailureBudget, GuardedSite
from .metrics import CONTENT_TYPE, Metrics
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
    default_pipelined,
)

log = Logger()
#: Shutdown closes running sessions with a reason the vendor clients know: their close-reason
#: lists (Android ClosedListener, iOS EmrtdConnector.CloseReason) hold only the spec's table,
#: and iOS reports anything else as an unknown ".other". SERVER_ERROR (1011) is the one that
#: says the server, not the document or the phone, ended the session.
SHUTTING_DOWN = CloseReason.SERVER_ERROR
#: Seconds a client gets to answer our close frame (Autobahn's default of 1 s is shorter than
#: a busy phone on a 300 ms mobile link needs).
CLOSE_HANDSHAKE_TIMEOUT = 10.0


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
        guard = config.guard
        self.failed_client_ids = FailureBudget(
            clock, guard.failures_per_address, guard.failure_refill_seconds
        )
        self.failed_authorization = FailureBudget(
            clock, guard.failures_per_address, guard.failure_refill_seconds
        )
        self.metrics = Metrics()
        self.budget = ConnectionBudget(guard, clock, on_refused=self.metrics.refused)
        self.connections: set[ValidationProtocol] = set()
        self.trust_generation = 1  # +1 at each successful reload
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
            pipelined=self.pipelined,
        )

    def pipelined(self, start: wire.Start) -> bool:
        """CA in one relay flight for this client: its ``ca_relay`` setting, else by platform."""
        mode = self.config.ca_relay.get(start.client_id)
        return default_pipelined(start) if mode is None else mode == "one_flight"

    def reload_trust(self) -> Deferred[bool]:
        """Load the trust paths again (in a thread) and swap the store atomically: sessions
        already running keep the store they started with; a bad new file keeps the old store
        and logs one error line. Fires True when the new store is in use."""
        loading: Deferred[TrustStore] = deferToThread(TrustStore.load, *self.config.trust_paths)

        def loaded(trust: TrustStore) -> bool:
            self.trust = trust
            self.trust_generation += 1
            log.info(
                "trust store reloaded: {cscas} CSCAs (generation {generation})",
                cscas=len(trust),
                generation=self.trust_generation,
            )
            return True

        def failed(failure: Failure) -> bool:
            log.error(
                "trust store NOT reloaded, the previous one stays in use: {error}",
                error=failure.getErrorMessage(),
            )
            return False

        return loading.addCallbacks(loaded, failed)

    def refresh_crls(self, client: Any) -> Deferred[bool]:
        """Download the CSCAs' CRLs (``trust.crl_*``) and reload the store when one changed."""
        from .crlfetch import refresh

        config = self.config
        assert config.crl_cache is not None
        refreshing = ensureDeferred(
            refresh(
                client,
                self.clock,
                self.trust,
                config.crl_cache,
                config.crl_download_timeout,
                config.crl_max_bytes,
            )
        )

        def changed(count: int) -> Deferred[bool] | bool:
            return self.reload_trust() if count else False

        return refreshing.addCallback(changed)

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
        server = self.server
        if server.stopping:
            raise ConnectionDeny(503, "server is shutting down")
        self.address = _host(request.peer)
        if not (
            server.failed_client_ids.allowed(self.address)
            and server.failed_authorization.allowed(self.address)
        ):
            server.metrics.count("rate_limited")
            raise ConnectionDeny(429, "too many failed attempts from this address; try later")
        required = server.config.authorization
        given = request.headers.get("authorization", "")
        if required and not hmac.compare_digest(given.encode("utf-8"), required.encode("utf-8")):
            server.failed_authorization.spend(self.address)
            server.metrics.count("failed_authorization")
            raise ConnectionDeny(401, "authorization required")
        log.debug(
            "connection from {peer}, user agent {agent}",
            peer=request.peer,
            agent=json.dumps(request.headers.get("user-agent", "-")[:200]),  # escaped, capped: never raw
        )

    def onOpen(self) -> None:  # noqa: N802
        self.session_id = os.urandom(6).hex()
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

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        self.server.budget.release(self.transport)  # the upgraded connection's end
        super().connectionLost(reason)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        session, self.session = self.session, None
        if session is None:
            return
        if session.state is not State.CLOSED:
            self._lost(session)
        for call in getattr(self, "timers", {}).values():
            if call.active():
                call.cancel()
        seconds = time.monotonic() - self.opened
        self.server.metrics.ended(self.outcome, seconds)
        summary = session.summary()
        log.info(
            "session {session_id} {outcome}: client {client_id}, platform {platform},"
            " PA {passive_authentication}, CA {chip_authentication}, AA {active_authentication},"
            " {relayed_apdus} relayed APDUs, {duration_ms} ms, worker {pid}",
            session_id=self.session_id,
            outcome=self.outcome,
            duration_ms=round(seconds * 1000),
            pid=os.getpid(),
            **{key: value for key, value in summary.items() if key != "outcome"},
        )
        self.server.forget(self)

    def _lost(self, session: ServerSession) -> None:
        """The session ends without its client: only a result to post (a chip that failed CA
        that failed CA by its own answers) and log lines remain to carry out."""
        self.apply([e for e in session.connection_lost() if isinstance(e, (PostResult, Log))])

    def shut_down(self) -> None:
        if self.session is not None and self.session.state is not State.CLOSED:
            self._lost(self.session)
        self.outcome = "SHUTDOWN"
        self._send_close(SHUTTING_DOWN.code, SHUTTING_DOWN.value)

    def onCloseHandshakeTimeout(self) -> None:  # noqa: N802
        """The client did not answer our close frame within ``CLOSE_HANDSHAKE_TIMEOUT``: end
        the TCP connection with FIN, not Autobahn's RST, so that the RESULT and CLOSE already
        sent still reach a slow client (an RST can discard data unread in its buffer — the
        cause of the resets seen under parallel load)."""
        self.closeHandshakeTimeoutCall = None
        if self.state != self.STATE_CLOSED:
            self.wasClean = False
            self.wasNotCleanReason = "WebSocket closing handshake timeout"
            self.wasCloseHandshakeTimeout = True
            self.dropConnection(abort=False)

    def _fail_connection(self, code: int = 1001, reason: str = "going away") -> None:
        """Autobahn fails the connection on frame-level violations (a message over the size
        limit, also after inflation; invalid UTF-8 in a text message). While the session is
        open, end it as the spec says instead: the CLOSE text message and a close frame with
        PROTOCOL_ERROR (1008); the raw frame error stays out of the log."""
        if self.state == self.STATE_OPEN and self.session is not None:
            if self.session.state is not State.CLOSED:
                self._lost(self.session)
            self.outcome = CloseReason.PROTOCOL_ERROR.name
            self.failedByMe = True
            self._send_close(CloseReason.PROTOCOL_ERROR.code, CloseReason.PROTOCOL_ERROR.value)
            return
        super()._fail_connection(code, reason)

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
                if effect.reason is CloseReason.INVALID_CLIENT_ID:
                    self.server.failed_client_ids.spend(getattr(self, "address", "?"))
                    self.server.metrics.count("failed_client_id")
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
        return b'{"status":"ok","trustedCscas":%d,"trustGeneration":%d}' % (
            len(self.docval.trust),
            self.docval.trust_generation,
        )


class MetricsPage(_Page):
    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        request.setHeader(b"content-type", CONTENT_TYPE.encode())
        return self.docval.metrics.render()


def _host(peer: str) -> str:
    """``tcp:127.0.0.1:4242`` (Autobahn's peer string) → ``127.0.0.1``; IPv6 kept whole."""
    kind, _, rest = peer.partition(":")
    if kind in ("tcp", "tcp4", "tcp6"):
        return rest.rsplit(":", 1)[0]
    return peer


def _accept_deflate(offers: list[Any]) -> PerMessageDeflateOfferAccept | None:
    """permessage-deflate is accepted (iOS offers it); inflated messages stay under the
    factory's maxMessagePayloadSize, which Autobahn enforces after decompression."""
    for offer in offers:
        if isinstance(offer, PerMessageDeflateOffer):
            return PerMessageDeflateOfferAccept(offer)
    return None


def make_admin_site(server: Server) -> Site:
    """``/health`` and ``/metrics`` only, for an admin port kept apart from client traffic."""
    root = Resource()
    root.putChild(b"health", Health(server))
    root.putChild(b"metrics", MetricsPage(server))
    site = Site(root)
    site.displayTracebacks = False
    return site


def make_site(server: Server) -> GuardedSite:
    """``/ws2/validate`` (query string tolerated), ``/health`` and ``/metrics``, within the
    server's connection budget."""
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
        closeHandshakeTimeout=CLOSE_HANDSHAKE_TIMEOUT,
    )
    root = Resource()
    ws2 = Resource()
    root.putChild(b"ws2", ws2)
    ws2.putChild(b"validate", WebSocketResource(factory))
    root.putChild(b"health", Health(server))
    root.putChild(b"metrics", MetricsPage(server))
    return GuardedSite(root, server.budget)


__all__ = ["CloseReason", "Server", "ValidationProtocol", "make_admin_site", "make_site"]
