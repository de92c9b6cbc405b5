"""CMS SignedData (RFC 5652 §5) as eMRTD objects use it: EF.SOD, EF.CardSecurity and CSCA
master lists carry one signer, identified by issuer and serial number or by subject key
identifier, whose certificate is in the SignedData, and whose signed attributes hold the
content type and the message digest of the eContent.

:func:`parse_signed` takes the ContentInfo apart with asn1crypto's parser (``derparts``), not
its object model: a server checks a SOD per session, and an object per field cost more than
the check. Certificates are asn1crypto ``x509.Certificate`` objects; :attr:`Signed.cms` is
asn1crypto's full view for anything else."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

from asn1crypto import cms, core, x509

from . import derparts, pubkey, signatures
from .errors import EmrtdError, LDSError, UnsupportedAlgorithmError, VerificationError

OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").contents
OID_CONTENT_TYPE = core.ObjectIdentifier("1.2.840.113549.1.9.3").contents
OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").contents

_MALFORMED = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)


@dataclass(frozen=True, slots=True)
class Signed:
    """A SignedData taken apart: its eContentType and eContent, its X.509 certificates, and
    its SignerInfos (read when a signer is checked, so a malformed signer is that check's
    finding, not a parse error)."""

    der: bytes = field(repr=False)  # the SignedData
    content_type: str  # dotted eContentType
    econtent: bytes = field(repr=False)
    certificates: tuple[x509.Certificate, ...]
    signer_infos: bytes = field(repr=False)  # the contents of the SignerInfos SET

    @property
    def cms(self) -> cms.SignedData:
        """asn1crypto's view of the SignedData (parsed lazily, as each part is read)."""
        return cms.SignedData.load(self.der)


class SignedFile:
    """What a parsed file carrying one SignedData (EF.SOD, EF.CardSecurity) offers through its
    ``signed`` field: the eContent as signed, the certificates, asn1crypto's full view."""

    __slots__ = ()
    signed: Signed

    @property
    def econtent(self) -> bytes:
        """The raw DER of the encapsulated content, as signed."""
        return self.signed.econtent

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        return self.signed.certificates

    @property
    def signed_data(self) -> cms.SignedData:
        """asn1crypto's view of the SignedData."""
        return self.signed.cms


def parse_signed(der: bytes, content_type: str, what: str, *, also: tuple[str, ...] = ()) -> Signed:
    """The SignedData of a CMS ContentInfo whose eContentType must be ``content_type`` (EF.SOD,
    EF.CardSecurity, master lists) or one of ``also``. Raises LDSError naming ``what``."""
    try:
        info = derparts.single(der, derparts.SEQUENCE, f"{what} ContentInfo")
        kind, content = derparts.expect(
            derparts.children(info.contents),
            derparts.OBJECT_IDENTIFIER,
            derparts.CONTEXT_0,
            what=f"{what} ContentInfo",
        )
        if kind.contents != OID_SIGNED_DATA:
            raise LDSError(f"{what} content is not SignedData")
        signed = derparts.single(content.contents, derparts.SEQUENCE, f"{what} SignedData")
        parts = derparts.children(signed.contents)
        if len(parts) < 4 or [p.kind for p in parts[:3]] != [
            derparts.INTEGER,
            derparts.SET,
            derparts.SEQUENCE,
        ]:
            raise ValueError(f"{what} SignedData is not what its ASN.1 definition says")
        optional = parts[3:-1]
        if parts[-1].kind != derparts.SET or [p.kind for p in optional] not in (
            [],
            [derparts.CONTEXT_0],
            [derparts.CONTEXT_1],
            [derparts.CONTEXT_0, derparts.CONTEXT_1],
        ):
            raise ValueError(f"{what} SignedData is not what its ASN.1 definition says")
        encap = derparts.children(parts[2].contents)
        if not encap or encap[0].kind != derparts.OBJECT_IDENTIFIER:
            raise ValueError(f"{what} encapsulated content info has no content type")
        econtent_type = derparts.dotted(encap[0].contents)
        if econtent_type not in (content_type, *also):
            raise LDSError(f"{what} eContentType is {econtent_type}, not {content_type}")
        if len(encap) != 2 or encap[1].kind != derparts.CONTEXT_0:
            raise LDSError(f"{what} has no encapsulated content")
        inner = derparts.children(encap[1].contents)
        if len(inner) != 1:
            raise LDSError("eContent is not an OCTET STRING")
        try:
            econtent = derparts.octets(inner[0], "eContent")
        except ValueError:
            raise LDSError("eContent is not an OCTET STRING") from None
        certificates = tuple(
            _certificate(choice.der)
            for chosen in optional
            if chosen.kind == derparts.CONTEXT_0
            for choice in derparts.children(chosen.contents)
            if choice.kind == derparts.SEQUENCE  # other CertificateChoices are skipped
        )
    except LDSError:
        raise
    except _MALFORMED as exc:
        raise LDSError(f"malformed {what}: {exc}") from None
    return Signed(signed.der, econtent_type, econtent, certificates, parts[-1].contents)


