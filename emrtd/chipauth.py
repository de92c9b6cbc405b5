"""Chip Authentication version 1 (ICAO 9303-11 §6.2), both sides' computations.

The terminal makes an ephemeral key pair on the domain of the chip's static key (DG14's
ChipAuthenticationPublicKeyInfo), sends its public key, and both sides derive new session
keys from the static-ephemeral Diffie-Hellman secret; the SSC restarts at zero. Commands
(all under the current secure messaging):

* 3DES: MSE:Set KAT ``0C 22 41 A6`` with ``91`` ephemeral public key and ``84`` key id;
* any cipher: MSE:Set AT ``0C 22 41 A4`` with ``80`` CA OID and ``84`` key id, then
  GENERAL AUTHENTICATE ``0C 86 00 00`` with ``7C {80 ephemeral public key}``.

None of the commands depends on a chip response, so :func:`prepare` produces them all with
the keys that will follow: a server relaying APDUs through a client can send them in one
go (docval_server pipelines them). Success is proven only by reading a file under the new
keys, which the caller does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from . import crypto, dhgroups, ecmath, tlv
from .apdu import CommandAPDU
from .errors import AuthenticationError, UnsupportedAlgorithmError
from .exchange import Exchange, transmit
from .lds.securityinfos import ID_CA, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo
from .pace import DHDomain, Domain, ECDomain, oid_bytes
from .pubkey import DHPublicKey, ECPublicKey, PublicKey
from .sm import SecureMessaging

RandomSource = Callable[[int], bytes]
STEP = "Chip Authentication"


def key_domain(public_key: PublicKey) -> Domain:
    """The group of a chip's static CA key."""
    if isinstance(public_key, ECPublicKey):
        return ECDomain(public_key.curve, ecmath.generator(public_key.curve))
    if isinstance(public_key, DHPublicKey):
        q = public_key.q if public_key.q is not None else public_key.p - 1
        group = dhgroups.DHGroup("DG14", -1, public_key.p, public_key.g, q)
        return DHDomain(group, public_key.g)
    raise UnsupportedAlgorithmError("chip authentication key is neither EC nor DH", step=STEP)


def encode_public(public_key: PublicKey) -> bytes:
    """A static key as sent/agreed on: an uncompressed point, or y padded to |p|."""
    if isinstance(public_key, ECPublicKey):
        return public_key.encode_point()
    if isinstance(public_key, DHPublicKey):
        return public_key.y.to_bytes((public_key.p.bit_length() + 7) // 8, "big")
    raise UnsupportedAlgorithmError("chip authentication key is neither EC nor DH", step=STEP)


def default_info(key_info: ChipAuthenticationPublicKeyInfo) -> ChipAuthenticationInfo:
    """9303-11 §9.2.5: without a ChipAuthenticationInfo, CA uses 3DES for the key's agreement."""
    suffix = "1" if key_info.key_agreement == "DH" else "2"
    return ChipAuthenticationInfo(
        f"{ID_CA}.{suffix}.1", 1, key_info.key_id, key_info.key_agreement, "3DES", 16
    )


def session(info: ChipAuthenticationInfo, secret: bytes) -> SecureMessaging:
    """The channel after CA: KDF of the shared secret, SSC zero."""
    return SecureMessaging(
        info.cipher,
        crypto.kdf(secret, crypto.KDF_ENC, info.cipher, info.key_length),
        crypto.kdf(secret, crypto.KDF_MAC, info.cipher, info.key_length),
        0,
    )


def commands(
    info: ChipAuthenticationInfo, ephemeral_public: bytes, key_id: int | None, *, use_kat: bool | None = None
) -> tuple[CommandAPDU, ...]:
    """The plain CA commands; MSE:Set KAT for 3DES unless ``use_kat`` says otherwise."""
    key_ref = (
        tlv.encode(0x84, key_id.to_bytes(max(1, (key_id.bit_length() + 7) // 8), "big"))
        if key_id is not None
        else b""
    )
    kat = info.cipher == "3DES" if use_kat is None else use_kat
    if kat:
        if info.cipher != "3DES":
            raise UnsupportedAlgorithmError("MSE:Set KAT is only defined for 3DES", step=STEP)
        return (CommandAPDU(0x00, 0x22, 0x41, 0xA6, tlv.encode(0x91, ephemeral_public) + key_ref),)
    return (
        CommandAPDU(0x00, 0x22, 0x41, 0xA4, tlv.encode(0x80, oid_bytes(info.protocol)) + key_ref),
        CommandAPDU(0x00, 0x86, 0x00, 0x00, tlv.encode(0x7C, tlv.encode(0x80, ephemeral_public)), ne=256),
    )


@dataclass(frozen=True)
class CAPlan:
    """Everything the terminal needs to run CA: the commands, and the channel after it."""

    info: ChipAuthenticationInfo
    commands: tuple[CommandAPDU, ...]
    ephemeral_public: bytes = field(repr=False)
    sm: SecureMessaging = field(repr=False)


def prepare(
    key_info: ChipAuthenticationPublicKeyInfo,
    random: RandomSource,
    info: ChipAuthenticationInfo | None = None,
    *,
    use_kat: bool | None = None,
) -> CAPlan:
    """Make the terminal's ephemeral key and the CA commands for the chip's static key."""
    info = info or default_info(key_info)
    if info.key_agreement != key_info.key_agreement:
        raise UnsupportedAlgorithmError("ChipAuthenticationInfo and key disagree on DH/ECDH", step=STEP)
    group = key_domain(key_info.public_key)
    private = group.private_key(random)
    public = group.public_key(private)
    secret = group.secret(private, encode_public(key_info.public_key), STEP)
    key_id = key_info.key_id if key_info.key_id is not None else info.key_id
    return CAPlan(info, commands(info, public, key_id, use_kat=use_kat), public, session(info, secret))


def chip_authentication(plan: CAPlan, sm: SecureMessaging) -> Exchange[SecureMessaging]:
    """Send the CA commands under ``sm`` and return the new channel. A refusal raises
    :class:`AuthenticationError`; the caller must still read a file under the new keys."""
    for command in plan.commands:
        response = yield from transmit(command, sm)
        if not response.ok:
            raise AuthenticationError(f"chip refused CA with {response.sw:04X}", step=STEP)
    return plan.sm.copy()
