"""The result as a person at a desk reads it: who, which document, whether it has expired,
each check with ✔ (passed), ✘ (failed) or – (not available), the failing data groups named,
and the root cause first when one fault explains several ✘. Pure functions of the result
(the DocVal ``passport`` object) and the date; the CLI prints the lines.

The expiry check is a finding of its own, outside the protocol's verdict (the vendor apps
judge only PA, CA and AA): :func:`expired` says whether the document's date of expiry (MRZ)
lies before today, and the CLI's ``--fail-expired`` makes that a failing verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from emrtd.docval.verdict import validated

PASS, FAIL, NOT_AVAILABLE = "✔", "✘", "–"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SEXES = {"F": "female", "M": "male", "<": "unspecified", "X": "unspecified", "": "unspecified"}


def sex(value: Any) -> str:
    """``F``/``FEMALE`` → ``female`` …"""
    text = str(value or "").strip().upper()
    return SEXES.get(text[:1] if text in ("FEMALE", "MALE") else text, text.lower() or "?")


def name(value: Any) -> str:
    """A name as the MRZ/DG11 writes it (``ERIKSSON<<ANNA<MARIA``) as ``ERIKSSON, ANNA MARIA``."""
    text = str(value)
    if "<" not in text:
        return text
    primary, _, given = text.partition("<<")
    return ", ".join(
        part for part in (primary.replace("<", " ").strip(), given.replace("<", " ").strip()) if part
    )


def mrz_date(value: str | None, *, future: bool, today: date) -> date | None:
    """An MRZ date ``YYMMDD`` as a date: expiry dates in this century, birth dates in the
    last hundred years (9303 gives only two digits)."""
    if not value or len(value) != 6 or not value.isdigit():
        return None
    year, month, day = int(value[:2]), int(value[2:4]), int(value[4:])
    century = 2000 if future or 2000 + year <= today.year else 1900
    try:
        return date(century + year, month, day)
    except ValueError:
        return None


def long_date(value: date | None, raw: str | None = None) -> str:
    """``15 Apr 2034``; the raw text when the date cannot be read."""
    if value is None:
        return raw or "?"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def _full_date(value: Any) -> str | None:
    """DG11/DG12 dates ``YYYYMMDD`` as ``15 Mar 1990``."""
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        try:
            return long_date(date(int(value[:4]), int(value[4:6]), int(value[6:])))
        except ValueError:
            return value
    return value if isinstance(value, str) else None


def expired(passport: Mapping[str, Any], today: date) -> bool | None:
    """Whether the document expired before ``today`` (None when its expiry date is unknown)."""
    info = passport.get("mrzInfo") or {}
    expiry = mrz_date(info.get("dateOfExpiry"), future=True, today=today)
    return None if expiry is None else expiry < today


def _mark(result: Any) -> str:
    if result in (True, "SUCCESS"):
        return PASS
    if result in (None, "UNAVAILABLE"):
        return NOT_AVAILABLE
    return FAIL


def root_cause(passport: Mapping[str, Any]) -> str | None:
    """The one fault that explains the other ✘, when there is one: without a trusted SOD
    signature and certificate, CA and AA cannot be trusted either (their keys are in DG14/15)."""
    errors = [str(e) for e in passport.get("errors") or []]
    details = passport.get("passiveAuthenticationDetails") or {}
    for prefix, ok in (
        ("signature:", details.get("sodSignatureValid")),
        ("certificate:", details.get("documentCertificateValid")),
    ):
        if ok is False:
            cause = next((e[len(prefix) :].strip() for e in errors if e.startswith(prefix)), None)
            if cause:
                return cause
    return None


def lines(
    passport: Mapping[str, Any], notes: tuple[str, ...] = (), *, today: date, fail_expired: bool = False
) -> list[str]:
    """The summary, a line each; the last line is the verdict."""
    info = passport.get("mrzInfo") or {}
    personal = passport.get("additionalPersonalDetails") or {}
    document = passport.get("additionalDocumentDetails") or {}
    details = passport.get("passiveAuthenticationDetails") or {}
    born = mrz_date(info.get("dateOfBirth"), future=False, today=today)
    expiry = mrz_date(info.get("dateOfExpiry"), future=True, today=today)
    is_expired = expired(passport, today)
    given = " ".join(info.get("secondaryIdentifier") or [])
    out = [
        f"holder:    {info.get('primaryIdentifier', '?')}, {given or '-'}",
        f"           nationality {info.get('nationality', '?')}, "
        f"{sex(info.get('gender'))}, "
        f"born {long_date(born, info.get('dateOfBirth'))}",
        f"document:  {info.get('documentCode', '?')} {info.get('documentNumber', '?')} issued by "
        f"{info.get('issuingState', '?')}, "
        + (
            f"EXPIRED on {long_date(expiry)}"
            if is_expired
            else f"valid until {long_date(expiry, info.get('dateOfExpiry'))}"
        ),
    ]
    extra = []
    if personal.get("fullNameOfHolder"):
        extra.append(f"full name {name(personal['fullNameOfHolder'])}")
    if personal.get("fullDateOfBirth"):
        extra.append(f"born {_full_date(personal['fullDateOfBirth'])}")
    if personal.get("placeOfBirth"):
        extra.append(f"in {personal['placeOfBirth']}")
    if document.get("issuingAuthority"):
        extra.append(f"issued by {document['issuingAuthority']}")
    if document.get("dateOfIssue"):
        extra.append(f"on {_full_date(document['dateOfIssue'])}")
    if extra:
        out.append(f"details:   {', '.join(extra)}")
    cause = root_cause(passport)
    if cause:
        out.append(f"  root cause: {cause}")
    checked = list(details.get("dataGroupsChecked") or [])
    good = set(details.get("dataGroupsWithValidHash") or [])
    bad = [n for n in checked if n not in good]
    out += [
        f"  {_mark(details.get('sodSignatureValid'))} SOD signature",
        f"  {_mark(details.get('documentCertificateValid'))} document signer certificate",
        f"  {FAIL} data group hashes: DG{', DG'.join(map(str, bad))} "
        f"{'does' if len(bad) == 1 else 'do'} not match the SOD"
        if bad
        else f"  {_mark(details.get('allHashesValid'))} data group hashes "
        f"(DG{', DG'.join(map(str, checked))})"
        if checked
        else f"  {NOT_AVAILABLE} data group hashes (none checked)",
        f"  {_mark(passport.get('chipAuthenticationResult'))} chip authentication"
        + ("" if passport.get("chipAuthenticationResult") != "UNAVAILABLE" else " (not offered by the chip)"),
        f"  {_mark(passport.get('activeAuthenticationResult'))} active authentication"
        + (
            ""
            if passport.get("activeAuthenticationResult") != "UNAVAILABLE"
            else " (not offered by the chip)"
        ),
    ]
    if is_expired is not None:
        out.append(f"  {FAIL if is_expired else PASS} not expired")
    out += [f"  ! {error}" for error in passport.get("errors") or []]
    out += [f"  i {note}" for note in notes]
    out.append("VALID" if verdict(passport, today=today, fail_expired=fail_expired) else "NOT VALID")
    return out


def verdict(passport: Mapping[str, Any], *, today: date, fail_expired: bool = False) -> bool:
    """The protocol's verdict, and with ``fail_expired`` also not expired."""
    return validated(passport) and not (fail_expired and expired(passport, today))


def findings(passport: Mapping[str, Any], *, today: date, fail_expired: bool = False) -> dict[str, Any]:
    """What the client adds to the result it writes as JSON (``clientFindings``): the verdict
    it printed, and expiry as a finding of its own (the protocol's verdict leaves it out)."""
    expiry = mrz_date((passport.get("mrzInfo") or {}).get("dateOfExpiry"), future=True, today=today)
    return {
        "verdict": "VALID" if verdict(passport, today=today, fail_expired=fail_expired) else "NOT VALID",
        "documentExpired": expired(passport, today),
        "dateOfExpiry": expiry.isoformat() if expiry else None,
        "checkedOn": today.isoformat(),
        "expiryFailsVerdict": fail_expired,
    }


def as_written(passport: Mapping[str, Any], *, today: date, fail_expired: bool = False) -> dict[str, Any]:
    """The result as ``--json``/``--jsonl`` write it: the server's (or the offline) result
    unchanged, with ``clientFindings`` added."""
    return {**passport, "clientFindings": findings(passport, today=today, fail_expired=fail_expired)}
