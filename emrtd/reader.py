"""Sans-I/O reading of files from the chip (ISO/IEC 7816-4 §11.2, ICAO 9303-10 §3).

:func:`read_file` selects a file by short file identifier in its first READ BINARY (or by
SELECT when SFIs are off), learns the file's length from its TLV header, then reads the rest
in chunks of at most ``max_block`` bytes. A chip that refuses READ BINARY by SFI (``6A82``,
``6A86``, ``6A81``, ``6D00``, as some do) gets SELECT EF by file identifier and READ BINARY by
offset instead; a shared :class:`BlockSize` remembers which works, so a chip that supports
SFIs never pays an extra APDU. Offsets above 32767 use the odd-INS READ BINARY
(``B1``, offset in DO'54', data in DO'53'). End-of-file answers are handled: ``6282`` (fewer
bytes than asked), ``6Cxx`` (ask again for xx bytes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import tlv
from .apdu import CommandAPDU, ResponseAPDU
from .errors import LDSError, StatusWordError, TLVError
from .exchange import Exchange, transmit
from .sizes import DEFAULT_MAX_SIZE, MAX_SIZES
from .sm import SecureMessaging

LDS1_AID = bytes.fromhex("A0000002471001")

MAX_SHORT_OFFSET = 0x7FFF
DEFAULT_MAX_BLOCK = 223  # JMRTD's default: fits a short protected response for 3DES and AES


@dataclass
class BlockSize:
    """The READ BINARY block size shared by a session's reads.

    ``size`` starts at what the reader and chip announced. The first time the chip refuses a
    longer read with ``6700`` (wrong length), the read is repeated with
    :data:`DEFAULT_MAX_BLOCK` bytes, and that size stays for every later read
    (``fell_back`` records it), so one refusal costs one APDU per session, not per file."""

    size: int = DEFAULT_MAX_BLOCK
    fell_back: bool = False
    #: Whether READ BINARY by short file identifier works on this chip: None until a read
    #: tells. Once True, a 6A82 to an SFI read means "no such file"; once False, every file
    #: is selected by its identifier first.
    sfi: bool | None = None


@dataclass(frozen=True, slots=True)
class EF:
    """An elementary file: its name on the wire, file identifier and short file identifier."""

    name: str
    fid: int
    sfi: int | None

    def __str__(self) -> str:
        return self.name


EF_CARD_ACCESS = EF("cardaccess", 0x011C, 0x1C)
EF_CARD_SECURITY = EF("cardsecurity", 0x011D, 0x1D)
EF_ATR_INFO = EF("atrinfo", 0x2F01, 0x01)
EF_COM = EF("com", 0x011E, 0x1E)
EF_SOD = EF("sod", 0x011D, 0x1D)
DATA_GROUPS = {n: EF(f"dg{n}", 0x0100 + n, n) for n in range(1, 17)}

#: EF.COM and DG tags (9303-10 §4.6.1) to data group numbers.
DG_TAGS = {
    0x61: 1,
    0x75: 2,
    0x63: 3,
    0x76: 4,
    0x65: 5,
    0x66: 6,
    0x67: 7,
    0x68: 8,
    0x69: 9,
    0x6A: 10,
    0x6B: 11,
    0x6C: 12,
    0x6D: 13,
    0x6E: 14,
    0x6F: 15,
    0x70: 16,
}


def file_by_name(name: str) -> EF:
    """The LDS file named as in DocVal FILE messages: ``sod``, ``com``, ``dg1`` ... ``dg16``."""
    if name == "sod":
        return EF_SOD
    if name == "com":
        return EF_COM
    if name.startswith("dg") and name[2:].isdigit() and int(name[2:]) in DATA_GROUPS:
        return DATA_GROUPS[int(name[2:])]
    raise LDSError(f"no LDS file named {name!r}")


def select_applet(aid: bytes = LDS1_AID, sm: SecureMessaging | None = None) -> Exchange[None]:
    """SELECT the eMRTD application by AID, no response data (P2 = 0C)."""
    response = yield from transmit(CommandAPDU(0x00, 0xA4, 0x04, 0x0C, aid), sm)
    response.check("SELECT application")


def select_master_file(sm: SecureMessaging | None = None) -> Exchange[None]:
    """SELECT the MF (P1 = 00, FID 3F00)."""
    response = yield from transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00"), sm)
    response.check("SELECT MF")


def select_ef(ef: EF, sm: SecureMessaging | None = None) -> Exchange[None]:
    """SELECT an EF under the current DF by file identifier."""
    response = yield from transmit(select_ef_command(ef), sm)
    response.check(f"SELECT {ef}")


def select_ef_command(ef: EF) -> CommandAPDU:
    """The plain SELECT EF by file identifier of :func:`select_ef`."""
    return CommandAPDU(0x00, 0xA4, 0x02, 0x0C, ef.fid.to_bytes(2, "big"))


def read_command(offset: int, length: int, sfi: int | None = None) -> CommandAPDU:
    """The plain READ BINARY of :func:`read_binary` (by SFI when ``sfi`` is given)."""
    return _read_command(offset, length, sfi)


def _read_command(offset: int, length: int, sfi: int | None) -> CommandAPDU:
    if sfi is not None:
        return CommandAPDU(0x00, 0xB0, 0x80 | sfi, offset, ne=length)
    if offset <= MAX_SHORT_OFFSET:
        return CommandAPDU(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=length)
    offset_do = tlv.encode(0x54, offset.to_bytes((offset.bit_length() + 7) // 8, "big"))
    return CommandAPDU(0x00, 0xB1, 0x00, 0x00, offset_do, ne=length)


def _odd_overhead(length: int) -> int:
    return len(tlv.encode_length(length)) + 1


def _transmit_read(command: CommandAPDU, sm: SecureMessaging | None) -> Exchange[ResponseAPDU]:
    """:func:`~emrtd.exchange.transmit`, except that a bare ``6700`` to an extended-length
    command under secure messaging rewinds the send sequence counter: a chip that cannot
    take extended APDUs refuses them in its APDU parser, before it checks (and counts) the
    MAC, so counting the command on our side would break every later command."""
    if sm is None or not command.needs_extended:
        return (yield from transmit(command, sm))
    response = yield sm.wrap(command)
    if response.sw == 0x6700 and not response.data:
        sm.rewind()
        return response
    return sm.unwrap(response)


def read_binary(
    offset: int, length: int, sm: SecureMessaging | None, *, sfi: int | None = None, step: str
) -> Exchange[bytes]:
    """One READ BINARY of up to ``length`` bytes at ``offset``; may return fewer at EOF."""
    odd = sfi is None and offset > MAX_SHORT_OFFSET
    ne = length + _odd_overhead(length) if odd else length
    response = yield from _transmit_read(_read_command(offset, ne, sfi), sm)
    if response.sw1 == 0x6C and response.sw2:
        ne = response.sw2
        response = yield from _transmit_read(_read_command(offset, ne, sfi), sm)
    response.check(step, 0x6282)
    data = response.data
    if odd:
        try:
            data = tlv.decode_single(data, tag=0x53, der=False).value
        except TLVError as exc:
            raise LDSError(f"odd READ BINARY answer is not DO'53': {exc}", step=step) from None
    return data


def _read_block(
    offset: int, want: int, sm: SecureMessaging | None, sfi: int | None, step: str, blocks: BlockSize
) -> Exchange[bytes]:
    """One block; a refused long read (6700) drops ``blocks`` to the short size and repeats."""
    try:
        data: bytes = yield from read_binary(offset, want, sm, sfi=sfi, step=step)
        return data
    except StatusWordError as exc:
        if exc.sw != 0x6700 or want <= DEFAULT_MAX_BLOCK:
            raise
    blocks.size, blocks.fell_back = DEFAULT_MAX_BLOCK, True
    data = yield from read_binary(offset, DEFAULT_MAX_BLOCK, sm, sfi=sfi, step=step)
    return data


SFI_REFUSALS = frozenset({0x6A82, 0x6A86, 0x6A81, 0x6D00, 0x6E00})
"""Answers with which chips that lack SFI support refuse READ BINARY by short file identifier."""


def _first_block(
    sm: SecureMessaging | None, sfi: int | None, step: str, blocks: BlockSize
) -> Exchange[bytes]:
    """The first block of a file (at offset 0), retried with the TLV header's 8 bytes alone
    when the chip refuses an Le beyond the file's end (6700). An empty file (``6B00``, offset
    beyond the end, at offset 0) is ``b""``."""
    try:
        data: bytes = yield from _read_block(0, blocks.size, sm, sfi, step, blocks)
    except StatusWordError as exc:
        if exc.sw == 0x6B00:
            return b""
        if exc.sw != 0x6700:
            raise
        data = yield from read_binary(0, 8, sm, sfi=sfi, step=step)
    return data


def read_file(
    ef: EF,
    sm: SecureMessaging | None = None,
    *,
    max_block: int | BlockSize = DEFAULT_MAX_BLOCK,
    use_sfi: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Exchange[bytes]:
    """Read a whole TLV-structured EF and return its raw bytes (exactly the outer TLV).

    A damaged file is returned as the chip holds it, for its parser to report as a finding
    rather than ending the session: an empty file is ``b""``, a file that does not start with
    a TLV header is its first block, a file shorter than its header says is what there is.
    Only the chip's refusals (status words) and secure-messaging failures raise.

    ``max_block`` is a fixed block size, or a :class:`BlockSize` shared between reads that
    falls back to short blocks when the chip refuses a long one. ``progress`` is called with
    (bytes so far, file length) after every block."""
    blocks = max_block if isinstance(max_block, BlockSize) else BlockSize(max_block)
    if blocks.size < 8:
        raise ValueError("max_block must be at least 8")
    step = f"READ BINARY {ef}"
    sfi = ef.sfi if use_sfi and blocks.sfi is not False else None
    if sfi is None:
        yield from select_ef(ef, sm)
    try:
        data = yield from _first_block(sm, sfi, step, blocks)
    except StatusWordError as exc:
        if sfi is None or blocks.sfi is True or exc.sw not in SFI_REFUSALS:
            raise
        # The chip may not take SFIs: select the file by its identifier (a 6A82 now means
        # the file is absent) and remember what worked.
        yield from select_ef(ef, sm)
        sfi = None
        data = yield from _first_block(sm, None, step, blocks)
        blocks.sfi = False
    else:
        if sfi is not None:
            blocks.sfi = True
    result: bytes = yield from read_rest(ef, data, sm, max_block=blocks, progress=progress)
    return result


def read_rest(
    ef: EF,
    data: bytes,
    sm: SecureMessaging | None = None,
    *,
    max_block: int | BlockSize = DEFAULT_MAX_BLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> Exchange[bytes]:
    """The rest of a file whose first block ``data`` (read at offset 0) is in hand, with the
    file already the current EF; the damaged-file rules of :func:`read_file` apply."""
    blocks = max_block if isinstance(max_block, BlockSize) else BlockSize(max_block)
    step = f"READ BINARY {ef}"
    if not data:
        return b""
    try:
        _tag, length, header = tlv.decode_header(data, der=False)
    except TLVError:
        return data
    total = header + length
    limit = MAX_SIZES.get(ef.name, DEFAULT_MAX_SIZE)
    if total > limit:  # capped before reading on: the first block is all we take
        return data
    buffer = bytearray(data[:total])
    if progress:
        progress(len(buffer), total)
    while len(buffer) < total:
        offset = len(buffer)
        want = min(blocks.size, total - offset)
        if offset > MAX_SHORT_OFFSET:
            want = min(want, blocks.size - _odd_overhead(blocks.size))
        try:
            chunk = yield from _read_block(offset, want, sm, None, step, blocks)
        except StatusWordError as exc:
            if exc.sw != 0x6B00:
                raise
            chunk = b""  # offset beyond the end of the EF
        if not chunk:
            break  # the file ends before its header says: its parser will tell
        buffer += chunk[: total - offset]
        if progress:
            progress(len(buffer), total)
    return bytes(buffer)


def read_optional(
    ef: EF,
    sm: SecureMessaging | None = None,
    *,
    max_block: int | BlockSize = DEFAULT_MAX_BLOCK,
    progress: Callable[[int, int], None] | None = None,
) -> Exchange[bytes | None]:
    """:func:`read_file`, or None when the chip lacks the file (6A82) or refuses it (6982,
    e.g. DG3/DG4 behind EAC)."""
    try:
        data: bytes = yield from read_file(ef, sm, max_block=max_block, progress=progress)
    except StatusWordError as exc:
        if exc.sw in (0x6A82, 0x6982):
            return None
        raise
    return data
