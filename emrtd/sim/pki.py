"""A deterministic test PKI: CSCAs, document signers, CRLs, CMS signatures and master lists.

Everything is derived from a seed, so the same seed gives the same keys, certificates, CRLs
and (for RSA PKCS#1 v1.5 and deterministic ECDSA, RFC 6979) the same signature bytes: test
fixtures are reproducible and can be shipped as files. RSA-PSS signatures carry a random
salt inside ``cryptography``; PSS-signed objects verify the same but differ byte-wise.

Structures are built with ``asn1crypto`` (certificates, CRLs, CMS SignedData, explicit EC
parameters, which ``cryptography``'s builders cannot write) and signed with ``cryptography``.
Key generation is seeded: EC private scalars come from the seed stream, RSA primes from a
seeded Miller-Rabin search (no library offers seeded RSA key generation).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, crl, keys, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .. import curves, signatures
from ..truststore import CscaMasterList
from . import cache

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

OID_MASTER_LIST = "2.23.136.1.1.2"
OID_LDS_SECURITY_OBJECT = "2.23.136.1.1.1"
OID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"  # EF.CardSecurity content (BSI TR-03110)
OID_ML_SIGNER_EKU = "2.23.136.1.1.9"


class Seed:
    """A deterministic byte stream per label: SHAKE-256(seed ‖ 0 ‖ label ‖ 0 ‖ counter)."""

    def __init__(self, seed: str | bytes) -> None:
        self.seed = seed.encode() if isinstance(seed, str) else bytes(seed)

    def bytes(self, label: str, n: int, counter: int = 0) -> bytes:
        data = self.seed + b"\x00" + label.encode() + b"\x00" + counter.to_bytes(8, "big")
        return hashlib.shake_256(data).digest(n)

    def stream(self, label: str) -> _Stream:
        """A random source (``random(n) -> n bytes``) for protocols that take one."""
        return _Stream(self, label)


class _Stream:
    def __init__(self, seed: Seed, label: str) -> None:
        self.seed, self.label, self.counter = seed, label, 0

    def __call__(self, n: int) -> bytes:
        self.counter += 1
        return self.seed.bytes(self.label, n, self.counter)


# -- keys ---------------------------------------------------------------------------------

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probably_prime(n: int, stream: _Stream, rounds: int = 40) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    size = (n.bit_length() + 7) // 8
    for _ in range(rounds):
        a = 2 + int.from_bytes(stream(size), "big") % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(stream: _Stream, bits: int, e: int) -> int:
    while True:
        candidate = int.from_bytes(stream(bits // 8), "big") | (3 << (bits - 2)) | 1
        if (candidate - 1) % e and _probably_prime(candidate, stream):
            return candidate


def rsa_key(seed: Seed, label: str, bits: int = 2048, e: int = 65537) -> rsa.RSAPrivateKey:
    """A seeded RSA key whose modulus has exactly ``bits`` bits (from the disk cache of
    :mod:`emrtd.sim.cache` after the first time: the prime search is the slow part)."""
    parts = (seed.seed, label.encode(), b"%d,%d" % (bits, e))
    inputs = b"".join(len(part).to_bytes(4, "big") + part for part in parts)

    def load(der: bytes) -> rsa.RSAPrivateKey:
        key = serialization.load_der_private_key(der, None)
        if not isinstance(key, rsa.RSAPrivateKey) or key.key_size != bits:
            raise ValueError("not the cached key")
        return key

    def make() -> bytes:
        return _rsa_key(seed, label, bits, e).private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    return load(cache.cached("rsa", inputs, make, load))


def _rsa_key(seed: Seed, label: str, bits: int, e: int) -> rsa.RSAPrivateKey:
    stream = seed.stream("rsa:" + label)
    while True:
        p, q = _prime(stream, bits // 2, e), _prime(stream, bits // 2, e)
        if p != q and (p * q).bit_length() == bits:
            break
    d = pow(e, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, p * q),
    )
    return numbers.private_key()


def ec_scalar(seed: Seed, label: str, curve: curves.Curve) -> int:
    """A seeded private scalar in [1, n-1]."""
    size = (curve.n.bit_length() + 7) // 8 + 8
    return int.from_bytes(seed.bytes("ec:" + label, size), "big") % (curve.n - 1) + 1


def ec_key(seed: Seed, label: str, curve_name: str) -> ec.EllipticCurvePrivateKey:
    curve = curves.by_name(curve_name)
    return ec.derive_private_key(ec_scalar(seed, label, curve), curve.ec_curve())


def spki(key: PrivateKey, *, explicit: bool = False) -> keys.PublicKeyInfo:
    """The SubjectPublicKeyInfo; EC keys optionally with explicit domain parameters."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = keys.PublicKeyInfo.load(der)
    if not explicit or not isinstance(key, ec.EllipticCurvePrivateKey):
        return info
    curve = curves.by_name(key.curve.name)
    return keys.PublicKeyInfo(
        {
            "algorithm": {"algorithm": "ec", "parameters": explicit_parameters(curve)},
            "public_key": bytes(info["public_key"]),
        }
    )


