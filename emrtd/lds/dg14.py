"""DG14 (tag 6E) and EF.CardAccess: SecurityInfos for CA, PACE, AA and TA."""

from __future__ import annotations

from dataclasses import dataclass, field

from .base import check_size, outer, parsing
from .securityinfos import SecurityInfos, parse_security_infos


@dataclass(frozen=True, slots=True)
class DG14:
    security_infos: SecurityInfos
    raw: bytes = field(repr=False)


def parse(raw: bytes) -> DG14:
    top = outer("dg14", raw, 0x6E)
    with parsing("dg14"):
        return DG14(parse_security_infos(top.value), raw)


def parse_card_access(raw: bytes) -> SecurityInfos:
    """EF.CardAccess holds a bare SecurityInfos (a DER SET)."""
    check_size("cardaccess", raw)
    with parsing("cardaccess"):
        return parse_security_infos(raw)
