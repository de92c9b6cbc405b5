"""The virtual chip's Chip Authentication, Active Authentication and protocol sets, driven by
our terminal code over every profile, and the chip-side effect of the fault modes."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd import access, activeauth, chipauth, exchange, pace, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import StatusWordError, VerificationError
from emrtd.lds import cardsecurity, dg14, dg15
from emrtd.sim import profiles
from emrtd.sim.chip import VirtualChip
from emrtd.sm import SecureMessaging

Transmit = Callable[[CommandAPDU], ResponseAPDU]


def open_chip(name: str, *faults: str) -> tuple[VirtualChip, Transmit, SecureMessaging]:
    """Insert a profile's chip and run its preferred access control."""
    config = profiles.load(name, faults)
    chip = VirtualChip(config)

    transmit = chip.transmit

    assert config.mrz_key is not None
    sm = exchange.run(access.open_document(config.mrz_key, os.urandom), transmit).sm
    return chip, transmit, sm


def read(name: str, sm: SecureMessaging, transmit: Transmit) -> bytes:
    return exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)


def run_ca(transmit: Transmit, sm: SecureMessaging, *, use_kat: bool | None = None) -> SecureMessaging:
    infos = dg14.parse(read("dg14", sm, transmit)).security_infos
    info = infos.chip_authentication[0] if infos.chip_authentication else None
    plan = chipauth.prepare(infos.chip_authentication_keys[0], os.urandom, info, use_kat=use_kat)
    return exchange.run(chipauth.chip_authentication(plan, sm), transmit)


def run_aa(transmit: Transmit, sm: SecureMessaging) -> None:
    key = dg15.parse(read("dg15", sm, transmit)).public_key
    infos = dg14.parse(read("dg14", sm, transmit)).security_infos
    algorithm = infos.active_authentication.signature_algorithm if infos.active_authentication else None
    challenge = os.urandom(8)
    signature = exchange.run(
        activeauth.internal_authenticate(challenge, sm, signature_length=activeauth.expected_length(key)),
        transmit,
    )
    activeauth.verify(key, challenge, signature, algorithm)


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_chip_authentication_switches_keys(name: str) -> None:
    """After CA the chip answers only under the new keys, whose SSC started at zero."""
    chip, transmit, sm = open_chip(name)
    new = run_ca(transmit, sm)
    assert chip.state.sm is not None and chip.state.sm.ks_mac == new.ks_mac and chip.state.sm.ssc == 0
    assert read("dg1", new, transmit)[:1] == b"\x61"


@pytest.mark.parametrize("name", profiles.PROFILES)
def test_active_authentication_verifies(name: str) -> None:
    """INTERNAL AUTHENTICATE returns a signature that verifies with DG15 (RSA 9796-2 or ECDSA)."""
    _chip, transmit, sm = open_chip(name)
    run_aa(transmit, sm)


def test_ca_with_set_at_for_a_3des_key() -> None:
    """A 3DES CA key also works through MSE:Set AT + GENERAL AUTHENTICATE."""
    _chip, transmit, sm = open_chip("utopia-bac")
    new = run_ca(transmit, sm, use_kat=False)
    assert read("dg1", new, transmit)


def test_clone_fails_ca_and_the_read_under_new_keys() -> None:
    """clone: the chip accepts the CA commands but cannot follow the terminal's keys."""
    chip, transmit, sm = open_chip("utopia", "clone")
    new = run_ca(transmit, sm)
    with pytest.raises(StatusWordError) as caught:
        read("dg1", new, transmit)
    assert caught.value.sw == 0x6988 and chip.state.sm is None


def test_clone_fails_pace_cam() -> None:
    """clone on a CAM chip: PACE succeeds but the chip authentication data do not verify."""
    config = profiles.load("utopia-pace", ["clone"])
    chip = VirtualChip(config)

    transmit = chip.transmit

    info = pace.choose(dg14.parse_card_access(config.files["cardaccess"]).pace)
    assert info.mapping == "CAM" and config.mrz_key is not None
    result = exchange.run(pace.pace(info, config.mrz_key, os.urandom), transmit)
    security = exchange.run(reader.read_file(reader.EF_CARD_SECURITY, result.sm), transmit)
    honest = profiles.passport("utopia-pace").files["cardsecurity"]
    assert security == honest
    static = cardsecurity.parse(security).security_infos.chip_authentication_keys[0].public_key
    assert not pace.verify_chip_authentication_data(result, static.encode_point())  # type: ignore[union-attr]


