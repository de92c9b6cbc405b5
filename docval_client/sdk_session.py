"""The local SDK's protocol, sans-I/O: one app connection, JSON commands in, JSON messages and
effects out. Modelled on the AusweisApp2 SDK (``ausweisapp2-sdk-desktop.md``), adapted from
German eID authentication to eMRTD validation.

Commands (``cmd``, case-sensitive) and the states that accept them:

================== ========================================================================
any state          GET_INFO, GET_API_LEVEL, SET_API_LEVEL, GET_READER, GET_READER_LIST
IDLE               RUN_VALIDATION {serverUrl, clientId, [validationId], [sendResult],
                   [accessKey "MRZ"|"CAN"], [reader]}
ACCESS_RIGHTS      GET_ACCESS_RIGHTS, SET_ACCESS_RIGHTS {chat: [optional rights]},
                   GET_CERTIFICATE, ACCEPT
CONFIRM            (the user answers on the SDK's console)
INSERT_CARD        INSERT_CARD {name: "Simulator"} (with ``--simulator``)
ENTER_MRZ          SET_MRZ {value: "MRZ lines"} or {documentNumber, dateOfBirth, dateOfExpiry}
ENTER_CAN          SET_CAN {value: "123456"}
any but IDLE       CANCEL
================== ========================================================================

Anything else gets BAD_STATE (a known command in the wrong state), UNKNOWN_COMMAND, or
INVALID (not a JSON object with a string ``cmd``, or larger than :data:`MAX_COMMAND`).

The workflow: RUN_VALIDATION → ``VALIDATION`` (started; with ``error`` when the request was
invalid or its server is not allowed for this app, and nothing started) → ``ACCESS_RIGHTS``
(``GET_CERTIFICATE`` → ``CERTIFICATE``: who asks, which server gets which data) → ACCEPT →
the user confirms on the console unless the (app, server) pair is pre-approved
(:mod:`docval_client.sdk_policy`) → ``INSERT_CARD`` unless a card is
already there → ``ENTER_MRZ``/``ENTER_CAN`` (again without ``error`` after a refused key, with
``error`` after invalid input) → ``STATUS`` per step and file → ``VALIDATION`` with ``result``.
Reader and card changes are sent as ``READER`` messages at any time.

Effects tell the adapter what to do: :class:`Reply` (send a message), :class:`Run` (open the
reader and start the DocVal session), :class:`ProvideKey` (resume a session waiting for a
key), :class:`Cancel` (end the running session with CANCELLED_BY_USER), :class:`Confirm` (ask
the user on the console, answer with :meth:`SdkSession.confirmed`), :class:`Log` (a console
line: origin, server and outcome of each workflow, never personal data).

The final message carries the verdict (``valid``) and ``validationId``; the ``passport``
object only when the app asked (``sendResult``) and its policy entry grants it.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from emrtd import mrz
from emrtd.docval.reasons import CloseReason
from emrtd.docval.verdict import validated
from emrtd.errors import EmrtdError
from emrtd.mrz import AccessKey

from .readers import ReaderInfo
from .sdk_policy import DEFAULT_POLICY, NO_ORIGIN, AppRule, ServerRule
from .session import OPTIONAL_FILES

API_LEVELS = (1,)
MAX_COMMAND = 16 * 1024
SIMULATOR = "Simulator"
REQUIRED_RIGHTS = ("SOD", "DG1", "DG14", "DG15")
OPTIONAL_RIGHTS = ("DG2", "DG7", "DG11", "DG12")
ANY_STATE = frozenset({"GET_INFO", "GET_API_LEVEL", "SET_API_LEVEL", "GET_READER", "GET_READER_LIST"})


class State(Enum):
    IDLE = "IDLE"
    ACCESS_RIGHTS = "ACCESS_RIGHTS"
    INSERT_CARD = "INSERT_CARD"
    ENTER_MRZ = "ENTER_MRZ"
    ENTER_CAN = "ENTER_CAN"
    CONFIRM = "CONFIRM"
    RUNNING = "RUNNING"


#: The commands each workflow state accepts besides :data:`ANY_STATE` (and CANCEL).
ALLOWED = {
    State.IDLE: frozenset({"RUN_VALIDATION"}),
    State.ACCESS_RIGHTS: frozenset(
        {"GET_ACCESS_RIGHTS", "SET_ACCESS_RIGHTS", "GET_CERTIFICATE", "ACCEPT", "CANCEL"}
    ),
    State.CONFIRM: frozenset({"CANCEL"}),
    State.INSERT_CARD: frozenset({"INSERT_CARD", "CANCEL"}),
    State.ENTER_MRZ: frozenset({"SET_MRZ", "CANCEL"}),
    State.ENTER_CAN: frozenset({"SET_CAN", "CANCEL"}),
    State.RUNNING: frozenset({"CANCEL"}),
}
COMMANDS = ANY_STATE | frozenset().union(*ALLOWED.values())


@dataclass(frozen=True)
class Reply:
    message: dict[str, Any]


@dataclass(frozen=True)
class Run:
    """Start the DocVal session on ``reader`` with ``key``."""

    request: ValidationRequest
    reader: str
    key: AccessKey = field(repr=False)


@dataclass(frozen=True)
class ProvideKey:
    key: AccessKey = field(repr=False)


@dataclass(frozen=True)
class Cancel:
    pass


@dataclass(frozen=True)
class Confirm:
    """Ask the user on the console (y/N); no answer within ``timeout`` seconds is no."""

    prompt: str
    timeout: float


@dataclass(frozen=True)
class Log:
    line: str


Effect = Reply | Run | ProvideKey | Cancel | Confirm | Log


@dataclass(frozen=True)
class Requester:
    """Who is asking: the app's origin (``none`` for a native app) and User-Agent, and what
    the SDK's policy allows it."""

    origin: str = NO_ORIGIN
    user_agent: str = ""
    app: AppRule = field(default_factory=lambda: DEFAULT_POLICY.apps[-1])
    confirm_timeout: float = DEFAULT_POLICY.confirm_timeout

    def __str__(self) -> str:
        who = "a native app" if self.origin == NO_ORIGIN else self.origin
        return f"{who} ({self.user_agent})" if self.user_agent else who


