"""The Autobahn/Twisted adapter that drives :func:`docval_client.session.validation`: server
messages in through the WebSocket, chip APDUs out to a blocking ``transmit`` run in a
thread, progress to a callback. Fires its ``done`` Deferred with the
:class:`~docval_client.session.Outcome`."""

from __future__ import annotations

import re
from collections.abc import Callable, Generator
from typing import Any

from autobahn.twisted.websocket import WebSocketClientFactory, WebSocketClientProtocol
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.errors import EmrtdError

from .session import Closed, FromServer, NeedAccessKey, Outcome, Progress, ToChip, ToServer


class Driver:
    """Feeds the session generator; one per connection."""

    def __init__(
        self,
        flow: Generator[Any, Any, Outcome],
        transmit: Callable[[bytes], bytes],
        progress: Callable[[Progress], None],
        key_wanted: Callable[[], None] | None = None,
        *,
        blocking: Callable[..., Deferred[Any]] = deferToThread,
        clock: Any = None,
    ) -> None:
        self.flow, self.progress = flow, progress
        self.apdus = self.chip_bytes = 0  # what reached the card, also when the session is cut short

        def counted(command: bytes) -> bytes:
            response = transmit(command)
            self.apdus += 1
            self.chip_bytes += len(response)
            return response

        self.transmit = counted
        self.clock = clock  # IReactorTime for the waits on the server (None: the global reactor)
        self.timer: Any = None  # the pending wait's DelayedCall
        self.opened = False  # the WebSocket handshake completed
        self.blocking = blocking  # runs the card's blocking transmit off the reactor thread
        self.key_wanted = key_wanted  # the chip refused the key: call provide_key() to go on
        self.done: Deferred[Outcome] = Deferred()
        self.protocol: ClientProtocol | None = None
        self.inbox: list[Any] = []
        self.waiting = False
        self.finished = False
        self.error: str | None = None  # why the session ended without a result, for the CLI

    def start(self, protocol: ClientProtocol) -> None:
        self.protocol = protocol
        self._advance(None, first=True)

    def received(self, message: Any) -> None:
        if self.finished:
            return
        if self.waiting:
            self.waiting = False
            self._stop_timer()
            self._advance(message)
        else:
            self.inbox.append(message)

    def provide_key(self, key: Any) -> None:
        """Answer a :class:`NeedAccessKey` (None gives up)."""
        if not self.finished:
            self._advance(key)

    def _advance(self, value: Any, *, first: bool = False) -> None:
        try:
            request = next(self.flow) if first else self.flow.send(value)
            while True:
                if isinstance(request, ToChip):
                    self.blocking(self.transmit, request.command).addCallbacks(
                        self._advance, self._chip_failed
                    )
                    return
                if isinstance(request, ToServer):
                    self._send(request.message)
                    request = self.flow.send(None)
                elif isinstance(request, FromServer):
                    if not self.inbox:
                        self.waiting = True
                        self._start_timer(request)
                        return
                    request = self.flow.send(self.inbox.pop(0))
                elif isinstance(request, NeedAccessKey):
                    if self.key_wanted is None:
                        request = self.flow.send(None)
                    else:
                        self.key_wanted()
                        return
                else:
                    assert isinstance(request, Progress)
                    self.progress(request)
                    request = self.flow.send(None)
        except StopIteration as stop:
            self._finish(stop.value)

    def _start_timer(self, request: FromServer) -> None:
        clock = self.clock
        if clock is None:
            from twisted.internet import reactor as clock
        self.timer = clock.callLater(request.timeout, self._timed_out, request)

    def _stop_timer(self) -> None:
        timer, self.timer = self.timer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _timed_out(self, request: FromServer) -> None:
        """The server sent nothing for ``request.timeout`` seconds: give up, say so."""
        self.timer = None
        if self.finished or not self.waiting:
            return
        reason = CloseReason.TIMEOUT_WHILE_WAITING_FOR_RESPONSE
        if self.protocol is not None and self.protocol.state == self.protocol.STATE_OPEN:
            self._send(wire.Close.for_reason(reason))
        self.flow.close()
        self._finish(
            Outcome(reason),
            error=f"the server sent nothing for {request.timeout:g} s while we waited for "
            f"{request.waiting_for}; it may be overloaded, or a proxy holds the connection",
        )

    def cancel(self) -> None:
        """The user gave up (Ctrl-C): tell the server CANCELLED_BY_USER."""
        if self.finished or self.protocol is None or self.protocol.state != self.protocol.STATE_OPEN:
            return
        self._send(wire.Close.for_reason(CloseReason.CANCELLED_BY_USER))
        self.flow.close()
        self._finish(Outcome(CloseReason.CANCELLED_BY_USER), error="cancelled")

    def connection_failed(self, reason: str) -> None:
        """The WebSocket never opened (server unreachable, TLS refused, HTTP error)."""
        if not self.finished:
            self.flow.close()
            message = f"cannot reach the server: {reason}"
            self._finish(Outcome(CloseReason.COMMUNICATION_FAILED), error=message)

    def _chip_failed(self, failure: Failure) -> None:
        reason = CloseReason.NFC_CHIP_COMMUNICATION_FAILED
        self._send(wire.Close.for_reason(reason))
        self.flow.close()
        message = failure.getErrorMessage() if failure.check(EmrtdError) else reason.value
        self._finish(Outcome(reason, None), error=message)

    def _send(self, message: Any) -> None:
        protocol = self.protocol
        assert protocol is not None
        if isinstance(message, wire.Close):  # the client closes: a close frame, no CLOSE text
            protocol.sendCloseFrame(code=message.code, reasonUtf8=message.reason.encode(), isReply=False)
        elif isinstance(message, (wire.FileMessage, wire.ApduMessage)):
            protocol.sendMessage(message.serialize(), isBinary=True)
        else:
            protocol.sendMessage(wire.serialize_text(message).encode("utf-8"), isBinary=False)

    def _finish(self, outcome: Outcome, error: str | None = None) -> None:
        if self.finished:
            return
        self._stop_timer()
        self.finished = True
        self.error = error
        if self.protocol is not None and self.protocol.state == self.protocol.STATE_OPEN:
            self.protocol.sendClose()
        self.done.callback(outcome)


