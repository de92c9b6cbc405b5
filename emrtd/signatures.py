"""Verifying the signatures of the eMRTD PKI: certificates, CRLs, SOD and master-list signer
infos, EF.CardSecurity.

Algorithms are named by their X.509/CMS AlgorithmIdentifier (``asn1crypto``): RSA PKCS#1
v1.5, RSASSA-PSS (with its parameters), ECDSA with DER signatures, and BSI TR-03111
``ecdsa-plain-*`` (r ‖ s). Keys come from :func:`emrtd.pubkey.parse_spki`, so EC keys with
explicit parameters work, including curves ``cryptography`` lacks (verified with
:mod:`emrtd.ecmath`). Digests weaker than SHA-1 are refused as disallowed.
"""

from __future__ import annotations

import functools
import hashlib

from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from . import ecmath, pubkey
from .errors import UnsupportedAlgorithmError, VerificationError

ALLOWED_DIGESTS = ("sha1", "sha224", "sha256", "sha384", "sha512")
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
# BSI TR-03111 ecdsa-plain-SHA*: the signature is r ‖ s, not a DER SEQUENCE.
PLAIN_ECDSA = {
    "0.4.0.127.0.7.1.1.4.1.1": "sha1",
    "0.4.0.127.0.7.1.1.4.1.2": "sha224",
    "0.4.0.127.0.7.1.1.4.1.3": "sha256",
    "0.4.0.127.0.7.1.1.4.1.4": "sha384",
    "0.4.0.127.0.7.1.1.4.1.5": "sha512",
}


@functools.lru_cache(maxsize=64)
def digest_name(algorithm_der: bytes) -> str:
    """A DigestAlgorithm's asn1crypto name (``sha256``, or the dotted OID when unknown) by its
    encoding; ValueError when it is malformed."""
    name: str = algos.DigestAlgorithm.load(algorithm_der)["algorithm"].native
    return name


def _allowed(digest: str, step: str) -> str:
    if digest not in ALLOWED_DIGESTS:
        raise UnsupportedAlgorithmError(f"disallowed digest algorithm {digest}", step=step)
    return digest


def verify(
    public_key: pubkey.PublicKey,
    algorithm: algos.SignedDigestAlgorithm | bytes,
    data: bytes,
    signature: bytes,
    *,
    digest: str | None = None,
    step: str = "signature",
) -> None:
    """Verify ``signature`` over ``data``; raise :class:`VerificationError` (bad signature)
    or :class:`UnsupportedAlgorithmError` (algorithm not allowed or not known).

    ``algorithm`` is the AlgorithmIdentifier or its DER. ``digest`` is the CMS
    digestAlgorithm, used when the signature algorithm names none
    (``rsaEncryption``, ``ecdsa``)."""
    encoded = algorithm if isinstance(algorithm, bytes) else algorithm.dump()
    kind, hash_name, pad = _plan(encoded, digest, step)
    if kind == "rsassa_pss" or kind == "rsassa_pkcs1v15":
        if not isinstance(public_key, rsa.RSAPublicKey):
            what = "RSA-PSS" if kind == "rsassa_pss" else "RSA"
            raise VerificationError(f"{what} signature but the key is not RSA", step=step)
        try:
            public_key.verify(signature, data, pad or padding.PKCS1v15(), HASHES[hash_name]())
        except InvalidSignature:
            what = "RSA-PSS" if kind == "rsassa_pss" else "RSA PKCS#1 v1.5"
            raise VerificationError(f"{what} signature does not verify", step=step) from None
        return
    verify_ecdsa(public_key, data, signature, hash_name, plain=kind == "ecdsa_plain", step=step)


@functools.lru_cache(maxsize=256)
def _plan(algorithm_der: bytes, digest: str | None, step: str) -> tuple[str, str, padding.PSS | None]:
    """What a SignedDigestAlgorithm (by its encoding: a server sees a handful) asks for: the
    kind (rsassa_pkcs1v15, rsassa_pss, ecdsa, ecdsa_plain), the allowed hash, the PSS padding.
    Refusals raise and are not remembered."""
    algorithm = algos.SignedDigestAlgorithm.load(algorithm_der)
    oid = algorithm["algorithm"].dotted
    if oid in PLAIN_ECDSA:
        return "ecdsa_plain", _allowed(PLAIN_ECDSA[oid], step), None
    try:
        name = algorithm.signature_algo
    except ValueError:
        raise UnsupportedAlgorithmError(f"signature algorithm {oid} is not supported", step=step) from None
    if name == "rsassa_pss":
        return ("rsassa_pss", *_pss_parameters(algorithm["parameters"].dump(), step))
    try:
        hash_name = algorithm.hash_algo
    except ValueError:
        if digest is None:
            raise UnsupportedAlgorithmError(f"signature algorithm {oid} names no digest", step=step) from None
        hash_name = digest
    hash_name = _allowed(hash_name, step)
    if name in ("rsassa_pkcs1v15", "ecdsa"):
        return name, hash_name, None
    raise UnsupportedAlgorithmError(f"signature algorithm {name} is not supported", step=step)


@functools.lru_cache(maxsize=64)
def _pss_parameters(der: bytes, step: str) -> tuple[str, padding.PSS]:
    """RSASSA-PSS-params (by their encoding: a server sees a handful) → hash and padding."""
    params = algos.RSASSAPSSParams.load(der)
    hash_name = _allowed(params["hash_algorithm"]["algorithm"].native, step)
    mgf = params["mask_gen_algorithm"]
    mgf_hash = (
        _allowed(mgf["parameters"]["algorithm"].native, step) if mgf["algorithm"].native == "mgf1" else None
    )
    if mgf_hash is None:
        raise UnsupportedAlgorithmError("RSA-PSS mask generation is not MGF1", step=step)
    return hash_name, padding.PSS(padding.MGF1(HASHES[mgf_hash]()), params["salt_length"].native)


def verify_ecdsa(
    public_key: pubkey.PublicKey, data: bytes, signature: bytes, hash_name: str, *, plain: bool, step: str
) -> None:
    if not isinstance(public_key, pubkey.ECPublicKey):
        raise VerificationError("ECDSA signature but the key is not EC", step=step)
    curve = public_key.curve
    try:
        if plain:
            size = (curve.n.bit_length() + 7) // 8
            if len(signature) != 2 * size:
                raise ValueError("plain signature has the wrong length")
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        else:
            r, s = decode_dss_signature(signature)
    except ValueError:
        raise VerificationError("malformed ECDSA signature", step=step) from None
    if not (0 < r < curve.n and 0 < s < curve.n):
        raise VerificationError("ECDSA signature values out of range", step=step)
    if curve.cryptography_name is not None:
        try:
            public_key.to_cryptography().verify(
                encode_dss_signature(r, s), data, ec.ECDSA(HASHES[hash_name]())
            )
        except InvalidSignature:
            raise VerificationError("ECDSA signature does not verify", step=step) from None
        return
    # SEC 1 §4.1.4 by hand for curves cryptography lacks (brainpoolP192r1/224r1/320r1).
    digest = hashlib.new(hash_name, data).digest()
    e = int.from_bytes(digest, "big") >> max(0, len(digest) * 8 - curve.n.bit_length())
    w = pow(s, -1, curve.n)
    point = ecmath.add(
        curve,
        ecmath.multiply(curve, e * w, ecmath.generator(curve)),
        ecmath.multiply(curve, r * w, (public_key.x, public_key.y)),
    )
    if point is None or point[0] % curve.n != r:
        raise VerificationError("ECDSA signature does not verify", step=step)
