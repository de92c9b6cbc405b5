"""The virtual chip's side of PACE, Chip Authentication v1 and Active Authentication.

Each handler takes a plain (already unwrapped) command and returns the plain response; a
handler that establishes keys leaves the new channel in :class:`AuthState` for the chip to
switch to once the response has gone out under the old keys (9303-11 §6.2.2: the chip
answers the CA commands with the old session keys, then restarts SM with the new ones).

Status words: ``6A80`` wrong data, ``6A88`` unknown key or password reference, ``6985``
commands out of order, ``6300`` wrong authentication token (a wrong PACE password),
``6982`` AA or CA before access control, ``6D00`` a protocol the chip does not offer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from .. import activeauth, chipauth, crypto, pace, tlv
from ..apdu import CommandAPDU, ResponseAPDU
from ..errors import AuthenticationError, CryptoError, TLVError
from ..interfaces import RandomSource
from ..lds.securityinfos import ChipAuthenticationInfo, PACEInfo
from ..mrz import CANKey, MRZKey
from ..sm import SecureMessaging


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


@dataclass(frozen=True)
class StaticKey:
    """A chip's static Diffie-Hellman key for Chip Authentication (or PACE-CAM)."""

    info: ChipAuthenticationInfo | None
    domain: pace.Domain
    private: int = field(repr=False)
    key_id: int | None = None


@dataclass(frozen=True)
class AuthKeys:
    """What the chip authenticates with."""

    mrz_key: MRZKey | None = None
    can: CANKey | None = None
    pace: tuple[PACEInfo, ...] = ()
    ca_keys: tuple[StaticKey, ...] = ()
    cam_key: int | None = field(default=None, repr=False)  # private key of EF.CardSecurity's CA key
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    aa_hash: str = "sha1"


@dataclass
class _PACERun:
    info: PACEInfo
    k_pi: bytes
    base: pace.Domain
    step: int = 1
    nonce: bytes = b""
    map_private: int = 0
    mapped: pace.Domain | None = None
    private: int = 0
    public: bytes = b""
    terminal_public: bytes = b""
    keys: tuple[bytes, bytes] = (b"", b"")


@dataclass
class AuthState:
    pace: _PACERun | None = None
    ca_key: StaticKey | None = None
    next_sm: SecureMessaging | None = None  # channel to switch to after this response
    pace_done: PACEInfo | None = None


def _objects(data: bytes) -> dict[int, bytes] | None:
    try:
        return {obj.tag: obj.value for obj in tlv.decode_all(data)}
    except TLVError:
        return None


# -- PACE ---------------------------------------------------------------------------------


def pace_set_at(keys: AuthKeys, state: AuthState, command: CommandAPDU) -> ResponseAPDU:
    """MSE:Set AT for PACE: choose the protocol, parameters and password."""
    state.pace = None
    objects = _objects(command.data)
    if objects is None or 0x80 not in objects or 0x83 not in objects:
        return _sw(0x6A80)
    param = objects.get(0x84)
    for info in keys.pace:
        if pace.oid_bytes(info.protocol) != objects[0x80]:
            continue
        if param is not None and int.from_bytes(param, "big") != info.parameter_id:
            continue
        break
    else:
        return _sw(0x6A80)
    reference = objects[0x83]
    secret = None
    if reference == b"\x01" and keys.mrz_key is not None:
        secret = keys.mrz_key.pace_secret
    elif reference == b"\x02" and keys.can is not None:
        secret = keys.can.pace_secret
    if secret is None:
        return _sw(0x6A88)
    state.pace = _PACERun(info, pace.password_key(secret, info), pace.domain(info))
    return _sw(0x9000)


def pace_general_authenticate(
    keys: AuthKeys, state: AuthState, command: CommandAPDU, random: RandomSource
) -> ResponseAPDU:
    """One GENERAL AUTHENTICATE step of PACE (9303-11 §4.4.4.2)."""
    run = state.pace
    if run is None:
        return _sw(0x6985)
    last = command.cla & 0x10 == 0
    if last != (run.step == 4):
        state.pace = None
        return _sw(0x6883 if run.step == 4 else 0x6985)
    try:
        template = tlv.decode_single(command.data, tag=0x7C)
        objects = {obj.tag: obj.value for obj in tlv.decode_all(template.value)}
        data = _pace_step(keys, state, run, objects, random)
    except (TLVError, CryptoError, KeyError):
        state.pace = None
        return _sw(0x6A80)
    except AuthenticationError:
        state.pace = None
        return _sw(0x6300)
    run.step += 1
    return ResponseAPDU(tlv.encode(0x7C, data), 0x9000)


