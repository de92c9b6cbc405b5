"""Building the ``passport`` result object, in the camelCase schema both vendor SDKs parse
(``interop-notes.md``, "Result object"), plus ``validationId``. Pure: files, the Passive
Authentication result and the verdicts (:mod:`emrtd.docval.verdict`) in, a JSON-ready dict
out. Posting it is the server's job (``docval_server.posting``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import EmrtdError
from ..lds import dg1, dg2, dg7, textgroups
from ..passiveauth import PassiveAuthenticationResult
from .verdict import Verdicts
from .wire import b64encode


def _mrz_info(raw: bytes | None, errors: list[str]) -> dict[str, Any] | None:
    if raw is None:
        errors.append("DG1 was not read")
        return None
    try:
        mrz = dg1.parse(raw).mrz
    except EmrtdError as exc:
        errors.append(f"DG1: {exc}")
        return None
    if mrz.check_digit_errors:
        errors.append(f"DG1: wrong check digits in {', '.join(mrz.check_digit_errors)}")
    return {
        "documentType": mrz.document_type,
        "documentCode": mrz.document_code,
        "issuingState": mrz.issuing_state,
        "primaryIdentifier": mrz.primary_identifier,
        "secondaryIdentifier": list(mrz.secondary_identifiers),
        "nationality": mrz.nationality,
        "documentNumber": mrz.document_number,
        "dateOfBirth": mrz.date_of_birth,
        "gender": mrz.gender,
        "dateOfExpiry": mrz.date_of_expiry,
        "optionalData1": mrz.optional_data1,
        "optionalData2": mrz.optional_data2,
    }


def _text_group(raw: bytes | None, number: int, errors: list[str]) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        group = textgroups.parse_dg11(raw) if number == 11 else textgroups.parse_dg12(raw)
    except EmrtdError as exc:
        errors.append(f"DG{number}: {exc}")
        return None
    return {
        key: b64encode(value) if isinstance(value, bytes) else value for key, value in group.fields.items()
    }


def build(
    validation_id: str,
    files: Mapping[str, bytes],
    pa: PassiveAuthenticationResult,
    verdicts: Verdicts,
    *,
    include_files: bool = False,
) -> dict[str, Any]:
    """The result for one validation. Its ``errors`` are the verdicts' reasons, PA's reasons
    and notes, and the parsers' findings (never personal data)."""
    errors = list(verdicts.errors) + list(pa.errors) + list(pa.notes)
    face = None
    if "dg2" in files:
        try:
            face = b64encode(dg2.parse(files["dg2"]).face.data)
        except EmrtdError as exc:
            errors.append(f"DG2: {exc}")
    signatures: list[str] = []
    if "dg7" in files:
        try:
            signatures = [b64encode(image.data) for image in dg7.parse(files["dg7"]).images]
        except EmrtdError as exc:
            errors.append(f"DG7: {exc}")
    passport: dict[str, Any] = {
        "validationId": validation_id,
        "mrzInfo": _mrz_info(files.get("dg1"), errors),
        "sodInfo": {
            "hashAlgorithm": pa.hash_algorithm,
            "hashForDataGroup": {str(n): b64encode(h) for n, h in sorted(pa.hashes.items())},
        }
        if pa.hash_algorithm
        else None,
        "facePhoto": face,
        "signaturePhotos": signatures,
        "additionalPersonalDetails": _text_group(files.get("dg11"), 11, errors),
        "additionalDocumentDetails": _text_group(files.get("dg12"), 12, errors),
        "passiveAuthentication": pa.passed,
        "passiveAuthenticationDetails": pa.details(),
        "chipAuthenticationResult": verdicts.chip_authentication,
        "activeAuthenticationResult": verdicts.active_authentication,
        "errors": errors,
    }
    if include_files:
        passport["filesBinary"] = {name: b64encode(data) for name, data in sorted(files.items())}
    return passport
