"""The virtual passport through the real PC/SC stack: docval-sim → vpcd → pcscd → pyscard."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from docval_client.card import CardError, PcscCard
from emrtd import bac, exchange, lds, reader
from emrtd.errors import AccessKeyError
from emrtd.mrz import MRZKey
from emrtd.sim import profiles

from .pcsc import vpcd_readers

pytestmark = pytest.mark.pcsc
READER = "Virtual PCD 00 00"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def inserted() -> Iterator[subprocess.Popen[str]]:
    """Insert the BSI virtual passport into vpcd for the duration of one test."""
    vpcd_readers()
    proc = subprocess.Popen(
        [sys.executable, "-m", "docval_client.vicc", "--profile", "bsi", "--connect-timeout", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "inserted" in line, line
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def test_bac_and_read_through_pcscd(inserted: subprocess.Popen[str]) -> None:
    """BAC and a read of DG1, DG2 and the SOD through pcscd give the profile's exact bytes."""
    card = PcscCard(READER, wait=10)
    try:
        key = profiles.load("bsi").mrz_key
        assert key is not None
        exchange.run(reader.select_applet(), card.transmit)
        sm = exchange.run(bac.bac(key, os.urandom), card.transmit)
        files = {name: exchange.run(reader.read_file(reader.file_by_name(name), sm, max_block=1024),
                                    card.transmit) for name in ("sod", "dg1", "dg2")}
    finally:
        card.close()
    assert files == {name: profiles.load("bsi").files[name] for name in files}
    assert lds.dg1.parse(files["dg1"]).mrz.primary_identifier == "MUSTERMANN"


def test_wrong_key_through_pcscd(inserted: subprocess.Popen[str]) -> None:
    """A wrong MRZ is refused by the chip through pcscd as AccessKeyError."""
    card = PcscCard(READER, wait=10)
    try:
        exchange.run(reader.select_applet(), card.transmit)
        with pytest.raises(AccessKeyError):
            exchange.run(bac.bac(MRZKey("C11T002JM", "960812", "231030"), os.urandom), card.transmit)
    finally:
        card.close()


def test_removed_card_is_reported() -> None:
    """With no virtual card inserted, connecting says there is no card."""
    vpcd_readers()
    with pytest.raises(CardError) as info:
        PcscCard(READER, wait=0)
    assert "no card" in str(info.value)
