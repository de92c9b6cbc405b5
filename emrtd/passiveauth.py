"""Passive Authentication (ICAO 9303-11 §5.1): is the data on the chip what the issuer signed?

Checks, each reported on its own (:meth:`PassiveAuthenticationResult.details` gives them in
the shape of the DocVal result's ``passiveAuthenticationDetails``):

1. **SOD signature**: EF.SOD parses (size-capped), its single signer info has a content-type
   attribute equal to the eContentType, a messageDigest equal to the hash of the
   LDSSecurityObject, and a valid signature by the DSC in the SOD (RSA PKCS#1 v1.5, RSA-PSS,
   ECDSA incl. explicit brainpool parameters; digests below SHA-1 are refused).
2. **Document certificate**: a CSCA of the trust store signed the DSC (matched by authority
   key identifier or issuer name; the DSC's issuer must equal that CSCA's subject), both
   are valid at the time ``at`` given by the caller, the DSC's key usage allows digital
   signatures and the CSCA's allows certificate signing, the DSC is not on its CSCA's CRL,
   and DG1's issuing state is the CSCA's country.
3. **Data group hashes**: every data group read is hashed over its raw bytes with the SOD's
   algorithm and compared. A group read but absent from the SOD, or a hash in the SOD for a
   group EF.COM does not list, is an error.

:func:`verify` never raises for bad input: every failure becomes a reason in ``errors``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from asn1crypto import x509

from . import countries, signeddata
from .errors import EmrtdError
from .lds import cardsecurity, com, dg1, sod
from .lds.securityinfos import SecurityInfos
from .reader import DG_TAGS
from .truststore import TrustedCertificate, TrustStore, describe, valid_at, validity


@dataclass(frozen=True)
class PassiveAuthenticationResult:
    sod_signature_valid: bool
    document_certificate_valid: bool
    data_groups_checked: tuple[int, ...]
    data_groups_with_valid_hash: tuple[int, ...]
    errors: tuple[str, ...]
    hash_algorithm: str | None = None
    hashes: Mapping[int, bytes] = field(default_factory=dict, repr=False)
    signer: x509.Certificate | None = field(default=None, repr=False)
    csca: TrustedCertificate | None = field(default=None, repr=False)
    #: Oddities accepted on the way (an id-data SOD, say): not failures, but never silent.
    notes: tuple[str, ...] = ()

    @property
    def all_hashes_valid(self) -> bool:
        return (
            bool(self.data_groups_checked)
            and self.data_groups_checked == self.data_groups_with_valid_hash
            and not any(e.startswith("hash:") for e in self.errors)
        )

    @property
    def passed(self) -> bool:
        """The DocVal ``passiveAuthentication`` flag."""
        return self.sod_signature_valid and self.document_certificate_valid and self.all_hashes_valid

    def verified(self, data_group: int) -> bool:
        """Whether this data group is proven authentic: signature, chain and its own hash."""
        return (
            self.sod_signature_valid
            and self.document_certificate_valid
            and data_group in self.data_groups_with_valid_hash
        )

    def details(self) -> dict[str, Any]:
        """``passiveAuthenticationDetails`` as interop-notes.md defines it."""
        return {
            "sodSignatureValid": self.sod_signature_valid,
            "documentCertificateValid": self.document_certificate_valid,
            "dataGroupsChecked": list(self.data_groups_checked),
            "dataGroupsWithValidHash": list(self.data_groups_with_valid_hash),
            "allHashesValid": self.all_hashes_valid,
            "error": "; ".join(self.errors) if self.errors else None,
        }


def _group_number(name: str) -> int | None:
    if name.startswith("dg") and name[2:].isdigit() and 1 <= int(name[2:]) <= 16:
        return int(name[2:])
    return None


def verify(files: Mapping[str, bytes], trust: TrustStore, at: datetime) -> PassiveAuthenticationResult:
    """Passive Authentication of the files read from a chip (DocVal names: ``sod``, ``com``,
    ``dg1`` …) against ``trust`` at time ``at`` (timezone-aware)."""
    errors: list[str] = []
    raw_sod = files.get("sod")
    if raw_sod is None:
        return PassiveAuthenticationResult(False, False, (), (), ("sod: EF.SOD was not read",))
    if not raw_sod:
        return PassiveAuthenticationResult(False, False, (), (), ("sod: EF.SOD is empty",))
    try:
        parsed = sod.parse(raw_sod)
    except EmrtdError as exc:
        return PassiveAuthenticationResult(False, False, (), (), (f"sod: {exc}",))

    signature_ok, signer = _check_signature(parsed, errors)
    no_chain: tuple[bool, TrustedCertificate | None] = (False, None)
    certificate_ok, csca = (
        _guarded(
            lambda: _check_certificate(signer, trust, at, files.get("dg1"), errors),
            no_chain,
            "certificate",
            errors,
        )
        if signer
        else no_chain
    )
    checked, valid = _check_hashes(parsed, files, errors)
    return PassiveAuthenticationResult(
        signature_ok,
        certificate_ok,
        checked,
        valid,
        tuple(errors),
        parsed.hash_algorithm_name,
        parsed.hashes,
        signer,
        csca,
        parsed.notes,
    )


_T = TypeVar("_T")


def _guarded(check: Callable[[], _T], failed: _T, what: str, errors: list[str]) -> _T:
    """Run one check; a structure asn1crypto finds malformed only now becomes a reason."""
    try:
        return check()
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        errors.append(f"{what}: malformed: {exc}")
        return failed


def _check_signature(parsed: sod.SOD, errors: list[str]) -> tuple[bool, x509.Certificate | None]:
    try:
        return True, signeddata.verify_signer(parsed.signed, "SOD signature")
    except EmrtdError as exc:
        errors.append(f"signature: {exc.message}")
    # Even when the signature fails, name the DSC for the report if there is one.
    return False, signeddata.first_signer_certificate(parsed.signed)


def _check_certificate(
    dsc: x509.Certificate, trust: TrustStore, at: datetime, raw_dg1: bytes | None, errors: list[str]
) -> tuple[bool, TrustedCertificate | None]:
    start = len(errors)
    csca = trust.verified_issuer(dsc)  # remembered per DSC: the usual case costs a hash
    if csca is None and not trust.issuers_of(dsc):
        errors.append(f"certificate: no CSCA in the trust store for issuer {describe(dsc.issuer)}")
        return False, None
    if csca is None:
        errors.append(f"certificate: the DSC is not signed by a trusted CSCA ({describe(dsc.issuer)})")
        return False, None
    key = b"static:" + hashlib.sha256(dsc.dump()).digest()  # this store's CSCA for the DSC is fixed
    static = trust.remember(key, lambda: _static(dsc, csca))
    assert static is not None
    errors.extend(static.errors)
    for what, period in (("DSC", static.dsc_validity), ("CSCA", static.csca_validity)):
        problem = valid_at(period, at)
        if problem:
            errors.append(f"certificate: the {what} is {problem} at {at:%Y-%m-%d}")
    if trust.is_revoked(dsc):
        errors.append(f"certificate: the DSC (serial {dsc.serial_number:X}) is revoked")
    if raw_dg1 is not None:
        state = dg1.issuing_state(raw_dg1)
        if state is not None and countries.alpha2(state) != csca.country:
            errors.append(
                f"certificate: issuing state {state} does not match the CSCA's country {csca.country}"
            )
    return len(errors) == start, csca


@dataclass(frozen=True)
class _StaticChecks:
    """What a DSC and its CSCA say whatever the document and the time (remembered per pair in
    the trust store): name and key-usage findings, and both validity periods."""

    errors: tuple[str, ...]
    dsc_validity: tuple[datetime, datetime]
    csca_validity: tuple[datetime, datetime]


def _static(dsc: x509.Certificate, csca: TrustedCertificate) -> _StaticChecks:
    errors = []
    if csca.certificate.subject.dump() != dsc.issuer.dump() and csca.certificate.subject != dsc.issuer:
        errors.append("certificate: the DSC's issuer name differs from the CSCA's subject")
    dsc_usage = dsc.key_usage_value.native if dsc.key_usage_value else None
    if dsc_usage is not None and "digital_signature" not in dsc_usage:
        errors.append("certificate: the DSC's key usage does not allow digital signatures")
    csca_usage = csca.certificate.key_usage_value.native if csca.certificate.key_usage_value else None
    if csca_usage is not None and "key_cert_sign" not in csca_usage:
        errors.append("certificate: the CSCA's key usage does not allow certificate signing")
    return _StaticChecks(tuple(errors), validity(dsc), validity(csca.certificate))


def _check_hashes(
    parsed: sod.SOD, files: Mapping[str, bytes], errors: list[str]
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    algorithm = parsed.hash_algorithm
    try:
        hashlib.new(algorithm)
    except ValueError:
        errors.append(f"hash: unsupported hash algorithm {algorithm}")
        return (), ()
    checked, valid = [], []
    for name, raw in sorted(files.items()):
        number = _group_number(name)
        if number is None:
            continue
        checked.append(number)
        expected = parsed.hashes.get(number)
        if expected is None:
            errors.append(f"hash: DG{number} was read but the SOD holds no hash for it")
        elif hashlib.new(algorithm, raw).digest() == expected:
            valid.append(number)
        else:
            errors.append(f"hash: DG{number} does not match its SOD hash")
    raw_com = files.get("com")
    if raw_com is not None:
        try:
            listed = {DG_TAGS.get(tag, 0) for tag in com.parse(raw_com).tags}
            extra = sorted(set(parsed.hashes) - listed)
            if extra:
                errors.append(
                    f"hash: the SOD hashes DG{', DG'.join(map(str, extra))}, which EF.COM does not list"
                )
        except EmrtdError as exc:
            errors.append(f"hash: EF.COM: {exc}")
    return tuple(sorted(checked)), tuple(sorted(valid))


@dataclass(frozen=True)
class CardSecurityResult:
    """EF.CardSecurity checked like a SOD: its signer and the signer's chain."""

    signature_valid: bool
    certificate_valid: bool
    errors: tuple[str, ...]
    security_infos: SecurityInfos | None = field(default=None, repr=False)

    @property
    def valid(self) -> bool:
        return self.signature_valid and self.certificate_valid


def verify_card_security(raw: bytes, trust: TrustStore, at: datetime) -> CardSecurityResult:
    """Check EF.CardSecurity's signature and DSC chain, so that PACE-CAM can trust the chip
    authentication key in it (9303-11 §4.4.3.5.2). Never raises for bad input."""
    try:
        parsed = cardsecurity.parse(raw)
    except EmrtdError as exc:
        return CardSecurityResult(False, False, (f"cardsecurity: {exc}",))
    errors: list[str] = []
    try:
        signer: x509.Certificate | None = signeddata.verify_signer(parsed.signed, "EF.CardSecurity signature")
        signature_ok = True
    except EmrtdError as exc:
        errors.append(f"signature: {exc.message}")
        signer = signeddata.first_signer_certificate(parsed.signed)
        signature_ok = False
    certificate_ok = (
        _guarded(lambda: _check_certificate(signer, trust, at, None, errors)[0], False, "certificate", errors)
        if signer is not None
        else False
    )
    return CardSecurityResult(signature_ok, certificate_ok, tuple(errors), parsed.security_infos)
