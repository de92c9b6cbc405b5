"""Basic Access Control, terminal side (ICAO 9303-11 §4.3 and Appendix D).

Randomness is passed in (``random(n) -> n bytes``) so that the Appendix D worked example can
be replayed byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

from . import crypto
from .apdu import CommandAPDU
from .errors import AccessKeyError, AuthenticationError
from .exchange import Exchange
from .mrz import MRZKey
from .sm import SecureMessaging

RandomSource = Callable[[int], bytes]

GET_CHALLENGE = CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8)


def derive_keys(kseed: bytes) -> tuple[bytes, bytes]:
    """K_enc and K_mac from a key seed (9303-11 §9.7.1, 3DES)."""
    return crypto.kdf(kseed, crypto.KDF_ENC, "3DES"), crypto.kdf(kseed, crypto.KDF_MAC, "3DES")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


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
    e_ifd = crypto.tdes_encrypt(k_enc, rnd_ifd + rnd_ic + k_ifd)
    m_ifd = crypto.retail_mac(k_mac, crypto.pad(e_ifd))
    response = yield CommandAPDU(0x00, 0x82, 0x00, 0x00, e_ifd + m_ifd, ne=40)
    if response.sw in (0x6300, 0x6982) or response.sw & 0xFFF0 == 0x63C0:
        raise AccessKeyError("the chip refused the access key", step="BAC EXTERNAL AUTHENTICATE")
    response.check("BAC EXTERNAL AUTHENTICATE")
    if len(response.data) != 40:
        raise AuthenticationError("response is not 40 bytes", step="BAC EXTERNAL AUTHENTICATE")
    e_ic, m_ic = response.data[:32], response.data[32:]
    if not crypto.equal(crypto.retail_mac(k_mac, crypto.pad(e_ic)), m_ic):
        raise AuthenticationError("chip cryptogram MAC is wrong", step="BAC EXTERNAL AUTHENTICATE")
    plain = crypto.tdes_decrypt(k_enc, e_ic)
    if plain[:8] != rnd_ic or plain[8:16] != rnd_ifd:
        raise AuthenticationError("chip did not echo the nonces", step="BAC EXTERNAL AUTHENTICATE")
    k_ic = plain[16:32]

    session_seed = _xor(k_ifd, k_ic)
    ks_enc, ks_mac = derive_keys(session_seed)
    ssc = int.from_bytes(rnd_ic[4:] + rnd_ifd[4:], "big")
    return SecureMessaging("3DES", ks_enc, ks_mac, ssc)