@dataclass(frozen=True)
class ValidationRequest:
    """RUN_VALIDATION's parameters, checked."""

    server_url: str
    client_id: str
    validation_id: str
    send_result: bool = False
    access_key: str = "MRZ"
    reader: str | None = None
    optional_files: frozenset[str] = OPTIONAL_FILES

    @classmethod
    def from_command(cls, command: dict[str, Any]) -> ValidationRequest:
        """Raise ValueError with a message for the app when a parameter is wrong."""
        url = command.get("serverUrl")
        if not isinstance(url, str) or not url.startswith(("ws://", "wss://")):
            raise ValueError("serverUrl must be a ws:// or wss:// URL")
        client_id = command.get("clientId")
        if not isinstance(client_id, str) or not client_id:
            raise ValueError("clientId must be a non-empty string")
        validation_id = command.get("validationId", str(uuid.uuid4()))
        if not isinstance(validation_id, str) or not validation_id:
            raise ValueError("validationId must be a non-empty string")
        send_result = command.get("sendResult", False)
        if not isinstance(send_result, bool):
            raise ValueError("sendResult must be true or false")
        access_key = command.get("accessKey", "MRZ")
        if access_key not in ("MRZ", "CAN"):
            raise ValueError('accessKey must be "MRZ" or "CAN"')
        reader = command.get("reader")
        if reader is not None and (not isinstance(reader, str) or not reader):
            raise ValueError("reader must be a reader name")
        return cls(url, client_id, validation_id, send_result, access_key, reader)


@dataclass(frozen=True)
class VersionInfo:
    version: str

    def message(self) -> dict[str, Any]:
        return {
            "Name": "docval-client",
            "Implementation-Title": "docval-client",
            "Implementation-Vendor": "docval",
            "Implementation-Version": self.version,
            "Specification-Title": "DocVal WebSocket API",
            "Specification-Vendor": "docval",
            "Specification-Version": "2",
        }


def reader_message(info: ReaderInfo | None, name: str) -> dict[str, Any]:
    """The READER object; a passport has no PIN, so ``retryCounter`` is -1 (unknown)."""
    if info is None:
        return {"name": name, "attached": False, "keypad": False, "card": None}
    card = {"inoperative": False, "deactivated": False, "retryCounter": -1} if info.has_card else None
    return {"name": info.name, "attached": True, "keypad": False, "card": card}


