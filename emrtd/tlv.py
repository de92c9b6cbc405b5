"""BER-TLV as used by ISO/IEC 7816-4 and ICAO 9303-10: tags, lengths, values.

Tags are handled as integers holding their encoded bytes (``0x5F1F``, ``0x7F61``), which is
how 9303 names them. Decoding is strict: a truncated value, bytes left over after the last
object, an indefinite length, or a length field longer than four bytes raise
:class:`~emrtd.errors.TLVError`. With ``der=True`` (the default) a length that is not in its
shortest form is refused too; some chips write ``82 00 5D``, so LDS parsers pass
``der=False``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import TLVError

MAX_TAG_BYTES = 3  # ISO/IEC 7816-4 §5.2.2.1: tag fields of one, two or three bytes
MAX_LENGTH_BYTES = 4


@dataclass(frozen=True, slots=True)
class TLV:
    """One decoded data object: ``tag`` as an int of its bytes, ``value`` as raw bytes."""

    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        """True when bit 6 of the tag's first byte is set (the value is more TLVs)."""
        return bool(first_tag_byte(self.tag) & 0x20)

    def children(self, *, der: bool = True) -> list[TLV]:
        """Decode the value as a sequence of data objects."""
        if not self.constructed:
            raise TLVError(f"tag {self.tag:X} is primitive; it has no children")
        return decode_all(self.value, der=der)

    def encode(self) -> bytes:
        """The object's encoding: tag, minimal length, value."""
        return encode(self.tag, self.value)


def first_tag_byte(tag: int) -> int:
    """The first byte of an encoded tag given as an int."""
    if tag < 0:
        raise TLVError("negative tag")
    while tag > 0xFF:
        tag >>= 8
    return tag


@functools.lru_cache(maxsize=256)
def encode_tag(tag: int) -> bytes:
    """Encode a tag given as the int of its bytes, checking it is a well-formed BER tag (the
    few hundred tags in use are remembered)."""
    if tag < 0 or tag > 0xFFFFFF:
        raise TLVError(f"tag {tag:X} out of range")
    raw = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    decoded, end = decode_tag(raw, 0)
    if end != len(raw) or decoded != tag:
        raise TLVError(f"{tag:X} is not a well-formed BER tag")
    return raw


def encode_length(length: int) -> bytes:
    """Minimal BER length: short form below 128, else 0x81..0x84 and the big-endian length."""
    if length < 0:
        raise TLVError("negative length")
    if length < 0x80:
        return bytes([length])
    size = (length.bit_length() + 7) // 8
    if size > MAX_LENGTH_BYTES:
        raise TLVError(f"length {length} does not fit in {MAX_LENGTH_BYTES} bytes")
    return bytes([0x80 | size]) + length.to_bytes(size, "big")


def encode(tag: int, value: bytes) -> bytes:
    """Encode one data object."""
    return encode_tag(tag) + encode_length(len(value)) + bytes(value)


def decode_tag(data: bytes, offset: int) -> tuple[int, int]:
    """Read a tag at ``offset``; return ``(tag, offset after it)``."""
    if offset >= len(data):
        raise TLVError("truncated: missing tag", step="tag")
    first = data[offset]
    if first in (0x00, 0xFF):
        raise TLVError(f"invalid tag byte {first:02X} at offset {offset}", step="tag")
    tag = first
    offset += 1
    if first & 0x1F != 0x1F:
        return tag, offset
    count = 1
    while True:
        if offset >= len(data):
            raise TLVError("truncated: tag continues past end", step="tag")
        byte = data[offset]
        if count == 1 and byte == 0x80:
            raise TLVError("tag number has a leading zero group", step="tag")
        tag = (tag << 8) | byte
        offset += 1
        count += 1
        if count > MAX_TAG_BYTES:
            raise TLVError(f"tag longer than {MAX_TAG_BYTES} bytes", step="tag")
        if not byte & 0x80:
            return tag, offset


def decode_length(data: bytes, offset: int, *, der: bool = True) -> tuple[int, int]:
    """Read a definite length at ``offset``; return ``(length, offset after it)``."""
    if offset >= len(data):
        raise TLVError("truncated: missing length", step="length")
    first = data[offset]
    offset += 1
    if first < 0x80:
        return first, offset
    size = first & 0x7F
    if size == 0:
        raise TLVError("indefinite length is not allowed", step="length")
    if size > MAX_LENGTH_BYTES:
        raise TLVError(f"length field of {size} bytes is too long", step="length")
    if offset + size > len(data):
        raise TLVError("truncated: length field continues past end", step="length")
    length = int.from_bytes(data[offset : offset + size], "big")
    if der and (length < 0x80 or data[offset] == 0):
        raise TLVError("length is not in its shortest form", step="length")
    return length, offset + size


def decode_header(data: bytes, offset: int = 0, *, der: bool = True) -> tuple[int, int, int]:
    """Read a tag and length; return ``(tag, length, offset of the value)``.

    Does not require the value to be present: readers use it on the first bytes of a file
    to learn how long the file is.
    """
    tag, offset = decode_tag(data, offset)
    length, offset = decode_length(data, offset, der=der)
    return tag, length, offset


def decode_one(data: bytes, offset: int = 0, *, der: bool = True) -> tuple[TLV, int]:
    """Decode the object at ``offset``; return it and the offset just after it."""
    if offset + 2 <= len(data):
        # the usual object in one step: a one-byte tag and a short-form length
        first, length = data[offset], data[offset + 1]
        end = offset + 2 + length
        if length < 0x80 and first & 0x1F != 0x1F and first != 0x00 and first != 0xFF and end <= len(data):
            return TLV(first, bytes(data[offset + 2 : end])), end
    tag, length, start = decode_header(data, offset, der=der)
    end = start + length
    if end > len(data):
        raise TLVError(
            f"truncated: tag {tag:X} declares {length} bytes, {len(data) - start} present",
            step="value",
        )
    return TLV(tag, bytes(data[start:end])), end


def iter_decode(data: bytes, *, der: bool = True) -> Iterator[TLV]:
    """Decode consecutive objects filling ``data`` exactly."""
    offset = 0
    while offset < len(data):
        obj, offset = decode_one(data, offset, der=der)
        yield obj


def decode_all(data: bytes, *, der: bool = True) -> list[TLV]:
    """Decode consecutive objects filling ``data`` exactly (none left over)."""
    return list(iter_decode(data, der=der))


def decode_single(data: bytes, *, der: bool = True, tag: int | None = None) -> TLV:
    """Decode exactly one object spanning all of ``data``, optionally of a given tag."""
    obj, end = decode_one(data, 0, der=der)
    if end != len(data):
        raise TLVError(f"{len(data) - end} trailing bytes after tag {obj.tag:X}", step="value")
    if tag is not None and obj.tag != tag:
        raise TLVError(f"expected tag {tag:X}, found {obj.tag:X}", step="tag")
    return obj


def find(objects: list[TLV], tag: int) -> TLV | None:
    """The first object with ``tag``, or None."""
    for obj in objects:
        if obj.tag == tag:
            return obj
    return None
