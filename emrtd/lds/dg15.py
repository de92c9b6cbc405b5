"""DG15 (tag 6F): the Active Authentication public key, a SubjectPublicKeyInfo (RSA or EC,
EC possibly with explicit domain parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import pubkey
from .base import outer, parsing


@dataclass(frozen=True, slots=True)
class DG15:
    public_key: pubkey.PublicKey
    spki: bytes = field(repr=False)
    raw: bytes = field(repr=False)
    #: Oddities accepted while parsing (e.g. a modulus encoded as a negative INTEGER).
    notes: tuple[str, ...] = ()


def parse(raw: bytes) -> DG15:
    top = outer("dg15", raw, 0x6F)
    with parsing("dg15"):
        key, notes = pubkey.parse_spki_noting(top.value)
        return DG15(key, top.value, raw, notes)
