"""The CSCA trust store for Passive Authentication.

Loads CSCA certificates (PEM or DER files), ICAO CSCA master lists (CMS SignedData, eContent
type 2.23.136.1.1.2, whose signature is verified and whose signer must chain to a CSCA
loaded from a certificate file: a master list cannot vouch for itself) and CRLs (verified
against their CSCA). Everything is parsed once and indexed by subject key identifier and by
subject name; the store is immutable afterwards, so one instance can serve every session.

Certificates inside a master list that cannot be parsed, or whose keys use algorithms we do
not support, are skipped and counted (real master lists hold a few); a certificate file,
CRL or master list that cannot be loaded is a :class:`~emrtd.errors.TrustStoreError`.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from asn1crypto import core, crl, pem, x509

from . import ldif, pubkey, signatures, signeddata
from .errors import EmrtdError, TrustStoreError
from .lds.base import parsing

OID_MASTER_LIST = "2.23.136.1.1.2"
MAX_FILE_SIZE = 16 * 1024 * 1024  # a master list is about 1 MB
CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
_T = TypeVar("_T")
DSC_CACHE_SIZE = 4096  # verified DSCs remembered per trust store (a country has a handful live)
CRL_SUFFIXES = (".crl",)
ML_SUFFIXES = (".ml",)
LDIF_SUFFIXES = (".ldif",)


@dataclass(frozen=True)
class TrustedCertificate:
    """A CSCA certificate with what verification needs, decoded once."""

    certificate: x509.Certificate = field(repr=False)
    public_key: pubkey.PublicKey = field(repr=False)
    subject: str
    country: str | None
    key_id: bytes | None
    source: str

    def verifies(self, cert: x509.Certificate | crl.CertificateList, step: str) -> bool:
        """Whether this CSCA's key signed ``cert`` (a certificate or a CRL)."""
        if isinstance(cert, crl.CertificateList):
            tbs, algorithm, value = cert["tbs_cert_list"], cert["signature_algorithm"], cert["signature"]
        else:
            tbs, algorithm, value = (
                cert["tbs_certificate"],
                cert["signature_algorithm"],
                cert["signature_value"],
            )
        try:
            signatures.verify(self.public_key, algorithm, tbs.dump(), value.native, step=step)
        except EmrtdError:
            return False
        return True


def describe(name: x509.Name) -> str:
    text: str = name.human_friendly
    return text


def _country(name: x509.Name) -> str | None:
    value = name.native.get("country_name")
    return value.upper() if isinstance(value, str) else None


