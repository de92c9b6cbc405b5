"""One table of every fault mode of the virtual chip drives both the online verdicts (desktop
client session against the server session, in memory) and the offline ones (docval-client's
local verification), so the two cannot drift apart again."""

from __future__ import annotations

import os
from typing import Any, NamedTuple

import pytest

from docval_client.offline import verify_locally
from docval_client.session import Options
from docval_server.testing import validate_in_memory
from emrtd import exchange
from emrtd.sim import VirtualChip, pki, profiles, testpki
from emrtd.sim.spec import FAULTS
from emrtd.truststore import TrustStore

NOW = pki.utc(2026, 11, 24)


class Case(NamedTuple):
    profile: str
    faults: tuple[str, ...]
    passive: bool
    chip: str
    active: str
    offline_chip: str | None = None  # where offline knows more (PACE-CAM): its CA verdict


TABLE = [
    Case("utopia", (), True, "SUCCESS", "SUCCESS"),
    Case("utopia", ("clone",), True, "FAILED", "SUCCESS"),
    Case("utopia", ("wrong-aa-key",), True, "SUCCESS", "FAILED"),
    # DG1 changed: PA fails on DG1's hash, but DG14 and DG15 are still proven
    Case("utopia", ("tampered-dg",), False, "SUCCESS", "SUCCESS"),
    Case("utopia", ("unknown-dsc",), False, "FAILED", "FAILED"),
    Case("utopia", ("expired-dsc",), False, "FAILED", "FAILED"),
    Case("utopia", ("revoked-dsc",), False, "FAILED", "FAILED"),
    Case("utopia", ("wrong-issuing-state",), False, "FAILED", "FAILED"),
    Case("utopia", ("no-dg14",), True, "UNAVAILABLE", "SUCCESS"),
    Case("utopia", ("no-ca-key",), True, "UNAVAILABLE", "SUCCESS"),
    Case("utopia", ("no-dg15",), True, "SUCCESS", "UNAVAILABLE"),
    # no READ BINARY by SFI: client, offline mode and the server's DG1 read select by FID
    Case("utopia", ("no-sfi",), True, "SUCCESS", "SUCCESS"),
    Case("utopia-bac", ("no-sfi",), True, "SUCCESS", "SUCCESS"),
    # empty files are findings, the result posts: without a SOD nothing is proven (so CA and
    # AA fail as with an untrusted DSC); an empty DG2 fails only its own hash
    Case("utopia", ("empty-sod",), False, "FAILED", "FAILED"),
    Case("utopia", ("empty-dg2",), False, "SUCCESS", "SUCCESS"),
    Case("utopia-bac", ("empty-sod", "no-sfi"), False, "FAILED", "FAILED"),
    # keys named by a standardized domain parameter id: CA (EC and DH) and PACE-CAM work
    Case("utopia", ("std-params",), True, "SUCCESS", "SUCCESS"),
    Case("utopia-dh", ("std-params",), True, "SUCCESS", "SUCCESS"),
    Case("utopia-pace", ("std-params", "no-dg14"), True, "UNAVAILABLE", "FAILED", offline_chip="SUCCESS"),
    # an id-data SOD verifies, with a note in errors (checked below)
    Case("utopia", ("id-data-sod",), True, "SUCCESS", "SUCCESS"),
    Case("utopia-bac", ("clone",), True, "FAILED", "SUCCESS"),
    Case("utopia-pace", ("clone",), True, "FAILED", "SUCCESS"),
    Case("utopia-dh", ("wrong-aa-key",), True, "SUCCESS", "FAILED"),
    # PACE-CAM without DG14: online the server has no CA to run; offline the CAM proof counts.
    # Its ECDSA AA needs DG14's ActiveAuthenticationInfo (9303-11 §6.1), so AA fails.
    Case("utopia-pace", ("no-dg14",), True, "UNAVAILABLE", "FAILED", offline_chip="SUCCESS"),
    Case("utopia-pace", ("no-dg14", "clone"), True, "UNAVAILABLE", "FAILED", offline_chip="FAILED"),
]
IDS = [f"{c.profile}+{'+'.join(c.faults) or 'genuine'}" for c in TABLE]


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    keys = testpki.test_pki()
    return TrustStore.from_der([keys.csca_ec.der, keys.csca_rsa.der], crls=keys.crls)


def test_every_fault_mode_is_in_the_table() -> None:
    """Each fault mode of the virtual chip appears in the table (so in both modes)."""
    assert set(FAULTS) <= {fault for case in TABLE for fault in case.faults}


@pytest.mark.parametrize("case", TABLE, ids=IDS)
def test_online_verdicts(trust: TrustStore, case: Case) -> None:
    """The server's result for each fault mode, with our desktop client in memory."""
    chip = VirtualChip(profiles.load(case.profile, case.faults))
    assert chip.config.mrz_key is not None
    run = validate_in_memory(chip, Options("v-1", "c-1", chip.config.mrz_key), trust=trust, now=lambda: NOW)
    passport = run.outcome.passport
    assert passport is not None, run.outcome
    assert run.posts == [passport]
    got = (passport["passiveAuthentication"], passport["chipAuthenticationResult"],
           passport["activeAuthenticationResult"])
    assert got == (case.passive, case.chip, case.active), passport["errors"]
    _check_findings(case, passport)


def _check_findings(case: Case, passport: dict[str, Any]) -> None:
    """The reasons an empty file or an accepted oddity leaves in the result's errors."""
    errors = passport["errors"]
    if "empty-sod" in case.faults:
        assert "sod: EF.SOD is empty" in errors
        assert passport["mrzInfo"] is not None  # the rest of the document is still reported
    if "empty-dg2" in case.faults:
        assert any(e.startswith("DG2:") and "empty" in e for e in errors), errors
        assert any(e.startswith("hash:") and "2" in e for e in errors), errors
        assert passport["facePhoto"] is None
    if "id-data-sod" in case.faults:
        assert any("id-data" in e for e in errors), errors


@pytest.mark.parametrize("case", TABLE, ids=IDS)
def test_offline_verdicts(trust: TrustStore, case: Case) -> None:
    """docval-client's offline verification gives the same verdicts as the server."""
    chip = VirtualChip(profiles.load(case.profile, case.faults))
    assert chip.config.mrz_key is not None
    passport = exchange.run(verify_locally(chip.config.mrz_key, trust, NOW, os.urandom), chip.transmit)
    got = (passport["passiveAuthentication"], passport["chipAuthenticationResult"],
           passport["activeAuthenticationResult"])
    expected = (case.passive, case.offline_chip or case.chip, case.active)
    assert got == expected, passport["errors"]
    _check_findings(case, passport)
