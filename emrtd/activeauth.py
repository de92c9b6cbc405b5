"""Active Authentication (ICAO 9303-11 §6.1): INTERNAL AUTHENTICATE and its signatures.

The chip signs the terminal's 8-byte challenge with the private key matching DG15:

* RSA: ISO/IEC 9796-2 digital signature scheme 1 with partial message recovery. The signed
  representative is ``6A ‖ M1 ‖ H(M1 ‖ M2) ‖ trailer`` with M2 the challenge, M1 chip
  randomness filling the modulus, and the trailer ``BC`` (SHA-1, implicit) or
  ``hash-id ‖ CC`` (ISO/IEC 10118-3 ids). No library implements this scheme, so the encoding
  and its recovery are here; the RSA operations themselves are textbook modular powers.
* ECDSA: the challenge is hashed with the algorithm of DG14's ActiveAuthenticationInfo and
  the signature is sent as plain ``r ‖ s`` (BSI TR-03111).

Both sides live here (the virtual chip signs with :func:`sign_rsa` / :func:`sign_ecdsa`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from . import pubkey, signatures
from .apdu import CommandAPDU
from .errors import AuthenticationError, UnsupportedAlgorithmError, VerificationError
from .exchange import Exchange, transmit
from .interfaces import RandomSource
from .lds import dg14, dg15
from .lds.securityinfos import SecurityInfos
from .sm import SecureMessaging

# ISO/IEC 10118-3 hash-function identifiers used in the ``hash-id ‖ CC`` trailer.
HASH_IDS = {"sha1": 0x33, "sha256": 0x34, "sha512": 0x35, "sha384": 0x36, "sha224": 0x38}
_BY_HASH_ID = {value: name for name, value in HASH_IDS.items()}

# ActiveAuthenticationInfo signature algorithms (BSI TR-03111 ecdsa-plain-*, X9.62 ecdsa-with-*).
ECDSA_HASHES = {
    **signatures.PLAIN_ECDSA,
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
ECDSA_PLAIN_OIDS = {name: oid for oid, name in signatures.PLAIN_ECDSA.items()}

STEP = "AA INTERNAL AUTHENTICATE"


def expected_length(public_key: pubkey.PublicKey) -> int:
    """The signature length a DG15 key gives: the modulus, or 2·|n| for ECDSA."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return (public_key.key_size + 7) // 8
    if isinstance(public_key, pubkey.ECPublicKey):
        return 2 * ((public_key.curve.n.bit_length() + 7) // 8)
    raise UnsupportedAlgorithmError("DG15 key is neither RSA nor EC", step=STEP)


def internal_authenticate(
    challenge: bytes, sm: SecureMessaging | None, *, signature_length: int = 256
) -> Exchange[bytes]:
    """Send INTERNAL AUTHENTICATE with an 8-byte challenge; return the chip's signature.

    ``signature_length`` (see :func:`expected_length`) decides Le: signatures that do not
    fit a short protected response (RSA-2048 and up) are asked for with extended length."""
    if len(challenge) != 8:
        raise AuthenticationError("the challenge must be 8 bytes", step=STEP)
    ne = 256 if signature_length <= 223 or sm is None and signature_length <= 256 else 65536
    response = yield from transmit(CommandAPDU(0x00, 0x88, 0x00, 0x00, challenge, ne=ne), sm)
    response.check(STEP)
    if not response.data:
        raise AuthenticationError("the chip returned no signature", step=STEP)
    return response.data


def authenticate_with_dg15(dg15_data: bytes, challenge: bytes, sm: SecureMessaging | None) -> Exchange[bytes]:
    """:func:`internal_authenticate` with Le sized for the key in the DG15 read from the chip."""
    key = dg15.parse(dg15_data).public_key
    signature: bytes = yield from internal_authenticate(challenge, sm, signature_length=expected_length(key))
    return signature


# -- RSA, ISO/IEC 9796-2 scheme 1 ---------------------------------------------------------


def sign_rsa(
    key: rsa.RSAPrivateKey, challenge: bytes, random: RandomSource, hash_name: str = "sha1"
) -> bytes:
    """The chip's signature: F^d mod n with F = 6A ‖ M1 ‖ H(M1 ‖ challenge) ‖ trailer."""
    numbers = key.private_numbers()
    n, d = numbers.public_numbers.n, numbers.d
    size = (n.bit_length() + 7) // 8
    trailer = b"\xbc" if hash_name == "sha1" else bytes([HASH_IDS[hash_name], 0xCC])
    digest_size = hashlib.new(hash_name).digest_size
    m1 = random(size - 1 - digest_size - len(trailer))
    digest = hashlib.new(hash_name, m1 + challenge).digest()
    representative = int.from_bytes(b"\x6a" + m1 + digest + trailer, "big")
    if n.bit_length() % 8 != 0:
        raise UnsupportedAlgorithmError("RSA modulus length must be a whole number of bytes", step=STEP)
    return pow(representative, d, n).to_bytes(size, "big")


def recover_rsa(key: rsa.RSAPublicKey, signature: bytes) -> tuple[bytes, str, bytes]:
    """Open a 9796-2 signature: (M1, hash name, digest), or :class:`VerificationError`."""
    numbers = key.public_numbers()
    n, e = numbers.n, numbers.e
    size = (n.bit_length() + 7) // 8
    value = int.from_bytes(signature, "big")
    if len(signature) != size or not 0 < value < n:
        raise VerificationError("signature does not fit the DG15 modulus", step=STEP)
    representative = pow(value, e, n)
    if representative & 0xF != 0xC:  # 9796-2 §B.6: the signer may have sent n - J
        representative = n - representative
    return open_representative(representative.to_bytes(size, "big"))


def open_representative(data: bytes) -> tuple[bytes, str, bytes]:
    """Split a recovered representative ``6A ‖ M1 ‖ H ‖ trailer`` into (M1, hash name, H)."""
    size = len(data)
    if size < 2:
        raise VerificationError("representative is too short", step=STEP)
    if data[-1] == 0xBC:
        hash_name, trailer = "sha1", 1
    elif data[-1] == 0xCC and data[-2] in _BY_HASH_ID:
        hash_name, trailer = _BY_HASH_ID[data[-2]], 2
    else:
        raise VerificationError("signature trailer is neither BC nor a known hash-id CC", step=STEP)
    if data[0] != 0x6A:
        raise VerificationError("signature header is not 6A (partial message recovery)", step=STEP)
    digest_size = hashlib.new(hash_name).digest_size
    if size < 1 + digest_size + trailer:
        raise VerificationError("modulus too small for the hash", step=STEP)
    end = size - digest_size - trailer
    return data[1:end], hash_name, data[end : size - trailer]


# -- ECDSA --------------------------------------------------------------------------------


def sign_ecdsa(key: ec.EllipticCurvePrivateKey, challenge: bytes, hash_name: str = "sha256") -> bytes:
    """The chip's plain r ‖ s signature over the challenge."""
    r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(signatures.HASHES[hash_name]())))
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


