"""The vpcd wire protocol (vsmartcard), sans-I/O.

``vpcd`` — the virtual reader driver of ``pcscd`` (Debian ``vsmartcard-vpcd``) — listens on
TCP port 35963; a virtual card connects to it. Each message either way is a two-byte
big-endian length and a payload. From the reader, a one-byte payload is a control code
(00 power off, 01 power on, 02 reset, 04 get ATR); anything longer is a command APDU. The card
answers the ATR request with the ATR and every APDU with its response; power events get no
answer.
"""

from __future__ import annotations

from .chip import VirtualChip

DEFAULT_PORT = 35963
POWER_OFF, POWER_ON, RESET, GET_ATR = 0x00, 0x01, 0x02, 0x04
MAX_MESSAGE = 0xFFFF


class VpcdSession:
    """Feed bytes from vpcd with :meth:`receive`; it returns the bytes to send back."""

    def __init__(self, chip: VirtualChip) -> None:
        self.chip = chip
        self._buffer = bytearray()

    def receive(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while len(self._buffer) >= 2:
            length = int.from_bytes(self._buffer[:2], "big")
            if len(self._buffer) < 2 + length:
                break
            payload = bytes(self._buffer[2 : 2 + length])
            del self._buffer[: 2 + length]
            reply = self._handle(payload)
            if reply is not None:
                out += len(reply).to_bytes(2, "big") + reply
        return bytes(out)

    def _handle(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code in (POWER_ON, RESET):
                self.chip.power_on()
            elif code == GET_ATR:
                return self.chip.config.atr
            return None
        return self.chip.transmit_raw(payload)