class _SharedCertificate(x509.Certificate):  # type: ignore[misc]
    """A certificate loaded once and shared between the SignedData that carry it: never
    changed, so its encoding is kept, and ``dump()`` does not walk the fields asn1crypto has
    parsed since to see whether one was changed."""

    _encoded: bytes = b""

    def dump(self, force: bool = False) -> bytes:
        if force or not self._encoded:
            encoded: bytes = super().dump(force)
            return encoded
        return self._encoded


@functools.lru_cache(maxsize=1024)
def _certificate(der: bytes) -> x509.Certificate:
    """A certificate of a SignedData, loaded once per encoding (public data: a server sees the
    same document signers again and again; asn1crypto parses each field once, on first use)."""
    cert = _SharedCertificate.load(der)
    cert._encoded = cert.dump()  # what dump() gives before any field is parsed
    return cert


@dataclass(frozen=True, slots=True)
class _Signer:
    sid: derparts.Part  # issuerAndSerialNumber (SEQUENCE) or subjectKeyIdentifier ([0])
    digest_algorithm: bytes  # DER
    signed_attrs: derparts.Part | None  # [0] IMPLICIT SET OF Attribute
    signature_algorithm: bytes  # DER
    signature: bytes


def _signers(signed: Signed) -> list[_Signer]:
    signers = []
    for info in derparts.children(signed.signer_infos):
        parts = derparts.children(info.contents) if info.kind == derparts.SEQUENCE else []
        if parts and parts[-1].kind == derparts.CONTEXT_1:
            parts = parts[:-1]  # unsigned attributes: not used
        attrs = [p for p in parts[3:4] if p.kind == derparts.CONTEXT_0]
        rest = parts[3 + len(attrs) :]
        if (
            len(parts) < 5
            or parts[0].kind != derparts.INTEGER
            or parts[1].kind not in (derparts.SEQUENCE, derparts.CONTEXT_0_PRIMITIVE)
            or parts[2].kind != derparts.SEQUENCE
            or [p.kind for p in rest] != [derparts.SEQUENCE, derparts.OCTET_STRING]
        ):
            raise ValueError("a SignerInfo is not what its ASN.1 definition says")
        signed_attrs = attrs[0] if attrs else None
        signers.append(_Signer(parts[1], parts[2].der, signed_attrs, rest[0].der, rest[1].contents))
    return signers


def _attribute_values(attributes: derparts.Part) -> dict[bytes, list[list[derparts.Part]]]:
    """The signed attributes by the encoding of their type OID: each occurrence's values."""
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


def _name_set(name: x509.Name) -> frozenset[tuple[str, str]]:
    """A Name as a set of (attribute type, normalized value): RDN order does not count. Some
    issuers write the SignerInfo's issuer with the RDNs in another order than the DSC's."""
    return frozenset(
        (attribute["type"].dotted, " ".join(str(attribute["value"].native).lower().split()))
        for rdn in name.chosen
        for attribute in rdn
    )


