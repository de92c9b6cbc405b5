"""The one importer of ``smartcard`` (pyscard): readers, connecting, transmitting, watching.

Converts pyscard's ``(list[int], sw1, sw2)`` to :class:`~emrtd.apdu.ResponseAPDU` and its
exceptions to :class:`CardError` with a message a person can act on. Blocking; the Twisted
adapters run it in a thread. :func:`list_readers` reads every reader's state through
``SCardGetStatusChange`` without connecting (so it never disturbs a card being read);
:func:`watch` turns that into change events for a caller's thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import EmrtdError

from .readers import ReaderInfo


class CardError(EmrtdError):
    """A reader or card problem: no pcscd, no reader, no card, card removed."""


def _readers() -> list[object]:
    try:
        from smartcard.pcsc.PCSCExceptions import EstablishContextException, ListReadersException
        from smartcard.System import readers
    except ImportError as exc:
        raise CardError(f"pyscard is not installed: {exc}") from None
    try:
        return list(readers())
    except (EstablishContextException, ListReadersException):
        raise CardError("pcscd is not running (start it with: sudo pcscd)") from None


def list_readers() -> list[ReaderInfo]:
    """Every reader pcscd knows, with whether a card is present, read with
    ``SCardGetStatusChange`` (no connection is made). Raises CardError without pcscd."""
    try:
        from smartcard import scard
    except ImportError as exc:
        raise CardError(f"pyscard is not installed: {exc}") from None
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        raise CardError("pcscd is not running (start it with: sudo pcscd)")
    try:
        result, names = scard.SCardListReaders(context, [])
        if result == scard.SCARD_E_NO_READERS_AVAILABLE or (result == scard.SCARD_S_SUCCESS and not names):
            return []
        if result != scard.SCARD_S_SUCCESS:
            raise CardError(f"cannot list readers: {scard.SCardGetErrorMessage(result)}")
        result, states = scard.SCardGetStatusChange(
            context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names]
        )
        if result != scard.SCARD_S_SUCCESS:
            raise CardError(f"cannot read reader states: {scard.SCardGetErrorMessage(result)}")
        present = scard.SCARD_STATE_PRESENT
        return [ReaderInfo(str(name), bool(state & present)) for name, state, _atr in states]
    finally:
        scard.SCardReleaseContext(context)


def watch(
    changed: Callable[[list[ReaderInfo] | None], None], stop: threading.Event, period: float = 0.25
) -> None:
    """Block until ``stop`` is set, calling ``changed`` with the readers whenever a reader or
    card comes or goes (and once at the start); ``None`` while pcscd is unreachable. Runs in
    the caller's thread: an adapter starts it in a worker thread and hands the calls to its
    event loop (the SDK uses ``reactor.callFromThread``)."""
    last: list[ReaderInfo] | None | bool = False  # False: nothing reported yet
    while not stop.is_set():
        try:
            now: list[ReaderInfo] | None = list_readers()
        except CardError:
            now = None
        if now != last:
            changed(now)
            last = now
        stop.wait(period)


class PcscCard:
    """A connected card in a named reader (or the first reader with a card): a
    :class:`~emrtd.interfaces.Card`."""

    def __init__(self, reader: str | None = None, *, wait: float = 0.0) -> None:
        """Connect; with ``wait`` > 0, keep trying for that many seconds for a card."""
        deadline = time.monotonic() + wait
        while True:
            try:
                self._connect(reader)
                return
            except CardError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.2)

    def _connect(self, reader: str | None) -> None:
        from smartcard.Exceptions import CardConnectionException, NoCardException

        candidates = _readers()
        if not candidates:
            raise CardError("no smart card reader found")
        if reader is not None and reader.isdigit():
            index = int(reader)
            if index >= len(candidates):
                raise CardError(
                    f"no reader number {index}; there are {len(candidates)} (see: docval-client readers)"
                )
            candidates = [candidates[index]]
        elif reader is not None:
            candidates = [r for r in candidates if str(r).startswith(reader)]
            if not candidates:
                raise CardError(f"no reader named {reader!r}")
        last: Exception | None = None
        for candidate in candidates:
            connection = candidate.createConnection()  # type: ignore[attr-defined]
            try:
                connection.connect()
            except (NoCardException, CardConnectionException) as exc:
                last = exc
                continue
            self.reader = str(candidate)
            self._connection = connection
            return
        raise CardError("no card on the reader" + (f" ({last})" if last and reader else ""))

    @property
    def atr(self) -> bytes:
        return bytes(self._connection.getATR())

    @property
    def max_apdu(self) -> int | None:
        """The reader's largest APDU (SCARD_ATTR_MAXINPUT), or None when the driver does not
        say (vpcd, many contactless drivers): then the chip's own limits decide."""
        from smartcard.scard import SCARD_ATTR_MAXINPUT

        try:
            value = bytes(self._connection.getAttrib(SCARD_ATTR_MAXINPUT))
        except Exception:  # "feature not supported" and friends
            return None
        return int.from_bytes(value[:4], "little") if value else None

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU.from_bytes(self.transmit_raw(command.to_bytes()))

    def transmit_raw(self, command: bytes) -> bytes:
        """Raw bytes in, response data ‖ SW1SW2 out (for relayed APDUs)."""
        from smartcard.Exceptions import CardConnectionException

        try:
            data, sw1, sw2 = self._connection.transmit(list(command))
        except CardConnectionException:
            raise CardError("card removed during reading") from None
        return bytes(data) + bytes([sw1, sw2])

    def close(self) -> None:
        try:
            self._connection.disconnect()
        except Exception:
            pass
