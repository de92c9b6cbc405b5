"""Public keys as found in DG14, DG15, EF.CardAccess and certificates.

``cryptography`` refuses elliptic-curve keys with *explicit* domain parameters, which many
passports use (brainpool curves especially). Here a SubjectPublicKeyInfo is read with
``asn1crypto``, explicit parameters are matched to the named curve they describe, and the key
is returned as a small value type that can become a ``cryptography`` key when needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from cryptography.hazmat.primitives.asymmetric import dh, ec, rsa

from . import curves
from .errors import LDSError, UnsupportedAlgorithmError


@dataclass(frozen=True, slots=True)
class ECPublicKey:
    """A point on a known prime curve."""

    curve: curves.Curve
    x: int
    y: int

    def encode_point(self) -> bytes:
        """Uncompressed SEC1 encoding 04 ‖ x ‖ y."""
        size = self.curve.size
        return b"\x04" + self.x.to_bytes(size, "big") + self.y.to_bytes(size, "big")

    def to_cryptography(self) -> ec.EllipticCurvePublicKey:
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


def curve_from_parameters(params: asn1_keys.ECDomainParameters) -> curves.Curve:
    """The curve named or described (explicitly) by ECParameters."""
    if params.name == "named":
        return curves.by_name(params.chosen.native)
    if params.name == "specified":
        spec = params.chosen
        field = spec["field_id"]
        if field["field_type"].native != "prime_field":
            raise UnsupportedAlgorithmError("only prime-field curves are supported")
        p = field["parameters"].native
        a = int.from_bytes(spec["curve"]["a"].native, "big")
        b = int.from_bytes(spec["curve"]["b"].native, "big")
        base = spec["base"].native
        size = (p.bit_length() + 7) // 8
        if len(base) != 1 + 2 * size or base[0] != 0x04:
            raise UnsupportedAlgorithmError("explicit base point is not uncompressed")
        gx = int.from_bytes(base[1 : 1 + size], "big")
        gy = int.from_bytes(base[1 + size :], "big")
        return curves.match_explicit(p, a, b, gx, gy, spec["order"].native)
    raise UnsupportedAlgorithmError("implicitly-CA EC parameters are not supported")


def parse_spki(der: bytes) -> PublicKey:
    """Parse a DER SubjectPublicKeyInfo (RSA, EC named or explicit, DH)."""
    try:
        info = asn1_keys.PublicKeyInfo.load(der, strict=True)
        algorithm = info["algorithm"]["algorithm"].native
        if algorithm in ("rsa", "rsassa_pss"):
            rsa_key = info["public_key"].parsed
            return rsa.RSAPublicNumbers(
                rsa_key["public_exponent"].native, rsa_key["modulus"].native
            ).public_key()
        if algorithm == "ec":
            curve = curve_from_parameters(info["algorithm"]["parameters"])
            return decode_point(curve, bytes(info["public_key"]))
        if algorithm == "dh":
            params = info["algorithm"]["parameters"]
            y = info["public_key"].parsed.native
            q = params["q"].native if "q" in params and params["q"].native is not None else None
            return DHPublicKey(params["p"].native, params["g"].native, q, y)
    except (UnsupportedAlgorithmError, LDSError):
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise LDSError(f"malformed SubjectPublicKeyInfo: {exc}") from None
    raise UnsupportedAlgorithmError(f"public key algorithm {algorithm} is not supported")