def test_cam_verifies_with_card_security_key() -> None:
    """An honest CAM chip's chip authentication data verify against EF.CardSecurity's key."""
    config = profiles.load("utopia-pace")
    chip = VirtualChip(config)

    transmit = chip.transmit

    info = pace.choose(dg14.parse_card_access(config.files["cardaccess"]).pace)
    assert config.mrz_key is not None
    result = exchange.run(pace.pace(info, config.mrz_key, os.urandom), transmit)
    security = exchange.run(reader.read_file(reader.EF_CARD_SECURITY, result.sm), transmit)
    static = cardsecurity.parse(security).security_infos.chip_authentication_keys[0].public_key
    assert pace.verify_chip_authentication_data(result, static.encode_point())  # type: ignore[union-attr]


def test_wrong_aa_key_fails_verification() -> None:
    """wrong-aa-key: the chip's signature does not verify with DG15."""
    _chip, transmit, sm = open_chip("utopia", "wrong-aa-key")
    with pytest.raises(VerificationError):
        run_aa(transmit, sm)


def test_missing_dg14_and_dg15() -> None:
    """no-dg14/no-dg15: the files are absent (6A82) and AA is not offered (6D00)."""
    _chip, transmit, sm = open_chip("utopia", "no-dg14", "no-dg15")
    for name in ("dg14", "dg15"):
        with pytest.raises(StatusWordError) as caught:
            read(name, sm, transmit)
        assert caught.value.sw == 0x6A82
    with pytest.raises(StatusWordError) as caught:
        exchange.run(activeauth.internal_authenticate(os.urandom(8), sm), transmit)
    assert caught.value.sw == 0x6D00


def test_ca_and_aa_need_access_control() -> None:
    """MSE:Set KAT and INTERNAL AUTHENTICATE in the clear get 6982."""
    chip = VirtualChip(profiles.load("utopia"))
    assert chip.transmit_raw(bytes.fromhex("002241A6039101AA")) == b"\x69\x82"
    assert chip.transmit_raw(bytes.fromhex("0088000008010203040506070800")) == b"\x69\x82"


def test_protocol_sets() -> None:
    """A BAC-only chip has no EF.CardAccess and refuses PACE; a PACE-only chip refuses BAC."""
    bac_only = VirtualChip(profiles.load("utopia-bac"))
    assert "cardaccess" not in bac_only.config.files
    assert bac_only.transmit_raw(bytes.fromhex("0022C1A40F800A04007F00070202040202830101")) == b"\x6a\x81"
    pace_only = VirtualChip(profiles.load("utopia-pace"))
    assert pace_only.transmit_raw(bytes.fromhex("0084000008")) == b"\x6d\x00"
    both = VirtualChip(profiles.load("utopia"))
    assert both.transmit_raw(bytes.fromhex("0084000008")).endswith(b"\x90\x00")


def test_atr_info_announces_extended_length() -> None:
    """Extended-length profiles carry EF.ATR/INFO (DO 7F66), readable in the clear from the MF."""
    chip = VirtualChip(profiles.load("utopia"))
    assert chip.transmit_raw(bytes.fromhex("00A4020C022F01")) == b"\x90\x00"
    # 7F66 { 02 02 FFFF (max command), 02 03 010000 (max response) }, fewer bytes than Le asked: 6282
    assert chip.transmit_raw(bytes.fromhex("00B0000000")) == bytes.fromhex("7F66090202FFFF02030100006282")


def test_card_security_needs_pace() -> None:
    """EF.CardSecurity is not readable before PACE (6982), unlike EF.CardAccess."""
    chip = VirtualChip(profiles.load("utopia"))
    assert chip.transmit_raw(bytes.fromhex("00A4020C02011D")) == b"\x69\x82"
    assert chip.transmit_raw(bytes.fromhex("00A4020C02011C")) == b"\x90\x00"


HEADERS = [
    bytes.fromhex(h)
    for h in (
        "0022C1A4",
        "10860000",
        "00860000",
        "002241A6",
        "002241A4",
        "00880000",
        "0C860000",
        "00840000",
        "00820000",
    )
]


@given(
    st.lists(st.tuples(st.sampled_from(HEADERS), st.binary(max_size=300)), max_size=8),
    st.sampled_from(["utopia", "utopia-pace", "utopia-im", "bsi"]),
)
def test_garbage_authentication_commands_never_crash(commands: list[tuple[bytes, bytes]], name: str) -> None:
    """PACE/CA/AA/BAC headers with random bodies get a status word, never an exception."""
    chip = VirtualChip(profiles.load(name))
    for header, body in commands:
        raw = header + (bytes([len(body)]) + body if 0 < len(body) < 256 else body)
        assert len(chip.transmit_raw(raw)) >= 2
