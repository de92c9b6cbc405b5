"""Parse-only data structures of the LDS (ICAO 9303-10). Every parser keeps the raw bytes
it was given (``.raw``), checks a size cap before parsing, and raises only
:class:`~emrtd.errors.LDSError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cardsecurity, com, dg1, dg2, dg7, dg14, dg15, sod, textgroups
from .base import MAX_SIZES, check_size

PARSERS: dict[str, Callable[[bytes], Any]] = {
    "com": com.parse,
    "sod": sod.parse,
    "dg1": dg1.parse,
    "dg2": dg2.parse,
    "dg7": dg7.parse,
    "dg11": textgroups.parse_dg11,
    "dg12": textgroups.parse_dg12,
    "dg14": dg14.parse,
    "dg15": dg15.parse,
    "cardaccess": dg14.parse_card_access,
    "cardsecurity": cardsecurity.parse,
}


def parse_file(name: str, raw: bytes) -> Any:
    """Parse an LDS file by its DocVal name (``sod``, ``dg1`` ...); files without a parser
    (DG3/DG4 and the rest) are only size-checked and returned as bytes."""
    parser = PARSERS.get(name)
    if parser is None:
        check_size(name, raw)
        return raw
    return parser(raw)


__all__ = ["MAX_SIZES", "PARSERS", "parse_file"]
