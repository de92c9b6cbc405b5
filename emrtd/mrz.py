"""Machine readable zones (ICAO 9303-3/4/5/6/7) and the access keys derived from them.

Parses TD1 (3×30), TD2 (2×36), TD3 (2×44) and the visa formats MRV-A (2×44) and MRV-B
(2×36), checks every check digit including the composite one, and handles document numbers
longer than nine characters (9303-5 §4.2.2 note j: the field's check digit holds ``<`` and the
rest of the number plus its check digit open the optional data).

Access keys for BAC and PACE (9303-11 §4.3.2 and §4.4.3.1): ``MRZ_information`` is the
document number, date of birth and date of expiry, each followed by its check digit. A
document number shorter than nine characters is padded with ``<``; a longer one is used
whole.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from .errors import MRZError

_ALLOWED = re.compile(r"^[A-Z0-9<]*$")
_WEIGHTS = (7, 3, 1)

DocumentType = Literal["TD1", "TD2", "TD3", "MRVA", "MRVB"]


def char_value(ch: str) -> int:
    """Value of an MRZ character for check digits: digits 0-9, A-Z 10-35, ``<`` 0."""
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    if ch == "<":
        return 0
    raise MRZError(f"character {ch!r} is not allowed in an MRZ")


_VALUES = {ch: char_value(ch) for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"}


def check_digit(data: str) -> str:
    """9303-3 §4.9: weights 7, 3, 1 repeating, sum modulo 10."""
    try:
        total = sum(_VALUES[c] * _WEIGHTS[i % 3] for i, c in enumerate(data))
    except KeyError:
        total = sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data))  # names the character
    return str(total % 10)


def _is_date(value: str) -> bool:
    if len(value) != 6 or not value.isdigit():
        return False
    month, day = int(value[2:4]), int(value[4:6])
    return 1 <= month <= 12 and 1 <= day <= 31


def normalize_document_number(value: str) -> str:
    """Upper-case, drop white space and trailing fillers, and check the characters."""
    text = re.sub(r"\s+", "", value).upper().rstrip("<")
    if not text:
        raise MRZError("document number is empty")
    if not _ALLOWED.match(text):
        raise MRZError("document number may hold only A-Z, 0-9 and '<'")
    return text


def normalize_date(value: str, what: str) -> str:
    """Accept ``YYMMDD`` with optional white space; check month and day ranges."""
    text = re.sub(r"\s+", "", value)
    if not _is_date(text):
        raise MRZError(f"{what} must be a date as YYMMDD, got {value!r}")
    return text


def _field_with_check(value: str) -> str:
    return value + check_digit(value)


@dataclass(frozen=True, slots=True)
class MRZKey:
    """BAC / PACE access key from the MRZ (password reference 1)."""

    document_number: str
    date_of_birth: str
    date_of_expiry: str

    password_reference = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "document_number", normalize_document_number(self.document_number))
        object.__setattr__(self, "date_of_birth", normalize_date(self.date_of_birth, "date of birth"))
        object.__setattr__(
            self, "date_of_expiry", normalize_date(self.date_of_expiry, "date of expiry")
        )

    @property
    def mrz_information(self) -> str:
        number = self.document_number.ljust(9, "<")
        return (
            _field_with_check(number)
            + _field_with_check(self.date_of_birth)
            + _field_with_check(self.date_of_expiry)
        )

    @property
    def kseed(self) -> bytes:
        """BAC key seed: the first 16 bytes of SHA-1(MRZ_information) (9303-11 §9.7.2)."""
        return hashlib.sha1(self.mrz_information.encode("ascii")).digest()[:16]

    @property
    def pace_secret(self) -> bytes:
        """PACE password for MRZ: SHA-1(MRZ_information), 20 bytes (9303-11 §9.7.3)."""
        return hashlib.sha1(self.mrz_information.encode("ascii")).digest()

    def __repr__(self) -> str:  # never print personal data by accident
        return "MRZKey(<redacted>)"


@dataclass(frozen=True, slots=True)
class CANKey:
    """PACE access key from the Card Access Number printed on the document (reference 2)."""

    can: str

    password_reference = 2

    def __post_init__(self) -> None:
        text = re.sub(r"\s+", "", self.can)
        if not text.isdigit() or len(text) != 6:
            raise MRZError("a CAN is six digits")
        object.__setattr__(self, "can", text)

    @property
    def pace_secret(self) -> bytes:
        return self.can.encode("ascii")

    def __repr__(self) -> str:
        return "CANKey(<redacted>)"


AccessKey = MRZKey | CANKey


@dataclass(frozen=True, slots=True)
class MRZ:
    """A parsed MRZ. ``check_digit_errors`` names every field whose check digit is wrong."""

    document_type: DocumentType
    document_code: str
    issuing_state: str
    primary_identifier: str
    secondary_identifiers: tuple[str, ...]
    document_number: str
    nationality: str
    date_of_birth: str
    sex: str
    date_of_expiry: str
    optional_data1: str
    optional_data2: str | None
    lines: tuple[str, ...]
    check_digit_errors: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        return not self.check_digit_errors

    @property
    def gender(self) -> str:
        """``MALE``, ``FEMALE`` or ``UNSPECIFIED`` as the DocVal result names it."""
        return {"M": "MALE", "F": "FEMALE"}.get(self.sex, "UNSPECIFIED")

    @property
    def access_key(self) -> MRZKey:
        return MRZKey(self.document_number, self.date_of_birth, self.date_of_expiry)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def __repr__(self) -> str:
        return f"MRZ({self.document_type}, <redacted>)"


def _split_name(name_field: str) -> tuple[str, tuple[str, ...]]:
    primary, _, secondary = name_field.partition("<<")
    primary = primary.replace("<", " ").strip()
    given = tuple(part for part in secondary.strip("<").split("<") if part)
    return primary, given


def _long_number(number_field: str, cd: str, optional: str) -> tuple[str, str, str, str]:
    """Undo 9303-5 note j. Returns (number, its check digit, check input, rest of optional)."""
    if cd != "<":
        return number_field.rstrip("<"), cd, number_field, optional
    extra = optional.split("<", 1)[0]
    if len(extra) < 2:
        raise MRZError("document number check digit is '<' but no extension follows")
    full = number_field + extra[:-1]
    return full.rstrip("<"), extra[-1], full, optional[len(extra) :]


def split_lines(text: str) -> tuple[str, ...]:
    """Split an MRZ given as lines or as one concatenated string (as stored in DG1)."""
    raw = [re.sub(r"[ \t\r]", "", line).upper() for line in text.strip().splitlines()]
    raw = [line for line in raw if line]
    if len(raw) == 1:
        joined = raw[0]
        for width, count in ((30, 3), (36, 2), (44, 2)):
            if len(joined) == width * count:
                return tuple(joined[i * width : (i + 1) * width] for i in range(count))
        raise MRZError(f"an MRZ of {len(joined)} characters is not TD1, TD2 or TD3")
    return tuple(raw)


def parse(text: str, *, strict: bool = True) -> MRZ:
    """Parse an MRZ; with ``strict`` a wrong check digit raises :class:`MRZError`."""
    lines = split_lines(text)
    if not lines:
        raise MRZError("the MRZ is empty")
    for line in lines:
        if not _ALLOWED.match(line):
            raise MRZError("an MRZ holds only A-Z, 0-9 and '<'")
    shape = (len(lines), len(lines[0]))
    if any(len(line) != shape[1] for line in lines):
        raise MRZError("MRZ lines differ in length")
    if shape == (3, 30):
        mrz = _parse_td1(lines)
    elif shape == (2, 36):
        mrz = _parse_td2(lines)
    elif shape == (2, 44):
        mrz = _parse_td3(lines)
    else:
        raise MRZError(f"{shape[0]} lines of {shape[1]} characters is not an MRZ format")
    if strict and mrz.check_digit_errors:
        raise MRZError("wrong check digit in " + ", ".join(mrz.check_digit_errors))
    return mrz


class _Checks:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def expect(self, name: str, data: str, digit: str, *, blank_ok: bool = False) -> None:
        if blank_ok and digit == "<" and set(data) <= {"<"}:
            return
        if digit != check_digit(data):
            self.errors.append(name)


def _dates_and_sex(checks: _Checks, dob: str, dob_cd: str, sex: str, doe: str, doe_cd: str) -> None:
    if not _is_date(dob.replace("<", "0")) and dob != "<<<<<<":
        raise MRZError("date of birth is not YYMMDD")
    if not _is_date(doe):
        raise MRZError("date of expiry is not YYMMDD")
    if sex not in ("M", "F", "X", "<"):
        raise MRZError(f"sex must be M, F, X or '<', got {sex!r}")
    checks.expect("date of birth", dob, dob_cd)
    checks.expect("date of expiry", doe, doe_cd)


def _parse_td1(lines: tuple[str, ...]) -> MRZ:
    l1, l2, l3 = lines
    checks = _Checks()
    number, number_cd, number_in, opt1 = _long_number(l1[5:14], l1[14], l1[15:30])
    checks.expect("document number", number_in, number_cd)
    _dates_and_sex(checks, l2[0:6], l2[6], l2[7], l2[8:14], l2[14])
    checks.expect("composite", l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    primary, given = _split_name(l3)
    return MRZ(
        "TD1", l1[0:2].rstrip("<"), l1[2:5], primary, given, number, l2[15:18], l2[0:6],
        l2[7], l2[8:14], opt1.rstrip("<") if l1[14] != "<" else opt1.strip("<"),
        l2[18:29].rstrip("<"), lines, tuple(checks.errors),
    )


def _parse_td2(lines: tuple[str, ...]) -> MRZ:
    l1, l2 = lines
    visa = l1[0] == "V"
    checks = _Checks()
    opt_end = 36 if visa else 35
    number, number_cd, number_in, opt = _long_number(l2[0:9], l2[9], l2[28:opt_end])
    checks.expect("document number", number_in, number_cd)
    _dates_and_sex(checks, l2[13:19], l2[19], l2[20], l2[21:27], l2[27])
    if not visa:
        checks.expect("composite", l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    primary, given = _split_name(l1[5:36])
    return MRZ(
        "MRVB" if visa else "TD2", l1[0:2].rstrip("<"), l1[2:5], primary, given, number,
        l2[10:13], l2[13:19], l2[20], l2[21:27], opt.rstrip("<"), None, lines,
        tuple(checks.errors),
    )


def _parse_td3(lines: tuple[str, ...]) -> MRZ:
    l1, l2 = lines
    visa = l1[0] == "V"
    checks = _Checks()
    number = l2[0:9].rstrip("<")
    checks.expect("document number", l2[0:9], l2[9])
    _dates_and_sex(checks, l2[13:19], l2[19], l2[20], l2[21:27], l2[27])
    if visa:
        optional = l2[28:44]
    else:
        optional = l2[28:42]
        checks.expect("personal number", optional, l2[42], blank_ok=True)
        checks.expect("composite", l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    primary, given = _split_name(l1[5:44])
    return MRZ(
        "MRVA" if visa else "TD3", l1[0:2].rstrip("<"), l1[2:5], primary, given, number,
        l2[10:13], l2[13:19], l2[20], l2[21:27], optional.rstrip("<"), None, lines,
        tuple(checks.errors),
    )
