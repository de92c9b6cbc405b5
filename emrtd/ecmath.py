"""Prime-field elliptic-curve arithmetic for what ``cryptography`` cannot do.

PACE needs a generator other than G (generic mapping G~ = s·G + H, integrated mapping's point
encoding, Chip Authentication Mapping's CA·PK), and eMRTDs use curves ``cryptography`` lacks
(brainpoolP192r1/224r1/320r1; the BSI reference passport's DG14 key is on brainpoolP224r1).
No library does either, so the group law is written here (Jacobian coordinates; affine
points in and out). It is not constant-time: it serves the virtual chip, tests and the
terminal side of public protocols, where the secrets are ephemeral.
"""

from __future__ import annotations

from .curves import Curve
from .errors import CryptoError

Point = tuple[int, int] | None  # None is the point at infinity
_Jacobian = tuple[int, int, int]


def _to_jacobian(point: Point) -> _Jacobian:
    if point is None:
        return (1, 1, 0)
    return (point[0], point[1], 1)


def _to_affine(curve: Curve, point: _Jacobian) -> Point:
    x, y, z = point
    if z == 0:
        return None
    p = curve.p
    zi = pow(z, -1, p)
    zi2 = zi * zi % p
    return (x * zi2 % p, y * zi2 * zi % p)


def _double(curve: Curve, point: _Jacobian) -> _Jacobian:
    x, y, z = point
    p = curve.p
    if z == 0 or y == 0:
        return (1, 1, 0)
    yy = y * y % p
    s = 4 * x * yy % p
    zz = z * z % p
    m = (3 * x * x + curve.a * zz * zz) % p
    x3 = (m * m - 2 * s) % p
    y3 = (m * (s - x3) - 8 * yy * yy) % p
    z3 = 2 * y * z % p
    return (x3, y3, z3)


def _add(curve: Curve, first: _Jacobian, second: _Jacobian) -> _Jacobian:
    x1, y1, z1 = first
    x2, y2, z2 = second
    if z1 == 0:
        return second
    if z2 == 0:
        return first
    p = curve.p
    z1z1 = z1 * z1 % p
    z2z2 = z2 * z2 % p
    u1 = x1 * z2z2 % p
    u2 = x2 * z1z1 % p
    s1 = y1 * z2 * z2z2 % p
    s2 = y2 * z1 * z1z1 % p
    if u1 == u2:
        return _double(curve, first) if s1 == s2 else (1, 1, 0)
    h = (u2 - u1) % p
    r = (s2 - s1) % p
    hh = h * h % p
    hhh = h * hh % p
    v = u1 * hh % p
    x3 = (r * r - hhh - 2 * v) % p
    y3 = (r * (v - x3) - s1 * hhh) % p
    z3 = z1 * z2 * h % p
    return (x3, y3, z3)


def add(curve: Curve, first: Point, second: Point) -> Point:
    """first + second."""
    return _to_affine(curve, _add(curve, _to_jacobian(first), _to_jacobian(second)))


def multiply(curve: Curve, k: int, point: Point) -> Point:
    """k·point (double-and-add, most significant bit first)."""
    if point is None or k % curve.n == 0:
        return None
    k %= curve.n
    base = _to_jacobian(point)
    result: _Jacobian = (1, 1, 0)
    for bit in bin(k)[2:]:
        result = _double(curve, result)
        if bit == "1":
            result = _add(curve, result, base)
    return _to_affine(curve, result)


def generator(curve: Curve) -> tuple[int, int]:
    return (curve.gx, curve.gy)


def check_point(curve: Curve, point: Point, step: str) -> tuple[int, int]:
    """``point`` if it is a finite point on the curve, else :class:`CryptoError`."""
    if point is None or not curve.contains(*point):
        raise CryptoError("point is not on the curve", step=step)
    return point


def encode(curve: Curve, point: Point) -> bytes:
    """Uncompressed SEC1 encoding 04 ‖ x ‖ y."""
    if point is None:
        raise CryptoError("cannot encode the point at infinity")
    size = curve.size
    return b"\x04" + point[0].to_bytes(size, "big") + point[1].to_bytes(size, "big")


def decode(curve: Curve, data: bytes, step: str) -> tuple[int, int]:
    """An uncompressed point that lies on the curve, else :class:`CryptoError`."""
    size = curve.size
    if len(data) != 1 + 2 * size or data[0] != 0x04:
        raise CryptoError("not an uncompressed point of the curve's size", step=step)
    point = (int.from_bytes(data[1 : 1 + size], "big"), int.from_bytes(data[1 + size :], "big"))
    return check_point(curve, point, step)


def encode_to_curve(curve: Curve, t: int) -> tuple[int, int]:
    """The point encoding f_G of PACE integrated mapping (9303-11 §4.4.3.3.2; Brier et al.'s
    simplified SWU for p ≡ 3 mod 4), multiplied by the cofactor."""
    p, a, b = curve.p, curve.a, curve.b
    if p % 4 != 3:
        raise CryptoError("point encoding needs p = 3 mod 4", step="PACE IM")
    alpha = -t * t % p
    alpha_sum = (alpha + alpha * alpha) % p
    if alpha_sum == 0 or a % p == 0:
        raise CryptoError("nonce maps to an exceptional field element", step="PACE IM")
    x2 = -b * (1 + alpha_sum) * pow(a * alpha_sum, -1, p) % p
    x3 = alpha * x2 % p
    h2 = (x2 * x2 * x2 + a * x2 + b) % p
    u = t * t * t * h2 % p
    root = pow(h2, p - 1 - (p + 1) // 4, p)
    point = (x2, root * h2 % p) if root * root * h2 % p == 1 else (x3, root * u % p)
    if curve.h != 1:
        mapped = multiply(curve, curve.h, point)
        return check_point(curve, mapped, "PACE IM")
    return point