def _trusted(cert: x509.Certificate, source: str) -> TrustedCertificate:
    key = pubkey.parse_spki(cert["tbs_certificate"]["subject_public_key_info"].dump())
    return TrustedCertificate(
        cert, key, describe(cert.subject), _country(cert.subject), cert.key_identifier, source
    )


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_SIZE:
            raise TrustStoreError(f"{path}: larger than {MAX_FILE_SIZE} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"{path}: {exc.strerror or exc}") from None


def _der_objects(data: bytes, source: str) -> list[bytes]:
    """The DER objects in a DER file or a PEM file (one or more blocks)."""
    if pem.detect(data):
        try:
            return [der for _kind, _headers, der in pem.unarmor(data, multiple=True)]
        except ValueError as exc:
            raise TrustStoreError(f"{source}: malformed PEM: {exc}") from None
    return [data]


@dataclass
class _Builder:
    cscas: list[TrustedCertificate] = field(default_factory=list)
    anchors: list[TrustedCertificate] = field(default_factory=list)  # from certificate files only
    revoked: dict[bytes, set[int]] = field(default_factory=dict)
    skipped: int = 0
    master_lists: int = 0
    crls: int = 0

    def certificate(self, der: bytes, source: str) -> None:
        try:
            cert = x509.Certificate.load(der, strict=True)
            trusted = _trusted(cert, source)
        except (ValueError, TypeError, KeyError, EmrtdError) as exc:
            raise TrustStoreError(f"{source}: not a usable certificate: {exc}") from None
        self.cscas.append(trusted)
        self.anchors.append(trusted)

    def master_list(self, der: bytes, source: str) -> None:
        try:
            with parsing("master list"):
                signed = signeddata.parse_signed(der, OID_MASTER_LIST, "master list")
                certificates = CscaMasterList.load(signed.econtent)["cert_list"]
                entries = list(certificates)
        except EmrtdError as exc:
            raise TrustStoreError(f"{source}: {exc.message}") from None
        try:
            signer = signeddata.verify_signer(signed, "master list")
        except EmrtdError as exc:
            raise TrustStoreError(f"{source}: master list signature: {exc.message}") from None
        chain = [_trusted(c, source) for c in signed.certificates if c.dump() != signer.dump()]
        if not self._anchored(signer, chain):
            raise TrustStoreError(
                f"{source}: the master list signer does not chain to a configured CSCA "
                f"(add the issuing country's CSCA certificate to the trust store)"
            )
        for entry in entries:
            try:
                self.cscas.append(_trusted(entry, source))
            except (ValueError, TypeError, KeyError, EmrtdError):
                self.skipped += 1
        self.master_lists += 1

    def _anchored(self, signer: x509.Certificate, chain: list[TrustedCertificate]) -> bool:
        """The signer is issued by a configured CSCA, directly or through a certificate in
        the SignedData that a configured CSCA issued (a link certificate)."""
        for anchor in self.anchors:
            if anchor.certificate.subject == signer.issuer and anchor.verifies(signer, "master list signer"):
                return True
        for link in chain:
            if link.certificate.subject == signer.issuer and link.verifies(signer, "master list signer"):
                if any(
                    a.certificate.subject == link.certificate.issuer and a.verifies(link.certificate, "link")
                    for a in self.anchors
                ):
                    return True
        return False

    def revocation_list(self, der: bytes, source: str) -> None:
        try:
            revocations = crl.CertificateList.load(der, strict=True)
            issuer = revocations["tbs_cert_list"]["issuer"]
            entries = revocations["tbs_cert_list"]["revoked_certificates"]
            serials = {entry["user_certificate"].native for entry in entries} if entries.native else set()
        except (ValueError, TypeError, KeyError) as exc:
            raise TrustStoreError(f"{source}: not a CRL: {exc}") from None
        signers = [c for c in self.cscas if c.certificate.subject == issuer]
        if not any(csca.verifies(revocations, "CRL") for csca in signers):
            raise TrustStoreError(f"{source}: CRL of {describe(issuer)} is not signed by a CSCA in the store")
        self.revoked.setdefault(issuer.dump(), set()).update(serials)
        self.crls += 1


class _Certificates(core.SetOf):
    _child_spec = x509.Certificate


class CscaMasterList(core.Sequence):
    """ICAO 9303-12 §9: CscaMasterList ::= SEQUENCE { version, certList SET OF Certificate }."""

    _fields = [("version", core.Integer), ("cert_list", _Certificates)]


class TrustStore:
    """CSCAs and revocations, indexed. Build with :meth:`load` or :meth:`from_der`."""

    def __init__(
        self,
        cscas: Iterable[TrustedCertificate],
        revoked: dict[bytes, set[int]],
        *,
        skipped: int = 0,
        master_lists: int = 0,
        crls: int = 0,
    ) -> None:
        unique: dict[bytes, TrustedCertificate] = {}
        for csca in cscas:
            unique.setdefault(csca.certificate.dump(), csca)
        self.cscas: tuple[TrustedCertificate, ...] = tuple(unique.values())
        self._by_key_id: dict[bytes, list[TrustedCertificate]] = {}
        self._by_subject: dict[bytes, list[TrustedCertificate]] = {}
        for csca in self.cscas:
            if csca.key_id:
                self._by_key_id.setdefault(csca.key_id, []).append(csca)
            self._by_subject.setdefault(csca.certificate.subject.dump(), []).append(csca)
        self._revoked = {issuer: frozenset(serials) for issuer, serials in revoked.items()}
        self.skipped, self.master_lists, self.crls = skipped, master_lists, crls
        #: SHA-256 of a DSC's DER → the CSCA whose key verified its signature. Only successes
        #: are kept (a failure is checked again next time), at most DSC_CACHE_SIZE, least
        #: recently used dropped first. The cache belongs to this store: a reloaded store (new
        #: master list, new CRL) starts empty. Validity dates, key usage and revocation are
        #: checked per session: they depend on the time and are cheap.
        self._verified: OrderedDict[bytes, Any] = OrderedDict()
        self._verified_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.cscas)

    def __repr__(self) -> str:
        return (
            f"TrustStore({len(self.cscas)} CSCAs, {self.master_lists} master lists, {self.crls} CRLs, "
            f"{self.skipped} skipped)"
        )

    def issuers_of(self, cert: x509.Certificate) -> list[TrustedCertificate]:
        """Candidate CSCAs for ``cert``: by authority key identifier, else by issuer name."""
        key_id = cert.authority_key_identifier
        by_key = self._by_key_id.get(key_id, []) if key_id else []
        by_name = self._by_subject.get(cert.issuer.dump(), [])
        return by_key + [c for c in by_name if c not in by_key]

    def verified_issuer(
        self, cert: x509.Certificate, candidates: list[TrustedCertificate] | None = None
    ) -> TrustedCertificate | None:
        """The CSCA of this store whose key signed ``cert`` (a DSC), or None; remembered for
        the DSC (see ``_verified``)."""
        digest = hashlib.sha256(cert.dump()).digest()

        def find() -> TrustedCertificate | None:
            issuers = self.issuers_of(cert) if candidates is None else candidates
            return next((c for c in issuers if c.verifies(cert, "DSC")), None)

        return self.remember(b"issuer:" + digest, find)

    def remember(self, key: bytes, make: Callable[[], _T | None]) -> _T | None:
        """``make()``, kept under ``key`` for this store's life unless it is None (what is
        kept: facts about public certificates, never about a document's holder). At most
        DSC_CACHE_SIZE entries, least recently used dropped first."""
        with self._verified_lock:
            known = self._verified.get(key)
            if known is not None:
                self._verified.move_to_end(key)
                return known  # type: ignore[no-any-return]
        made = make()
        if made is not None:
            with self._verified_lock:
                self._verified[key] = made
                while len(self._verified) > DSC_CACHE_SIZE:
                    self._verified.popitem(last=False)
        return made

    def is_revoked(self, cert: x509.Certificate) -> bool:
        known = signeddata.facts(cert)
        return known.serial_number in self._revoked.get(known.issuer_der, frozenset())

    def has_crl_for(self, issuer: x509.Name) -> bool:
        return issuer.dump() in self._revoked

    @classmethod
    def from_der(
        cls,
        certificates: Iterable[bytes] = (),
        master_lists: Iterable[bytes] = (),
        crls: Iterable[bytes] = (),
    ) -> TrustStore:
        builder = _Builder()
        for index, der in enumerate(certificates):
            builder.certificate(der, f"certificate {index}")
        for index, der in enumerate(master_lists):
            builder.master_list(der, f"master list {index}")
        for index, der in enumerate(crls):
            builder.revocation_list(der, f"CRL {index}")
        return cls._finish(builder)

    @classmethod
    def load(cls, *paths: str | Path) -> TrustStore:
        """Load files and folders (recursively): ``.pem/.crt/.cer/.der`` certificates,
        ``.ml`` master lists, ``.crl`` revocation lists, and ``.ldif`` downloads of the ICAO
        PKD (master lists, CRLs, and CA certificates; document signer certificates in them
        are not trust anchors and are skipped). Other files are ignored."""
        files: list[Path] = []
        for entry in map(Path, paths):
            if entry.is_dir():
                files += sorted(p for p in entry.rglob("*") if p.is_file())
            elif entry.exists():
                files.append(entry)
            else:
                raise TrustStoreError(f"{entry}: no such file or folder")
        builder = _Builder()
        kinds = (
            (CERT_SUFFIXES, builder.certificate),
            (ML_SUFFIXES, builder.master_list),
            (CRL_SUFFIXES, builder.revocation_list),
        )
        pkd = {path: _ldif_objects(path) for path in files if path.suffix.lower() in LDIF_SUFFIXES}
        for index, (suffixes, add) in enumerate(kinds):  # certificates first: they anchor the rest
            for path in files:
                if path.suffix.lower() in suffixes:
                    for der in _der_objects(_read(path), str(path)):
                        add(der, str(path))
                elif path in pkd:
                    for der in pkd[path].objects[index]:
                        add(der, str(path))
            if index == 0:
                builder.skipped += sum(found.skipped for found in pkd.values())
        return cls._finish(builder)

    @classmethod
    def _finish(cls, builder: _Builder) -> TrustStore:
        return cls(
            builder.cscas,
            builder.revoked,
            skipped=builder.skipped,
            master_lists=builder.master_lists,
            crls=builder.crls,
        )


