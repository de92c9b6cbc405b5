"""The parts of a DER (or BER) value, read with asn1crypto's parser where building an
asn1crypto object per field would cost more than the check it serves: the hot path of Passive
Authentication (the CMS SignedData around the SOD, its signer's attributes, the data group
hashes). Malformed input raises ValueError, as asn1crypto does; callers name the step."""

from __future__ import annotations

import functools
from typing import NamedTuple

from asn1crypto import core, parser

Kind = tuple[int, int, int]  # class, constructed, tag

SEQUENCE: Kind = (0, 1, 16)
SET: Kind = (0, 1, 17)
INTEGER: Kind = (0, 0, 2)
BIT_STRING: Kind = (0, 0, 3)
OCTET_STRING: Kind = (0, 0, 4)
OCTET_STRING_CONSTRUCTED: Kind = (0, 1, 4)  # BER: the value in chunks
OBJECT_IDENTIFIER: Kind = (0, 0, 6)
CONTEXT_0: Kind = (2, 1, 0)  # [0], constructed
CONTEXT_1: Kind = (2, 1, 1)
CONTEXT_0_PRIMITIVE: Kind = (2, 0, 0)


class Part(NamedTuple):
    kind: Kind
    header: bytes
    contents: bytes
    trailer: bytes  # end-of-contents octets of a BER indefinite length, else empty

    @property
    def der(self) -> bytes:
        """The whole element as it was encoded."""
        return self.header + self.contents + self.trailer


#: (class, constructed, tag) of every first octet with a low tag number (tag < 31).
_KINDS = tuple((octet >> 6, (octet >> 5) & 1, octet & 0x1F) for octet in range(256))


def children(contents: bytes) -> list[Part]:
    """The elements ``contents`` (of a SEQUENCE or SET, or a whole file) holds, in order."""
    # parser._parse is the element reader asn1crypto's own core uses; unlike parser.parse it
    # reads from an offset, so a long SET is walked without copying its tail at each element.
    # The usual element (a low tag number and a short-form length, inside the data) is read
    # here in one step, as _parse would read it; anything else goes to _parse.
    parts = []
    end = len(contents)
    offset = 0
    while offset < end:
        first = contents[offset]
        if first & 0x1F != 0x1F and offset + 2 <= end and contents[offset + 1] < 0x80:
            start = offset + 2
            stop = start + contents[offset + 1]
            if stop <= end:
                parts.append(Part(_KINDS[first], contents[offset:start], contents[start:stop], b""))
                offset = stop
                continue
        (cls, method, tag, header, inner, trailer), offset = parser._parse(contents, end, offset)
        parts.append(Part((cls, method, tag), header, inner, trailer))
    return parts


def expect(parts: list[Part], *kinds: Kind, what: str) -> list[Part]:
    """``parts`` if they are exactly ``kinds``, in order; else a ValueError naming ``what``."""
    if len(parts) != len(kinds) or any(part.kind != kind for part, kind in zip(parts, kinds, strict=False)):
        raise ValueError(f"{what} is not what its ASN.1 definition says")
    return parts


def single(contents: bytes, kind: Kind, what: str) -> Part:
    """The one element of ``kind`` that fills ``contents`` exactly."""
    (part,) = expect(children(contents), kind, what=what)
    return part


def octets(part: Part, what: str) -> bytes:
    """An OCTET STRING's value, primitive or (BER) constructed from primitive chunks."""
    if part.kind == OCTET_STRING:
        return part.contents
    if part.kind == OCTET_STRING_CONSTRUCTED:
        chunks = children(part.contents)
        if any(chunk.kind != OCTET_STRING for chunk in chunks):
            raise ValueError(f"{what} is not an OCTET STRING")
        return b"".join(chunk.contents for chunk in chunks)
    raise ValueError(f"{what} is not an OCTET STRING")


@functools.lru_cache(maxsize=512)
def dotted(contents: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's contents, decoded by asn1crypto. Protocol and
    algorithm identifiers are the same in every passport: the last 512 are remembered."""
    return str(core.ObjectIdentifier(contents=contents).dotted)


def oid(part: Part, what: str) -> str:
    """The dotted form of an OBJECT IDENTIFIER part."""
    if part.kind != OBJECT_IDENTIFIER:
        raise ValueError(f"{what} is not an OBJECT IDENTIFIER")
    return dotted(part.contents)


def integer(part: Part, what: str) -> int:
    """An INTEGER part's value (two's complement, as encoded; empty contents read as 0, as
    asn1crypto reads them)."""
    if part.kind != INTEGER:
        raise ValueError(f"{what} is not an INTEGER")
    return int.from_bytes(part.contents, "big", signed=True)