def explicit_parameters(curve: curves.Curve) -> keys.ECDomainParameters:
    """SEC 1 specified (explicit) domain parameters for a curve."""
    size = curve.size
    base = b"\x04" + curve.gx.to_bytes(size, "big") + curve.gy.to_bytes(size, "big")
    return keys.ECDomainParameters(
        name="specified",
        value={
            "version": "ecdpVer1",
            "field_id": {"field_type": "prime_field", "parameters": curve.p},
            "curve": {"a": curve.a.to_bytes(size, "big"), "b": curve.b.to_bytes(size, "big")},
            "base": base,
            "order": curve.n,
            "cofactor": curve.h,
        },
    )


# -- signatures ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """A key plus how it signs: hash and, for RSA, PKCS#1 v1.5 or PSS."""

    key: PrivateKey = field(repr=False)
    hash_name: str = "sha256"
    pss: bool = False

    def sign(self, data: bytes) -> bytes:
        algorithm = signatures.HASHES[self.hash_name]()
        if isinstance(self.key, rsa.RSAPrivateKey):
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(algorithm), algorithm.digest_size)
                if self.pss
                else padding.PKCS1v15()
            )
            return self.key.sign(data, pad, algorithm)
        return self.key.sign(data, ec.ECDSA(algorithm, deterministic_signing=True))

    def algorithm(self) -> algos.SignedDigestAlgorithm:
        if isinstance(self.key, rsa.RSAPrivateKey):
            if self.pss:
                return algos.SignedDigestAlgorithm(
                    {
                        "algorithm": "rsassa_pss",
                        "parameters": {
                            "hash_algorithm": {"algorithm": self.hash_name},
                            "mask_gen_algorithm": {
                                "algorithm": "mgf1",
                                "parameters": {"algorithm": self.hash_name},
                            },
                            "salt_length": signatures.HASHES[self.hash_name]().digest_size,
                            "trailer_field": "trailer_field_bc",
                        },
                    }
                )
            return algos.SignedDigestAlgorithm({"algorithm": f"{self.hash_name}_rsa"})
        return algos.SignedDigestAlgorithm({"algorithm": f"{self.hash_name}_ecdsa"})


# -- certificates -------------------------------------------------------------------------


def _time(value: datetime) -> x509.Time:
    return x509.Time(name="utc_time" if value.year < 2050 else "general_time", value=value)


def name(country: str, common_name: str, organization: str = "DocVal Test PKI") -> x509.Name:
    return x509.Name.build(
        {"country_name": country, "organization_name": organization, "common_name": common_name}
    )


def _key_id(info: keys.PublicKeyInfo) -> bytes:
    return hashlib.sha1(bytes(info["public_key"])).digest()


@dataclass(frozen=True)
class Authority:
    """A certificate with its private key (a CSCA, DSC or master-list signer)."""

    certificate: x509.Certificate
    signer: Signer

    @property
    def der(self) -> bytes:
        return bytes(self.certificate.dump())

    @property
    def subject(self) -> x509.Name:
        subject: x509.Name = self.certificate.subject
        return subject