@dataclass(frozen=True)
class _PkdObjects:
    """What a PKD LDIF file holds: (CA certificates, master lists, CRLs) and the number of
    document signer certificates skipped."""

    objects: tuple[list[bytes], list[bytes], list[bytes]]
    skipped: int


def _ldif_objects(path: Path) -> _PkdObjects:
    """The objects of a PKD LDIF file (see :class:`_PkdObjects`)."""
    text = _read(path).decode("utf-8", errors="replace")
    cas: list[bytes] = []
    lists: list[bytes] = []
    crls: list[bytes] = []
    skipped = 0
    for entry in ldif.entries(text, str(path)):
        for name, values in entry.items():
            attribute = name.split(";")[0]
            if attribute == "pkdmasterlistcontent":
                lists += values
            elif attribute == "certificaterevocationlist":
                crls += values
            elif attribute == "usercertificate":
                for der in values:
                    if _is_ca(der):
                        cas.append(der)
                    else:
                        skipped += 1
    return _PkdObjects((cas, lists, crls), skipped)


def _is_ca(der: bytes) -> bool:
    try:
        cert = x509.Certificate.load(der)
        return bool(cert.ca)
    except (ValueError, TypeError, KeyError):
        return True  # let the certificate loader report what is wrong with it


def validity(cert: x509.Certificate) -> tuple[datetime, datetime]:
    """A certificate's (notBefore, notAfter)."""
    period = cert["tbs_certificate"]["validity"]
    return period["not_before"].native, period["not_after"].native


def valid_at(cert: x509.Certificate | tuple[datetime, datetime], at: datetime) -> str | None:
    """None when ``at`` is inside the validity period (of a certificate, or as given by
    :func:`validity`), else "expired"/"not yet valid"."""
    not_before, not_after = cert if isinstance(cert, tuple) else validity(cert)
    if at < not_before:
        return "not yet valid"
    if at > not_after:
        return "expired"
    return None