def _signer_certificate(signed: Signed, signer: _Signer) -> x509.Certificate | None:
    candidates = signed.certificates
    if signer.sid.kind == derparts.CONTEXT_0_PRIMITIVE:  # subjectKeyIdentifier
        return next((c for c in candidates if facts(c).key_identifier == signer.sid.contents), None)
    wanted = signer.sid.der
    for cert in candidates:  # byte for byte: the usual case, and cheap
        if facts(cert).sid_der == wanted:
            return cert
    sid = cms.IssuerAndSerialNumber.load(wanted)
    issuer = sid["issuer"]
    for cert in candidates:
        if facts(cert).serial_number == sid["serial_number"].native and (
            cert.issuer == issuer  # RFC 5280 name matching
            or _name_set(cert.issuer) == _name_set(issuer)
        ):
            return cert
    return None


def first_signer_certificate(signed: Signed) -> x509.Certificate | None:
    """The certificate the first SignerInfo's sid names (None if absent or malformed): the DSC
    to name in a report even when its signature failed."""
    try:
        signers = _signers(signed)
        return _signer_certificate(signed, signers[0]) if signers else None
    except _MALFORMED:
        return None


def verify_signer(signed: Signed, step: str) -> x509.Certificate:
    """Check the single signer of ``signed`` over its eContent; return its certificate.

    Raises :class:`VerificationError` naming the failed check (content-type attribute,
    messageDigest, signature, or a malformed SignerInfo) or
    :class:`UnsupportedAlgorithmError` for a disallowed algorithm."""
    try:
        return _verify_signer(signed, step)
    except _MALFORMED as exc:
        if isinstance(exc, EmrtdError):
            raise
        raise VerificationError(f"malformed SignedData: {exc}", step=step) from None


def _verify_signer(signed: Signed, step: str) -> x509.Certificate:
    signers = _signers(signed)
    if len(signers) != 1:
        raise VerificationError(f"{len(signers)} signer infos, expected exactly one", step=step)
    signer = signers[0]
    try:
        digest = signatures.digest_name(signer.digest_algorithm)
    except ValueError:
        raise UnsupportedAlgorithmError("unknown digest algorithm", step=step) from None
    if digest not in signatures.ALLOWED_DIGESTS:
        raise UnsupportedAlgorithmError(f"disallowed digest algorithm {digest}", step=step)
    attributes = signer.signed_attrs
    if attributes is None or not attributes.contents:
        raise VerificationError("signer info has no signed attributes", step=step)
    found = _attribute_values(attributes)
    content_type = _single(found, OID_CONTENT_TYPE)
    if (
        content_type is None
        or content_type.kind != derparts.OBJECT_IDENTIFIER
        or derparts.dotted(content_type.contents) != signed.content_type
    ):
        raise VerificationError("content-type attribute does not match the eContentType", step=step)
    message_digest = _single(found, OID_MESSAGE_DIGEST)
    if (
        message_digest is None
        or message_digest.kind != derparts.OCTET_STRING
        or message_digest.contents != hashlib.new(digest, signed.econtent).digest()
    ):
        raise VerificationError("messageDigest attribute does not match the eContent", step=step)
    # The signature covers the DER SET OF the attributes, sent with an [0] IMPLICIT tag.
    signed_bytes = b"\x31" + attributes.der[1:]

    def check(cert: x509.Certificate) -> None:
        try:
            key = pubkey.certificate_key(facts(cert).spki_der)
        except EmrtdError as exc:
            raise UnsupportedAlgorithmError(f"signer key: {exc.message}", step=step) from None
        signatures.verify(
            key, signer.signature_algorithm, signed_bytes, signer.signature, digest=digest, step=step
        )

    certificate = _signer_certificate(signed, signer)
    if certificate is not None:
        check(certificate)
        return certificate
    # The sid names no certificate we can match: accept the one certificate of the SignedData
    # whose key verifies the signature (a certificate that does not verify is never taken).
    for candidate in signed.certificates:
        try:
            check(candidate)
        except EmrtdError:
            continue
        return candidate
    raise VerificationError("the signer's certificate is not in the SignedData", step=step)
