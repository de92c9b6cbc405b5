"""The virtual chip behaves like a strict eMRTD: ICAO App. D from the chip's side, status
words, and secure messaging enforcement."""

from __future__ import annotations

import os

import pytest

from emrtd import bac, exchange, reader, tlv
from emrtd.apdu import CommandAPDU
from emrtd.errors import AccessKeyError, StatusWordError
from emrtd.mrz import MRZKey
from emrtd.sim import profiles
from emrtd.sim.auth import AuthKeys
from emrtd.sim.chip import ChipConfig, VirtualChip
from emrtd.sim.vpcd import VpcdSession
from emrtd.testing import fixed_random

APPENDIX_D_KEY = MRZKey("L898902C", "690806", "940623")


def send(chip: VirtualChip, hexstr: str) -> str:
    return chip.transmit_raw(bytes.fromhex(hexstr)).hex().upper()


def bsi_chip(**overrides: object) -> VirtualChip:
    config = profiles.load("bsi")
    for name, value in overrides.items():
        setattr(config, name, value)
    return VirtualChip(config)


def connect(chip: VirtualChip) -> tuple[VirtualChip, object]:
    transmit = chip.transmit

    return chip, transmit


def test_appendix_d_chip_side() -> None:
    """With App. D's RND.IC and K.IC the chip answers EXTERNAL AUTHENTICATE byte for byte."""
    chip = VirtualChip(
        ChipConfig(files={"com": b"\x60\x00"}, keys=AuthKeys(mrz_key=APPENDIX_D_KEY)),
        fixed_random("4608F91988702212", "0B4F80323EB3191CB04970CB4052790B"),
    )
    assert send(chip, "0084000008") == "4608F919887022129000"
    reply = send(
        chip, "008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728"
    )
    assert reply == ("46B9342A41396CD7386BF5803104D7CEDC122B9132139BAF2EEDC94EE178534F2F2D235D074D74499000")
    assert chip.state.sm is not None and chip.state.sm.ssc == 0x887022120C06C226


def test_appendix_d4_select_answer() -> None:
    """After App. D BAC the chip answers the protected SELECT EF.COM as in D.4."""
    chip = VirtualChip(
        ChipConfig(files={"com": b"\x60\x00"}, keys=AuthKeys(mrz_key=APPENDIX_D_KEY)),
        fixed_random("4608F91988702212", "0B4F80323EB3191CB04970CB4052790B"),
    )
    send(chip, "00A4040C07A0000002471001")
    send(chip, "0084000008")
    send(chip, "008200002872C29C2371CC9BDB65B779B8E8D37B29ECC154AA56A8799FAE2F498F76ED92F25F1448EEA8AD90A728")
    assert send(chip, "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800") == (
        "990290008E08FA855A5D4C50A8ED9000"
    )


def test_full_read_with_bac() -> None:
    """A terminal reads every readable file of the BSI profile after BAC, byte-identical."""
    chip, transmit = connect(bsi_chip())
    exchange.run(reader.select_applet(), transmit)  # type: ignore[arg-type]
    sm = exchange.run(bac.bac(chip.config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
    for name in ("com", "sod", "dg1", "dg2", "dg14", "dg15"):
        data = exchange.run(reader.read_file(reader.file_by_name(name), sm), transmit)  # type: ignore[arg-type]
        assert data == chip.config.files[name]


def test_wrong_key_gets_6300() -> None:
    """BAC with the wrong date of birth fails with AccessKeyError (chip says 6300)."""
    chip, transmit = connect(bsi_chip())
    with pytest.raises(AccessKeyError):
        exchange.run(bac.bac(MRZKey("C11T002JM", "960813", "231031"), os.urandom), transmit)  # type: ignore[arg-type]


def test_files_need_access_control() -> None:
    """Before BAC an LDS1 file answers 6982; unknown files 6A82."""
    chip = bsi_chip()
    send(chip, "00A4040C07A0000002471001")
    assert send(chip, "00B0810004") == "6982"
    assert send(chip, "00A4020C020105") == "6A82"


def test_plain_command_ends_the_session() -> None:
    """After BAC a plain command gets 6987 and the SM session is gone."""
    chip, transmit = connect(bsi_chip())
    exchange.run(reader.select_applet(), transmit)  # type: ignore[arg-type]
    exchange.run(bac.bac(chip.config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
    assert send(chip, "00B0810004") == "6987"
    assert not chip.access_granted


def test_bad_mac_ends_the_session() -> None:
    """A protected command with a broken MAC gets 6988 and ends the session."""
    chip, transmit = connect(bsi_chip())
    exchange.run(reader.select_applet(), transmit)  # type: ignore[arg-type]
    sm = exchange.run(bac.bac(chip.config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
    wrapped = sm.wrap(CommandAPDU(0, 0xB0, 0x81, 0, ne=4)).to_bytes()
    tampered = wrapped[:-3] + bytes([wrapped[-3] ^ 1]) + wrapped[-2:]
    assert chip.transmit_raw(tampered).hex() == "6988"
    assert not chip.access_granted


def test_eac_groups_are_refused() -> None:
    """DG3 and DG4 need EAC: 6982 even under BAC."""
    chip, transmit = connect(bsi_chip())
    exchange.run(reader.select_applet(), transmit)  # type: ignore[arg-type]
    sm = exchange.run(bac.bac(chip.config.mrz_key, os.urandom), transmit)  # type: ignore[arg-type]
    with pytest.raises(StatusWordError) as info:
        exchange.run(reader.read_file(reader.DATA_GROUPS[3], sm), transmit)  # type: ignore[arg-type]
    assert info.value.sw == 0x6982


def test_extended_length_can_be_switched_off() -> None:
    """The bsi-short profile answers an extended APDU with 6700."""
    chip = VirtualChip(profiles.load("bsi-short"))
    assert send(chip, "00A4040C07A0000002471001") == "9000"
    assert send(chip, "00B08100000400") == "6700"


def test_read_binary_status_words() -> None:
    """Offsets past the end give 6B00, short files 6282, no current EF 6986."""
    chip = VirtualChip(ChipConfig(files={"com": tlv.encode(0x60, bytes(10))}, protect_all=False))
    send(chip, "00A4040C07A0000002471001")
    assert send(chip, "00B0000004") == "6986"
    assert send(chip, "00B09E0020").endswith("6282")
    assert send(chip, "00B0001000") == "6B00"
    assert send(chip, "00FF000000") == "6D00"
    assert send(chip, "80B0000004") == "6E00"


def test_vpcd_framing() -> None:
    """vpcd control codes power the chip and fetch the ATR; APDUs are length-prefixed."""
    chip = bsi_chip()
    session = VpcdSession(chip)
    assert session.receive(b"\x00\x01\x01") == b""
    assert session.receive(b"\x00\x01\x04") == len(chip.config.atr).to_bytes(2, "big") + chip.config.atr
    apdu = bytes.fromhex("00A4040C07A0000002471001")
    reply = session.receive(len(apdu).to_bytes(2, "big") + apdu[:5])
    assert reply == b""  # incomplete message: wait for the rest
    assert session.receive(apdu[5:]) == b"\x00\x02\x90\x00"
