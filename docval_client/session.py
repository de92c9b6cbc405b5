"""The client side of the DocVal WebSocket API v2, sans-I/O: what the vendor's Android/iOS
connectors do, as a generator the adapters drive.

:func:`validation` yields requests and is sent their answers:

* :class:`ToChip` (a raw command APDU) → the raw response bytes from the card;
* :class:`ToServer` (a message) → ``None``;
* :class:`FromServer` → the next message from the server (a parsed wire message, or
  :class:`Closed` when the server closed);
* :class:`Progress` → ``None`` (a step or file count for the UI).

It returns an :class:`Outcome`. Flow (``interop-notes.md``): extended-length detection in
the clear (:mod:`emrtd.extended_length`, unless the options fix it) → START → ACCEPT → EF.CardAccess →
PACE (MRZ or CAN) or BAC → SOD, DG14 → FILE dg14 + CA_HANDOVER with the live SM state → relay
the server's APDUs to the chip as they are → DG1 from the server's FILE, new keys from
CA_HANDBACK (after a FAILED handback the chip's channel is gone: access control runs again) →
DG15 → AA with the server's challenge → DG1/2/7/11/12 → FILEs → FINISH → RESULT → CLOSE.
A chip without DG14 skips the handover. A refused access key ends the session with
``INVALID_ACCESS_KEY_VALUES``, other access-control failures with ``ACCESS_CONTROL_FAILED``,
a card that stops answering with ``NFC_CHIP_COMMUNICATION_FAILED``.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from emrtd import access, activeauth, exchange, extended_length, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.errors import (
    AccessKeyError,
    APDUError,
    ChipSessionError,
    EmrtdError,
    LDSError,
    SecureMessagingError,
    StatusWordError,
)
from emrtd.interfaces import RandomSource
from emrtd.mrz import AccessKey
from emrtd.sm import SecureMessaging

AFTER_HANDOVER = ("dg15", "dg1", "dg2", "dg7", "dg11", "dg12")
#: Data groups a user may decline (the SDK's optional access rights); the rest are required.
OPTIONAL_FILES = frozenset({"dg2", "dg7", "dg11", "dg12"})


@dataclass(frozen=True)
class ToChip:
    command: bytes = field(repr=False)


@dataclass(frozen=True)
class ToServer:
    message: wire.TextMessage | wire.BinaryMessage


@dataclass(frozen=True)
class FromServer:
    """The next message from the server; ``waiting_for`` names it for the user, and after
    ``timeout`` seconds without one the driver gives up (``TIMEOUT_WHILE_WAITING_FOR_RESPONSE``)."""

    waiting_for: str = "a message"
    timeout: float = 20.0


@dataclass(frozen=True)
class Progress:
    """A step (``"PACE"``, ``"chip authentication"``) or, for ``"read NAME"``, the bytes of
    that file read so far out of its length, after every block."""

    step: str
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class NeedAccessKey:
    """The chip refused the access key (only with :attr:`Options.retry_access_key`): answer
    with a new :class:`~emrtd.mrz.AccessKey`, or None to give up (CANCELLED_BY_USER)."""


@dataclass(frozen=True)
class Closed:
    """The server closed the connection (its CLOSE message or frame)."""

    code: int
    reason: str


@dataclass(frozen=True)
class Outcome:
    """How the session ended: the close reason, the RESULT passport if one came, and counts."""

    reason: CloseReason | str
    passport: dict[str, Any] | None = field(default=None, repr=False)
    apdus: int = 0
    chip_bytes: int = 0
    block: int = reader.DEFAULT_MAX_BLOCK
    extended_length: bool = False
    length_source: str = ""
    #: The client's own findings, shown beside the server's result (e.g. PACE-CAM).
    notes: tuple[str, ...] = ()


Request = ToChip | ToServer | FromServer | Progress | NeedAccessKey


class _Abort(Exception):
    def __init__(self, reason: CloseReason) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass
class Options:
    validation_id: str
    client_id: str
    access_key: AccessKey
    send_result: bool = True
    #: None: ask the chip (EF.ATR/INFO, ATR, probe); True/False: as given.
    extended_length: bool | None = None
    #: None: the largest block the chip and reader allow; else this block size.
    max_block: int | None = None
    #: What the card layer knows: the ATR and the reader's largest APDU (None: not reported).
    atr: bytes | None = None
    reader_max_apdu: int | None = None
    enable_diagnostics: bool = False
    random: RandomSource = os.urandom
    #: Seconds to wait for ACCEPT and for each relayed APDU or CA_HANDBACK (20 s: the Android
    #: connector's wait for the handback).
    server_timeout: float = 20.0
    #: Seconds to wait for RESULT and the close after FINISH: the server posts the result
    #: first, 3 s per attempt with up to 3 retries.
    result_timeout: float = 45.0
    #: Which of :data:`OPTIONAL_FILES` to read.
    optional_files: frozenset[str] = OPTIONAL_FILES
    #: On a refused key, ask for another (:class:`NeedAccessKey`) instead of closing with
    #: INVALID_ACCESS_KEY_VALUES: the SDK's ENTER_MRZ/ENTER_CAN loop. The new key replaces
    #: :attr:`access_key`.
    retry_access_key: bool = False


def link_block(options: Options) -> Generator[Request, Any, extended_length.Link]:
    """The READ BINARY block for this chip and reader (asks the chip only when
    :attr:`Options.extended_length` is None). Yields only chip requests."""
    link: extended_length.Link = yield from _plain(
        extended_length.negotiate(
            options.atr,
            options.reader_max_apdu,
            extended=options.extended_length,
            max_block=options.max_block,
        )
    )
    return link


def _plain(exchange_: Generator[CommandAPDU, ResponseAPDU, Any]) -> Generator[Request, Any, Any]:
    """Drive an emrtd exchange over the chip, outside any session bookkeeping."""

    def step(command: CommandAPDU) -> Generator[Request, Any, ResponseAPDU]:
        raw = yield ToChip(command.to_bytes())
        try:
            return ResponseAPDU.from_bytes(raw)
        except APDUError:
            return ResponseAPDU(b"", 0x6F00)

    return (yield from exchange.drive(exchange_, step))


def validation(options: Options) -> Generator[Request, Any, Outcome]:
    """The whole client session; see the module docstring for the protocol it speaks."""
    counters = {"apdus": 0, "bytes": 0}
    pending: list[Progress] = []  # file progress from emrtd's callbacks, yielded between APDUs

    def chip(command: CommandAPDU) -> Generator[Request, Any, ResponseAPDU]:
        while pending:  # file progress reported while the exchange handled the last answer
            yield pending.pop(0)
        raw = yield ToChip(command.to_bytes())
        counters["apdus"] += 1
        counters["bytes"] += len(raw)
        try:
            return ResponseAPDU.from_bytes(raw)
        except APDUError:
            raise _Abort(CloseReason.NFC_CHIP_COMMUNICATION_FAILED) from None

    def run(exchange_: Generator[CommandAPDU, ResponseAPDU, Any]) -> Generator[Request, Any, Any]:
        """Drive an emrtd exchange over the chip."""
        value = yield from exchange.drive(exchange_, chip)
        while pending:
            yield pending.pop(0)
        return value

    def read(name: str, sm: SecureMessaging) -> Generator[Request, Any, bytes | None]:
        """A whole file with per-block progress, or None when the chip does not have it."""
        def progress(done: int, total: int) -> None:
            pending.append(Progress(f"read {name}", done, total))

        try:
            data: bytes | None = yield from run(
                reader.read_optional(reader.file_by_name(name), sm, max_block=blocks, progress=progress)
            )
        except SecureMessagingError:  # the channel broke (wrong MAC, lost SSC): the session's
            raise _Abort(CloseReason.EMRTD_PASSPORT_READER_ERROR) from None
        except EmrtdError:  # the chip refused the file (a status word we cannot read past)
            raise _Abort(CloseReason.FILE_READ_ERROR) from None
        if options.enable_diagnostics:
            size = "absent" if data is None else f"{len(data)} bytes"
            yield ToServer(wire.Monitoring(f"Step: read {name}: {size}"))
        return data

    def receive(waiting_for: str, timeout: float | None = None) -> Generator[Request, Any, Any]:
        message = yield FromServer(waiting_for, options.server_timeout if timeout is None else timeout)
        if isinstance(message, (Closed, wire.Close)):
            raise _ServerClosed(message.code, message.reason)
        return message

    link = yield from link_block(options)
    blocks, extended = link.blocks, link.extended

    notes: list[str] = []

    def outcome(reason: CloseReason | str, passport: dict[str, Any] | None = None) -> Outcome:
        return Outcome(
            reason, passport, counters["apdus"], counters["bytes"], blocks.size,
            extended and not blocks.fell_back, link.source + (", fell back" if blocks.fell_back else ""),
            tuple(notes),
        )

    passport: dict[str, Any] | None = None
    try:
        yield ToServer(
            wire.Start(
                options.validation_id,
                options.client_id,
                "desktop",
                extended,
                options.enable_diagnostics,
            )
        )
        accept = yield from receive("ACCEPT")
        if not isinstance(accept, wire.Accept):
            raise _Abort(CloseReason.PROTOCOL_ERROR)
        opened = yield from _access_control(options, run, blocks)
        sm = opened.sm
        note = cam_note(opened.cam)
        if note:
            notes.append(note)
        files: dict[str, bytes] = {}
        for name in ("sod", "dg14"):
            data = yield from read(name, sm)
            if data is not None:
                files[name] = data
        server_files: dict[str, bytes] = {}
        handed_over = "dg14" in files
        if handed_over:
            yield ToServer(wire.FileMessage("dg14", files["dg14"]))
            long_reads = extended and not blocks.fell_back
            transceive = 65536 if long_reads else 256
            info = wire.SecureMessagingInfo.from_secure_messaging(sm)
            yield ToServer(wire.CaHandover(transceive, blocks.size, info))
            yield Progress("chip authentication")
            if options.enable_diagnostics:
                yield ToServer(wire.Monitoring("Step: chip authentication handed over"))
            while True:
                message = yield from receive("the server's chip authentication (APDU or CA_HANDBACK)")
                if isinstance(message, wire.ApduMessage):
                    raw = yield ToChip(message.data)  # relayed blind: the server holds the keys
                    counters["apdus"] += 1
                    yield ToServer(wire.ApduMessage(raw))
                elif isinstance(message, wire.FileMessage):
                    server_files[message.name] = message.data
                elif isinstance(message, wire.CaHandback):
                    break
                else:
                    raise _Abort(CloseReason.PROTOCOL_ERROR)
            if message.check_result in ("SUCCESS", "UNAVAILABLE"):
                # SUCCESS: the new keys; UNAVAILABLE: nothing reached the chip, our own channel
                sm = message.secure_messaging_info.to_secure_messaging()
            else:  # the chip dropped its channel: start again from access control
                sm = (yield from _access_control(options, run, blocks)).sm
        signature = None
        for name in AFTER_HANDOVER:
            if name in server_files or (name in OPTIONAL_FILES and name not in options.optional_files):
                continue
            data = yield from read(name, sm)
            if data is None:
                continue
            files[name] = data
            if name == "dg15":
                try:
                    challenge = accept.active_authentication_challenge
                    signature = yield from run(activeauth.authenticate_with_dg15(data, challenge, sm))
                except (StatusWordError, LDSError):
                    # the chip refused AA, or its DG15 key is unusable: the server decides what
                    # a DG15 without signature means (AA FAILED)
                    signature = None
        for name, data in files.items():
            if name != "dg14" or not handed_over:  # dg14 went with the handover already
                yield ToServer(wire.FileMessage(name, data))
        yield ToServer(wire.Finish(options.send_result, signature))
        while True:
            message = yield from receive("RESULT and the close", options.result_timeout)
            if isinstance(message, wire.Result):
                passport = message.passport
    except _ServerClosed as closed:
        reason = closed.reason or CloseReason.NORMAL.value
        return outcome(reason, passport)
    except _Abort as abort:
        yield ToServer(wire.Close.for_reason(abort.reason))
        return outcome(abort.reason)


class _ServerClosed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def cam_note(cam: access.CamCheck | None) -> str | None:
    """What the client says of PACE-CAM when it used it: information only (it cannot check
    EF.CardSecurity's signature without a trust store); the server's Chip Authentication
    stays the authority, and the server's RESULT is passed on unchanged."""
    if cam is None:
        return None
    if cam.verified:
        return "PACE-CAM: the chip's authentication data match EF.CardSecurity's key (information)"
    return f"PACE-CAM: the chip's authentication data did not verify: {cam.reason} (information)"


def _access_control(
    options: Options, run: Any, blocks: reader.BlockSize
) -> Generator[Request, Any, access.Opened]:
    """PACE when EF.CardAccess offers it, else BAC (MRZ only); then the LDS1 applet. A refused
    key closes the session, or (``retry_access_key``) asks for another one."""
    while True:
        try:
            opened: access.Opened = yield from run(
                access.open_document(options.access_key, options.random, max_block=blocks)
            )
            break
        except AccessKeyError:
            if not options.retry_access_key:
                raise _Abort(CloseReason.INVALID_ACCESS_KEY_VALUES) from None
        except ChipSessionError:  # access control worked; the chip failed afterwards
            raise _Abort(CloseReason.EMRTD_PASSPORT_READER_ERROR) from None
        except EmrtdError:
            raise _Abort(CloseReason.ACCESS_CONTROL_FAILED) from None
        key = yield NeedAccessKey()
        if key is None:
            raise _Abort(CloseReason.CANCELLED_BY_USER)
        options.access_key = key
    yield Progress(opened.protocol)
    if options.enable_diagnostics:  # step names and sizes only: never personal data
        yield ToServer(wire.Monitoring(f"Step: access control {opened.protocol} done"))
    return opened
