"""The Autobahn/Twisted adapter of the local SDK (:mod:`docval_client.sdk_session`).

``ws://127.0.0.1:PORT/sdk`` (loopback only) takes one app at a time, and only apps whose
``Origin`` the SDK's policy lists (:mod:`docval_client.sdk_policy`; others get HTTP 403 and a
console line naming the origin): a second connection is refused with HTTP 429, and any
connection while a validation runs elsewhere on this machine (``docval-client read``) with
HTTP 409. The console confirmations the session asks for go to a
:class:`~docval_client.console.ConsoleConfirmer`. ``GET /status?Status=json`` answers the version
information (``/status`` alone: the same as ``Key: value`` lines), as AusweisApp2's status
query does. Reader and card changes come from :func:`docval_client.card.watch` in a worker
thread, handed to the reactor with ``callFromThread``. A workflow opens the chosen reader (or
the in-process virtual passport for the ``Simulator`` reader) and drives the DocVal session
with :class:`docval_client.protocol.Driver`.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.defer import Deferred
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import Request, Site

from emrtd.docval.reasons import CloseReason

from . import busy, card
from .console import ConsoleConfirmer
from .protocol import Driver, connect
from .readers import ReaderInfo
from .sdk_policy import DEFAULT_POLICY, NO_ORIGIN, Policy
from .sdk_session import (
    SIMULATOR,
    Cancel,
    Confirm,
    Log,
    ProvideKey,
    Reply,
    Requester,
    Run,
    SdkSession,
    VersionInfo,
)
from .session import Options, Outcome, Progress, validation

Say = Callable[[str], None]


def version() -> str:
    try:
        return metadata.version("docval")
    except metadata.PackageNotFoundError:
        return "0"


def port_file(pid: int | None = None) -> Path:
    """``$TMPDIR/docval-client.<pid>.port``, as AusweisApp2 names its own."""
    return Path(tempfile.gettempdir()) / f"docval-client.{pid or os.getpid()}.port"


class Workflow:
    """One running DocVal session for the connected app: the reader, the driver, the lock."""

    def __init__(self, sdk: SdkFactory, connection: SdkProtocol, run: Run) -> None:
        self.sdk, self.connection, self.run = sdk, connection, run
        self.driver: Driver | None = None
        self.connector: Any = None
        self.cancelled = False
        self.close_card: Callable[[], None] = lambda: None
        self.lock = busy.WorkflowLock()

    def start(self) -> None:
        if not self.lock.acquire():
            reason = CloseReason.EMRTD_PASSPORT_READER_ERROR.value
            self._end(reason, None, "another validation is running on this machine")
            return
        opened: Deferred[tuple[Callable[[bytes], bytes], bytes, int | None]] = deferToThread(self._open)
        opened.addCallbacks(self._opened, self._open_failed)

    def _open(self) -> tuple[Callable[[bytes], bytes], bytes, int | None]:
        """In a worker thread: the transmit function, ATR and reader APDU limit."""
        if self.run.reader == SIMULATOR:
            from emrtd.sim import VirtualChip, profiles

            chip = VirtualChip(profiles.load(self.sdk.simulator or "utopia"))
            atr = chip.power_on()
            return chip.transmit_raw, atr, None
        pcsc = card.PcscCard(self.run.reader)
        self.close_card = pcsc.close
        return pcsc.transmit_raw, pcsc.atr, pcsc.max_apdu

    def _open_failed(self, failure: Failure) -> None:
        self._end(CloseReason.EMRTD_PASSPORT_READER_ERROR.value, None, failure.getErrorMessage())

    def _opened(self, link: tuple[Callable[[bytes], bytes], bytes, int | None]) -> None:
        transmit, atr, max_apdu = link
        if self.cancelled:
            self._end(CloseReason.CANCELLED_BY_USER.value, None)
            return
        request = self.run.request
        options = Options(
            request.validation_id,
            request.client_id,
            self.run.key,
            send_result=True,  # the verdict; the session decides what of it the app gets
            atr=atr,
            reader_max_apdu=max_apdu,
            optional_files=request.optional_files,
            retry_access_key=True,
        )
        self.driver = Driver(validation(options), transmit, self._progress, self._key_wanted)
        self.driver.done.addCallback(self._done)
        server = self.connection.session.server
        ca_file = server.ca_file if server is not None and server.ca_file else self.sdk.ca_file
        headers = dict(server.headers) if server is not None else {}
        self.connector = connect(
            request.server_url, self.driver, ca_file=ca_file, insecure=self.sdk.insecure, headers=headers
        )

    def _progress(self, event: Progress) -> None:
        self.connection.apply(self.connection.session.progress(event.step, event.done, event.total))

    def _key_wanted(self) -> None:
        self.connection.apply(self.connection.session.key_refused())

    def provide_key(self, key: Any) -> None:
        if self.driver is not None:
            self.driver.provide_key(key)

    def cancel(self) -> None:
        self.cancelled = True
        driver = self.driver
        if driver is None:
            return  # still opening the reader: _opened ends it
        driver.cancel()  # CANCELLED_BY_USER to the server when its WebSocket is open
        if not driver.finished:  # not open (yet): drop the attempt
            self.connector.disconnect()
            driver.connection_failed("cancelled")

    def _done(self, outcome: Outcome) -> None:
        reason = outcome.reason.value if isinstance(outcome.reason, CloseReason) else outcome.reason
        if self.cancelled and outcome.passport is None:
            reason = CloseReason.CANCELLED_BY_USER.value
        error = self.driver.error if self.driver is not None else None
        self._end(reason, outcome.passport, error)

    def _end(self, reason: str, passport: dict[str, Any] | None, error: str | None = None) -> None:
        try:
            self.close_card()
        finally:
            self.lock.release()  # a no-op when it was never taken
        self.connection.workflow_ended(self, reason, passport, error)


class SdkProtocol(WebSocketServerProtocol):
    factory: SdkFactory
    session: SdkSession
    workflow: Workflow | None = None

    def onConnect(self, request: ConnectionRequest) -> None:  # noqa: N802
        sdk = self.factory
        origin = request.headers.get("origin")
        shown = _printable(origin) if origin is not None else NO_ORIGIN
        agent = _printable(request.headers.get("user-agent", "an app without User-Agent"))
        app = sdk.policy.app(origin)
        if app is None:
            sdk.say(f"refused app from origin {shown} ({agent}): not allowed by {sdk.policy.source} "
                    f"(allow it with --allow-origin or in sdk.toml)")
            raise ConnectionDeny(403, "Forbidden: this origin may not use the passport reader")
        if sdk.active is not None:
            raise ConnectionDeny(429, "Too Many Requests: another app is connected")
        if busy.running_elsewhere():
            raise ConnectionDeny(409, "Conflict: a validation is running (docval-client read)")
        sdk.say(f"app connected from {shown}: {agent}")
        sdk.active = self
        requester = Requester(shown, agent, app, sdk.policy.confirm_timeout)
        self.session = SdkSession(
            VersionInfo(version()), simulator=sdk.simulator is not None, requester=requester
        )
        self.session.readers_changed(sdk.readers)  # the state now; changes follow as READER

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        if isBinary:
            self.apply([Reply({"msg": "INVALID", "error": "commands are JSON text messages"})])
            return
        try:
            effects = self.session.command(payload)
        except Exception as exc:  # a bug: tell the app, keep the connection
            self.apply([Reply({"msg": "INTERNAL_ERROR", "error": str(exc)})])
            return
        if any(isinstance(e, Reply) and e.message.get("msg") == "VALIDATION" and "result" in e.message
               for e in effects):
            self.factory.confirmer.cancel()  # cancelled while asking: withdraw the question
        self.apply(effects)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        sdk = self.factory
        if sdk.active is self:
            sdk.active = None
            sdk.say("app disconnected")
            sdk.confirmer.cancel()
            self.apply(self.session.disconnected())

    def apply(self, effects: list[Any]) -> None:
        for effect in effects:
            if isinstance(effect, Reply):
                if self.state == self.STATE_OPEN:
                    self.sendMessage(json.dumps(effect.message).encode("utf-8"), isBinary=False)
            elif isinstance(effect, Log):
                self.factory.say(effect.line)
            elif isinstance(effect, Confirm):
                self.factory.confirmer.ask(effect.prompt, effect.timeout, self._answered)
            elif isinstance(effect, Run):
                self.factory.say(f"validating on {effect.reader} with {effect.request.server_url}")
                self.workflow = Workflow(self.factory, self, effect)
                self.workflow.start()
            elif isinstance(effect, ProvideKey) and self.workflow is not None:
                self.workflow.provide_key(effect.key)
            elif isinstance(effect, Cancel) and self.workflow is not None:
                self.workflow.cancel()

    def _answered(self, allowed: bool) -> None:
        if self.factory.active is self:
            self.apply(self.session.confirmed(allowed))

    def workflow_ended(self, workflow: Workflow, reason: str, passport: Any, error: str | None) -> None:
        if workflow is not self.workflow:
            return
        self.workflow = None
        self.apply(self.session.finished(reason, passport, error))


class SdkFactory(WebSocketServerFactory):
    protocol = SdkProtocol  # type: ignore[assignment]

    def __init__(
        self,
        *,
        say: Say,
        policy: Policy = DEFAULT_POLICY,
        confirmer: ConsoleConfirmer | None = None,
        simulator: str | None = None,
        ca_file: str | None = None,
        insecure: bool = False,
    ) -> None:
        super().__init__()
        self.say, self.simulator, self.ca_file, self.insecure = say, simulator, ca_file, insecure
        self.policy = policy
        if confirmer is None:  # no console: nothing unapproved can be allowed
            confirmer = ConsoleConfirmer(None, say)
            confirmer.closed()
        self.confirmer = confirmer
        self.active: SdkProtocol | None = None
        self.readers: list[ReaderInfo] | None = None
        # Origins are checked in onConnect against the policy ("null" only when listed there).
        self.setProtocolOptions(
            maxMessagePayloadSize=64 * 1024, maxFramePayloadSize=64 * 1024, allowNullOrigin=True
        )

    def readers_changed(self, readers: list[ReaderInfo] | None) -> None:
        """From the watcher thread, via callFromThread."""
        self.readers = readers
        if self.active is not None:
            self.active.apply(self.active.session.readers_changed(readers))


def _printable(text: str, limit: int = 200) -> str:
    """A header value as one console line: control characters replaced, length capped."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return clean + ("…" if len(text) > limit else "")


class Status(Resource):
    isLeaf = True

    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        info = VersionInfo(version()).message()
        request.setHeader(b"server", f"docval-client/{version()}".encode())
        if request.args.get(b"Status") == [b"json"]:
            request.setHeader(b"content-type", b"application/json")
            return json.dumps(info, indent=2).encode()
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return "".join(f"{key}: {value}\n" for key, value in info.items()).encode()


def make_site(sdk: SdkFactory) -> Site:
    root = Resource()
    root.putChild(b"sdk", WebSocketResource(sdk))
    root.putChild(b"status", Status())
    site = Site(root)
    site.displayTracebacks = False
    return site


def start_watching(reactor: Any, sdk: SdkFactory) -> threading.Event:
    """Run :func:`card.watch` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def changed(readers: list[ReaderInfo] | None) -> None:
        reactor.callFromThread(sdk.readers_changed, readers)

    threading.Thread(target=card.watch, args=(changed, stop), name="reader-watch", daemon=True).start()
    return stop
