"""The desk summary and the hints: dates formatted, expiry a finding, marks ✔/✘/–, the failing
group named, the root cause first; typed mistakes and failures explained in one line."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from docval_client import advice, summary
from emrtd.docval.reasons import CloseReason

TODAY = date(2026, 12, 4)


def passport(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "mrzInfo": {
            "primaryIdentifier": "ERIKSSON",
            "secondaryIdentifier": ["ANNA", "MARIA"],
            "nationality": "UTO",
            "gender": "FEMALE",
            "dateOfBirth": "900315",
            "dateOfExpiry": "340415",
            "documentCode": "P",
            "documentNumber": "UT1234567",
            "issuingState": "UTO",
        },
        "additionalPersonalDetails": {
            "fullNameOfHolder": "ERIKSSON<<ANNA<MARIA",
            "fullDateOfBirth": "19900315",
        },
        "passiveAuthentication": True,
        "passiveAuthenticationDetails": {
            "sodSignatureValid": True,
            "documentCertificateValid": True,
            "dataGroupsChecked": [1, 2, 14],
            "dataGroupsWithValidHash": [1, 2, 14],
            "allHashesValid": True,
        },
        "chipAuthenticationResult": "SUCCESS",
        "activeAuthenticationResult": "UNAVAILABLE",
        "errors": [],
    }
    base.update(changes)
    return base


def test_a_valid_document_reads_at_a_glance() -> None:
    """Names, nationality, sex and dates are spelled out; 'not available' is –, not ✔."""
    text = "\n".join(summary.lines(passport(), today=TODAY))
    assert "holder:    ERIKSSON, ANNA MARIA" in text
    assert "nationality UTO, female, born 15 Mar 1990" in text
    assert "valid until 15 Apr 2034" in text and "full name ERIKSSON, ANNA MARIA" in text
    assert "  – active authentication (not offered by the chip)" in text
    assert "  ✔ data group hashes (DG1, DG2, DG14)" in text and text.endswith("VALID")


def test_expiry_is_a_finding_and_optionally_fails() -> None:
    """An expired document says so; only --fail-expired turns it into NOT VALID."""
    old = passport(mrzInfo={**passport()["mrzInfo"], "dateOfExpiry": "231031"})
    lines = summary.lines(old, today=TODAY)
    assert any("EXPIRED on 31 Oct 2023" in line for line in lines) and "  ✘ not expired" in lines
    assert lines[-1] == "VALID" and summary.expired(old, TODAY) is True
    assert summary.lines(old, today=TODAY, fail_expired=True)[-1] == "NOT VALID"


def test_json_carries_expiry_as_a_finding_of_its_own() -> None:
    """The written JSON is the result unchanged plus clientFindings: the printed verdict and
    whether the document expired, with --fail-expired recorded."""
    old = passport(mrzInfo={**passport()["mrzInfo"], "dateOfExpiry": "231031"})
    written = summary.as_written(old, today=TODAY)
    assert {k: v for k, v in written.items() if k != "clientFindings"} == old
    assert written["clientFindings"] == {
        "verdict": "VALID",
        "documentExpired": True,
        "dateOfExpiry": "2023-10-31",
        "checkedOn": "2026-12-04",
        "expiryFailsVerdict": False,
    }
    assert summary.findings(old, today=TODAY, fail_expired=True)["verdict"] == "NOT VALID"
    assert summary.findings(passport(mrzInfo={}), today=TODAY)["documentExpired"] is None


def test_failing_group_is_named_and_root_cause_first() -> None:
    """A bad hash names its group; an untrusted certificate is the root cause shown first."""
    details = {**passport()["passiveAuthenticationDetails"], "dataGroupsWithValidHash": [1, 14]}
    lines = summary.lines(passport(passiveAuthenticationDetails=details), today=TODAY)
    assert "  ✘ data group hashes: DG2 does not match the SOD" in lines
    untrusted = passport(
        passiveAuthenticationDetails={
            **passport()["passiveAuthenticationDetails"],
            "documentCertificateValid": False,
        },
        chipAuthenticationResult="FAILED",
        errors=["certificate: the DSC is expired at 2026-12-04", "chip authentication: DG14 is not verified"],
    )
    lines = summary.lines(untrusted, today=TODAY)
    cause = lines.index("  root cause: the DSC is expired at 2026-12-04")
    assert cause < lines.index("  ✘ document signer certificate") and lines[-1] == "NOT VALID"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://h:8765/ws2/validate",
            "is not a WebSocket URL: the DocVal server is at ws://h:8765/ws2/validate",
        ),
        ("https://h/ws2/validate", "wss://h/ws2/validate"),
        ("ws://h:8765", "names no path: the DocVal API is at ws://h:8765/ws2/validate"),
        ("h:8765", "must be a ws:// or wss:// URL"),
    ],
)
def test_server_url_mistakes(url: str, message: str) -> None:
    """A URL that cannot work is refused with the one that would."""
    with pytest.raises(advice.UsageError, match=message.replace("/", ".")):
        advice.server_url(url)
    assert advice.server_url("wss://h/ws2/validate?x=1") == "wss://h/ws2/validate?x=1"


def test_headers_and_hints() -> None:
    """--header parses NAME:VALUE; close reasons and connection failures get what to try."""
    assert advice.header("Authorization: Bearer x") == ("Authorization", "Bearer x")
    for bad in ("NoColon", "Bad Name: x", "X: a\r\nInjected: y"):
        with pytest.raises(advice.UsageError):
            advice.header(bad)
    assert "check the document number" in (
        advice.close_hint(CloseReason.INVALID_ACCESS_KEY_VALUES.value) or ""
    )
    assert "--ca-file" in advice.connection_hint("SSL error: certificate verify failed (in )", "wss://h/x")
    assert "is it running" in advice.connection_hint("Connection refused.", "ws://h/x")
