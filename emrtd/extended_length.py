"""Does the chip take extended-length APDUs, and how long may a READ BINARY block be?

Three sources, best first, all read in the clear before access control:

1. EF.ATR/INFO (FID 2F01 in the MF; ICAO 9303-10 §3.11.1) with the extended length
   information DO'7F66' (ISO/IEC 7816-4 §12.7.1): two INTEGERs, the largest command and the
   largest response the chip accepts;
2. the card capabilities in the ATR's historical bytes (ISO/IEC 7816-4 §12.1.1.9, compact-TLV
   tag 7, third software function byte, bit 7 = "extended Lc and Le fields");
3. a probe: SELECT MF sent with an extended-length Lc. A chip that parses extended APDUs
   answers ``9000``; one that does not answers ``6700`` (or another error).

The reader has its say too (:func:`block_size` takes its largest APDU when the PC/SC driver
reports one). Whatever this module decides, :class:`emrtd.reader.BlockSize` still falls back
to short blocks the first time the chip refuses a long read.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import reader, tlv
from .apdu import CommandAPDU
from .errors import EmrtdError, TLVError
from .exchange import Exchange, transmit
from .reader import BlockSize

SHORT_RESPONSE = 256
#: Bytes secure messaging adds around a READ BINARY answer: DO'87' header (4) and padding
#: indicator (1), up to one cipher block of padding (16), DO'99' (4), DO'8E' (10), SW (2).
SM_OVERHEAD = 4 + 1 + 16 + 4 + 10 + 2
#: The largest block we ask for: 32 KiB keeps offsets short and responses far below 64 KiB.
MAX_EXTENDED_BLOCK = 0x7F00


@dataclass(frozen=True)
class ChipLength:
    """What the chip said: extended or not, its largest response (None: not stated), and how
    we know (``"EF.ATR/INFO"``, ``"ATR"``, ``"probe"``)."""

    extended: bool
    max_response: int | None
    source: str


def parse_atr_info(data: bytes) -> tuple[int, int] | None:
    """(max command, max response) from EF.ATR/INFO's DO'7F66', or None when absent/garbled."""
    try:
        objects = tlv.decode_all(data, der=False)
    except TLVError:
        return None
    for obj in objects:
        if obj.tag == 0x7F66:
            try:
                values = [
                    int.from_bytes(item.value, "big")
                    for item in tlv.decode_all(obj.value, der=False)
                    if item.tag == 0x02
                ]
            except TLVError:
                return None
            if len(values) >= 2:
                return values[0], values[1]
    return None


def atr_extended(atr: bytes) -> bool | None:
    """The ATR's "extended Lc and Le" card capability, or None when the ATR does not say."""
    historical = _historical_bytes(atr)
    if not historical or historical[0] not in (0x00, 0x80):
        return None
    body = historical[1:-3] if historical[0] == 0x00 else historical[1:]
    index = 0
    while index < len(body):
        tag, length = body[index] >> 4, body[index] & 0x0F
        value = body[index + 1 : index + 1 + length]
        index += 1 + length
        if tag == 0x7 and len(value) >= 3:
            return bool(value[2] & 0x40)
    return None


def _historical_bytes(atr: bytes) -> bytes:
    """The historical bytes of an ATR (ISO/IEC 7816-3 §8.2), or b"" when it is malformed."""
    if len(atr) < 2:
        return b""
    count = atr[1] & 0x0F
    index, indicator = 2, atr[1]
    while True:
        index += bin(indicator & 0xF0).count("1")
        if not indicator & 0x80:  # no TDi: the interface bytes end here
            break
        if index - 1 >= len(atr):
            return b""
        indicator = atr[index - 1]
    if index + count > len(atr):
        return b""
    return atr[index : index + count]


def probe() -> Exchange[bool]:
    """SELECT MF with an extended-length Lc: True when the chip accepts it."""
    response = yield from transmit(CommandAPDU(0x00, 0xA4, 0x00, 0x0C, b"\x3f\x00", extended=True))
    return response.sw == 0x9000


def detect(atr: bytes | None = None) -> Exchange[ChipLength]:
    """Ask EF.ATR/INFO, then the ATR, then probe. Runs in the clear, before access control,
    and leaves the MF selected."""
    try:
        yield from reader.select_master_file()
        data = yield from reader.read_optional(reader.EF_ATR_INFO, None, max_block=reader.DEFAULT_MAX_BLOCK)
    except EmrtdError:
        data = None
    if data is not None:
        limits = parse_atr_info(data)
        if limits is not None:
            _max_command, max_response = limits
            return ChipLength(max_response > SHORT_RESPONSE + 2, max_response, "EF.ATR/INFO")
    if atr:
        said = atr_extended(atr)
        if said is not None:
            return ChipLength(said, None, "ATR")
    accepted = yield from probe()
    return ChipLength(accepted, None, "probe")


def block_size(chip: ChipLength, reader_max_apdu: int | None = None) -> int:
    """The READ BINARY block for this chip and reader: short (223) unless both take extended
    APDUs; then the largest that fits the chip's and the reader's limits under SM."""
    if not chip.extended:
        return reader.DEFAULT_MAX_BLOCK
    limit = MAX_EXTENDED_BLOCK
    if chip.max_response is not None:
        limit = min(limit, chip.max_response - SM_OVERHEAD)
    if reader_max_apdu is not None:
        limit = min(limit, reader_max_apdu - SM_OVERHEAD)
    if limit <= SHORT_RESPONSE:
        return reader.DEFAULT_MAX_BLOCK
    return limit


@dataclass(frozen=True)
class Link:
    """The outcome of :func:`negotiate`: the shared block size, whether extended-length APDUs
    are on, and how that was decided."""

    blocks: BlockSize
    extended: bool
    source: str


def negotiate(
    atr: bytes | None,
    reader_max_apdu: int | None,
    *,
    extended: bool | None = None,
    max_block: int | None = None,
) -> Exchange[Link]:
    """Decide the READ BINARY block for a session: ask the chip (:func:`detect`) unless
    ``extended`` is given, cap by the reader, and let an explicit ``max_block`` win."""
    if extended is None:
        chip = yield from detect(atr)
    else:
        chip = ChipLength(extended, None, "given")
    block = block_size(chip, reader_max_apdu) if max_block is None else max_block
    return Link(BlockSize(block), block > reader.DEFAULT_MAX_BLOCK, chip.source)
