"""Secure messaging (ICAO 9303-11 §9.8): protect and unprotect APDUs, both sides.

``ssc`` holds the send sequence counter *after* the last response was processed, as JMRTD
and the DocVal ``secureMessagingInfo`` use it: the next command is protected with ``ssc+1``
and its response with ``ssc+2``.

Terminal side: :meth:`SecureMessaging.wrap` / :meth:`SecureMessaging.unwrap`. Chip side (the
virtual passport): :meth:`SecureMessaging.unwrap_command` / :meth:`SecureMessaging.wrap_response`.

Rules kept here, each from the spec or from how real chips behave:

* even INS carries data in DO'87' (padding-content indicator 01), odd INS in DO'85';
* DO'97' carries Le (one byte, or two for extended length); the protected APDU always asks
  for ``00`` (or ``0000`` when extended);
* the MAC covers every odd-tagged data object, is checked in constant time, and is checked
  before anything is decrypted;
* an error status word without protection (a plain ``6A82`` from a chip, say) is returned
  as it is and the SSC does not advance for it;
* 3DES: IV zero, retail MAC, 8-byte SSC. AES: IV = E(KSenc, SSC), CMAC truncated to 8
  bytes, 16-byte SSC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import crypto, tlv
from .apdu import SHORT_MAX_NC, SHORT_MAX_NE, CommandAPDU, ResponseAPDU
from .errors import CryptoError, SecureMessagingError, TLVError

TAG_ENC_EVEN = 0x87
TAG_ENC_ODD = 0x85
TAG_LE = 0x97
TAG_SW = 0x99
TAG_MAC = 0x8E

SM_CLA_BITS = 0x0C


@dataclass
class SecureMessaging:
    """Session keys and send sequence counter of one secure messaging channel."""

    algorithm: crypto.Algorithm
    ks_enc: bytes
    ks_mac: bytes
    ssc: int = 0
    #: The keys' ciphers, made on first use and shared with copies (same keys, same channel).
    _ciphers: _Ciphers | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.algorithm == "3DES":
            if len(self.ks_enc) == 24 and self.ks_enc[16:] == self.ks_enc[:8]:
                self.ks_enc = self.ks_enc[:16]
            if len(self.ks_mac) == 24 and self.ks_mac[16:] == self.ks_mac[:8]:
                self.ks_mac = self.ks_mac[:16]
            if len(self.ks_enc) != 16 or len(self.ks_mac) != 16:
                raise CryptoError("3DES secure messaging takes two-key (16-byte) keys")
        elif self.algorithm == "AES":
            if len(self.ks_enc) not in (16, 24, 32) or len(self.ks_mac) != len(self.ks_enc):
                raise CryptoError("AES secure messaging takes 16, 24 or 32-byte keys")
        else:
            raise CryptoError(f"unknown secure messaging algorithm {self.algorithm!r}")
        self.ssc %= 1 << (8 * self.ssc_length)

    # -- primitives -------------------------------------------------------------------

    @property
    def block(self) -> int:
        return 8 if self.algorithm == "3DES" else 16

    @property
    def ssc_length(self) -> int:
        return self.block

    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.ssc_length, "big")

    def _increment(self) -> None:
        self.ssc = (self.ssc + 1) % (1 << (8 * self.ssc_length))

    def rewind(self) -> None:
        """Take back the count of the last :meth:`wrap`: the chip refused that command before
        its secure messaging saw it (see :func:`emrtd.reader.read_binary`)."""
        self.ssc = (self.ssc - 1) % (1 << (8 * self.ssc_length))

    def skip_response(self) -> None:
        """Count the response to the command just wrapped without seeing it yet: for commands
        sent back to back (:class:`emrtd.chipauth.CAFlight`), each later command is wrapped as
        if the earlier answers had come; a copy taken before this call unwraps that answer."""
        self._increment()

    @property
    def ciphers(self) -> _Ciphers:
        if self._ciphers is None:
            if self.algorithm == "3DES":
                self._ciphers = _Ciphers(crypto.tdes(self.ks_enc), crypto.RetailMac(self.ks_mac))
            else:
                self._ciphers = _Ciphers(crypto.aes(self.ks_enc), crypto.AesCmac(self.ks_mac))
        return self._ciphers

    def _iv(self) -> bytes:
        """3DES: zero. AES: E(KSenc, SSC) (9303-11 §9.8.6.1)."""
        if self.algorithm == "3DES":
            return bytes(8)
        return self.ciphers.enc.encrypt_block(self.ssc_bytes())

    def _encrypt(self, data: bytes) -> bytes:
        return self.ciphers.enc.encrypt(crypto.pad(data, self.block), self._iv())

    def _decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SecureMessagingError("cryptogram is not a whole number of blocks", step="decrypt")
        plain = self.ciphers.enc.decrypt(data, self._iv())
        try:
            return crypto.unpad(plain, self.block)
        except CryptoError as exc:
            raise SecureMessagingError(str(exc), step="decrypt") from None

    def mac(self, data: bytes) -> bytes:
        """MAC over pad(SSC ‖ data), 8 bytes."""
        return self.ciphers.mac.mac(crypto.pad(self.ssc_bytes() + data, self.block))[:8]

    def _check_mac(self, covered: bytes, cc: bytes, step: str) -> None:
        if not crypto.equal(self.mac(covered), cc):
            raise SecureMessagingError("MAC does not verify", step=step)

    # -- terminal side ------------------------------------------------------------------

    def wrap(self, command: CommandAPDU) -> CommandAPDU:
        """Protect a plain command; advances the SSC by one."""
        if command.cla & SM_CLA_BITS:
            raise SecureMessagingError("command is already protected", step="wrap")
        self._increment()
        cla = command.cla | SM_CLA_BITS
        header = bytes([cla, command.ins, command.p1, command.p2])
        body = b""
        if command.data:
            cryptogram = self._encrypt(command.data)
            if command.ins & 1:
                body += tlv.encode(TAG_ENC_ODD, cryptogram)
            else:
                body += tlv.encode(TAG_ENC_EVEN, b"\x01" + cryptogram)
        if command.ne is not None:
            body += tlv.encode(TAG_LE, _encode_le(command.ne))
        cc = self.mac(crypto.pad(header, self.block) + body)
        body += tlv.encode(TAG_MAC, cc)
        extended = (
            command.needs_extended or len(body) > SHORT_MAX_NC
        )
        return CommandAPDU(
            cla, command.ins, command.p1, command.p2, body,
            ne=65536 if extended else SHORT_MAX_NE, extended=extended,
        )

    def unwrap(self, response: ResponseAPDU) -> ResponseAPDU:
        """Verify and decrypt a protected response.

        A response with no data and an error status word is an unprotected error: it is
        returned unchanged and the SSC stays where it is.
        """
        if not response.data:
            if response.sw == 0x9000:
                raise SecureMessagingError("9000 without secure messaging objects", step="unwrap")
            return response
        self._increment()
        try:
            objects = tlv.decode_all(response.data)
        except TLVError as exc:
            raise SecureMessagingError(f"malformed response: {exc}", step="unwrap") from None
        cryptogram_do, sw_do, cc = _split_response(objects)
        covered = b"".join(obj.encode() for obj in (cryptogram_do, sw_do) if obj is not None)
        self._check_mac(covered, cc, "unwrap")
        sw = int.from_bytes(sw_do.value, "big")
        data = b""
        if cryptogram_do is not None:
            data = self._decrypt(_cryptogram(cryptogram_do))
        return ResponseAPDU(data, sw)

    # -- chip side ----------------------------------------------------------------------

    def unwrap_command(self, command: CommandAPDU) -> CommandAPDU:
        """Verify and decrypt a protected command (chip side); advances the SSC by one."""
        if command.cla & SM_CLA_BITS != SM_CLA_BITS:
            raise SecureMessagingError("command is not protected", step="unwrap command")
        try:
            objects = tlv.decode_all(command.data)
        except TLVError as exc:
            raise SecureMessagingError(f"malformed command: {exc}", step="unwrap command") from None
        if not objects or objects[-1].tag != TAG_MAC or len(objects[-1].value) != 8:
            raise SecureMessagingError("DO'8E' missing", step="unwrap command")
        cryptogram_do = le_do = None
        for obj in objects[:-1]:
            if obj.tag in (TAG_ENC_EVEN, TAG_ENC_ODD) and cryptogram_do is None and le_do is None:
                cryptogram_do = obj
            elif obj.tag == TAG_LE and le_do is None:
                le_do = obj
            else:
                raise SecureMessagingError(f"unexpected DO'{obj.tag:X}'", step="unwrap command")
        self._increment()
        header = bytes([command.cla, command.ins, command.p1, command.p2])
        covered = crypto.pad(header, self.block) + b"".join(
            obj.encode() for obj in (cryptogram_do, le_do) if obj is not None
        )
        self._check_mac(covered, objects[-1].value, "unwrap command")
        data = b""
        if cryptogram_do is not None:
            if (cryptogram_do.tag == TAG_ENC_ODD) != bool(command.ins & 1):
                raise SecureMessagingError("DO'85'/'87' does not match INS", step="unwrap command")
            data = self._decrypt(_cryptogram(cryptogram_do))
        ne = _decode_le(le_do.value) if le_do is not None else None
        return CommandAPDU(
            command.cla & ~SM_CLA_BITS & 0xFF, command.ins, command.p1, command.p2, data, ne,
            extended=command.needs_extended,
        )

    def wrap_response(self, response: ResponseAPDU, *, odd_ins: bool = False) -> ResponseAPDU:
        """Protect a response (chip side); advances the SSC by one."""
        self._increment()
        body = b""
        if response.data:
            cryptogram = self._encrypt(response.data)
            if odd_ins:
                body += tlv.encode(TAG_ENC_ODD, cryptogram)
            else:
                body += tlv.encode(TAG_ENC_EVEN, b"\x01" + cryptogram)
        body += tlv.encode(TAG_SW, response.sw.to_bytes(2, "big"))
        body += tlv.encode(TAG_MAC, self.mac(body))
        return ResponseAPDU(body, response.sw)

    def copy(self) -> SecureMessaging:
        channel = SecureMessaging(self.algorithm, self.ks_enc, self.ks_mac, self.ssc)
        channel._ciphers = self.ciphers  # contexts are made on first use: cheap to share now
        return channel

    def __repr__(self) -> str:  # keys are never printed
        return f"SecureMessaging({self.algorithm}, ssc={self.ssc})"


@dataclass(frozen=True, slots=True)
class _Ciphers:
    enc: crypto.BlockCipher
    mac: crypto.RetailMac | crypto.AesCmac


def _encode_le(ne: int) -> bytes:
    if ne <= SHORT_MAX_NE:
        return bytes([ne % SHORT_MAX_NE])
    return (ne % 65536).to_bytes(2, "big")


def _decode_le(value: bytes) -> int:
    if len(value) == 1:
        return value[0] or SHORT_MAX_NE
    if len(value) == 2:
        return int.from_bytes(value, "big") or 65536
    raise SecureMessagingError("DO'97' must hold one or two bytes", step="unwrap command")


def _cryptogram(obj: tlv.TLV) -> bytes:
    if obj.tag == TAG_ENC_ODD:
        return obj.value
    if not obj.value or obj.value[0] != 0x01:
        raise SecureMessagingError("DO'87' lacks padding-content indicator 01", step="decrypt")
    return obj.value[1:]


def _split_response(objects: list[tlv.TLV]) -> tuple[tlv.TLV | None, tlv.TLV, bytes]:
    """Check the order 87/85, 99, 8E and return the cryptogram DO, DO'99' and the MAC."""
    tags = [obj.tag for obj in objects]
    if tags not in (
        [TAG_SW, TAG_MAC],
        [TAG_ENC_EVEN, TAG_SW, TAG_MAC],
        [TAG_ENC_ODD, TAG_SW, TAG_MAC],
    ):
        raise SecureMessagingError(
            "response must hold DO'87'/'85' (optional), DO'99' and DO'8E' in that order",
            step="unwrap",
        )
    sw_do, mac_do = objects[-2], objects[-1]
    if len(sw_do.value) != 2 or len(mac_do.value) != 8:
        raise SecureMessagingError("DO'99' must be 2 bytes and DO'8E' 8 bytes", step="unwrap")
    return (objects[0] if len(objects) == 3 else None), sw_do, mac_do.value
