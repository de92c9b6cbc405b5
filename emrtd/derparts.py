"""The parts of a DER value, read with asn1crypto's parser where building an asn1crypto object
per field would cost more than the check it serves (the hot path of Passive Authentication:
the SOD's data group hashes and the signer's signed attributes)."""

from __future__ import annotations

from typing import NamedTuple

from asn1crypto import parser

from .errors import LDSError

SEQUENCE, SET, INTEGER, OCTET_STRING, OBJECT_IDENTIFIER = (
    (0, 1, 16),
    (0, 1, 17),
    (0, 0, 2),
    (0, 0, 4),
    (0, 0, 6),
)


class Part(NamedTuple):
    kind: tuple[int, int, int]  # class, constructed, tag
    contents: bytes
    der: bytes  # the whole element


def children(contents: bytes) -> list[Part]:
    """The elements ``contents`` (of a SEQUENCE or SET) holds, in order. Raises ValueError
    for a truncated or malformed element."""
    parts = []
    while contents:
        cls, method, tag, header, inner, trailer = parser.parse(contents)  # the first element
        length = len(header) + len(inner) + len(trailer)
        parts.append(Part((cls, method, tag), inner, contents[:length]))
        contents = contents[length:]
    return parts


def expect(parts: list[Part], *kinds: tuple[int, int, int], what: str) -> list[Part]:
    """``parts`` if they are exactly ``kinds``, in order; else an LDSError naming ``what``."""
    if len(parts) != len(kinds) or any(p.kind != k for p, k in zip(parts, kinds, strict=True)):
        raise LDSError(f"{what} is not what its ASN.1 definition says")
    return parts
