"""The virtual passport through the real PC/SC stack: docval-sim → vpcd → pcscd → pyscard,
with BAC (BSI reference passport) and PACE + Chip Authentication (utopia test passport)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from docval_client.card import CardError, PcscCard
from emrtd import bac, chipauth, exchange, lds, pace, reader
from emrtd.errors import AccessKeyError
from emrtd.lds import dg14
from emrtd.lds.securityinfos import PACEInfo
from emrtd.mrz import CANKey, MRZKey
from emrtd.sim import profiles

from .pcsc import vpcd_readers

pytestmark = pytest.mark.pcsc
READER = "Virtual PCD 00 00"
ROOT = Path(__file__).resolve().parents[2]


def insert(profile: str, faults: tuple[str, ...] = ()) -> subprocess.Popen[str]:
    """Start docval-sim with a profile (and fault modes) and wait until its card is in the vpcd reader."""
    vpcd_readers()
    fault_args = [arg for fault in faults for arg in ("--fault", fault)]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emrtd.sim.vpcd_card",
            "--profile",
            profile,
            "--connect-timeout",
            "10",
            *fault_args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "inserted" in line, line
    return proc


@pytest.fixture
def inserted(request: pytest.FixtureRequest) -> Iterator[subprocess.Popen[str]]:
    """Insert a virtual passport (``bsi`` unless parametrized) for the duration of one test."""
    proc = insert(getattr(request, "param", "bsi"))
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def read_card_access(card: PcscCard) -> list[PACEInfo]:
    exchange.run(reader.select_master_file(), card.transmit)
    raw = exchange.run(reader.read_file(reader.EF_CARD_ACCESS, None), card.transmit)
    return list(dg14.parse_card_access(raw).pace)


@pytest.mark.parametrize("inserted", ["utopia"], indirect=True)
def test_pace_and_chip_authentication_through_pcscd(inserted: subprocess.Popen[str]) -> None:
    """PACE with the MRZ, then CA and reads under the new keys, through pcscd, give the profile's bytes."""
    expected = profiles.passport("utopia")
    card = PcscCard(READER, wait=10)
    try:
        info = pace.choose(read_card_access(card))
        assert (info.key_agreement, info.mapping, info.parameter_id) == ("ECDH", "GM", 12)
        result = exchange.run(pace.pace(info, expected.mrz.access_key, os.urandom), card.transmit)
        exchange.run(reader.select_applet(sm=result.sm), card.transmit)
        raw14 = exchange.run(reader.read_file(reader.file_by_name("dg14"), result.sm), card.transmit)
        infos = dg14.parse(raw14).security_infos
        plan = chipauth.prepare(infos.chip_authentication_keys[0], os.urandom, infos.chip_authentication[0])
        sm = exchange.run(chipauth.chip_authentication(plan, result.sm), card.transmit)
        files = {
            name: exchange.run(reader.read_file(reader.file_by_name(name), sm, max_block=1024), card.transmit)
            for name in ("dg1", "dg2", "sod")
        }
    finally:
        card.close()
    assert raw14 == expected.files["dg14"]
    assert files == {name: expected.files[name] for name in files}


@pytest.mark.parametrize("inserted", ["utopia"], indirect=True)
def test_pace_with_can_and_wrong_can_through_pcscd(inserted: subprocess.Popen[str]) -> None:
    """PACE with the CAN works through pcscd; a wrong CAN is refused as AccessKeyError."""
    card = PcscCard(READER, wait=10)
    try:
        info = pace.choose(read_card_access(card))
        with pytest.raises(AccessKeyError):
            exchange.run(pace.pace(info, CANKey("654321"), os.urandom), card.transmit)
        result = exchange.run(pace.pace(info, CANKey("123456"), os.urandom), card.transmit)
        exchange.run(reader.select_applet(sm=result.sm), card.transmit)
        raw = exchange.run(reader.read_file(reader.file_by_name("dg1"), result.sm), card.transmit)
    finally:
        card.close()
    assert raw == profiles.passport("utopia").files["dg1"]


def test_bac_and_read_through_pcscd(inserted: subprocess.Popen[str]) -> None:
    """BAC and a read of DG1, DG2 and the SOD through pcscd give the profile's exact bytes."""
    card = PcscCard(READER, wait=10)
    try:
        key = profiles.load("bsi").mrz_key
        assert key is not None
        exchange.run(reader.select_applet(), card.transmit)
        sm = exchange.run(bac.bac(key, os.urandom), card.transmit)
        files = {
            name: exchange.run(reader.read_file(reader.file_by_name(name), sm, max_block=1024), card.transmit)
            for name in ("sod", "dg1", "dg2")
        }
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