class ClientProtocol(WebSocketClientProtocol):
    driver: Driver

    def onOpen(self) -> None:  # noqa: N802
        self.driver.opened = True
        self.driver.start(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        try:
            message = wire.parse_binary(payload) if isBinary else wire.parse_text(payload, sender="server")
        except EmrtdError:
            self.driver.received(Closed(1008, CloseReason.PROTOCOL_ERROR.value))
            return
        self.driver.received(message)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        self.driver.received(Closed(code or 1006, reason or ""))
        if not self.driver.finished:
            self.driver._stop_timer()
            self.driver.finished = True
            self.driver.error = _closed_message(code, reason, self.driver.opened)
            self.driver.done.callback(Outcome(CloseReason.COMMUNICATION_FAILED))


def _closed_message(code: int | None, reason: str | None, opened: bool) -> str:
    """Why the connection ended without a result, for one line in the CLI."""
    if not opened:
        detail = reason or "no WebSocket handshake"
        if "404" in detail:
            return (
                f"the server refused the WebSocket ({detail}): is the path right? The DocVal API is "
                "at /ws2/validate"
            )
        if "ssl" in detail.lower() or "certificate" in detail.lower():
            quoted = re.search(r'"(.*)"', detail)  # Autobahn quotes the TLS error inside its own text
            return f"cannot reach the server: {quoted.group(1) if quoted else detail}"
        if "timeout" in detail.lower():
            return f"the server took the connection but never completed the WebSocket handshake ({detail})"
        return f"the WebSocket handshake failed ({detail})"
    return f"connection closed ({code} {reason or ''})".strip()


class _Factory(WebSocketClientFactory):
    driver: Driver

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:  # noqa: N802
        self.driver.connection_failed(reason.getErrorMessage())


def factory(url: str, driver: Driver, headers: dict[str, str] | None = None) -> WebSocketClientFactory:
    made = _Factory(url, headers=headers)
    made.driver = driver

    class Bound(ClientProtocol):
        pass

    Bound.driver = driver
    made.protocol = Bound
    return made


def connect(
    url: str,
    driver: Driver,
    *,
    ca_file: str | None = None,
    insecure: bool = False,
    timeout: float = 10,
    headers: dict[str, str] | None = None,
) -> Any:
    """Open the DocVal WebSocket for ``driver`` (wss:// checked against the system CAs, a
    given CA file, or not at all with ``insecure``); returns the connector."""
    from pathlib import Path

    from autobahn.twisted.websocket import connectWS
    from twisted.internet import ssl

    ws_factory = factory(url, driver, headers)
    # a server that accepts TCP but never answers the upgrade, or never our close frame
    ws_factory.setProtocolOptions(openHandshakeTimeout=timeout, closeHandshakeTimeout=timeout)
    context: Any = None
    if url.startswith("wss://"):
        if insecure:
            context = ssl.CertificateOptions(verify=False)
        elif ca_file:
            root = ssl.Certificate.loadPEM(Path(ca_file).read_bytes())
            context = ssl.optionsForClientTLS(ws_factory.host, trustRoot=root)
        else:
            context = ssl.optionsForClientTLS(ws_factory.host)
    return connectWS(ws_factory, context, timeout=timeout)
