"""A virtual eMRTD chip: ISO 7816-4 file system, BAC, PACE, CA, AA and enforced secure messaging.

It is a :class:`~emrtd.interfaces.Card`: ``transmit`` answers :class:`~emrtd.apdu.CommandAPDU`
objects, ``transmit_raw`` raw bytes, as a strict passport would:

* the MF holds EF.CardAccess and EF.ATR/INFO (readable in the clear); the LDS1 application
  (AID A0000002471001) holds EF.COM, EF.SOD and DG1-DG16, readable only under secure
  messaging once access control is configured;
* SELECT by AID, by FID (MF 3F00 and EFs), READ BINARY by SFI and offset (``B0``) and with
  DO'54' offsets (``B1``), short and extended length (extended can be switched off: an
  extended APDU then gets a bare ``6700`` before secure messaging sees it; ``max_response``
  caps the Ne of reads under SM with a protected ``6700``);
* BAC (GET CHALLENGE, EXTERNAL AUTHENTICATE); a wrong key gets ``6300``;
* PACE (MSE:Set AT, four GENERAL AUTHENTICATE) with every mapping, Chip Authentication v1
  (MSE:Set KAT, or MSE:Set AT + GENERAL AUTHENTICATE) and Active Authentication (INTERNAL
  AUTHENTICATE); see :mod:`emrtd.sim.auth`. EF.CardSecurity is readable after PACE;
* after access control every command must be protected: a plain or badly MACed command is
  answered ``6987``/``6988`` in the clear and ends the SM session, as real chips do;
* status words: ``6A82`` file not found, ``6982`` security status not satisfied, ``6B00``
  offset beyond the file, ``6282`` fewer bytes than asked, ``6D00`` unknown instruction,
  ``6E00`` unknown class, ``6700`` wrong length, ``6986`` no current EF.

Randomness is passed in, so the chip side of 9303-11 Appendix D replays byte for byte.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .. import bac, tlv
from ..apdu import CommandAPDU, ResponseAPDU
from ..errors import APDUError, SecureMessagingError, TLVError
from ..interfaces import RandomSource
from ..mrz import MRZKey
from ..reader import DATA_GROUPS, EF, EF_ATR_INFO, EF_CARD_ACCESS, EF_CARD_SECURITY, EF_COM, EF_SOD, LDS1_AID
from ..sm import SecureMessaging
from . import auth
from .auth import AuthKeys

SW_OK = 0x9000


def _sw(sw: int) -> ResponseAPDU:
    return ResponseAPDU(b"", sw)


@dataclass
class ChipConfig:
    """What the chip holds and offers. ``files`` uses DocVal names (``com``, ``sod``, ``dg1``
    …) for the LDS1 application and ``cardaccess``/``atrinfo`` for the MF."""

    files: dict[str, bytes]
    keys: AuthKeys = field(default_factory=AuthKeys)
    bac: bool = True  # offer BAC (needs keys.mrz_key); PACE is offered when keys.pace is set
    extended_length: bool = True
    #: The largest Ne the chip serves under secure messaging; a longer READ BINARY gets a
    #: protected 6700 (the chip parsed the command, counted it, and refused its length).
    max_response: int = 65536
    atr: bytes = bytes.fromhex("3B8880010000000000718100F9")
    protect_all: bool = True  # LDS1 files need access control
    eac_protected: frozenset[str] = frozenset({"dg3", "dg4"})  # need EAC, which we do not offer
    #: READ BINARY by short file identifier; without it the chip answers 6A82, as some do.
    sfi: bool = True

    @property
    def mrz_key(self) -> MRZKey | None:
        return self.keys.mrz_key


def _index(*efs: EF) -> tuple[dict[int, str], dict[int | None, str]]:
    """File name by FID and by SFI."""
    return {ef.fid: ef.name for ef in efs}, {ef.sfi: ef.name for ef in efs}


_MF_FILES, _MF_SFIS = _index(EF_CARD_ACCESS, EF_ATR_INFO, EF_CARD_SECURITY)
_LDS_FILES, _LDS_SFIS = _index(EF_COM, EF_SOD, *DATA_GROUPS.values())


@dataclass
class _State:
    in_lds: bool = False
    current: str | None = None
    sm: SecureMessaging | None = None
    challenge: bytes | None = None
    auth: auth.AuthState = field(default_factory=auth.AuthState)
    log: list[tuple[bytes, bytes]] = field(default_factory=list)


class VirtualChip:
    """A contactless eMRTD chip in memory: a :class:`~emrtd.interfaces.Card`."""

    def __init__(self, config: ChipConfig, random: RandomSource = os.urandom) -> None:
        self.config = config
        self.random = random
        self.state = _State()
        self.log_apdus = False

    # -- card-level events ----------------------------------------------------------------

    def power_on(self) -> bytes:
        """Reset to the MF with no access rights; returns the ATR."""
        self.state = _State(log=self.state.log)
        return self.config.atr

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        """Answer one command."""
        return ResponseAPDU.from_bytes(self.transmit_raw(command.to_bytes()))

    def transmit_raw(self, raw: bytes) -> bytes:
        """Answer one encoded command (an undecodable one gets ``6700``)."""
        try:
            command = CommandAPDU.from_bytes(raw)
        except APDUError:
            return _sw(0x6700).to_bytes()
        response = self.process(command)
        out = response.to_bytes()
        if self.log_apdus:
            self.state.log.append((bytes(raw), out))
        return out

    @property
    def access_granted(self) -> bool:
        return self.state.sm is not None

    # -- dispatch -----------------------------------------------------------------------

    def process(self, command: CommandAPDU) -> ResponseAPDU:
        if command.needs_extended and not self.config.extended_length:
            return _sw(0x6700)
        sm = self.state.sm
        if command.cla & 0x0C:
            if sm is None:
                return _sw(0x6987 if command.cla & 0x0C == 0x0C else 0x6E00)
            try:
                plain = sm.unwrap_command(command)
            except SecureMessagingError:
                self.state.sm = None  # a bad MAC ends the session
                return _sw(0x6988)
            too_long = plain.ins in (0xB0, 0xB1) and (plain.ne or 0) > self.config.max_response
            response = _sw(0x6700) if too_long else self._handle(plain)
            ssc = sm.ssc
            protected = sm.wrap_response(response, odd_ins=bool(plain.ins & 1))
            if not command.needs_extended and len(protected.data) > 256:
                sm.ssc = ssc  # answer "wrong length" instead, under the same counter
                protected = sm.wrap_response(_sw(0x6700))
            self._switch_keys()  # CA answers under the old keys, then the new ones apply
            return protected
        if sm is not None:
            self.state.sm = None  # a plain command after access control ends the session
            return _sw(0x6987)
        response = self._handle(command)
        if not command.needs_extended and len(response.data) > 256:
            response = _sw(0x6700)
        self._switch_keys()  # PACE's last GENERAL AUTHENTICATE answers in the clear
        return response

    def _switch_keys(self) -> None:
        next_sm, self.state.auth.next_sm = self.state.auth.next_sm, None
        if next_sm is not None:
            self.state.sm = next_sm

    def _handle(self, command: CommandAPDU) -> ResponseAPDU:
        chaining = 0x10 if command.ins == 0x86 else 0x00  # only PACE chains its commands
        if command.cla & ~(0x0C | chaining) & 0xFF:
            return _sw(0x6E00)
        handler = {
            0xA4: self._select, 0xB0: self._read_binary, 0xB1: self._read_binary,
            0x84: self._get_challenge, 0x82: self._external_authenticate,
            0x22: self._manage_security_environment, 0x86: self._general_authenticate,
            0x88: self._internal_authenticate,
        }.get(command.ins)
        if handler is None:
            return _sw(0x6D00)
        return handler(command)

    # -- file system ----------------------------------------------------------------------

    def _may_read(self, name: str) -> bool:
        if name == EF_CARD_SECURITY.name:
            return self.state.sm is not None and self.state.auth.pace_done is not None
        if name in _MF_FILES.values():
            return True
        if name in self.config.eac_protected:
            return False
        return not self.config.protect_all or self.state.sm is not None

    def _select(self, command: CommandAPDU) -> ResponseAPDU:
        if command.p1 == 0x04:
            if command.data != LDS1_AID:
                return _sw(0x6A82)
            self.state.in_lds, self.state.current = True, None
            return _sw(SW_OK)
        if len(command.data) != 2 or command.p1 not in (0x00, 0x02):
            return _sw(0x6A86 if command.p1 not in (0x00, 0x02) else 0x6A87)
        fid = int.from_bytes(command.data, "big")
        if fid == 0x3F00 and command.p1 == 0x00:
            self.state.in_lds, self.state.current = False, None
            return _sw(SW_OK)
        refused = self._open((_LDS_FILES if self.state.in_lds else _MF_FILES).get(fid))
        return refused or _sw(SW_OK)

    def _open(self, name: str | None) -> ResponseAPDU | None:
        """Make ``name`` the current EF; returns the refusal when it cannot be."""
        if name is None or name not in self.config.files:
            return _sw(0x6A82)
        if not self._may_read(name):
            return _sw(0x6982)
        self.state.current = name
        return None

    def _read_binary(self, command: CommandAPDU) -> ResponseAPDU:
        if command.ne is None:
            return _sw(0x6700)
        if command.ins == 0xB0 and command.p1 & 0x80:
            if command.p1 & 0x60:
                return _sw(0x6A86)
            if not self.config.sfi:
                return _sw(0x6A82)
            refused = self._open((_LDS_SFIS if self.state.in_lds else _MF_SFIS).get(command.p1 & 0x1F))
            if refused:
                return refused
            offset = command.p2
        elif command.ins == 0xB0:
            offset = (command.p1 << 8) | command.p2
        else:
            try:
                offset_do = tlv.decode_single(command.data)
            except TLVError:
                return _sw(0x6A80)
            if offset_do.tag != 0x54 or not 1 <= len(offset_do.value) <= 3:
                return _sw(0x6A80)
            offset = int.from_bytes(offset_do.value, "big")
        name = self.state.current
        if name is None:
            return _sw(0x6986)
        content = self.config.files[name]
        if offset >= len(content):
            return _sw(0x6B00)
        if command.ins == 0xB1:
            # Le counts the whole DO'53'; answer as much as fits.
            room = command.ne - 2
            room -= len(tlv.encode_length(room)) - 1
            chunk = content[offset : offset + max(room, 0)]
            data = tlv.encode(0x53, chunk)
            short = offset + len(chunk) < len(content) and len(data) < command.ne
            return ResponseAPDU(data, 0x6282 if short else SW_OK)
        chunk = content[offset : offset + command.ne]
        return ResponseAPDU(chunk, 0x6282 if len(chunk) < command.ne else SW_OK)

    # -- BAC ------------------------------------------------------------------------------

    def _get_challenge(self, command: CommandAPDU) -> ResponseAPDU:
        if not self._offers_bac:
            return _sw(0x6D00)
        if command.ne != 8:
            return _sw(0x6700)
        self.state.challenge = self.random(8)
        return ResponseAPDU(self.state.challenge, SW_OK)

    @property
    def _offers_bac(self) -> bool:
        return self.config.bac and self.config.mrz_key is not None

    def _external_authenticate(self, command: CommandAPDU) -> ResponseAPDU:
        if not self._offers_bac:
            return _sw(0x6D00)
        rnd_ic, self.state.challenge = self.state.challenge, None
        if rnd_ic is None:
            return _sw(0x6985)
        if len(command.data) != 40:
            return _sw(0x6700)
        assert self.config.mrz_key is not None
        k_enc, k_mac = bac.derive_keys(self.config.mrz_key.kseed)
        plain = bac.unseal(k_enc, k_mac, command.data)
        if plain is None or plain[8:16] != rnd_ic:
            return _sw(0x6300)
        rnd_ifd, k_ifd = plain[:8], plain[16:]
        k_ic = self.random(16)
        self.state.sm = bac.session(k_ifd, k_ic, rnd_ic, rnd_ifd)
        return ResponseAPDU(bac.seal(k_enc, k_mac, rnd_ic + rnd_ifd + k_ic), SW_OK)

    # -- PACE, Chip Authentication, Active Authentication ----------------------------------

    def _manage_security_environment(self, command: CommandAPDU) -> ResponseAPDU:
        keys, state = self.config.keys, self.state.auth
        p1p2 = (command.p1 << 8) | command.p2
        if p1p2 == 0xC1A4:
            if not keys.pace or self.state.sm is not None:
                return _sw(0x6985 if keys.pace else 0x6A81)
            return auth.pace_set_at(keys, state, command)
        if p1p2 in (0x41A4, 0x41A6):
            if self.state.sm is None:
                return _sw(0x6982)
            if not keys.ca_keys:
                return _sw(0x6A81)
            if p1p2 == 0x41A6:
                return auth.ca_set_kat(keys, state, command)
            return auth.ca_set_at(keys, state, command)
        return _sw(0x6A86)

    def _general_authenticate(self, command: CommandAPDU) -> ResponseAPDU:
        if command.p1 != 0 or command.p2 != 0:
            return _sw(0x6A86)
        if self.state.auth.pace is not None:
            return auth.pace_general_authenticate(self.config.keys, self.state.auth, command, self.random)
        if self.state.auth.ca_key is not None and self.state.sm is not None:
            return auth.ca_general_authenticate(self.state.auth, command)
        return _sw(0x6985)

    def _internal_authenticate(self, command: CommandAPDU) -> ResponseAPDU:
        if self.state.sm is None and self.config.protect_all:
            return _sw(0x6982)
        return auth.internal_authenticate(self.config.keys, command, self.random)
