"""Checking a CMS SignedData signer (RFC 5652 §5.4-5.6) as eMRTD objects use it: EF.SOD,
EF.CardSecurity and CSCA master lists carry one signer, identified by issuer and serial
number or by subject key identifier, whose certificate is in the SignedData, and whose
signed attributes hold the content type and the message digest of the eContent."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from asn1crypto import cms, core, x509

from . import derparts, pubkey, signatures
from .errors import EmrtdError, UnsupportedAlgorithmError, VerificationError

OID_CONTENT_TYPE = core.ObjectIdentifier("1.2.840.113549.1.9.3").contents
OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").contents


def _attribute_values(attributes: cms.CMSAttributes) -> dict[bytes, list[list[derparts.Part]]]:
    """The signed attributes by the encoding of their type OID: each occurrence's values.
    Walked with asn1crypto's parser (an object per attribute costs more than the check)."""
    found: dict[bytes, list[list[derparts.Part]]] = {}
    for attribute in derparts.children(attributes.contents):
        derparts.expect([attribute], derparts.SEQUENCE, what="a signed attribute")
        kind, values = derparts.expect(
            derparts.children(attribute.contents),
            derparts.OBJECT_IDENTIFIER,
            derparts.SET,
            what="a signed attribute",
        )
        found.setdefault(kind.contents, []).append(derparts.children(values.contents))
    return found


def _single(found: dict[bytes, list[list[derparts.Part]]], oid: bytes) -> derparts.Part | None:
    """The one value of the one attribute of type ``oid``, else None."""
    occurrences = found.get(oid, [])
    return occurrences[0][0] if len(occurrences) == 1 and len(occurrences[0]) == 1 else None


def signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo) -> x509.Certificate | None:
    """The certificate in ``signed`` that ``signer``'s sid names (None if absent or malformed)."""
    try:
        return _signer_certificate(signed, signer)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError):
        return None


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What a signer lookup and a revocation check read from a certificate, taken out once
    per certificate (public data: the DSCs a server sees repeat from session to session)."""

    serial_number: int
    issuer_der: bytes
    #: The DER a SignerInfo's issuerAndSerialNumber sid holds when it names this certificate.
    sid_der: bytes
    key_identifier: bytes | None
    spki_der: bytes


@functools.lru_cache(maxsize=1024)
def _facts_of(der: bytes) -> CertificateFacts:
    cert = x509.Certificate.load(der)
    issuer = cert.issuer.dump()
    serial = cert["tbs_certificate"]["serial_number"]
    sid = cms.IssuerAndSerialNumber({"issuer": cert.issuer, "serial_number": serial}).dump()
    spki = cert["tbs_certificate"]["subject_public_key_info"].dump()
    return CertificateFacts(serial.native, issuer, sid, cert.key_identifier, spki)


def facts(cert: x509.Certificate) -> CertificateFacts:
    """``cert``'s serial number, issuer, sid and key, remembered by its DER (bounded)."""
    return _facts_of(cert.dump())


def certificates(signed: cms.SignedData) -> tuple[x509.Certificate, ...]:
    """The X.509 certificates a SignedData carries (other certificate choices are skipped)."""
    chosen = signed["certificates"]
    if isinstance(chosen, core.Void):  # absent (decoding every certificate to test that is slow)
        return ()
    return tuple(c.chosen for c in chosen if c.name == "certificate")


def _name_set(name: x509.Name) -> frozenset[tuple[str, str]]:
    """A Name as a set of (attribute type, normalized value): RDN order does not count. Some
    issuers write the SignerInfo's issuer with the RDNs in another order than the DSC's."""
    return frozenset(
        (attribute["type"].dotted, " ".join(str(attribute["value"].native).lower().split()))
        for rdn in name.chosen
        for attribute in rdn
    )


