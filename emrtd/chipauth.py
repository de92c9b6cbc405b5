"""Chip Authentication version 1 (ICAO 9303-11 §6.2), both sides' computations.

The terminal makes an ephemeral key pair on the domain of the chip's static key (DG14's
ChipAuthenticationPublicKeyInfo), sends its public key, and both sides derive new session
keys from the static-ephemeral Diffie-Hellman secret; the SSC restarts at zero. Commands
(all under the current secure messaging):

* 3DES: MSE:Set KAT ``0C 22 41 A6`` with ``91`` ephemeral public key and ``84`` key id;
* any cipher: MSE:Set AT ``0C 22 41 A4`` with ``80`` CA OID and ``84`` key id, then
  GENERAL AUTHENTICATE ``0C 86 00 00`` with ``7C {80 ephemeral public key}``.

:func:`plan` chooses the key and protocol from the SecurityInfos of DG14 (or EF.CardSecurity)
and returns either a :class:`CAPlan` or a typed :class:`NoChipAuthentication` saying why CA
cannot run. None of the commands depends on a chip response, so :func:`prepare` produces
them all with the keys that will follow. Success is proven only by reading a file under the
new keys, which the caller does: one command at a time (:func:`chip_authentication`), or all
of them back to back in one relay flight (:class:`CAFlight`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import crypto, dhgroups, ecmath, reader, tlv
from .apdu import CommandAPDU, ResponseAPDU
from .errors import AuthenticationError, EmrtdError, SecureMessagingError, UnsupportedAlgorithmError
from .exchange import Exchange, transmit
from .interfaces import RandomSource
from .lds import dg14
from .lds.securityinfos import ID_CA, ChipAuthenticationInfo, ChipAuthenticationPublicKeyInfo, SecurityInfos
from .pace import DHDomain, Domain, ECDomain, oid_bytes
from .pubkey import DHPublicKey, ECPublicKey, PublicKey
from .sm import SecureMessaging

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
    if random is os.urandom and isinstance(group, ECDomain) and group.native:
        # The system's random source: let OpenSSL draw the key from its own CSPRNG. That is
        # half the cost of deriving a key from a scalar drawn here (cryptography's
        # derive_private_key checks the new key with a second scalar multiplication). A
        # random source passed in (tests, known-answer vectors) keeps the derivation.
        public, secret = group.fresh_agreement(encode_public(key_info.public_key), STEP)
    else:
        private = group.private_key(random)
        public, secret = group.agreement(private, encode_public(key_info.public_key), STEP)
    key_id = key_info.key_id if key_info.key_id is not None else info.key_id
    return CAPlan(info, commands(info, public, key_id, use_kat=use_kat), public, session(info, secret))


@dataclass(frozen=True)
class NoChipAuthentication:
    """Why Chip Authentication cannot run. ``offered`` is False when the document declares
    no CA key at all (the verdict is UNAVAILABLE), True when it declares one that cannot be
    used: malformed, an unsupported group, or an info that contradicts the key (FAILED)."""

    reason: str
    offered: bool


def _info_for(key: ChipAuthenticationPublicKeyInfo, infos: SecurityInfos) -> ChipAuthenticationInfo | None:
    """The ChipAuthenticationInfo that goes with ``key``: same key agreement and, where both
    name one, the same key id (9303-11 §9.2.5)."""
    for info in infos.chip_authentication:
        if info.key_agreement != key.key_agreement:
            continue
        if info.key_id is None or key.key_id is None or info.key_id == key.key_id:
            return info
    return None


def plan(
    infos: SecurityInfos, random: RandomSource, *, use_kat: bool | None = None
) -> CAPlan | NoChipAuthentication:
    """The CA plan for the first usable key of ``infos`` (DG14's or EF.CardSecurity's), or
    why there is none. Never raises for a document's content."""
    keys = infos.chip_authentication_keys
    if not keys:
        return NoChipAuthentication("the document holds no chip authentication key", offered=False)
    problems = []
    for key in keys:
        try:
            return prepare(key, random, _info_for(key, infos), use_kat=use_kat)
        except EmrtdError as exc:
            problems.append(exc.message)
    return NoChipAuthentication(f"no usable chip authentication key ({'; '.join(problems)})", offered=True)


def plan_from_dg14(raw_dg14: bytes, random: RandomSource) -> CAPlan | NoChipAuthentication:
    """:func:`plan` for DG14 as read from the chip; an unparsable DG14 is a key that cannot
    be used (``offered``)."""
    try:
        infos = dg14.parse(raw_dg14).security_infos
    except EmrtdError as exc:
        return NoChipAuthentication(f"DG14 cannot be parsed: {exc}", offered=True)
    return plan(infos, random)


def chip_authentication(plan: CAPlan, sm: SecureMessaging) -> Exchange[SecureMessaging]:
    """Send the CA commands under ``sm`` and return the new channel. A refusal raises
    :class:`AuthenticationError`; the caller must still read a file under the new keys."""
    for command in plan.commands:
        response = yield from transmit(command, sm)
        if not response.ok:
            raise AuthenticationError(f"chip refused CA with {response.sw:04X}", step=STEP)
    return plan.sm.copy()


#: Plain status words with which a chip refuses a command whose secure messaging it cannot
#: verify (ISO/IEC 7816-4: SM data objects missing or incorrect); it then ends the channel.
SM_REFUSALS = frozenset({0x6987, 0x6988})