class SdkSession:
    """One app connection. Feed it commands and events; act on the effects it returns."""

    def __init__(
        self, version: VersionInfo, *, simulator: bool = False, requester: Requester | None = None
    ) -> None:
        self.version = version
        self.simulator = simulator
        self.requester = requester or Requester()
        self.server: ServerRule | None = None  # the allowed server of the current request
        self.state = State.IDLE
        self.api_level = API_LEVELS[-1]
        self.readers: dict[str, ReaderInfo] = {}
        self.request: ValidationRequest | None = None
        self.reader: str | None = None  # the reader the workflow uses, once chosen
        self.started = False  # a DocVal session is running (Run was returned)
        if simulator:
            self.readers[SIMULATOR] = ReaderInfo(SIMULATOR, True)

    # -- inputs ---------------------------------------------------------------------------

    def command(self, text: str | bytes) -> list[Effect]:
        """One WebSocket text message from the app."""
        if len(text) > MAX_COMMAND:
            return [self._msg("INVALID", error=f"message larger than {MAX_COMMAND} bytes")]
        try:
            command = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            return [self._msg("INVALID", error=str(exc))]
        if not isinstance(command, dict) or not isinstance(command.get("cmd"), str):
            return [self._msg("INVALID", error='a command is a JSON object with a "cmd" string')]
        name = command["cmd"]
        if name not in COMMANDS:
            return [self._msg("UNKNOWN_COMMAND", error=name)]
        if name not in ANY_STATE and name not in ALLOWED[self.state]:
            return [self._msg("BAD_STATE", error=name)]
        handler = getattr(self, "_cmd_" + name.lower())
        effects: list[Effect] = handler(command)
        return effects

    def readers_changed(self, readers: list[ReaderInfo] | None) -> list[Effect]:
        """The PC/SC readers now (None: pcscd unreachable). READER for each change; a card
        arriving while the workflow waits for one moves it on."""
        now = {info.name: info for info in readers or []}
        if self.simulator:
            now[SIMULATOR] = self.readers[SIMULATOR]
        effects: list[Effect] = []
        for name in sorted(set(self.readers) | set(now)):
            if self.readers.get(name) != now.get(name):
                effects.append(Reply({"msg": "READER", **reader_message(now.get(name), name)}))
        self.readers = now
        if self.state is State.INSERT_CARD:
            effects += self._look_for_card()
        return effects

    def progress(self, step: str, done: int = 0, total: int = 0) -> list[Effect]:
        message: dict[str, Any] = {"msg": "STATUS", "workflow": "VALIDATION", "state": step}
        if total:
            message.update(done=done, total=total)
        return [Reply(message)]

    def key_refused(self) -> list[Effect]:
        """The chip refused the key: ask again, without an error (AusweisApp2's ENTER_CAN)."""
        return [self._enter_key()]

    def confirmed(self, approved: bool) -> list[Effect]:
        """The user's answer on the console (False also for no answer in time)."""
        if self.state is not State.CONFIRM:
            return []  # cancelled or disconnected meanwhile
        if not approved:
            timeout = f"{self.requester.confirm_timeout:g}"
            return self.finished(
                CloseReason.CANCELLED_BY_USER.value, None,
                f"the user did not allow it on the SDK's console (no, or no answer in {timeout} s)",
            )
        self.state = State.INSERT_CARD
        return [Log("the user allowed it"), *(self._look_for_card() or [self._msg("INSERT_CARD")])]

    def finished(
        self, reason: str, passport: dict[str, Any] | None, error: str | None = None
    ) -> list[Effect]:
        """The DocVal session ended: the final VALIDATION message, back to IDLE. The app
        gets the verdict; the passport's data only where its policy entry allows."""
        request = self.request
        assert request is not None
        result: dict[str, Any]
        if reason in ("", CloseReason.NORMAL.value):
            result = {"major": "ok", "validationId": request.validation_id}
            outcome = "completed"
            if passport is not None:
                result["valid"] = validated(passport)
                outcome = "VALID" if result["valid"] else "NOT VALID"
                if request.send_result and self.requester.app.send_result:
                    result["passport"] = passport
        else:
            result = {"major": "error", "validationId": request.validation_id, "reason": reason}
            outcome = reason
            if error and error != reason:
                result["message"] = error
        log = Log(f"validation {request.validation_id} for {self.requester.origin} "
                  f"with {request.server_url}: {outcome}")
        self._reset()
        return [log, Reply({"msg": "VALIDATION", "result": result})]

    def disconnected(self) -> list[Effect]:
        """The app went away: end a running session."""
        if self.started:
            return [Cancel()]
        self._reset()
        return []

    # -- commands -------------------------------------------------------------------------

    def _cmd_get_info(self, _command: dict[str, Any]) -> list[Effect]:
        return [self._msg("INFO", VersionInfo=self.version.message())]

    def _cmd_get_api_level(self, _command: dict[str, Any]) -> list[Effect]:
        return [self._api_level()]

    def _cmd_set_api_level(self, command: dict[str, Any]) -> list[Effect]:
        level = command.get("level")
        if not isinstance(level, int) or isinstance(level, bool) or level not in API_LEVELS:
            return [self._api_level(error=f"invalid level: {level!r}")]
        self.api_level = level
        return [self._api_level()]

    def _cmd_get_reader(self, command: dict[str, Any]) -> list[Effect]:
        name = command.get("name")
        if not isinstance(name, str) or not name:
            return [self._msg("READER", error="name must be a reader name")]
        return [Reply({"msg": "READER", **reader_message(self.readers.get(name), name)})]

    def _cmd_get_reader_list(self, _command: dict[str, Any]) -> list[Effect]:
        readers = [reader_message(info, name) for name, info in sorted(self.readers.items())]
        return [self._msg("READER_LIST", reader=readers)]

    def _cmd_run_validation(self, command: dict[str, Any]) -> list[Effect]:
        try:
            request = ValidationRequest.from_command(command)
        except ValueError as exc:
            return [self._msg("VALIDATION", error=str(exc))]
        if request.reader == SIMULATOR and not self.simulator:
            off = "the simulator is off (start: docval-client sdk --simulator)"
            return [self._msg("VALIDATION", error=off)]
        server = self.requester.app.server(request.server_url)
        if server is None:
            origin = self.requester.origin
            refused = (f"serverUrl {request.server_url} is not allowed for {origin}: the SDK's "
                       "configuration (sdk.toml) lists the servers each app may use")
            return [Log(f"refused {request.server_url} for {origin}: not on its server list"),
                    self._msg("VALIDATION", error=refused)]
        self.request, self.server, self.state = request, server, State.ACCESS_RIGHTS
        return [Log(f"{self.requester} asks for a validation with {request.server_url}"),
                self._msg("VALIDATION"), self._access_rights()]

    def _cmd_get_certificate(self, _command: dict[str, Any]) -> list[Effect]:
        return [self._msg("CERTIFICATE", description=self._description())]

    def _cmd_get_access_rights(self, _command: dict[str, Any]) -> list[Effect]:
        return [self._access_rights()]

    def _cmd_set_access_rights(self, command: dict[str, Any]) -> list[Effect]:
        chat = command.get("chat")
        if not isinstance(chat, list) or not all(isinstance(item, str) for item in chat):
            return [self._access_rights(error="chat must be a list of optional access rights")]
        unknown = [item for item in chat if item not in OPTIONAL_RIGHTS]
        if unknown:
            return [self._access_rights(error=f"not optional access rights: {', '.join(unknown)}")]
        assert self.request is not None
        files = frozenset(item.lower() for item in chat)
        self.request = replace(self.request, optional_files=files)
        return [self._access_rights()]

    def _cmd_accept(self, _command: dict[str, Any]) -> list[Effect]:
        assert self.server is not None
        if not self.server.approved:
            self.state = State.CONFIRM
            return [Confirm(self._prompt(), self.requester.confirm_timeout)]
        self.state = State.INSERT_CARD
        effects: list[Effect] = [Log("pre-approved in the SDK's configuration")]
        return effects + (self._look_for_card() or [self._msg("INSERT_CARD")])

    def _cmd_insert_card(self, command: dict[str, Any]) -> list[Effect]:
        if command.get("name") != SIMULATOR or not self.simulator:
            return [self._msg("INSERT_CARD", error='only the "Simulator" card can be inserted by command')]
        assert self.request is not None
        self.request = replace(self.request, reader=SIMULATOR)
        return self._look_for_card()

    def _cmd_set_mrz(self, command: dict[str, Any]) -> list[Effect]:
        try:
            if isinstance(command.get("value"), str):
                key: AccessKey = mrz.parse(command["value"], strict=True).access_key
            else:
                fields = [command.get(k) for k in ("documentNumber", "dateOfBirth", "dateOfExpiry")]
                if not all(isinstance(item, str) for item in fields):
                    raise EmrtdError("give value (the MRZ) or documentNumber, dateOfBirth and dateOfExpiry")
                key = mrz.MRZKey(*fields)  # type: ignore[arg-type]
        except EmrtdError as exc:
            return [self._enter_key(error=str(exc))]
        return self._use_key(key)

    def _cmd_set_can(self, command: dict[str, Any]) -> list[Effect]:
        value = command.get("value")
        try:
            if not isinstance(value, str):
                raise EmrtdError("a CAN is six digits")
            key = mrz.CANKey(value)
        except EmrtdError as exc:
            return [self._enter_key(error=str(exc))]
        return self._use_key(key)

    def _cmd_cancel(self, _command: dict[str, Any]) -> list[Effect]:
        if self.started:
            return [Cancel()]  # the adapter reports the end through finished()
        return self.finished(CloseReason.CANCELLED_BY_USER.value, None)

    # -- helpers --------------------------------------------------------------------------

    def _msg(self, name: str, **fields: Any) -> Reply:
        return Reply({"msg": name, **fields})

    def _api_level(self, error: str | None = None) -> Reply:
        fields: dict[str, Any] = {"available": list(API_LEVELS), "current": self.api_level}
        if error:
            fields = {"error": error, **fields}
        return self._msg("API_LEVEL", **fields)

    def _access_rights(self, error: str | None = None) -> Reply:
        assert self.request is not None
        chat = {
            "effective": self._effective_rights(),
            "optional": list(OPTIONAL_RIGHTS),
            "required": list(REQUIRED_RIGHTS),
        }
        info = f"validation by {self.request.server_url} for {self.requester.origin}"
        return self._msg("ACCESS_RIGHTS", **({"error": error} if error else {}), transactionInfo=info,
                         chat=chat)

    def _description(self) -> dict[str, Any]:
        """The CERTIFICATE description: who asks, which server gets which data, what comes
        back to the app (the analogue of AusweisApp2's certificate description)."""
        assert self.request is not None and self.server is not None
        personal = self.request.send_result and self.requester.app.send_result
        return {
            "subjectName": self.requester.origin,
            "userAgent": self.requester.user_agent,
            "serverUrl": self.request.server_url,
            "serverIdentity": self.server.tls_identity(),
            "dataGroups": self._effective_rights(),
            "resultToApp": "verdict and passport data" if personal else "verdict only",
            "purpose": "eMRTD validation (ICAO 9303) by the DocVal server",
        }

    def _prompt(self) -> str:
        description = self._description()
        return (
            f"{self.requester} asks to read the passport and send "
            f"{', '.join(description['dataGroups'])} to {description['serverUrl']} "
            f"(TLS: {description['serverIdentity']}); the app gets the {description['resultToApp']}. "
            f"Allow? [y/N]"
        )

    def _effective_rights(self) -> list[str]:
        assert self.request is not None
        chosen = [right for right in OPTIONAL_RIGHTS if right.lower() in self.request.optional_files]
        return list(REQUIRED_RIGHTS) + chosen

    def _look_for_card(self) -> list[Effect]:
        """Choose the workflow's reader: the requested one, else the first real reader with a
        card (the simulator only when asked for). Nothing yet: keep waiting."""
        assert self.request is not None
        wanted = self.request.reader
        candidates = [wanted] if wanted else [n for n in sorted(self.readers) if n != SIMULATOR]
        for name in candidates:
            info = self.readers.get(name)
            if info is not None and info.has_card:
                self.reader = name
                return [self._enter_key()]
        return []

    def _enter_key(self, error: str | None = None) -> Reply:
        assert self.reader is not None
        self.state = self._key_state()
        fields: dict[str, Any] = {"error": error} if error else {}
        reader = reader_message(self.readers.get(self.reader), self.reader)
        return self._msg(self.state.value, **fields, reader=reader)

    def _key_state(self) -> State:
        return State.ENTER_CAN if self.request and self.request.access_key == "CAN" else State.ENTER_MRZ

    def _use_key(self, key: AccessKey) -> list[Effect]:
        assert self.request is not None and self.reader is not None
        self.state = State.RUNNING
        if self.started:
            return [ProvideKey(key)]
        self.started = True
        return [Run(self.request, self.reader, key)]

    def _reset(self) -> None:
        self.state, self.request, self.reader, self.started = State.IDLE, None, None, False
        self.server = None
