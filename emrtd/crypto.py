"""Symmetric primitives for 9303-11: 3DES, retail MAC, AES, CMAC, padding, key derivation.

The one module that imports ``cryptography`` for symmetric work. 3DES keys are used in the
two-key form K1‖K2 and expanded to K1‖K2‖K1 here (``cryptography`` deprecates 16-byte keys
and has moved TripleDES to ``hazmat.decrepit``). The retail MAC (ISO/IEC 9797-1 MAC
algorithm 3 with DES) is written here because no library offers it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Literal

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC

from .errors import CryptoError

Algorithm = Literal["3DES", "AES"]

KDF_ENC = 1
KDF_MAC = 2
KDF_PACE = 3


def pad(data: bytes, block: int = 8) -> bytes:
    """ISO/IEC 9797-1 padding method 2: append 0x80, then zeros to a whole block."""
    data = bytes(data) + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes, block: int = 8) -> bytes:
    """Remove padding method 2; raise :class:`CryptoError` if it is not there."""
    if not data or len(data) % block:
        raise CryptoError("padded data is not a whole number of blocks")
    stripped = data.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(data) - len(stripped) >= block:
        raise CryptoError("bad ISO/IEC 9797-1 method 2 padding")
    return stripped[:-1]


def adjust_parity(key: bytes) -> bytes:
    """Set each DES key byte to odd parity (9303-11 §9.7.1.1)."""
    out = bytearray()
    for byte in key:
        high = byte & 0xFE
        out.append(high | ((bin(high).count("1") + 1) & 1))
    return bytes(out)


def _tdes_key(key: bytes) -> bytes:
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return key
    if len(key) == 8:
        return key * 3
    raise CryptoError(f"a DES key is 8, 16 or 24 bytes, got {len(key)}")


def _cbc(algo: algorithms.AES | TripleDES, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    if len(data) % len(iv):
        raise CryptoError("CBC input is not a whole number of blocks")
    cipher = Cipher(algo, modes.CBC(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def tdes_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    """3DES-CBC encryption of block-aligned data (no padding added)."""
    return _cbc(TripleDES(_tdes_key(key)), iv, data, True)


def tdes_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    """3DES-CBC decryption of block-aligned data (no padding removed)."""
    return _cbc(TripleDES(_tdes_key(key)), iv, data, False)


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, two keys) over already padded ``data``.

    Single-DES CBC with K1 over every block, then the last result is decrypted with K2 and
    encrypted with K1.
    """
    if len(key) not in (16, 24):
        raise CryptoError("the retail MAC needs a 16-byte key")
    if not data or len(data) % 8:
        raise CryptoError("retail MAC input must be padded to whole 8-byte blocks")
    # E_K1(D_K2(E_K1(x))) on the last block is two-key 3DES (EDE): single DES chains every
    # block before it, and its last output is the IV of the 3DES step.
    head, last = data[:-8], data[-8:]
    chained = _cbc(TripleDES(key[:8] * 3), b"\x00" * 8, head, True)[-8:] if head else b"\x00" * 8
    return _cbc(TripleDES(key[:16] + key[:8]), chained, last, True)


def _aes_key(key: bytes) -> bytes:
    if len(key) not in (16, 24, 32):
        raise CryptoError(f"an AES key is 16, 24 or 32 bytes, got {len(key)}")
    return key


def aes_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    """AES-CBC encryption of block-aligned data."""
    return _cbc(algorithms.AES(_aes_key(key)), iv, data, True)


def aes_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    """AES-CBC decryption of block-aligned data."""
    return _cbc(algorithms.AES(_aes_key(key)), iv, data, False)


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    """AES on one block (ECB), used for the SM IV: E(KSenc, SSC)."""
    if len(block) != 16:
        raise CryptoError("AES-ECB takes one 16-byte block")
    ctx = Cipher(algorithms.AES(_aes_key(key)), modes.ECB()).encryptor()
    return ctx.update(block) + ctx.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), full 16 bytes."""
    mac = CMAC(algorithms.AES(_aes_key(key)))
    mac.update(data)
    return mac.finalize()


def kdf(secret: bytes, counter: int, algorithm: Algorithm, key_length: int = 16) -> bytes:
    """9303-11 §9.7.1: KDF(K, c) = H(K ‖ c) truncated; 3DES keys get odd parity.

    3DES and AES-128 use SHA-1; AES-192 and AES-256 use SHA-256.
    """
    data = bytes(secret) + counter.to_bytes(4, "big")
    if algorithm == "3DES":
        return adjust_parity(hashlib.sha1(data).digest()[:16])
    if key_length == 16:
        return hashlib.sha1(data).digest()[:16]
    if key_length in (24, 32):
        return hashlib.sha256(data).digest()[:key_length]
    raise CryptoError(f"no AES key length {key_length}")


def equal(a: bytes, b: bytes) -> bool:
    """Constant-time comparison for MACs and tokens."""
    return hmac.compare_digest(a, b)