def _signer_certificate(
    signed: cms.SignedData, signer: cms.SignerInfo, certs: tuple[x509.Certificate, ...] | None = None
) -> x509.Certificate | None:
    sid = signer["sid"]
    candidates = certificates(signed) if certs is None else certs
    if sid.name == "issuer_and_serial_number":
        wanted = sid.chosen.dump()
        for cert in candidates:  # byte for byte: the usual case, and cheap
            if facts(cert).sid_der == wanted:
                return cert
        issuer = sid.chosen["issuer"]
        for cert in candidates:
            if facts(cert).serial_number == sid.chosen["serial_number"].native and (
                cert.issuer == issuer  # RFC 5280 name matching
                or _name_set(cert.issuer) == _name_set(issuer)
            ):
                return cert
        return None
    return next((c for c in candidates if facts(c).key_identifier == sid.chosen.native), None)


def verify_signer(
    signed: cms.SignedData,
    econtent: bytes,
    step: str,
    certs: tuple[x509.Certificate, ...] | None = None,
) -> x509.Certificate:
    """Check the single signer of ``signed`` over ``econtent``; return its certificate.

    Raises :class:`VerificationError` naming the failed check (content-type attribute,
    messageDigest, signature, or a malformed structure, which asn1crypto only finds when it
    parses a part lazily) or :class:`UnsupportedAlgorithmError` for a disallowed algorithm.
    ``certs`` are ``signed``'s certificates when the caller has them already."""
    try:
        return _verify_signer(signed, econtent, step, certificates(signed) if certs is None else certs)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError) as exc:
        if isinstance(exc, EmrtdError):
            raise
        raise VerificationError(f"malformed SignedData: {exc}", step=step) from None


def _verify_signer(
    signed: cms.SignedData, econtent: bytes, step: str, certs: tuple[x509.Certificate, ...]
) -> x509.Certificate:
    signer_infos = signed["signer_infos"]
    if len(signer_infos) != 1:
        raise VerificationError(f"{len(signer_infos)} signer infos, expected exactly one", step=step)
    signer = signer_infos[0]
    try:
        digest = signatures.digest_name(signer["digest_algorithm"].dump())
    except ValueError:
        raise UnsupportedAlgorithmError("unknown digest algorithm", step=step) from None
    if digest not in signatures.ALLOWED_DIGESTS:
        raise UnsupportedAlgorithmError(f"disallowed digest algorithm {digest}", step=step)
    attributes = signer["signed_attrs"]
    if not isinstance(attributes, cms.CMSAttributes) or not attributes.contents:
        raise VerificationError("signer info has no signed attributes", step=step)
    found = _attribute_values(attributes)
    content_type = _single(found, OID_CONTENT_TYPE)
    wanted_type = signed["encap_content_info"]["content_type"].contents
    if content_type is None or (content_type.kind, content_type.contents) != (
        derparts.OBJECT_IDENTIFIER,
        wanted_type,
    ):
        raise VerificationError("content-type attribute does not match the eContentType", step=step)
    message_digest = _single(found, OID_MESSAGE_DIGEST)
    if (
        message_digest is None
        or message_digest.kind != derparts.OCTET_STRING
        or message_digest.contents != hashlib.new(digest, econtent).digest()
    ):
        raise VerificationError("messageDigest attribute does not match the eContent", step=step)
    # The signature covers the DER SET OF the attributes, sent with an [0] IMPLICIT tag.
    signed_bytes = b"\x31" + attributes.dump()[1:]

    def check(cert: x509.Certificate) -> None:
        try:
            key = pubkey.parse_spki(facts(cert).spki_der)
        except EmrtdError as exc:
            raise UnsupportedAlgorithmError(f"signer key: {exc.message}", step=step) from None
        signatures.verify(
            key,
            signer["signature_algorithm"],
            signed_bytes,
            signer["signature"].native,
            digest=digest,
            step=step,
        )

    certificate = _signer_certificate(signed, signer, certs)
    if certificate is not None:
        check(certificate)
        return certificate
    # The sid names no certificate we can match: accept the one certificate of the SignedData
    # whose key verifies the signature (a certificate that does not verify is never taken).
    for candidate in certs:
        try:
            check(candidate)
        except EmrtdError:
            continue
        return candidate
    raise VerificationError("the signer's certificate is not in the SignedData", step=step)
