"""The Autobahn/Twisted adapter that drives :func:`docval_client.session.validation`: server
messages in through the WebSocket, chip APDUs out to a blocking ``transmit`` run in a
thread, progress to a callback. Fires its ``done`` Deferred with the
:class:`~docval_client.session.Outcome`."""

from __future__ import annotations

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
    ) -> None:
        self.flow, self.transmit, self.progress = flow, transmit, progress
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
        self.finished = True
        self.error = error
        if self.protocol is not None and self.protocol.state == self.protocol.STATE_OPEN:
            self.protocol.sendClose()
        self.done.callback(outcome)


class ClientProtocol(WebSocketClientProtocol):
    driver: Driver

    def onOpen(self) -> None:  # noqa: N802
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
            self.driver.finished = True
            self.driver.error = f"connection closed ({code} {reason or ''})".strip()
            self.driver.done.callback(Outcome(CloseReason.COMMUNICATION_FAILED))


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
    url: str, driver: Driver, *, ca_file: str | None = None, insecure: bool = False, timeout: float = 10
) -> Any:
    """Open the DocVal WebSocket for ``driver`` (wss:// checked against the system CAs, a
    given CA file, or not at all with ``insecure``); returns the connector."""
    from pathlib import Path

    from autobahn.twisted.websocket import connectWS
    from twisted.internet import ssl

    ws_factory = factory(url, driver)
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