def certificate(
    *,
    subject: x509.Name,
    key: PrivateKey,
    issuer: Authority | None,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    explicit: bool = False,
    hash_name: str = "sha256",
    pss: bool = False,
    extended_key_usage: str | None = None,
    issuer_name: x509.Name | None = None,
    key_usage: set[str] | None = None,
    crl_url: str | None = None,
) -> Authority:
    """Issue a certificate for ``key`` (self-signed when ``issuer`` is None).

    ``issuer_name`` and ``key_usage`` override what the issuer and ``ca`` imply (for negative
    tests)."""
    public = spki(key, explicit=explicit)
    signer = issuer.signer if issuer else Signer(key, hash_name, pss)
    issuer_name = issuer_name or (issuer.subject if issuer else subject)
    issuer_key_id = (
        _key_id(issuer.certificate["tbs_certificate"]["subject_public_key_info"])
        if issuer
        else _key_id(public)
    )
    usage = key_usage or ({"key_cert_sign", "crl_sign"} if ca else {"digital_signature"})
    extensions = [
        {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(public)},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": issuer_key_id},
        },
    ]
    if ca:
        extensions.append(
            {
                "extn_id": "basic_constraints",
                "critical": True,
                "extn_value": {"ca": True, "path_len_constraint": 0},
            }
        )
    if crl_url:
        extensions.append(
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [
                    {
                        "distribution_point": x509.DistributionPointName(
                            name="full_name",
                            value=[x509.GeneralName(name="uniform_resource_identifier", value=crl_url)],
                        )
                    }
                ],
            }
        )
    if extended_key_usage:
        extensions.append(
            {"extn_id": "extended_key_usage", "critical": False, "extn_value": [extended_key_usage]}
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": signer.algorithm(),
            "issuer": issuer_name,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": public,
            "extensions": extensions,
        }
    )
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": signer.algorithm(),
            "signature_value": signer.sign(tbs.dump()),
        }
    )
    return Authority(cert, Signer(key, hash_name, pss))


def revocation_list(
    issuer: Authority,
    revoked: list[tuple[int, datetime]],
    this_update: datetime,
    next_update: datetime,
    number: int = 1,
) -> crl.CertificateList:
    """A CRL over the given (serial, revocation date) pairs."""
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": issuer.signer.algorithm(),
            "issuer": issuer.subject,
            "this_update": _time(this_update),
            "next_update": _time(next_update),
            "revoked_certificates": [
                {"user_certificate": serial, "revocation_date": _time(when)} for serial, when in revoked
            ]
            or None,
            "crl_extensions": [
                {"extn_id": "crl_number", "critical": False, "extn_value": number},
                {
                    "extn_id": "authority_key_identifier",
                    "critical": False,
                    "extn_value": {
                        "key_identifier": _key_id(
                            issuer.certificate["tbs_certificate"]["subject_public_key_info"]
                        )
                    },
                },
            ],
        }
    )
    return crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": issuer.signer.algorithm(),
            "signature": issuer.signer.sign(tbs.dump()),
        }
    )


# -- CMS ----------------------------------------------------------------------------------


def signed_data(
    content_type: str,
    content: bytes,
    signer: Authority,
    *,
    digest: str = "sha256",
    signing_time: datetime | None = None,
    message_digest: bytes | None = None,
    extra_certificates: tuple[x509.Certificate, ...] = (),
) -> cms.ContentInfo:
    """CMS SignedData with signed attributes (content type, message digest) over ``content``.

    ``message_digest`` overrides the digest attribute (for negative fixtures)."""
    attributes = [
        {"type": "content_type", "values": [content_type]},
        {"type": "message_digest", "values": [message_digest or hashlib.new(digest, content).digest()]},
    ]
    if signing_time is not None:
        attributes.append({"type": "signing_time", "values": [cms.Time(name="utc_time", value=signing_time)]})
    signed_attrs = cms.CMSAttributes(attributes)
    signature = Signer(signer.signer.key, digest, signer.signer.pss)
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                name="issuer_and_serial_number",
                value={
                    "issuer": signer.certificate.issuer,
                    "serial_number": signer.certificate.serial_number,
                },
            ),
            "digest_algorithm": {"algorithm": digest},
            "signed_attrs": signed_attrs,
            "signature_algorithm": signature.algorithm(),
            "signature": signature.sign(signed_attrs.dump()),
        }
    )
    data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": [{"algorithm": digest}],
            "encap_content_info": {
                "content_type": content_type,
                "content": core.ParsableOctetString(content),
            },
            "certificates": [signer.certificate, *extra_certificates],
            "signer_infos": [signer_info],
        }
    )
    return cms.ContentInfo({"content_type": "signed_data", "content": data})


def master_list(
    signer: Authority,
    certificates: list[x509.Certificate],
    *,
    signer_chain: tuple[x509.Certificate, ...] = (),
) -> bytes:
    """A CMS-signed ICAO CSCA master list."""
    content = CscaMasterList({"version": 0, "cert_list": certificates}).dump()
    return bytes(signed_data(OID_MASTER_LIST, content, signer, extra_certificates=signer_chain).dump())


def pem(label: str, der: bytes) -> bytes:
    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"-----BEGIN "
        + label.encode()
        + b"-----\n"
        + b"\n".join(lines)
        + b"\n-----END "
        + label.encode()
        + b"-----\n"
    )


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)