def _pace_step(
    keys: AuthKeys, state: AuthState, run: _PACERun, objects: dict[int, bytes], random: RandomSource
) -> bytes:
    info = run.info
    if run.step == 1:
        if objects:
            raise KeyError("step 1 carries no data")
        run.nonce = random(pace.NONCE_LENGTH)
        return tlv.encode(0x80, pace.encrypt_nonce(run.k_pi, run.nonce, info))
    if run.step == 2:
        mapping_data = objects[0x81]
        if info.mapping == "IM":
            value = pace.pseudo_random(run.nonce, mapping_data, run.base.prime, info)
            run.mapped = run.base.map_integrated(value)
            return tlv.encode(0x82, b"")
        run.map_private = run.base.private_key(random)
        own = run.base.public_key(run.map_private)
        if own == mapping_data:
            raise CryptoError("terminal echoed the chip's mapping key")
        run.mapped = run.base.map_generic(run.nonce, run.map_private, mapping_data, "PACE GA2")
        return tlv.encode(0x82, own)
    assert run.mapped is not None
    if run.step == 3:
        run.terminal_public = objects[0x83]
        run.private = run.mapped.private_key(random)
        run.public = run.mapped.public_key(run.private)
        if run.public == run.terminal_public:
            raise CryptoError("terminal's ephemeral key equals the chip's")
        secret = run.mapped.secret(run.private, run.terminal_public, "PACE GA3")
        run.keys = pace.session_keys(secret, info)
        return tlv.encode(0x84, run.public)
    # step 4: check the terminal's token, answer with ours
    ks_enc, ks_mac = run.keys
    expected = pace.auth_token(ks_mac, info, run.mapped.key_tag, run.public)
    if not crypto.equal(objects[0x85], expected):
        raise AuthenticationError("terminal's token is wrong")
    data = tlv.encode(0x86, pace.auth_token(ks_mac, info, run.mapped.key_tag, run.terminal_public))
    if info.mapping == "CAM":
        if keys.cam_key is None or not isinstance(run.base, pace.ECDomain):
            raise CryptoError("chip has no CAM key")
        n = run.base.curve.n
        chip_data = run.map_private * pow(keys.cam_key, -1, n) % n
        encoded = chip_data.to_bytes(run.base.curve.size, "big")
        data += tlv.encode(0x8A, pace.encrypt_chip_data(ks_enc, encoded))
    state.pace = None
    state.pace_done = info
    state.next_sm = pace.new_channel(ks_enc, ks_mac, info)
    return data


# -- Chip Authentication ------------------------------------------------------------------


def _find_ca_key(keys: AuthKeys, key_ref: bytes | None, protocol: bytes | None) -> StaticKey | None:
    for key in keys.ca_keys:
        if key_ref is not None and key.key_id != int.from_bytes(key_ref, "big"):
            continue
        info = key.info
        if protocol is not None and (info is None or pace.oid_bytes(info.protocol) != protocol):
            continue
        return key
    return None


def _ca_agree(key: StaticKey, public: bytes) -> SecureMessaging | None:
    info = key.info
    if info is None:
        return None
    try:
        secret = key.domain.secret(key.private, public, chipauth.STEP)
    except CryptoError:
        return None
    return chipauth.session(info, secret)


def ca_set_kat(keys: AuthKeys, state: AuthState, command: CommandAPDU) -> ResponseAPDU:
    """MSE:Set KAT (3DES only): the terminal's ephemeral key, maybe a key id."""
    objects = _objects(command.data)
    if objects is None or 0x91 not in objects:
        return _sw(0x6A80)
    key = _find_ca_key(keys, objects.get(0x84), None)
    if key is None or key.info is None:
        return _sw(0x6A88)
    if key.info.cipher != "3DES":
        return _sw(0x6985)
    channel = _ca_agree(key, objects[0x91])
    if channel is None:
        return _sw(0x6A80)
    state.next_sm = channel
    return _sw(0x9000)


def ca_set_at(keys: AuthKeys, state: AuthState, command: CommandAPDU) -> ResponseAPDU:
    """MSE:Set AT for Chip Authentication: the CA protocol OID and maybe a key id."""
    objects = _objects(command.data)
    if objects is None or 0x80 not in objects:
        return _sw(0x6A80)
    key = _find_ca_key(keys, objects.get(0x84), objects[0x80])
    if key is None:
        return _sw(0x6A88)
    state.ca_key = key
    return _sw(0x9000)


def ca_general_authenticate(state: AuthState, command: CommandAPDU) -> ResponseAPDU:
    key, state.ca_key = state.ca_key, None
    if key is None:
        return _sw(0x6985)
    try:
        template = tlv.decode_single(command.data, tag=0x7C)
        public = tlv.decode_single(template.value, tag=0x80).value
    except TLVError:
        return _sw(0x6A80)
    channel = _ca_agree(key, public)
    if channel is None:
        return _sw(0x6A80)
    state.next_sm = channel
    return ResponseAPDU(tlv.encode(0x7C, b""), 0x9000)


# -- Active Authentication ----------------------------------------------------------------


def internal_authenticate(keys: AuthKeys, command: CommandAPDU, random: RandomSource) -> ResponseAPDU:
    if keys.aa_key is None:
        return _sw(0x6D00)
    if command.p1 != 0 or command.p2 != 0:
        return _sw(0x6A86)
    if len(command.data) != 8 or command.ne is None:
        return _sw(0x6700)
    if isinstance(keys.aa_key, rsa.RSAPrivateKey):
        signature = activeauth.sign_rsa(keys.aa_key, command.data, random, keys.aa_hash)
    else:
        signature = activeauth.sign_ecdsa(keys.aa_key, command.data, keys.aa_hash)
    return ResponseAPDU(signature, 0x9000)