# -- verification -------------------------------------------------------------------------


def verify(
    public_key: pubkey.PublicKey, challenge: bytes, signature: bytes, signature_algorithm: str | None = None
) -> None:
    """Check the chip's AA signature over ``challenge`` with the DG15 key; raises
    :class:`VerificationError` with the reason when it does not verify.

    ``signature_algorithm`` is the OID of DG14's ActiveAuthenticationInfo, needed for ECDSA.
    """
    if isinstance(public_key, rsa.RSAPublicKey):
        m1, hash_name, digest = recover_rsa(public_key, signature)
        if hashlib.new(hash_name, m1 + challenge).digest() != digest:
            raise VerificationError("recovered hash does not match the challenge", step=STEP)
        return
    if isinstance(public_key, pubkey.ECPublicKey):
        if signature_algorithm is None:
            raise VerificationError("ECDSA AA key but DG14 has no ActiveAuthenticationInfo", step=STEP)
        ec_hash = ECDSA_HASHES.get(signature_algorithm)
        if ec_hash is None:
            raise UnsupportedAlgorithmError(f"AA signature algorithm {signature_algorithm}", step=STEP)
        signatures.verify_ecdsa(public_key, challenge, signature, ec_hash, plain=True, step=STEP)
        return
    raise UnsupportedAlgorithmError("DG15 key is neither RSA nor EC", step=STEP)


def verify_files(
    files: Mapping[str, bytes],
    challenge: bytes,
    signature: bytes,
    *,
    dg14_infos: SecurityInfos | None = None,
) -> None:
    """Check an AA signature against the files read from the chip: the key from DG15, and for
    ECDSA the algorithm from DG14's ActiveAuthenticationInfo (``dg14_infos`` when the caller
    parsed DG14 already). Raises an :class:`EmrtdError` (a malformed file or a signature that
    does not verify) with the reason."""
    algorithm = None
    if "dg14" in files:
        infos = dg14_infos if dg14_infos is not None else dg14.parse(files["dg14"]).security_infos
        info = infos.active_authentication
        algorithm = info.signature_algorithm if info else None
    verify(dg15.parse(files["dg15"]).public_key, challenge, signature, algorithm)
