"""Symmetric primitives for 9303-11: 3DES, retail MAC, AES, CMAC, padding, key derivation.

The one module that imports ``cryptography`` for symmetric work. 3DES keys are used in the
two-key form K1‖K2 and expanded to K1‖K2‖K1 here (``cryptography`` deprecates 16-byte keys
and has moved TripleDES to ``hazmat.decrepit``). The retail MAC (ISO/IEC 9797-1 MAC
algorithm 3 with DES) is written here because no library offers it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal

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


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


class BlockCipher:
    """CBC with one key, its contexts kept open from message to message.

    Making a ``cryptography`` context costs more than encrypting a short APDU with it, and a
    secure messaging channel encrypts and MACs every APDU with the same two keys. A CBC
    context carries its chaining value from one ``update`` to the next; to start a message at
    ``iv`` instead, the first block is XORed with (chaining value ⊕ iv) before encryption, and
    after decryption the first plaintext block is XORed with (the previous ciphertext block ⊕
    iv). The output is exactly CBC with ``iv`` (tested against fresh contexts). ECB of one
    block is CBC with a zero IV. Contexts are made on first use; not for sharing between
    threads. Holds the key schedule: keep it only as long as the key itself.
    """

    __slots__ = ("_algorithm", "_block", "_encryptor", "_encrypted", "_decryptor", "_decrypted")

    def __init__(self, algorithm: algorithms.AES | TripleDES) -> None:
        self._algorithm = algorithm
        self._block = algorithm.block_size // 8
        self._encryptor: Any = None
        self._decryptor: Any = None
        self._encrypted = self._decrypted = bytes(self._block)  # the contexts' chaining values

    def _check(self, iv: bytes, data: bytes) -> None:
        if len(iv) != self._block:
            raise CryptoError(f"the IV is {len(iv)} bytes, not {self._block}")
        if len(data) % self._block:
            raise CryptoError("CBC input is not a whole number of blocks")

    def encrypt(self, data: bytes, iv: bytes) -> bytes:
        """CBC encryption of block-aligned ``data`` with ``iv`` (no padding added)."""
        self._check(iv, data)
        if not data:
            return b""
        if self._encryptor is None:
            self._encryptor = Cipher(self._algorithm, modes.CBC(self._encrypted)).encryptor()
        size = self._block
        out: bytes = self._encryptor.update(_xor(data[:size], _xor(self._encrypted, iv)) + data[size:])
        self._encrypted = out[-size:]
        return out

    def decrypt(self, data: bytes, iv: bytes) -> bytes:
        """CBC decryption of block-aligned ``data`` with ``iv`` (no padding removed)."""
        self._check(iv, data)
        if not data:
            return b""
        if self._decryptor is None:
            self._decryptor = Cipher(self._algorithm, modes.CBC(self._decrypted)).decryptor()
        size = self._block
        out: bytes = self._decryptor.update(data)
        first = _xor(out[:size], _xor(self._decrypted, iv))
        self._decrypted = data[-size:]
        return first + out[size:]

    def encrypt_block(self, block: bytes) -> bytes:
        """The cipher on one block (ECB)."""
        if len(block) != self._block:
            raise CryptoError(f"ECB takes one {self._block}-byte block")
        return self.encrypt(block, bytes(self._block))


def tdes(key: bytes) -> BlockCipher:
    """3DES (two-key K1‖K2 expanded to K1‖K2‖K1, or 8/24-byte keys) for CBC."""
    return BlockCipher(TripleDES(_tdes_key(key)))


def aes(key: bytes) -> BlockCipher:
    """AES-128/192/256 for CBC."""
    return BlockCipher(algorithms.AES(_aes_key(key)))


def tdes_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    """3DES-CBC encryption of block-aligned data (no padding added)."""
    return tdes(key).encrypt(data, iv)


def tdes_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 8) -> bytes:
    """3DES-CBC decryption of block-aligned data (no padding removed)."""
    return tdes(key).decrypt(data, iv)


class RetailMac:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, two keys) with one key, its ciphers kept open.

    Single-DES CBC with K1 over every block, then the last result is decrypted with K2 and
    encrypted with K1. E_K1(D_K2(E_K1(x))) on the last block is two-key 3DES (EDE): single DES
    chains every block before it, and its last output is the IV of the 3DES step.
    """

    __slots__ = ("_single", "_triple")

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24):
            raise CryptoError("the retail MAC needs a 16-byte key")
        self._single = BlockCipher(TripleDES(key[:8] * 3))
        self._triple = BlockCipher(TripleDES(key[:16] + key[:8]))

    def mac(self, data: bytes) -> bytes:
        """The 8-byte MAC of already padded ``data``."""
        if not data or len(data) % 8:
            raise CryptoError("retail MAC input must be padded to whole 8-byte blocks")
        head, last = data[:-8], data[-8:]
        chained = self._single.encrypt(head, b"\x00" * 8)[-8:] if head else b"\x00" * 8
        return self._triple.encrypt(last, chained)


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3 (DES, two keys) over already padded ``data``."""
    return RetailMac(key).mac(data)


def _aes_key(key: bytes) -> bytes:
    if len(key) not in (16, 24, 32):
        raise CryptoError(f"an AES key is 16, 24 or 32 bytes, got {len(key)}")
    return key


def aes_encrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    """AES-CBC encryption of block-aligned data."""
    return aes(key).encrypt(data, iv)


def aes_decrypt(key: bytes, data: bytes, iv: bytes = b"\x00" * 16) -> bytes:
    """AES-CBC decryption of block-aligned data."""
    return aes(key).decrypt(data, iv)


def aes_ecb_block(key: bytes, block: bytes) -> bytes:
    """AES on one block (ECB), used for the SM IV: E(KSenc, SSC)."""
    if len(block) != 16:
        raise CryptoError("AES-ECB takes one 16-byte block")
    return aes(key).encrypt_block(block)


class AesCmac:
    """AES-CMAC (NIST SP 800-38B) with one key: the keyed state is made once and copied for
    each message."""

    __slots__ = ("_base",)

    def __init__(self, key: bytes) -> None:
        self._base = CMAC(algorithms.AES(_aes_key(key)))

    def mac(self, data: bytes) -> bytes:
        """The full 16-byte CMAC of ``data``."""
        mac = self._base.copy()
        mac.update(data)
        return mac.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    """AES-CMAC (NIST SP 800-38B), full 16 bytes."""
    return AesCmac(key).mac(data)


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
