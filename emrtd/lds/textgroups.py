"""DG11 (additional personal details) and DG12 (additional document details),
9303-10 §4.7.11 and §4.7.12: a tag list 5C, then optional data elements.

Values are decoded as UTF-8 (Latin-1 where a chip wrote that); image elements stay bytes;
a BCD date (4 bytes) becomes its digits. Field names follow the DocVal result schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import tlv
from .base import outer, parsing

_DG11_FIELDS = {
    0x5F0E: "fullNameOfHolder", 0x5F0F: "otherNames", 0x5F10: "personalNumber",
    0x5F2B: "fullDateOfBirth", 0x5F11: "placeOfBirth", 0x5F42: "permanentAddress",
    0x5F12: "telephone", 0x5F13: "profession", 0x5F14: "title", 0x5F15: "personalSummary",
    0x5F16: "proofOfCitizenshipImage", 0x5F17: "otherValidTravelDocumentNumbers",
    0x5F18: "custodyInformation",
}
_DG12_FIELDS = {
    0x5F19: "issuingAuthority", 0x5F26: "dateOfIssue", 0x5F1A: "namesOfOtherPersons",
    0x5F1B: "endorsementsAndObservations", 0x5F1C: "taxOrExitRequirements",
    0x5F1D: "imageOfFront", 0x5F1E: "imageOfRear", 0x5F55: "dateAndTimeOfPersonalization",
    0x5F56: "personalizationSystemSerialNumber",
}
_IMAGES = {"proofOfCitizenshipImage", "imageOfFront", "imageOfRear"}
_LISTS = {"otherNames", "namesOfOtherPersons"}
_DATES = {"fullDateOfBirth", "dateOfIssue", "dateAndTimeOfPersonalization"}


def _text(value: bytes, name: str) -> str:
    if name in _DATES and value and not all(0x30 <= b <= 0x39 for b in value):
        return value.hex().upper()  # BCD-coded date
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


@dataclass(frozen=True, slots=True)
class TextGroup:
    """The data elements present, by DocVal field name; ``lists`` for repeated names."""

    number: int
    fields: dict[str, str | bytes | list[str]] = field(default_factory=dict)
    raw: bytes = field(default=b"", repr=False)

    def __repr__(self) -> str:
        return f"DG{self.number}(fields={sorted(self.fields)})"


def _parse(raw: bytes, number: int, tag: int, names: dict[int, str]) -> TextGroup:
    name = f"dg{number}"
    top = outer(name, raw, tag)
    with parsing(name):
        values: dict[str, str | bytes | list[str]] = {}

        def add(obj: tlv.TLV) -> None:
            key = names.get(obj.tag)
            if key is None:
                return
            if key in _IMAGES:
                values[key] = obj.value
            elif key in _LISTS:
                existing = values.setdefault(key, [])
                assert isinstance(existing, list)
                existing.append(_text(obj.value, key))
            else:
                values[key] = _text(obj.value, key)

        for obj in top.children(der=False):
            if obj.tag == 0xA0:  # a count 02 and repeated names (9303-10 table 43/44)
                for inner in obj.children(der=False):
                    add(inner)
            else:
                add(obj)
        return TextGroup(number, values, raw)


def parse_dg11(raw: bytes) -> TextGroup:
    return _parse(raw, 11, 0x6B, _DG11_FIELDS)


def parse_dg12(raw: bytes) -> TextGroup:
    return _parse(raw, 12, 0x6C, _DG12_FIELDS)
