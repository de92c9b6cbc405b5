"""DG1: the MRZ as written on the chip (9303-10 §4.7.1), tag 61 → 5F1F."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import mrz as mrz_module
from .. import tlv
from ..errors import EmrtdError, LDSError
from .base import outer, parsing


@dataclass(frozen=True, slots=True)
class DG1:
    mrz: mrz_module.MRZ
    raw: bytes = field(repr=False)

    def __repr__(self) -> str:
        return "DG1(<redacted>)"


def parse(raw: bytes) -> DG1:
    top = outer("dg1", raw, 0x61)
    with parsing("dg1"):
        field = tlv.find(top.children(der=False), 0x5F1F)
        if field is None:
            raise LDSError("DG1 lacks the MRZ data element 5F1F")
        # Check digits are kept as findings, not errors: a chip's DG1 is what it is.
        return DG1(mrz_module.parse(field.value.decode("ascii"), strict=False), raw)


def issuing_state(raw: bytes) -> str | None:
    """The issuing state DG1's MRZ names (characters 3–5 of the first line in every format),
    without parsing the rest; None when DG1 holds no MRZ of a known shape."""
    try:
        top = outer("dg1", raw, 0x61)
        with parsing("dg1"):
            field = tlv.find(top.children(der=False), 0x5F1F)
            lines = mrz_module.split_lines(field.value.decode("ascii")) if field is not None else ()
    except EmrtdError:
        return None
    return lines[0][2:5] if lines and len(lines[0]) >= 5 else None
