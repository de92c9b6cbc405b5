"""The one importer of ``smartcard`` (pyscard): readers, connecting, transmitting.

Converts pyscard's ``(list[int], sw1, sw2)`` to :class:`~emrtd.apdu.ResponseAPDU` and its
exceptions to :class:`CardError` with a message a person can act on. Blocking; the Twisted
client runs it in a thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import EmrtdError


class CardError(EmrtdError):
    """A reader or card problem: no pcscd, no reader, no card, card removed."""


@dataclass(frozen=True)
class ReaderInfo:
    name: str
    has_card: bool


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
    """Every reader pcscd knows, with whether a card is present."""
    out = []
    for reader in _readers():
        connection = reader.createConnection()  # type: ignore[attr-defined]
        try:
            connection.connect()
            present = True
        except Exception:  # pyscard raises several unrelated types for "no card"
            present = False
        finally:
            try:
                connection.disconnect()
            except Exception:
                pass
        out.append(ReaderInfo(str(reader), present))
    return out


class PcscCard:
    """A connected card in a named reader (or the first reader with a card)."""

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

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        from smartcard.Exceptions import CardConnectionException

        try:
            data, sw1, sw2 = self._connection.transmit(list(command.to_bytes()))
        except CardConnectionException:
            raise CardError("card removed during reading") from None
        return ResponseAPDU(bytes(data), (sw1 << 8) | sw2)

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
