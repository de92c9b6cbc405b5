"""EF.COM (9303-10 §4.6.1): LDS version, Unicode version and the list of data group tags."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import tlv
from ..errors import LDSError
from ..reader import DG_TAGS
from .base import outer, parsing


@dataclass(frozen=True, slots=True)
class COM:
    lds_version: str
    unicode_version: str
    tags: tuple[int, ...]
    raw: bytes = field(repr=False)

    @property
    def data_groups(self) -> tuple[int, ...]:
        """Data group numbers listed, in file order (unknown tags are skipped)."""
        return tuple(DG_TAGS[t] for t in self.tags if t in DG_TAGS)


def parse(raw: bytes) -> COM:
    top = outer("com", raw, 0x60)
    with parsing("com"):
        children = top.children(der=False)
        lds = tlv.find(children, 0x5F01)
        uni = tlv.find(children, 0x5F36)
        tags = tlv.find(children, 0x5C)
        if lds is None or uni is None or tags is None:
            raise LDSError("EF.COM lacks 5F01, 5F36 or 5C")
        return COM(lds.value.decode("ascii"), uni.value.decode("ascii"), tuple(tags.value), raw)
