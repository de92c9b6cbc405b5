"""Basic Access Control, terminal side (ICAO 9303-11 §4.3 and Appendix D).

Randomness is passed in (``random(n) -> n bytes``) so that the Appendix D worked example can
be replayed byte for byte.
"""

from __future__ import annotations

from . import crypto
from .apdu import CommandAPDU
from .errors import AuthenticationError
from .exchange import Exchange
from .interfaces import RandomSource
from .mrz import MRZKey
from .sm import SecureMessaging

GET_CHALLENGE = CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8)


def derive_keys(kseed: bytes) -> tuple[bytes, bytes]:
    """K_enc and K_mac from a key seed (9303-11 §9.7.1, 3DES)."""
    return crypto.kdf(kseed, crypto.KDF_ENC, "3DES"), crypto.kdf(kseed, crypto.KDF_MAC, "3DES")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def seal(k_enc: bytes, k_mac: bytes, plain: bytes) -> bytes:
    """E ‖ M of EXTERNAL AUTHENTICATE (either direction): 3DES-CBC, then the retail MAC."""
    cryptogram = crypto.tdes_encrypt(k_enc, plain)
    return cryptogram + crypto.retail_mac(k_mac, crypto.pad(cryptogram))


def unseal(k_enc: bytes, k_mac: bytes, data: bytes) -> bytes | None:
    """The 32-byte plaintext of a 40-byte E ‖ M whose MAC verifies (checked first), else None."""
    if len(data) != 40:
        return None
    cryptogram, mac = data[:32], data[32:]
    if not crypto.equal(crypto.retail_mac(k_mac, crypto.pad(cryptogram)), mac):
        return None
    return crypto.tdes_decrypt(k_enc, cryptogram)


def session(k_ifd: bytes, k_ic: bytes, rnd_ic: bytes, rnd_ifd: bytes) -> SecureMessaging:
    """The SM channel both sides derive (9303-11 §9.7.4): keys from K.IFD ⊕ K.IC, SSC from
    the low halves of the nonces."""
    ks_enc, ks_mac = derive_keys(_xor(k_ifd, k_ic))
    return SecureMessaging("3DES", ks_enc, ks_mac, int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big"))


def bac(key: MRZKey | bytes, random: RandomSource) -> Exchange[SecureMessaging]:
    """Run BAC; return the secure messaging channel it establishes.

    ``key`` is an :class:`~emrtd.mrz.MRZKey` or a 16-byte key seed. A refused EXTERNAL
    AUTHENTICATE raises :class:`~emrtd.errors.AccessKeyError`.
    """
    kseed = key.kseed if isinstance(key, MRZKey) else key
    if len(kseed) != 16:
        raise AuthenticationError("key seed must be 16 bytes", step="BAC")
    k_enc, k_mac = derive_keys(kseed)

    response = yield GET_CHALLENGE
    response.check("BAC GET CHALLENGE")
    rnd_ic = response.data
    if len(rnd_ic) != 8:
        raise AuthenticationError("challenge is not 8 bytes", step="BAC GET CHALLENGE")

    rnd_ifd, k_ifd = random(8), random(16)
    response = yield CommandAPDU(0x00, 0x82, 0x00, 0x00, seal(k_enc, k_mac, rnd_ifd + rnd_ic + k_ifd),
                                 ne=40)
    response.check_access("BAC EXTERNAL AUTHENTICATE")
    if len(response.data) != 40:
        raise AuthenticationError("response is not 40 bytes", step="BAC EXTERNAL AUTHENTICATE")
    plain = unseal(k_enc, k_mac, response.data)
    if plain is None:
        raise AuthenticationError("chip cryptogram MAC is wrong", step="BAC EXTERNAL AUTHENTICATE")
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise AuthenticationError("chip did not echo the nonces", step="BAC EXTERNAL AUTHENTICATE")
    return session(k_ifd, plain[16:32], rnd_ic, rnd_ifd)