@dataclass
class FlightOutcome:
    """What one relay flight of Chip Authentication showed.

    ``failure`` is None when the chip proved the key: its answer under the new keys verified.
    ``evidence`` is True when the failure is the chip's own doing, shown by answers whose
    secure messaging verified: it refused a CA command (a protected status word), or it
    accepted them all and then did not answer under the keys agreed with DG14's public key
    (it does not hold that key's private key: a clone). False for what the relay may have
    caused: an answer that does not verify under the old keys, a plain status word, ``6F00``.
    ``dg1`` is DG1's first block under the new keys (``dg1_complete`` when it is the whole
    file); ``dg1_before`` DG1 as read under the old keys at the start of the flight."""

    failure: str | None
    evidence: bool
    sm: SecureMessaging = field(repr=False)
    dg1: bytes | None = field(default=None, repr=False)
    dg1_complete: bool = False
    dg1_before: bytes | None = field(default=None, repr=False)


class CAFlight:
    """Chip Authentication as one relay flight: every command protected in advance, sent back
    to back, the answers checked in order.

    The commands are, under the old keys, SELECT EF.DG1 and READ BINARY of its first
    ``block`` bytes (with ``read_dg1_first``: so that DG1 is in hand even when CA fails),
    then MSE:Set KAT, or MSE:Set AT and GENERAL AUTHENTICATE, and, under the new keys, READ
    BINARY of DG1's first block (DG1 is still the current EF). None depends on an answer:
    each later command is wrapped as if the earlier answers had come
    (:meth:`~emrtd.sm.SecureMessaging.skip_response`). Only for a client that relays queued
    commands strictly in order; for the others :func:`chip_authentication` sends one at a
    time. The first failing answer decides the outcome; later answers are only counted."""

    def __init__(self, plan: CAPlan, sm: SecureMessaging, block: int, *, read_dg1_first: bool = True) -> None:
        dg1 = reader.DATA_GROUPS[1]
        old = sm.copy()
        steps: list[tuple[str, CommandAPDU, SecureMessaging]] = []

        def add(kind: str, command: CommandAPDU, channel: SecureMessaging) -> None:
            wrapped = channel.wrap(command)
            steps.append((kind, wrapped, channel.copy()))
            channel.skip_response()

        if read_dg1_first:
            add("select", reader.select_ef_command(dg1), old)
            add("dg1-before", reader.read_command(0, block), old)
        for command in plan.commands:
            add("ca", command, old)
        new = plan.sm.copy()
        # DG1 is the current EF after the SELECT; else it is read by its short file identifier
        add("dg1", reader.read_command(0, block, None if read_dg1_first else dg1.sfi), new)
        self._steps = steps
        self._old = sm
        self._responses = 0
        self._outcome: FlightOutcome | None = None
        self._dg1_before: bytes | None = None
        self.commands = tuple(command for _kind, command, _sm in steps)

    @property
    def done(self) -> bool:
        return self._responses >= len(self._steps)

    def receive(self, response: ResponseAPDU) -> FlightOutcome | None:
        """The next answer, in order; the outcome once the last one is in."""
        if self.done:
            raise AuthenticationError("more answers than commands", step=STEP)
        kind, _command, channel = self._steps[self._responses]
        self._responses += 1
        if self._outcome is None:
            self._outcome = self._check(kind, channel, response)
        if not self.done:
            return None
        if self._outcome is None:  # pragma: no cover - the last step always decides
            raise AuthenticationError("flight ended without an outcome", step=STEP)
        return self._outcome

    def _check(self, kind: str, channel: SecureMessaging, response: ResponseAPDU) -> FlightOutcome | None:
        try:
            plain = channel.unwrap(response)
        except SecureMessagingError as exc:
            if kind == "dg1":
                reason = f"the chip's answer under the new keys does not verify ({exc.message})"
                return self._failed(reason, True)
            return self._failed(f"{_STEP_NAMES[kind]}: {exc.message}", False)
        if kind in ("select", "dg1-before"):
            if plain.ok or plain.sw == 0x6282:
                if kind == "dg1-before":
                    self._dg1_before = plain.data
                return None
            if not response.data:  # a plain refusal: the old channel's counter is unknown now
                return self._failed(f"{_STEP_NAMES[kind]} refused with {plain.sw:04X}", False)
            return None  # a protected refusal: the counters still agree, CA goes on without it
        if kind == "ca":
            if plain.ok:
                return None
            # a protected refusal verified under the old keys is the chip's answer; a plain one
            # may be the relay's (6F00) or a counter that no longer agrees
            return self._failed(f"chip refused CA with {plain.sw:04X}", bool(response.data))
        # the READ BINARY of DG1 under the new keys
        if not response.data and plain.sw in SM_REFUSALS:
            return self._failed(f"the chip did not accept the new keys ({plain.sw:04X})", True)
        if not response.data:
            return self._failed(f"DG1 under the new keys refused with {plain.sw:04X}", False)
        # the answer verified under the new keys: the chip holds the private key
        data = plain.data if plain.ok or plain.sw == 0x6282 else None
        return FlightOutcome(
            None, False, channel, data, data is not None and complete_tlv(data), self._dg1_before
        )

    def _failed(self, reason: str, evidence: bool) -> FlightOutcome:
        return FlightOutcome(reason, evidence, self._old, dg1_before=self._dg1_before)


_STEP_NAMES = {"select": "SELECT DG1", "dg1-before": "READ BINARY DG1", "ca": "Chip Authentication"}


def complete_tlv(first_block: bytes) -> bool:
    """Whether a file's first block holds the whole file its TLV header announces (a block
    that is not TLV at all counts as whole: the reader would take no more of it either)."""
    try:
        _tag, length, header = tlv.decode_header(first_block, der=False)
    except EmrtdError:
        return True  # not a TLV: the block is all the reader would take (a finding for the parser)
    return len(first_block) >= header + length
