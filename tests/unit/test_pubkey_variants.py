"""Public keys as real issuers encode them (issue: documents refused by us but read by gmrtd
and JMRTD): BSI standardized domain parameters (TR-03110-3 §A.2.1.1, 9303-11 §9.5.1 Table 6),
PKCS #3 and X9.42 Diffie-Hellman keys, and a modulus with its sign bit set."""

from __future__ import annotations

from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import rsa

from emrtd import curves, dhgroups, pubkey, tlv
from emrtd.lds import dg15

from .test_chipauth_activeauth import REAL_DG15

STANDARDIZED = "0.4.0.127.0.7.1.2"


def spki(algorithm: str, parameters: bytes, key: bytes) -> bytes:
    """A SubjectPublicKeyInfo written by hand from X.509's definition."""
    identifier = tlv.encode(0x30, bytes(core.ObjectIdentifier(algorithm).dump()) + parameters)
    return tlv.encode(0x30, identifier + tlv.encode(0x03, b"\x00" + key))


def integer(value: int) -> bytes:
    return bytes(core.Integer(value).dump())


def test_standardized_ec_parameters() -> None:
    """Parameter id 13 is brainpoolP256r1 (Table 6); the key is the uncompressed point."""
    curve = curves.BY_PACE_ID[13]
    point = b"\x04" + curve.gx.to_bytes(curve.size, "big") + curve.gy.to_bytes(curve.size, "big")
    key = pubkey.parse_spki(spki(STANDARDIZED, integer(13), point))
    assert isinstance(key, pubkey.ECPublicKey)
    assert key.curve.name == "brainpoolP256r1" and (key.x, key.y) == (curve.gx, curve.gy)


def test_standardized_dh_parameters() -> None:
    """Parameter id 0 is the 1024-bit MODP group of RFC 5114 §2.1; the key is INTEGER y."""
    group = dhgroups.BY_PACE_ID[0]
    y = pow(group.g, 12345, group.p)
    key = pubkey.parse_spki(spki(STANDARDIZED, integer(0), integer(y)))
    assert isinstance(key, pubkey.DHPublicKey)
    assert (key.p, key.g, key.q, key.y) == (group.p, group.g, group.q, y)


def test_pkcs3_dh_key() -> None:
    """PKCS #3 dhKeyAgreement (1.2.840.113549.1.3.1): DHParameter {p, g}, no q."""
    group = dhgroups.BY_PACE_ID[2]
    y = pow(group.g, 777, group.p)
    parameters = tlv.encode(0x30, integer(group.p) + integer(group.g))
    key = pubkey.parse_spki(spki("1.2.840.113549.1.3.1", parameters, integer(y)))
    assert isinstance(key, pubkey.DHPublicKey) and (key.p, key.g, key.q, key.y) == (group.p, group.g, None, y)


def test_x942_dh_key() -> None:
    """X9.42 dhpublicnumber (1.2.840.10046.2.1): DomainParameters {p, g, q}."""
    group = dhgroups.BY_PACE_ID[1]
    y = pow(group.g, 99, group.p)
    parameters = tlv.encode(0x30, integer(group.p) + integer(group.g) + integer(group.q))
    key = pubkey.parse_spki(spki("1.2.840.10046.2.1", parameters, integer(y)))
    assert isinstance(key, pubkey.DHPublicKey) and key.q == group.q


def test_negative_modulus_is_read_unsigned_and_noted() -> None:
    """A real DG15 (pymrtd's test passport) re-encoded with the modulus's leading 00 dropped,
    as some issuers personalised it: the same key, and the oddity is recorded."""
    good = dg15.parse(bytes.fromhex(REAL_DG15))
    assert isinstance(good.public_key, rsa.RSAPublicKey) and good.notes == ()
    numbers = good.public_key.public_numbers()
    modulus = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")  # sign bit set, no 00
    rsa_key = tlv.encode(0x30, tlv.encode(0x02, modulus) + integer(numbers.e))
    algorithm = tlv.encode(0x30, bytes(core.ObjectIdentifier("1.2.840.113549.1.1.1").dump()) + b"\x05\x00")
    odd = dg15.parse(tlv.encode(0x6F, tlv.encode(0x30, algorithm + tlv.encode(0x03, b"\x00" + rsa_key))))
    assert isinstance(odd.public_key, rsa.RSAPublicKey)
    assert odd.public_key.public_numbers() == numbers
    assert odd.notes == ("the RSA modulus is encoded as a negative INTEGER (read as unsigned)",)


def test_malformed_key_structures_are_lds_errors() -> None:
    """An empty BIT STRING, a missing parameter, an extra field or a key that is not a
    SEQUENCE are refused with LDSError naming the SubjectPublicKeyInfo, never another error."""
    import pytest

    from emrtd.errors import LDSError

    ec_oid = bytes(core.ObjectIdentifier("1.2.840.10045.2.1").dump())
    curve = curves.BY_PACE_ID[13]
    point = b"\x04" + curve.gx.to_bytes(curve.size, "big") + curve.gy.to_bytes(curve.size, "big")
    bad = [
        tlv.encode(0x30, tlv.encode(0x30, ec_oid) + tlv.encode(0x03, b"")),  # empty BIT STRING
        tlv.encode(0x30, tlv.encode(0x30, ec_oid) + tlv.encode(0x03, b"\x00" + point)),  # no curve
        spki(STANDARDIZED, integer(13), point)[:-1],  # cut short
        spki(STANDARDIZED, integer(13), point) + b"\x00",  # trailing byte
        tlv.encode(0x31, spki(STANDARDIZED, integer(13), point)[2:]),  # a SET, not a SEQUENCE
        spki("1.2.840.113549.1.1.1", b"\x05\x00", tlv.encode(0x30, integer(3))),  # RSA without e
    ]
    for der in bad:
        with pytest.raises(LDSError):
            pubkey.parse_spki(der)


def test_explicit_curve_is_matched_once_per_encoding() -> None:
    """Explicit domain parameters are matched to their curve once and remembered by encoding
    (public, shared by every key on the curve); each key keeps its own point."""
    from emrtd.lds import dg14

    from ..conftest import BSI, shared_file

    raw = shared_file(BSI / "Datagroup14.bin")
    before = pubkey._curve.cache_info()
    keys = [dg14.parse(raw).security_infos.chip_authentication_keys[0].public_key for _ in range(2)]
    after = pubkey._curve.cache_info()
    assert after.hits >= before.hits + 1
    assert keys[0] == keys[1] and isinstance(keys[0], pubkey.ECPublicKey)
    assert keys[0].curve.name == "brainpoolP224r1"
