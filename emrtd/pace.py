"""PACE (ICAO 9303-11 §4.4): the pieces both sides compute, and the terminal's exchange.

The chip (``emrtd.sim``) and the terminal share every computation here: the password key
K_π, nonce encryption, the mappings (generic for DH and ECDH, integrated for DH and ECDH,
Chip Authentication Mapping), key agreement, session keys and authentication tokens. The
APDU flow (9303-11 §4.4.4):

* MSE:Set AT ``00 22 C1 A4`` with ``80`` protocol OID, ``83`` password reference, ``84``
  domain parameter id;
* four GENERAL AUTHENTICATE commands (``10 86`` chained, the last ``00 86``) carrying
  dynamic authentication data ``7C``: encrypted nonce (``80``), mapping data (``81``/``82``),
  ephemeral public keys (``83``/``84``), authentication tokens (``85``/``86``) and, for CAM,
  the encrypted chip authentication data (``8A``).

Randomness is passed in; private keys are drawn by rejection sampling from ``random`` so
that a worked example's private keys can be replayed as the random bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from . import crypto, curves, dhgroups, ecmath, tlv
from .apdu import CommandAPDU, ResponseAPDU
from .errors import AuthenticationError, CryptoError, TLVError, UnsupportedAlgorithmError
from .exchange import Exchange
from .interfaces import RandomSource
from .lds.securityinfos import ID_PACE, PACEInfo
from .mrz import AccessKey
from .sm import SecureMessaging

NONCE_LENGTH = 16  # bytes of s; 9303 leaves the length to the chip, 16 is what chips use

# 9303-11 §4.4.3.3.2: constants of the pseudo-random function R_p, by key length.
_C0_128 = bytes.fromhex("a668892a7c41e3ca739f40b057d85904")
_C1_128 = bytes.fromhex("a4e136ac725f738b01c1f60217c188ad")
_C0_256 = bytes.fromhex("d463d65234124ef7897054986dca0a174e28df758cbaa03f240616414d5a1676")
_C1_256 = bytes.fromhex("54bd7255f0aaf831bec3423fcf39d69b6cbf066677d0faae5aadd99df8e53517")

_MAPPING_OID = {
    ("DH", "GM"): "1",
    ("ECDH", "GM"): "2",
    ("DH", "IM"): "3",
    ("ECDH", "IM"): "4",
    ("ECDH", "CAM"): "6",
}
_CIPHER_OID = {("3DES", 16): "1", ("AES", 16): "2", ("AES", 24): "3", ("AES", 32): "4"}


def protocol_oid(key_agreement: str, mapping: str, cipher: str, key_length: int) -> str:
    """The id-PACE-… object identifier of a combination (9303-11 §9.2.3)."""
    try:
        return f"{ID_PACE}.{_MAPPING_OID[key_agreement, mapping]}.{_CIPHER_OID[cipher, key_length]}"
    except KeyError:
        raise UnsupportedAlgorithmError(
            f"no PACE protocol {key_agreement}-{mapping} with {cipher}-{key_length * 8}", step="PACE"
        ) from None


def oid_bytes(oid: str) -> bytes:
    """The contents octets of an OBJECT IDENTIFIER (without tag and length)."""
    return bytes(core.ObjectIdentifier(oid).contents)


# -- domains ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ECDomain:
    """An elliptic-curve group with a (possibly mapped) generator."""

    curve: curves.Curve
    generator: tuple[int, int]
    key_tag = 0x86

    def private_key(self, random: RandomSource) -> int:
        return _sample(random, self.curve.n)

    @property
    def native(self) -> bool:
        """Whether ``cryptography`` can do the work: a curve it knows, with the standard G."""
        return self.curve.cryptography_name is not None and self.generator == ecmath.generator(self.curve)

    def fresh_agreement(self, public: bytes, step: str) -> tuple[bytes, bytes]:
        """:meth:`agreement` with a key ``cryptography`` generates (only when :attr:`native`)."""
        x, y = self.decode(public, step)
        peer = ec.EllipticCurvePublicNumbers(x, y, self.curve.ec_curve()).public_key()
        key = ec.generate_private_key(self.curve.ec_curve())
        ours = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return ours, key.exchange(ec.ECDH(), peer)

    def public_key(self, private: int) -> bytes:
        if self.native:
            key = ec.derive_private_key(private, self.curve.ec_curve())
            return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return ecmath.encode(self.curve, ecmath.multiply(self.curve, private, self.generator))

    def decode(self, data: bytes, step: str) -> tuple[int, int]:
        return ecmath.decode(self.curve, data, step)

    def agree(self, private: int, public: bytes, step: str) -> tuple[int, int]:
        """private·public, checked to be a finite point."""
        point = ecmath.multiply(self.curve, private, self.decode(public, step))
        return ecmath.check_point(self.curve, point, step)

    def agreement(self, private: int, public: bytes, step: str) -> tuple[bytes, bytes]:
        """Our public key and the shared secret with ``public``, the private key expanded once
        (Chip Authentication's ephemeral key: one key generation and one exchange)."""
        if self.native:
            x, y = self.decode(public, step)
            peer = ec.EllipticCurvePublicNumbers(x, y, self.curve.ec_curve()).public_key()
            key = ec.derive_private_key(private, self.curve.ec_curve())
            ours = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
            return ours, key.exchange(ec.ECDH(), peer)
        return self.public_key(private), self.secret(private, public, step)

    def secret(self, private: int, public: bytes, step: str) -> bytes:
        """The shared secret: the x coordinate, as many bytes as the field (9303-11 §9.6)."""
        if self.native:
            x, y = self.decode(public, step)
            peer = ec.EllipticCurvePublicNumbers(x, y, self.curve.ec_curve()).public_key()
            return ec.derive_private_key(private, self.curve.ec_curve()).exchange(ec.ECDH(), peer)
        return self.agree(private, public, step)[0].to_bytes(self.curve.size, "big")

    def map_generic(self, nonce: bytes, private: int, public: bytes, step: str) -> ECDomain:
        """G~ = s·G + H with H = SK_map · PK_map (9303-11 §4.4.3.3.1)."""
        h = self.agree(private, public, step)
        s_g = ecmath.multiply(self.curve, int.from_bytes(nonce, "big"), self.generator)
        mapped = ecmath.add(self.curve, s_g, h)
        return ECDomain(self.curve, ecmath.check_point(self.curve, mapped, step))

    def map_integrated(self, value: int) -> ECDomain:
        return ECDomain(self.curve, ecmath.encode_to_curve(self.curve, value))

    @property
    def prime(self) -> int:
        return self.curve.p


@dataclass(frozen=True)
class DHDomain:
    """A prime-order subgroup of GF(p)* with a (possibly mapped) generator."""

    group: dhgroups.DHGroup
    generator: int
    key_tag = 0x84

    def private_key(self, random: RandomSource) -> int:
        return _sample(random, self.group.q)

    def public_key(self, private: int) -> bytes:
        return pow(self.generator, private, self.group.p).to_bytes(self.group.size, "big")

    def decode(self, data: bytes, step: str) -> int:
        """A public value, validated as in RFC 2631 §2.1.5 (1 < y < p-1, y^q = 1)."""
        p = self.group.p
        if not data or len(data) > self.group.size:
            raise CryptoError("DH public value has the wrong length", step=step)
        y = int.from_bytes(data, "big")
        if not 1 < y < p - 1 or pow(y, self.group.q, p) != 1:
            raise CryptoError("DH public value is not in the subgroup", step=step)
        return y

    def agreement(self, private: int, public: bytes, step: str) -> tuple[bytes, bytes]:
        """Our public key and the shared secret with ``public``."""
        return self.public_key(private), self.secret(private, public, step)

    def secret(self, private: int, public: bytes, step: str) -> bytes:
        return pow(self.decode(public, step), private, self.group.p).to_bytes(self.group.size, "big")

    def map_generic(self, nonce: bytes, private: int, public: bytes, step: str) -> DHDomain:
        """g~ = g^s · h with h = PK_map^SK_map (9303-11 §4.4.3.3.1)."""
        return self.map_with_shared(nonce, pow(self.decode(public, step), private, self.group.p), step)

    def map_with_shared(self, nonce: bytes, h: int, step: str = "PACE GA2") -> DHDomain:
        """g~ = g^s · h for a known mapping secret h."""
        p = self.group.p
        mapped = pow(self.generator, int.from_bytes(nonce, "big"), p) * h % p
        if mapped == 1:
            raise CryptoError("mapped generator is 1", step=step)
        return DHDomain(self.group, mapped)

    def map_integrated(self, value: int) -> DHDomain:
        """g~ = R_p(s, t)^((p-1)/q) (9303-11 §4.4.3.3.2)."""
        p = self.group.p
        mapped = pow(value, (p - 1) // self.group.q, p)
        if mapped == 1:
            raise CryptoError("mapped generator is 1", step="PACE IM")
        return DHDomain(self.group, mapped)

    @property
    def prime(self) -> int:
        return self.group.p


Domain = ECDomain | DHDomain


def _sample(random: RandomSource, order: int) -> int:
    """A uniform integer in [1, order-1]: draw order's byte length until one fits."""
    size = (order.bit_length() + 7) // 8
    for _ in range(1000):
        value = int.from_bytes(random(size), "big")
        if 1 <= value < order:
            return value
    raise CryptoError("random source gives no usable private key")


def domain(info: PACEInfo) -> Domain:
    """The standardised domain parameters a PACEInfo names (9303-11 §9.5.1)."""
    pid = info.parameter_id
    if info.key_agreement == "ECDH" and pid in curves.BY_PACE_ID:
        curve = curves.BY_PACE_ID[pid]
        return ECDomain(curve, ecmath.generator(curve))
    if info.key_agreement == "DH" and pid in dhgroups.BY_PACE_ID:
        group = dhgroups.BY_PACE_ID[pid]
        return DHDomain(group, group.g)
    raise UnsupportedAlgorithmError(
        f"no standardised {info.key_agreement} domain parameters with id {pid}", step="PACE"
    )


# -- symmetric pieces ---------------------------------------------------------------------


def password_key(secret: bytes, info: PACEInfo) -> bytes:
    """K_π = KDF_π(π) (9303-11 §9.7.3)."""
    return crypto.kdf(secret, crypto.KDF_PACE, info.cipher, info.key_length)


def _encrypt(cipher: str, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    if cipher == "3DES":
        return crypto.tdes_encrypt(key, data, iv or bytes(8))
    return crypto.aes_encrypt(key, data, iv or bytes(16))


def _decrypt(cipher: str, key: bytes, data: bytes, iv: bytes | None = None) -> bytes:
    if cipher == "3DES":
        return crypto.tdes_decrypt(key, data, iv or bytes(8))
    return crypto.aes_decrypt(key, data, iv or bytes(16))


def encrypt_nonce(k_pi: bytes, nonce: bytes, info: PACEInfo) -> bytes:
    """z = E(K_π, s), CBC with a zero IV."""
    return _encrypt(info.cipher, k_pi, nonce)


def decrypt_nonce(k_pi: bytes, encrypted: bytes, info: PACEInfo) -> bytes:
    block = 8 if info.cipher == "3DES" else 16
    if not encrypted or len(encrypted) % block:
        raise AuthenticationError("encrypted nonce is not a whole number of blocks", step="PACE GA1")
    return _decrypt(info.cipher, k_pi, encrypted)


def pseudo_random(nonce_s: bytes, nonce_t: bytes, prime: int, info: PACEInfo) -> int:
    """R_p(s, t) of integrated mapping (9303-11 §4.4.3.3.2): block-cipher CBC with zero IV,
    key_1 = E(t, s); key_(i+1) = E(key_i, c0) cut to the key length; x_i = E(key_i, c1);
    the result is int(x_1 ‖ … ‖ x_n) mod p for the least n with n·|s| ≥ |p| + 64."""
    key_length = len(nonce_t)
    c0, c1 = (_C0_128, _C1_128) if key_length == 16 else (_C0_256, _C1_256)
    key = _encrypt(info.cipher, nonce_t, nonce_s)
    out = b""
    rounds = 0
    while rounds * len(nonce_s) * 8 < prime.bit_length() + 64:
        key_i = key[:key_length]
        key = _encrypt(info.cipher, key_i, c0)
        out += _encrypt(info.cipher, key_i, c1)
        rounds += 1
    return int.from_bytes(out, "big") % prime


def session_keys(secret: bytes, info: PACEInfo) -> tuple[bytes, bytes]:
    """KS_enc and KS_mac from the shared secret (9303-11 §9.7.1)."""
    return (
        crypto.kdf(secret, crypto.KDF_ENC, info.cipher, info.key_length),
        crypto.kdf(secret, crypto.KDF_MAC, info.cipher, info.key_length),
    )


def public_key_data(info: PACEInfo, key_tag: int, public: bytes) -> bytes:
    """The public key data object ``7F49 {06 OID, 86 point | 84 y}`` (9303-11 §4.4.3.4, §9.4)."""
    return tlv.encode(0x7F49, tlv.encode(0x06, oid_bytes(info.protocol)) + tlv.encode(key_tag, public))


def auth_token(ks_mac: bytes, info: PACEInfo, key_tag: int, other_public: bytes) -> bytes:
    """T = MAC(KS_mac, PK of the other side), 8 bytes: retail MAC for 3DES, CMAC for AES."""
    data = public_key_data(info, key_tag, other_public)
    if info.cipher == "3DES":
        return crypto.retail_mac(ks_mac, crypto.pad(data))
    return crypto.aes_cmac(ks_mac, data)[:8]


def _cam_iv(ks_enc: bytes) -> bytes:
    # 9303-11 §4.4.3.5.1: IV = E(KS_enc, -1), i.e. the all-ones block encrypted.
    return crypto.aes_ecb_block(ks_enc, b"\xff" * 16)


def encrypt_chip_data(ks_enc: bytes, chip_data: bytes) -> bytes:
    """A_IC = E(KS_enc, CA_IC) with ISO 9797-1 padding (9303-11 §4.4.3.5.1)."""
    return crypto.aes_encrypt(ks_enc, crypto.pad(chip_data, 16), _cam_iv(ks_enc))


def decrypt_chip_data(ks_enc: bytes, encrypted: bytes) -> bytes:
    if not encrypted or len(encrypted) % 16:
        raise AuthenticationError("chip authentication data is not whole AES blocks", step="PACE CAM")
    try:
        return crypto.unpad(crypto.aes_decrypt(ks_enc, encrypted, _cam_iv(ks_enc)), 16)
    except CryptoError:
        raise AuthenticationError("chip authentication data is badly padded", step="PACE CAM") from None


def new_channel(ks_enc: bytes, ks_mac: bytes, info: PACEInfo) -> SecureMessaging:
    """The SM channel after PACE: session keys, SSC zero (9303-11 §9.8.2)."""
    return SecureMessaging(info.cipher, ks_enc, ks_mac, 0)


# -- APDUs --------------------------------------------------------------------------------


def mse_set_at(info: PACEInfo, password_reference: int) -> CommandAPDU:
    """MSE:Set AT for PACE (9303-11 §4.4.4.1). The parameter id is always sent: some chips
    need it even when EF.CardAccess lists one set of parameters."""
    data = tlv.encode(0x80, oid_bytes(info.protocol)) + tlv.encode(0x83, bytes([password_reference]))
    if info.parameter_id is not None:
        data += tlv.encode(0x84, bytes([info.parameter_id]))
    return CommandAPDU(0x00, 0x22, 0xC1, 0xA4, data)


def general_authenticate(tag: int | None, data: bytes, *, last: bool = False, ne: int = 256) -> CommandAPDU:
    """GENERAL AUTHENTICATE with dynamic authentication data ``7C {tag data}``."""
    inner = b"" if tag is None else tlv.encode(tag, data)
    return CommandAPDU(0x00 if last else 0x10, 0x86, 0x00, 0x00, tlv.encode(0x7C, inner), ne=ne)


def dynamic_data(data: bytes, step: str) -> dict[int, bytes]:
    """The objects inside a ``7C`` template, by tag."""
    try:
        template = tlv.decode_single(data, tag=0x7C)
        return {obj.tag: obj.value for obj in tlv.decode_all(template.value)}
    except TLVError as exc:
        raise AuthenticationError(f"malformed dynamic authentication data: {exc}", step=step) from None


def _field(objects: dict[int, bytes], tag: int, step: str) -> bytes:
    if tag not in objects:
        raise AuthenticationError(f"response lacks data object {tag:02X}", step=step)
    return objects[tag]


# -- terminal -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PACEResult:
    """What a completed PACE run leaves the terminal with."""

    info: PACEInfo
    sm: SecureMessaging = field(repr=False)
    chip_map_public: bytes = field(repr=False)
    chip_authentication_data: bytes | None = field(default=None, repr=False)  # CA_IC for CAM


def choose(infos: list[PACEInfo]) -> PACEInfo:
    """The PACEInfo to use: the strongest supported one, CAM over GM over IM, ECDH over DH,
    longer keys first. Raises :class:`UnsupportedAlgorithmError` when none is usable."""
    rank = {"CAM": 3, "GM": 2, "IM": 1}
    usable = []
    for info in infos:
        try:
            domain(info)
        except UnsupportedAlgorithmError:
            continue
        usable.append(info)
    if not usable:
        raise UnsupportedAlgorithmError("EF.CardAccess offers no supported PACE protocol", step="PACE")
    return max(usable, key=lambda i: (rank[i.mapping], i.key_agreement == "ECDH", i.key_length))


def _check(response: ResponseAPDU, step: str) -> bytes:
    return response.check_access(step).data


def pace(info: PACEInfo, key: AccessKey, random: RandomSource) -> Exchange[PACEResult]:
    """Run PACE with the given parameters and access key; return the new SM channel.

    A wrong access key shows as a failed token check on the chip (``6300``/``6982``), which
    raises :class:`~emrtd.errors.AccessKeyError`. For CAM the decrypted CA_IC is returned;
    check it with :func:`verify_chip_authentication_data` against EF.CardSecurity's key.
    """
    base = domain(info)
    k_pi = password_key(key.pace_secret, info)
    # 2048-bit DH keys do not fit short APDUs: ask for extended length when keys exceed 120 bytes
    ne = 65536 if len(base.public_key(1)) > 120 else 256

    _check((yield mse_set_at(info, key.password_reference)), "PACE MSE:Set AT")

    step = "PACE GA1 (nonce)"
    objects = dynamic_data(_check((yield general_authenticate(None, b"")), step), step)
    nonce = decrypt_nonce(k_pi, _field(objects, 0x80, step), info)

    step = "PACE GA2 (mapping)"
    if info.mapping in ("GM", "CAM"):
        map_private = base.private_key(random)
        sent = base.public_key(map_private)
        objects = dynamic_data(_check((yield general_authenticate(0x81, sent, ne=ne)), step), step)
        chip_map_public = _field(objects, 0x82, step)
        if chip_map_public == sent:
            raise AuthenticationError("chip echoed the terminal's mapping key", step=step)
        mapped: Domain = base.map_generic(nonce, map_private, chip_map_public, step)
    else:
        nonce_t = random(info.key_length)
        _check((yield general_authenticate(0x81, nonce_t)), step)
        chip_map_public = b""
        mapped = base.map_integrated(pseudo_random(nonce, nonce_t, base.prime, info))

    step = "PACE GA3 (key agreement)"
    private = mapped.private_key(random)
    public = mapped.public_key(private)
    objects = dynamic_data(_check((yield general_authenticate(0x83, public, ne=ne)), step), step)
    chip_public = _field(objects, 0x84, step)
    if chip_public == public:
        raise AuthenticationError("chip's ephemeral key equals the terminal's", step=step)
    ks_enc, ks_mac = session_keys(mapped.secret(private, chip_public, step), info)

    step = "PACE GA4 (tokens)"
    token = auth_token(ks_mac, info, mapped.key_tag, chip_public)
    objects = dynamic_data(_check((yield general_authenticate(0x85, token, last=True)), step), step)
    expected = auth_token(ks_mac, info, mapped.key_tag, public)
    if not crypto.equal(_field(objects, 0x86, step), expected):
        raise AuthenticationError("chip's authentication token is wrong", step=step)
    chip_data = None
    if info.mapping == "CAM":
        chip_data = decrypt_chip_data(ks_enc, _field(objects, 0x8A, step))
    return PACEResult(info, new_channel(ks_enc, ks_mac, info), chip_map_public, chip_data)


def verify_chip_authentication_data(result: PACEResult, chip_public_key: bytes) -> bool:
    """PACE-CAM verification by the terminal (9303-11 §4.4.3.5.2): PK_map,IC = CA_IC · PK_IC,
    with PK_IC the chip's static key from EF.CardSecurity (an encoded point)."""
    if result.chip_authentication_data is None:
        return False
    base = domain(result.info)
    if not isinstance(base, ECDomain):
        return False
    try:
        expected = base.decode(result.chip_map_public, "PACE CAM")
        computed = base.agree(
            int.from_bytes(result.chip_authentication_data, "big"), chip_public_key, "PACE CAM"
        )
    except CryptoError:
        return False
    return computed == expected
