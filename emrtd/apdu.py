"""Command and response APDUs (ISO/IEC 7816-3 §12.1, ISO/IEC 7816-4 §5.1).

``ne`` is the number of response bytes expected: ``None`` for no Le field, 1..256 for a short
Le (256 is encoded ``00``) and up to 65536 for an extended Le (65536 is encoded ``0000``).
The four cases, short and extended::

    case 1   CLA INS P1 P2
    case 2S  CLA INS P1 P2 Le                      case 2E  ... 00 Le1 Le2
    case 3S  CLA INS P1 P2 Lc Data                 case 3E  ... 00 Lc1 Lc2 Data
    case 4S  CLA INS P1 P2 Lc Data Le              case 4E  ... 00 Lc1 Lc2 Data Le1 Le2
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import AccessKeyError, APDUError, StatusWordError

SHORT_MAX_NC = 255
SHORT_MAX_NE = 256
EXTENDED_MAX_NC = 65535
EXTENDED_MAX_NE = 65536

SW_OK = 0x9000

# ISO/IEC 7816-4 §5.1.3 and 9303-11; the meanings a reader shows a person.
STATUS_WORDS: dict[int, str] = {
    0x9000: "success",
    0x6282: "end of file reached before reading Ne bytes",
    0x6300: "authentication failed",
    0x6581: "memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6987: "expected secure messaging data objects missing",
    0x6988: "incorrect secure messaging data objects",
    0x6A80: "incorrect parameters in the command data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect parameters P1-P2",
    0x6A87: "Nc inconsistent with parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters (offset outside the EF)",
    0x6D00: "instruction code not supported or invalid",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def status_meaning(sw: int) -> str | None:
    """What a status word means, including the families 61xx, 63Cx and 6Cxx."""
    if sw in STATUS_WORDS:
        return STATUS_WORDS[sw]
    sw1, sw2 = sw >> 8, sw & 0xFF
    if sw1 == 0x61:
        return f"{sw2 or 256} response bytes still available"
    if sw1 == 0x6C:
        return f"wrong Le: {sw2 or 256} bytes available"
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    return None


def _byte(name: str, value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise APDUError(f"{name} must be one byte, got {value}")


@dataclass(frozen=True, slots=True)
class CommandAPDU:
    """A command APDU. ``extended`` forces extended length even where short would do."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            _byte(name, getattr(self, name))
        if len(self.data) > EXTENDED_MAX_NC:
            raise APDUError(f"command data of {len(self.data)} bytes exceeds {EXTENDED_MAX_NC}")
        if self.ne is not None and not 1 <= self.ne <= EXTENDED_MAX_NE:
            raise APDUError(f"Ne must be 1..{EXTENDED_MAX_NE}, got {self.ne}")

    @property
    def needs_extended(self) -> bool:
        """True when the data or Ne do not fit a short APDU (or extended was asked for)."""
        return (
            self.extended
            or len(self.data) > SHORT_MAX_NC
            or (self.ne is not None and self.ne > SHORT_MAX_NE)
        )

    @property
    def header(self) -> bytes:
        """CLA INS P1 P2."""
        return bytes([self.cla, self.ins, self.p1, self.p2])

    def to_bytes(self) -> bytes:
        """Encode, choosing short or extended length."""
        out = bytearray(self.header)
        nc = len(self.data)
        if self.needs_extended:
            if nc:
                out += b"\x00" + nc.to_bytes(2, "big") + self.data
            if self.ne is not None:
                le = (self.ne % EXTENDED_MAX_NE).to_bytes(2, "big")
                out += le if nc else b"\x00" + le
        else:
            if nc:
                out += bytes([nc]) + self.data
            if self.ne is not None:
                out.append(self.ne % SHORT_MAX_NE)
        return bytes(out)

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandAPDU:
        """Decode any of the seven cases; anything else raises :class:`APDUError`."""
        if len(raw) < 4:
            raise APDUError(f"command APDU of {len(raw)} bytes is shorter than its header")
        cla, ins, p1, p2 = raw[0], raw[1], raw[2], raw[3]
        body = raw[4:]
        n = len(body)
        if n == 0:
            return cls(cla, ins, p1, p2)
        if n == 1:
            return cls(cla, ins, p1, p2, ne=body[0] or SHORT_MAX_NE)
        b0 = body[0]
        if b0 != 0:
            if n == 1 + b0:
                return cls(cla, ins, p1, p2, bytes(body[1:]))
            if n == 2 + b0:
                return cls(cla, ins, p1, p2, bytes(body[1:-1]), ne=body[-1] or SHORT_MAX_NE)
            raise APDUError(f"short Lc={b0} inconsistent with a body of {n} bytes")
        if n == 3:
            le = int.from_bytes(body[1:3], "big")
            return cls(cla, ins, p1, p2, ne=le or EXTENDED_MAX_NE, extended=True)
        if n < 3:
            raise APDUError("truncated extended length field")
        lc = int.from_bytes(body[1:3], "big")
        if lc == 0:
            raise APDUError("extended Lc of zero")
        if n == 3 + lc:
            return cls(cla, ins, p1, p2, bytes(body[3:]), extended=True)
        if n == 5 + lc:
            le = int.from_bytes(body[-2:], "big")
            return cls(
                cla, ins, p1, p2, bytes(body[3:-2]), ne=le or EXTENDED_MAX_NE, extended=True
            )
        raise APDUError(f"extended Lc={lc} inconsistent with a body of {n} bytes")

    def __repr__(self) -> str:
        return f"CommandAPDU({self.to_bytes().hex().upper()})"


@dataclass(frozen=True, slots=True)
class ResponseAPDU:
    """A response APDU: response data and the status word SW1SW2."""

    data: bytes
    sw: int

    def __post_init__(self) -> None:
        if not 0 <= self.sw <= 0xFFFF:
            raise APDUError(f"status word {self.sw} out of range")

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def to_bytes(self) -> bytes:
        return bytes(self.data) + self.sw.to_bytes(2, "big")

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseAPDU:
        if len(raw) < 2:
            raise APDUError(f"response APDU of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def check(self, step: str, *allowed: int) -> ResponseAPDU:
        """Return self when the status word is 9000 (or one of ``allowed``), else raise."""
        if self.sw == SW_OK or self.sw in allowed:
            return self
        raise StatusWordError(self.sw, step=step, meaning=status_meaning(self.sw))

    def check_access(self, step: str) -> ResponseAPDU:
        """Like :meth:`check`, but a refused authentication (6300, 63Cx, 6982: the answer to a
        wrong BAC/PACE password) raises :class:`AccessKeyError`."""
        if self.sw in (0x6300, 0x6982) or self.sw & 0xFFF0 == 0x63C0:
            raise AccessKeyError("the chip refused the access key", step=step)
        return self.check(step)

    def __repr__(self) -> str:
        return f"ResponseAPDU({self.data.hex().upper()} {self.sw:04X})"
