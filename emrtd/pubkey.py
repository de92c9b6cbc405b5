"""Public keys as found in DG14, DG15, EF.CardAccess and certificates.

``cryptography`` refuses elliptic-curve keys with *explicit* domain parameters, which many
passports use (brainpool curves especially). Here a SubjectPublicKeyInfo is read with
``asn1crypto``, explicit parameters are matched to the named curve they describe, and the key
is returned as a small value type that can become a ``cryptography`` key when needed.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

from asn1crypto import core
from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa

from . import curves, derparts, dhgroups
from .errors import LDSError, UnsupportedAlgorithmError


@dataclass(frozen=True, slots=True)
class ECPublicKey:
    """A point on a known prime curve."""

    curve: curves.Curve
    x: int
    y: int
    #: The ``cryptography`` key, made in advance for certificate keys (:func:`certificate_key`).
    converted: ec.EllipticCurvePublicKey | None = dataclasses.field(
        default=None, compare=False, hash=False, repr=False
    )

    def encode_point(self) -> bytes:
        """Uncompressed SEC1 encoding 04 ‖ x ‖ y."""
        size = self.curve.size
        return b"\x04" + self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big")

    def to_cryptography(self) -> ec.EllipticCurvePublicKey:
        """The ``cryptography`` key (the point is checked to lie on the curve)."""
        if self.converted is not None:
            return self.converted
        return ec.EllipticCurvePublicNumbers(self.x, self.y, self.curve.ec_curve()).public_key()


@dataclass(frozen=True, slots=True)
class DHPublicKey:
    """A Diffie-Hellman public value y in the group (p, g, q)."""

    p: int
    g: int
    q: int | None
    y: int

    def to_cryptography(self) -> dh.DHPublicKey:
        numbers = dh.DHParameterNumbers(self.p, self.g, self.q)
        return dh.DHPublicNumbers(self.y, numbers).public_key()


PublicKey = rsa.RSAPublicKey | ECPublicKey | DHPublicKey


def decode_point(curve: curves.Curve, data: bytes) -> ECPublicKey:
    """Decode an uncompressed point and check it lies on the curve."""
    size = curve.size
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise LDSError("EC point is not an uncompressed point of the curve's size")
    x = int.from_bytes(data[1 : 1 + size], "big")
    y = int.from_bytes(data[1 + size :], "big")
    if not curve.contains(x, y):
        raise LDSError("EC point is not on the curve")
    return ECPublicKey(curve, x, y)


# Algorithm identifiers of SubjectPublicKeyInfo as eMRTDs use them.
OID_RSA = "1.2.840.113549.1.1.1"
OID_RSA_PSS = "1.2.840.113549.1.1.10"
OID_EC = "1.2.840.10045.2.1"
OID_DH_X942 = "1.2.840.10046.2.1"  # dhpublicnumber: DomainParameters {p, g, q, …}
OID_DH_PKCS3 = "1.2.840.113549.1.3.1"  # dhKeyAgreement: DHParameter {p, g, [privateValueLength]}
#: BSI TR-03110-3 §A.2.1.1 / 9303-11 §9.5.1: the parameters are an INTEGER naming a
#: standardized group (Table 6: 0-2 the RFC 5114 MODP groups, 8-18 the NIST and brainpool curves).
OID_STANDARDIZED_DOMAIN_PARAMETERS = "0.4.0.127.0.7.1.2"


class _DHParameter(core.Sequence):  # PKCS #3
    _fields = [
        ("p", core.Integer),
        ("g", core.Integer),
        ("private_value_length", core.Integer, {"optional": True}),
    ]


class _DomainParameters(core.Sequence):  # X9.42
    _fields = [
        ("p", core.Integer),
        ("g", core.Integer),
        ("q", core.Integer),
        ("j", core.Integer, {"optional": True}),
        ("validation_parms", core.Any, {"optional": True}),
    ]


def _unsigned(contents: bytes, what: str, notes: list[str]) -> int:
    """An INTEGER (its contents octets) that must be positive; one encoded with its sign bit
    set (no leading 00, as some issuers personalised moduli) is read as unsigned, and the
    oddity is recorded."""
    if not contents:
        raise LDSError(f"{what} is an empty INTEGER")
    number = int.from_bytes(contents, "big", signed=True)
    if number < 0:
        number += 1 << (8 * len(contents))
        notes.append(f"{what} is encoded as a negative INTEGER (read as unsigned)")
    return number


def curve_from_parameters(
    params: asn1_keys.ECDomainParameters, notes: list[str] | None = None
) -> curves.Curve:
    """The curve named or described (explicitly) by ECParameters."""
    notes = [] if notes is None else notes
    if params.name == "named":
        return curves.by_name(params.chosen.native)
    if params.name == "specified":
        spec = params.chosen
        field = spec["field_id"]
        if field["field_type"].native != "prime_field":
            raise UnsupportedAlgorithmError("only prime-field curves are supported")
        p = _unsigned(field["parameters"].contents, "the curve's prime", notes)
        a = int.from_bytes(spec["curve"]["a"].native, "big")
        b = int.from_bytes(spec["curve"]["b"].native, "big")
        base = spec["base"].native
        size = (p.bit_length() + 7) // 8
        if len(base) != 1 + 2 * size or base[0] != 0x04:
            raise UnsupportedAlgorithmError("explicit base point is not uncompressed")
        gx = int.from_bytes(base[1 : 1 + size], "big")
        gy = int.from_bytes(base[1 + size :], "big")
        order = _unsigned(spec["order"].contents, "the curve's order", notes)
        return curves.match_explicit(p, a, b, gx, gy, order)
    raise UnsupportedAlgorithmError("implicitly-CA EC parameters are not supported")


def _dh_public(key_bits: bytes, p: int, g: int, q: int | None, notes: list[str]) -> DHPublicKey:
    y = _unsigned(derparts.single(key_bits, derparts.INTEGER, "the DH public value").contents,
                  "the DH public value", notes)
    return DHPublicKey(p, g, q, y)


def _standardized(parameter_id: int, key_bits: bytes, notes: list[str]) -> PublicKey:
    if parameter_id in curves.BY_PACE_ID:
        return decode_point(curves.BY_PACE_ID[parameter_id], key_bits)
    if parameter_id in dhgroups.BY_PACE_ID:
        group = dhgroups.BY_PACE_ID[parameter_id]
        return _dh_public(key_bits, group.p, group.g, group.q, notes)
    raise UnsupportedAlgorithmError(f"standardized domain parameters {parameter_id} are not supported")


@functools.lru_cache(maxsize=1024)
def certificate_key(der: bytes) -> PublicKey:
    """:func:`parse_spki` for the SubjectPublicKeyInfo of a *certificate* (a DSC, a CSCA),
    kept for the last 1,024 distinct encodings with its ``cryptography`` form made: a server
    meets the same document signers again and again. Never for a document's own keys (DG14,
    DG15, EF.CardAccess): those identify a chip, and the server keeps nothing about a passport
    after its session. An encoding that fails to parse is not kept."""
    key = parse_spki(der)
    if isinstance(key, ECPublicKey) and key.curve.cryptography_name is not None:
        return dataclasses.replace(key, converted=key.to_cryptography())
    return key


def parse_spki_noting(der: bytes) -> tuple[PublicKey, tuple[str, ...]]:
    """:func:`parse_spki`, plus the oddities accepted on the way (a negative modulus …)."""
    return _parse_spki(bytes(der))


@functools.lru_cache(maxsize=64)
def _curve(parameters: bytes) -> tuple[curves.Curve, tuple[str, ...]]:
    """The curve of ECParameters (named or explicit), remembered by encoding: domain
    parameters are public and shared by every key on the curve, and matching explicit ones
    is the dearest part of reading a key."""
    notes: list[str] = []
    curve = curve_from_parameters(asn1_keys.ECDomainParameters.load(parameters, strict=True), notes)
    return curve, tuple(notes)


def _parse_spki(der: bytes) -> tuple[PublicKey, tuple[str, ...]]:
    # The SEQUENCEs are walked with asn1crypto's element reader (emrtd.derparts): the server
    # reads the chip's DG14 and DG15 keys in every session. Parameters stay asn1crypto objects.
    notes: list[str] = []
    try:
        info = derparts.single(der, derparts.SEQUENCE, "SubjectPublicKeyInfo")
        identifier, bits = derparts.expect(
            derparts.children(info.contents), derparts.SEQUENCE, derparts.BIT_STRING,
            what="SubjectPublicKeyInfo",
        )
        algorithm_parts = derparts.children(identifier.contents)
        if not 1 <= len(algorithm_parts) <= 2:
            raise ValueError("the AlgorithmIdentifier is not an OID and its parameters")
        algorithm = derparts.oid(algorithm_parts[0], "the key algorithm")
        params = algorithm_parts[1] if len(algorithm_parts) == 2 else None
        if not bits.contents:
            raise ValueError("the public key BIT STRING is empty")
        key_bits = bits.contents[1:]  # after the unused-bits count (0 in every key seen)
        key: PublicKey
        if algorithm in (OID_RSA, OID_RSA_PSS):
            modulus, exponent = derparts.expect(
                derparts.children(derparts.single(key_bits, derparts.SEQUENCE, "RSAPublicKey").contents),
                derparts.INTEGER, derparts.INTEGER, what="RSAPublicKey",
            )
            key = rsa.RSAPublicNumbers(
                _unsigned(exponent.contents, "the RSA exponent", notes),
                _unsigned(modulus.contents, "the RSA modulus", notes),
            ).public_key()
        elif params is None:
            raise ValueError(f"{algorithm} keys need domain parameters")
        elif algorithm == OID_EC:
            curve, curve_notes = _curve(params.der)
            notes += curve_notes
            key = decode_point(curve, key_bits)
        elif algorithm == OID_STANDARDIZED_DOMAIN_PARAMETERS:
            key = _standardized(derparts.integer(params, "the domain parameter id"), key_bits, notes)
        elif algorithm == OID_DH_X942:
            domain = _DomainParameters.load(params.der, strict=True)
            key = _dh_public(key_bits, domain["p"].native, domain["g"].native, domain["q"].native, notes)
        elif algorithm == OID_DH_PKCS3:
            pkcs3 = _DHParameter.load(params.der, strict=True)
            key = _dh_public(key_bits, pkcs3["p"].native, pkcs3["g"].native, None, notes)
        else:
            raise UnsupportedAlgorithmError(f"public key algorithm {algorithm} is not supported")
    except (UnsupportedAlgorithmError, LDSError):
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, IndexError) as exc:
        raise LDSError(f"malformed SubjectPublicKeyInfo: {exc}") from None
    return key, tuple(notes)


def parse_spki(der: bytes) -> PublicKey:
    """Parse a DER SubjectPublicKeyInfo: RSA, EC (named, explicit, or BSI standardized domain
    parameters), DH (X9.42, PKCS #3, or standardized domain parameters)."""
    return parse_spki_noting(der)[0]
