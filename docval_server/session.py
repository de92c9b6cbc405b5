"""One validation session of the DocVal WebSocket API v2, sans-I/O.

The session takes events (a text or binary message, a timer firing, the result POST
finishing, the connection dropping) and returns *effects* for the adapter to carry out:
send a message, close with a reason, start or cancel a timer, POST the result, log a line.
It never touches a socket, a clock or a reactor; randomness and "now" are passed in.

States and the messages each accepts (anything else closes the session)::

    AWAIT_START --START--> READING --CA_HANDOVER--> RELAYING --(CA done)--> READING
    READING --FILE--> READING        RELAYING --APDU--> RELAYING
    READING --FINISH--> POSTING --(post ok)--> CLOSED (RESULT if asked, then CLOSE 1000)

MONITORING is accepted in AWAIT_START, READING and RELAYING and logged only when the client
asked for diagnostics *and* the relying party's config allows it for that client id
(``clients.<id>.diagnostics``); then each message is cut to :data:`MONITORING_CHARS`
characters, escaped as a JSON string (no newline or terminal escape reaches the log), and at
most :data:`MONITORING_LINES` are logged per session. FINISH needs the SOD and DG1 (and DG14
once a handover happened): a FINISH without them is ``PROTOCOL_ERROR`` and nothing is posted.
A file sent again with identical content is ignored; a different one is ``PROTOCOL_ERROR``.
Close reasons follow ``interop-notes.md``: a message of an unknown or
wrong-direction type, or a known one out of place, is ``UNEXPECTED_MESSAGE``; a malformed
one is ``MALFORMED_JSON``/``INVALID_START_MESSAGE``/``PROTOCOL_ERROR`` as the wire format
says. The session keeps nothing once it is closed: files, keys and results are dropped.

Chip Authentication is relayed blindly through the client. Every command is prepared
before the first is sent (:func:`emrtd.chipauth.prepare`). For clients that relay queued
APDUs strictly in order (``pipelined(start)``: by default the ``android`` and ``desktop``
platforms), all of them go out back to back as one flight (:class:`emrtd.chipauth.CAFlight`:
SELECT and READ BINARY of DG1 under the old keys, the CA commands, READ BINARY of DG1 under
the new keys), so CA_HANDOVER → CA_HANDBACK costs one relay round trip whatever the cipher;
a DG1 longer than one block costs one more. Other clients (``ios``, unknown platforms) get
one command at a time: two (3DES, MSE:Set KAT) or three (AES) round trips, then DG1 by short
file identifier under the new keys.

When CA fails, CA_HANDBACK ``FAILED`` is preceded by FILE ``dg1`` whenever DG1 is in hand
(the one-flight case reads it under the old keys first): the Android connector requires a
``dg1`` before any handback. A session normally posts nothing unless it reaches FINISH; the
one exception is a failed CA with *evidence from the chip itself* (answers whose secure
messaging verified: a refused CA command, or no answer under the keys agreed with DG14's
key, i.e. a clone — never a relay failure such as iOS's ``6F00``): when such a
session ends without FINISH (the client gives up, as the vendor clients do once the chip's
channel is gone, or a timeout), the result is posted with ``chipAuthenticationResult``
``FAILED`` and whatever the server holds (DG14, DG1 if read). That result is a complete
verdict — no file still unread could make the document valid — so it is not a half-written
one; and a hostile client gains nothing by provoking it, since it can only ever say NOT
VALID, which the client could have had posted with FINISH anyway.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from emrtd import activeauth, chipauth, passiveauth, reader
from emrtd.apdu import ResponseAPDU
from emrtd.docval import result, verdict, wire
from emrtd.docval.reasons import CloseReason
from emrtd.docval.verdict import CheckResult
from emrtd.docval.wire import WireFormatError
from emrtd.errors import APDUError, EmrtdError, SecureMessagingError, StatusWordError
from emrtd.exchange import Exchange
from emrtd.interfaces import RandomSource
from emrtd.lds import dg14
from emrtd.lds.base import check_size
from emrtd.lds.securityinfos import SecurityInfos
from emrtd.sm import SecureMessaging
from emrtd.truststore import TrustStore

FILE_NAMES = frozenset({"sod", *(f"dg{n}" for n in range(1, 17))})
MONITORING_CHARS = 512
MONITORING_LINES = 50


class State(enum.Enum):
    AWAIT_START = "AWAIT_START"
    READING = "READING"
    RELAYING = "RELAYING"
    POSTING = "POSTING"
    CLOSED = "CLOSED"


# -- effects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Send:
    message: wire.TextMessage | wire.BinaryMessage


@dataclass(frozen=True)
class CloseConnection:
    """Send the CLOSE text message, then a close frame with the same code and reason."""

    reason: CloseReason


@dataclass(frozen=True)
class SetTimer:
    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class PostResult:
    client_id: str
    body: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Log:
    level: str
    text: str


Effect = Send | CloseConnection | SetTimer | CancelTimer | PostResult | Log


@dataclass(frozen=True)
class Limits:
    start_timeout: float = 10.0
    apdu_timeout: float = 15.0
    max_session_time: float = 120.0
    max_files: int = 20
    max_total_bytes: int = 4 * 1024 * 1024
    include_files: bool = False


#: Platforms whose clients relay queued APDUs one by one, in order. Android: the connector
#: handles each message on Java-WebSocket's single read thread and transceives synchronously
#: in ``WebsocketSessionCoordinator.onApduCommand`` (OVD-Kinegram-AG/emrtd-connector-sdk-android,
#: kinegram-emrtd-connector/.../internal/protocol/WebsocketSessionCoordinator.java). Desktop:
#: our client's driver queues messages and relays the next only after the card answered
#: (docval_client.protocol.Driver). iOS is *not* one: its connector starts an unstructured
#: Task per received message on a re-entrant actor (``setupConnectionHandlers`` →
#: ``handleMessage`` → ``handleServerInitiatedAPDU`` awaiting the chip, in
#: Sources/KinegramEmrtdConnector/WebSocket/WebSocketSessionCoordinator.swift of
#: OVD-Kinegram-AG/emrtd-connector-sdk-ios), so a second APDU can reach the chip while the
#: first is in flight, or overtake it.
IN_ORDER_PLATFORMS = frozenset({"android", "desktop"})


def default_pipelined(start: wire.Start) -> bool:
    """Send the CA commands as one flight only to platforms known to relay them in order."""
    return start.platform.lower() in IN_ORDER_PLATFORMS


class ServerSession:
    """The server side of one WebSocket connection."""

    def __init__(
        self,
        *,
        known_clients: Callable[[str], bool],
        trust: TrustStore,
        random: RandomSource,
        now: Callable[[], datetime],
        limits: Limits = Limits(),
        diagnostics_allowed: Callable[[str], bool] = lambda _client_id: False,
        pipelined: Callable[[wire.Start], bool] | None = None,
    ) -> None:
        self.state = State.AWAIT_START
        self.close_reason: CloseReason | None = None
        self._known_clients = known_clients
        self._trust = trust
        self._random = random
        self._now = now
        self.limits = limits
        self._start: wire.Start | None = None
        self._challenge = b""
        self._files: dict[str, bytes] = {}
        self._server_files: set[str] = set()
        self._ca_result: CheckResult | None = None  # what CA_HANDBACK said, once sent
        self._chip = verdict.NOT_OFFERED
        self._relay: Exchange[Any] | None = None
        self._relay_sm: SecureMessaging | None = None
        self._flight: chipauth.CAFlight | None = None
        self._pipelined = pipelined or default_pipelined
        self._ca_evidence = False  # CA failed by the chip's own verified answers
        self._dg1_before: bytes | None = None  # DG1 read under the old keys in the CA flight
        self._dg14_infos: SecurityInfos | None = None  # DG14 as parsed at the handover
        self._flight_block = reader.DEFAULT_MAX_BLOCK
        self._send_result = False
        self._result: dict[str, Any] | None = None
        self._diagnostics_allowed = diagnostics_allowed
        self._monitoring_logged = 0
        self.relayed_apdus = 0  # commands relayed to the chip for Chip Authentication

    # -- events -----------------------------------------------------------------------------

    def connected(self) -> list[Effect]:
        return [
            SetTimer("start", self.limits.start_timeout),
            SetTimer("session", self.limits.max_session_time),
        ]

    def receive_text(self, data: str | bytes) -> list[Effect]:
        if self.state in (State.CLOSED, State.POSTING):
            return self._close(CloseReason.UNEXPECTED_MESSAGE) if self.state is State.POSTING else []
        try:
            message = wire.parse_text(data, sender="client")
        except WireFormatError as exc:
            if self.state is State.AWAIT_START and exc.reason is CloseReason.PROTOCOL_ERROR:
                return self._close(CloseReason.INVALID_START_MESSAGE)
            return self._close(exc.reason)
        if isinstance(message, wire.Monitoring):
            return self._on_monitoring(message)
        if self.state is State.AWAIT_START and isinstance(message, wire.Start):
            return self._on_start(message)
        if self.state is State.READING and isinstance(message, wire.CaHandover):
            return self._on_handover(message)
        if self.state is State.READING and isinstance(message, wire.Finish):
            return self._on_finish(message)
        return self._close(CloseReason.UNEXPECTED_MESSAGE)

    def receive_binary(self, data: bytes) -> list[Effect]:
        if self.state is State.CLOSED:
            return []
        try:
            message = wire.parse_binary(data)
        except WireFormatError:
            return self._close(CloseReason.PROTOCOL_ERROR)
        if isinstance(message, wire.FileMessage) and self.state is State.READING:
            return self._on_file(message)
        if isinstance(message, wire.ApduMessage) and self.state is State.RELAYING:
            return self._on_apdu(message.data)
        return self._close(CloseReason.PROTOCOL_ERROR)

    def timer_fired(self, name: str) -> list[Effect]:
        if self.state is State.CLOSED:
            return []
        if name == "start" and self.state is State.AWAIT_START:
            return self._close(CloseReason.TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE)
        if name == "apdu" and self.state is State.RELAYING:
            return self._close(CloseReason.TIMEOUT_WHILE_WAITING_FOR_RESPONSE)
        if name == "session":
            return self._close(CloseReason.MAX_SESSION_TIME_EXCEEDED)
        return []

    def post_finished(self, ok: bool) -> list[Effect]:
        """The adapter's report on the result POST (after its retries)."""
        if self.state is not State.POSTING:
            return []
        if not ok:
            return self._close(CloseReason.POST_TO_RESULT_SERVER_FAILED)
        effects: list[Effect] = []
        if self._send_result and self._result is not None:
            effects.append(Send(wire.Result(self._result)))
        return effects + self._close(CloseReason.NORMAL)

    def connection_lost(self) -> list[Effect]:
        """The client went away: forget everything, post nothing (but the verdict on a chip
        that failed CA by its own verified answers)."""
        if self.state is State.CLOSED:
            return []
        posted = self._post_ca_verdict()
        self.state = State.CLOSED
        self._forget()
        return [CancelTimer("start"), CancelTimer("apdu"), CancelTimer("session")] + posted

    @property
    def result(self) -> dict[str, Any] | None:
        return self._result

    def summary(self) -> dict[str, Any]:
        """What an operator's per-session log line may say: never personal data or keys. The
        client id only when it is a configured one; the platform only from the spec's set."""
        start = self._start
        known = start is not None and self.close_reason is not CloseReason.INVALID_CLIENT_ID
        platform = start.platform if start is not None else None
        passport = self._result or {}
        return {
            "client_id": start.client_id if known and start is not None else None,
            "platform": platform
            if platform in ("android", "ios", "desktop")
            else ("other" if platform else None),
            "outcome": (self.close_reason or CloseReason.NORMAL).value
            if self.state is State.CLOSED
            else "OPEN",
            "passive_authentication": passport.get("passiveAuthentication"),
            "chip_authentication": passport.get("chipAuthenticationResult"),
            "active_authentication": passport.get("activeAuthenticationResult"),
            "relayed_apdus": self.relayed_apdus,
        }

    # -- handlers -------------------------------------------------------------------------

    def _on_start(self, start: wire.Start) -> list[Effect]:
        if not self._known_clients(start.client_id):
            return self._close(CloseReason.INVALID_CLIENT_ID)
        self._start = start
        self._challenge = self._random(8)
        self.state = State.READING
        return [CancelTimer("start"), Send(wire.Accept(self._challenge))]

    def _on_monitoring(self, message: wire.Monitoring) -> list[Effect]:
        start = self._start
        if start is None or not start.enable_diagnostics or not self._diagnostics_allowed(start.client_id):
            return []
        self._monitoring_logged += 1
        if self._monitoring_logged > MONITORING_LINES:
            return []
        if self._monitoring_logged == MONITORING_LINES:
            return [Log("info", f"MONITORING: {MONITORING_LINES} lines logged; further ones dropped")]
        text = message.message[:MONITORING_CHARS]
        cut = "" if len(message.message) <= MONITORING_CHARS else f" (cut from {len(message.message)} chars)"
        return [Log("info", f"MONITORING: {json.dumps(text)}{cut}")]

    def _on_file(self, message: wire.FileMessage) -> list[Effect]:
        name = message.name
        if name not in FILE_NAMES:
            return self._close(CloseReason.PROTOCOL_ERROR)
        if name in self._files:
            if self._files[name] == message.data:
                return []  # sent again unchanged (or the DG1 we sent, echoed): harmless
            return self._close(CloseReason.PROTOCOL_ERROR)
        try:
            if message.data:  # an empty file is a finding for the result, not a reason to close
                check_size(name, message.data)
        except EmrtdError:
            return self._close(CloseReason.FILE_READ_ERROR)
        total = sum(map(len, self._files.values())) + len(message.data)
        if len(self._files) >= self.limits.max_files or total > self.limits.max_total_bytes:
            return self._close(CloseReason.PROTOCOL_ERROR)
        self._files[name] = message.data
        return []

    def _on_handover(self, handover: wire.CaHandover) -> list[Effect]:
        if self._ca_result is not None or "dg14" not in self._files:
            return self._close(CloseReason.PROTOCOL_ERROR)  # dg14 must come first, CA only once
        sm = handover.secure_messaging_info.to_secure_messaging()
        transceive = handover.max_transceive_length_for_secure_messaging
        block = min(handover.max_block_size, 223 if transceive <= 256 else max(transceive - 64, 223))
        try:
            self._dg14_infos = dg14.parse(self._files["dg14"]).security_infos  # parsed once a session
            plan: chipauth.CAPlan | chipauth.NoChipAuthentication = chipauth.plan(
                self._dg14_infos, self._random
            )
        except EmrtdError as exc:
            plan = chipauth.NoChipAuthentication(f"DG14 cannot be parsed: {exc}", offered=True)
        if isinstance(plan, chipauth.NoChipAuthentication):
            # Nothing was sent to the chip: its channel is the client's, unchanged.
            self._chip = verdict.failed(plan.reason) if plan.offered else verdict.not_offered(plan.reason)
            self._ca_result = "FAILED" if plan.offered else "UNAVAILABLE"
            return [Send(wire.CaHandback(self._ca_result, handover.secure_messaging_info))]
        self._relay_sm = sm
        self._flight_block = block
        self.state = State.RELAYING
        if self._start is not None and self._pipelined(self._start):
            flight = chipauth.CAFlight(plan, sm, block)
            self._flight = flight
            self.relayed_apdus += len(flight.commands)
            effects: list[Effect] = [SetTimer("apdu", self.limits.apdu_timeout)]
            return effects + [Send(wire.ApduMessage(command.to_bytes())) for command in flight.commands]
        self._relay = self._chip_authentication(plan, sm, block)
        return self._advance(None)

    def _chip_authentication(self, plan: chipauth.CAPlan, sm: SecureMessaging, block: int) -> Exchange[Any]:
        new = yield from chipauth.chip_authentication(plan, sm)
        self._relay_sm = new
        try:
            dg1 = yield from reader.read_file(reader.DATA_GROUPS[1], new, max_block=block, use_sfi=True)
        except SecureMessagingError:
            self._ca_evidence = True
            raise
        except StatusWordError as exc:
            self._ca_evidence = exc.sw in chipauth.SM_REFUSALS
            raise
        return dg1

    def _on_flight_answer(self, response: ResponseAPDU) -> list[Effect]:
        flight = self._flight
        assert flight is not None
        try:
            outcome = flight.receive(response)
        except EmrtdError:
            return self._close(CloseReason.PROTOCOL_ERROR)
        if outcome is None:
            return [SetTimer("apdu", self.limits.apdu_timeout)]
        self._flight = None
        if outcome.dg1_before is not None:
            self._dg1_before = outcome.dg1_before
        self._relay_sm = outcome.sm
        if outcome.failure is not None:
            self._ca_evidence = outcome.evidence
            self._chip = verdict.failed(outcome.failure)
            return self._handback(dg1=None)
        if outcome.dg1 is not None and outcome.dg1_complete:
            return self._handback(dg1=outcome.dg1)
        # the keys are proven; DG1 needs more than the flight's one block
        block = self._flight_block
        if outcome.dg1 is not None:
            self._relay = reader.read_rest(reader.DATA_GROUPS[1], outcome.dg1, outcome.sm, max_block=block)
        else:
            self._relay = reader.read_file(reader.DATA_GROUPS[1], outcome.sm, max_block=block, use_sfi=False)
        return self._advance(None)

    def _on_apdu(self, data: bytes) -> list[Effect]:
        try:
            response = ResponseAPDU.from_bytes(data)
        except APDUError:
            return self._close(CloseReason.PROTOCOL_ERROR)
        if self._flight is not None:
            return self._on_flight_answer(response)
        return self._advance(response)

    def _advance(self, response: ResponseAPDU | None) -> list[Effect]:
        relay = self._relay
        assert relay is not None
        try:
            command = next(relay) if response is None else relay.send(response)
        except StopIteration as done:
            return self._handback(dg1=done.value)
        except EmrtdError as exc:
            self._chip = verdict.failed(str(exc))
            return self._handback(dg1=None)
        self.relayed_apdus += 1
        return [SetTimer("apdu", self.limits.apdu_timeout), Send(wire.ApduMessage(command.to_bytes()))]

    def _handback(self, dg1: bytes | None) -> list[Effect]:
        sm = self._relay_sm
        assert sm is not None
        self._relay, self._relay_sm = None, None
        self.state = State.READING
        effects: list[Effect] = [CancelTimer("apdu")]
        if dg1 is not None:
            try:
                check_size("dg1", dg1)
            except EmrtdError:
                dg1 = None
        before, self._dg1_before = self._dg1_before, None
        if before is not None:
            try:
                check_size("dg1", before)
            except EmrtdError:
                before = None
        if before is not None and not chipauth.complete_tlv(before):
            before = None  # only part of DG1 (a block shorter than the file): not a DG1 to hand on
        if dg1 is not None and before is not None and dg1 != before:
            self._chip = verdict.failed("DG1 read under the new keys differs from DG1 read before")
            dg1 = None
        if dg1 is None:
            self._ca_result = "FAILED"
            if self._chip.passed is not False:
                self._chip = verdict.failed("DG1 could not be read under the new keys")
            if before is not None:  # read by the server itself, under the access-control keys
                self._files["dg1"] = before
                self._server_files.add("dg1")
                effects.append(Send(wire.FileMessage("dg1", before)))
        else:
            self._ca_result = "SUCCESS"
            self._chip = verdict.PASSED
            self._files["dg1"] = dg1
            self._server_files.add("dg1")
            effects.append(Send(wire.FileMessage("dg1", dg1)))
        info = wire.SecureMessagingInfo.from_secure_messaging(sm)
        return effects + [Send(wire.CaHandback(self._ca_result, info))]

    def _on_finish(self, finish: wire.Finish) -> list[Effect]:
        assert self._start is not None
        required = {"sod", "dg1"} | ({"dg14"} if self._ca_result is not None else set())
        if not required <= set(self._files):
            return self._close(CloseReason.PROTOCOL_ERROR)  # nothing to validate: post nothing
        self._send_result = finish.send_result
        try:
            pa = passiveauth.verify(self._files, self._trust, self._now())
            verdicts = verdict.verdicts(pa, self._chip_outcome(), self._active_outcome(finish))
            self._result = result.build(
                self._start.validation_id,
                self._files,
                pa,
                verdicts,
                include_files=self.limits.include_files,
            )
        except Exception as exc:  # a bug must not leak a traceback to the client  # noqa: BLE001
            return [Log("error", f"checks failed: {type(exc).__name__}")] + self._close(
                CloseReason.SERVER_ERROR
            )
        self.state = State.POSTING
        self._files.clear()
        return [PostResult(self._start.client_id, self._result)]

    def _chip_outcome(self) -> verdict.Outcome:
        if "dg14" not in self._files:
            return verdict.NOT_OFFERED
        if self._ca_result is None:
            return verdict.failed("DG14 present but the client did not hand over")
        return self._chip

    def _active_outcome(self, finish: wire.Finish) -> verdict.Outcome:
        if "dg15" not in self._files:
            return verdict.NOT_OFFERED
        signature = finish.active_authentication_signature
        if signature is None:
            return verdict.failed("DG15 present but no signature")
        try:
            activeauth.verify_files(self._files, self._challenge, signature, dg14_infos=self._dg14_infos)
        except EmrtdError as exc:
            return verdict.failed(str(exc))
        return verdict.PASSED

    # -- closing ----------------------------------------------------------------------------

    def _close(self, reason: CloseReason) -> list[Effect]:
        if self.state is State.CLOSED:
            return []
        posted = self._post_ca_verdict()
        self.state = State.CLOSED
        self.close_reason = reason
        self._forget()
        return [CancelTimer("start"), CancelTimer("apdu"), CancelTimer("session")] + posted + [
            CloseConnection(reason)
        ]

    def _post_ca_verdict(self) -> list[Effect]:
        """The result of a session that ends before FINISH after CA failed by the chip's own
        verified answers (see the module docstring); nothing otherwise."""
        open_states = (State.READING, State.RELAYING)
        if not self._ca_evidence or self._start is None or self.state not in open_states:
            return []
        try:
            pa = passiveauth.verify(self._files, self._trust, self._now())
            verdicts = verdict.verdicts(pa, self._chip, verdict.NOT_OFFERED)
            body = result.build(self._start.validation_id, self._files, pa, verdicts)
        except Exception as exc:  # noqa: BLE001 - never a traceback for the client
            return [Log("error", f"clone verdict not built: {type(exc).__name__}")]
        body["errors"] = [
            "session ended before FINISH after chip authentication failed: "
            "result posted with the files the server holds",
            *body.get("errors", []),
        ]
        self._result = body
        return [Log("info", "chip authentication failed by the chip's own answers: result posted"),
                PostResult(self._start.client_id, body)]

    def _forget(self) -> None:
        self._files.clear()
        self._flight = None
        self._dg1_before = None
        self._relay = None
        self._relay_sm = None
        self._challenge = b""
