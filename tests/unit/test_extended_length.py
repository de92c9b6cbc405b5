"""Extended-length detection (EF.ATR/INFO, ATR card capabilities, probe), the block it picks,
and the automatic fall back to short blocks when a chip refuses a long read."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from emrtd import access, exchange, extended_length, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.sim import profiles
from emrtd.sim.chip import ChipConfig, VirtualChip
from emrtd.sm import SecureMessaging

# Published ATRs from Ludovic Rousseau's smartcard_list.txt (the pcsc-tools ATR list).
DUTCH_PASSPORT = "3B 85 80 01 80 73 84 21 40 12"  # card capabilities 84 21 40: extended Lc/Le
GERMAN_EPERSO = "3B 8A 80 01 80 31 F8 73 F7 41 E0 82 90 00 75"  # F7 41 E0: extended Lc/Le
JCOP31 = "3B 88 80 01 00 73 C8 40 00 00 90 00 62"  # C8 40 00: no extended Lc/Le
US_PASSPORT = "3B 8C 80 01 80 91 E1 65 D0 00 46 00 00 82 90 00 1C"  # no card capabilities


class Counting:
    """The virtual chip behind a transmit function that records every command."""

    def __init__(self, config: ChipConfig) -> None:
        self.chip = VirtualChip(config)
        self.commands: list[CommandAPDU] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        self.commands.append(command)
        return self.chip.transmit(command)


@pytest.mark.parametrize(
    ("atr", "expected"),
    [(DUTCH_PASSPORT, True), (GERMAN_EPERSO, True), (JCOP31, False), (US_PASSPORT, None)],
)
def test_atr_card_capabilities(atr: str, expected: bool | None) -> None:
    """The ATR's third software-function byte says extended Lc/Le; ATRs without it say nothing."""
    assert extended_length.atr_extended(bytes.fromhex(atr.replace(" ", ""))) is expected


def test_malformed_atrs_say_nothing() -> None:
    """Truncated or empty ATRs give None, never an exception."""
    for atr in (b"", b"\x3b", bytes.fromhex("3B8F80"), bytes.fromhex("3B8A8001")):
        assert extended_length.atr_extended(atr) is None


def test_atr_info_limits() -> None:
    """DO'7F66' gives the largest command and response; other content gives None."""
    info = bytes.fromhex("7F66090202FFFF0203010000")  # 65535 / 65536
    assert extended_length.parse_atr_info(info) == (65535, 65536)
    assert extended_length.parse_atr_info(b"\x01\x02") is None
    assert extended_length.parse_atr_info(bytes.fromhex("7F660402020100")) is None


def test_detect_reads_ef_atr_info() -> None:
    """The utopia chip announces 64 KiB responses in EF.ATR/INFO: extended, block 0x7F00."""
    card = Counting(profiles.load("utopia"))
    chip = exchange.run(extended_length.detect(), card.transmit)
    assert chip == extended_length.ChipLength(True, 65536, "EF.ATR/INFO")
    assert extended_length.block_size(chip) == extended_length.MAX_EXTENDED_BLOCK
    assert not any(command.needs_extended for command in card.commands)  # no probe needed


@pytest.mark.parametrize(("profile", "extended"), [("bsi", True), ("bsi-short", False)])
def test_detect_probes_without_ef_atr_info(profile: str, extended: bool) -> None:
    """Without EF.ATR/INFO and ATR capabilities, an extended SELECT MF decides."""
    card = Counting(profiles.load(profile))
    chip = exchange.run(extended_length.detect(card.chip.config.atr), card.transmit)
    assert chip == extended_length.ChipLength(extended, None, "probe")
    assert card.commands[-1].needs_extended


def test_atr_answers_before_probe() -> None:
    """An ATR that denies extended length is believed: no probe is sent."""
    card = Counting(profiles.load("bsi"))
    chip = exchange.run(extended_length.detect(bytes.fromhex(JCOP31.replace(" ", ""))), card.transmit)
    assert chip == extended_length.ChipLength(False, None, "ATR")
    assert not any(command.needs_extended for command in card.commands)


def test_block_size_respects_chip_and_reader() -> None:
    """The block fits the chip's and the reader's limits after SM overhead, or stays short."""
    chip = extended_length.ChipLength(True, 1024, "EF.ATR/INFO")
    assert extended_length.block_size(chip) == 1024 - extended_length.SM_OVERHEAD
    assert extended_length.block_size(chip, reader_max_apdu=600) == 600 - extended_length.SM_OVERHEAD
    assert extended_length.block_size(chip, reader_max_apdu=261) == reader.DEFAULT_MAX_BLOCK
    assert extended_length.block_size(extended_length.ChipLength(False, None, "probe")) == 223


def _open(card: Counting) -> SecureMessaging:
    key = card.chip.config.mrz_key
    assert key is not None
    sm = exchange.run(access.open_document(key, os.urandom), card.transmit).sm
    return sm


@pytest.mark.parametrize(
    "config",
    [
        replace(profiles.load("utopia"), extended_length=False),  # bare 6700 before SM
        replace(profiles.load("utopia"), max_response=1000),  # protected 6700 after SM
    ],
    ids=["no-extended", "max-response-1000"],
)
def test_refused_long_read_falls_back_once(config: ChipConfig) -> None:
    """A refused 4 KiB read is repeated with 223 bytes; later files use 223 at once; SM stays in step."""
    card = Counting(config)
    sm = _open(card)
    blocks = reader.BlockSize(4096)
    dg2 = exchange.run(reader.read_file(reader.DATA_GROUPS[2], sm, max_block=blocks), card.transmit)
    assert dg2 == config.files["dg2"]
    assert blocks == reader.BlockSize(223, fell_back=True, sfi=True)  # and SFI reads work on this chip
    before = len(card.commands)
    dg1 = exchange.run(reader.read_file(reader.DATA_GROUPS[1], sm, max_block=blocks), card.transmit)
    assert dg1 == config.files["dg1"]
    assert all((command.ne or 0) <= 256 for command in card.commands[before:])


def test_negotiate_honours_explicit_choices() -> None:
    """negotiate() sends nothing when extended length is given, and --max-block wins."""
    card = Counting(profiles.load("utopia"))
    link = exchange.run(extended_length.negotiate(None, None, extended=False), card.transmit)
    assert (link.blocks.size, link.extended, card.commands) == (223, False, [])
    link = exchange.run(extended_length.negotiate(None, None, extended=True, max_block=1000), card.transmit)
    assert (link.blocks.size, link.extended) == (1000, True)
