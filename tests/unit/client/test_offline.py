"""Offline verification (no server) against virtual chips: the same verdicts the server gives."""

from __future__ import annotations

import os

import pytest

from docval_client.offline import verify_locally
from emrtd import exchange
from emrtd.mrz import CANKey
from emrtd.sim import pki, profiles, testpki
from emrtd.sim.chip import VirtualChip
from emrtd.truststore import TrustStore


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = testpki.test_pki()
    return TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)


def verify(
    trust: TrustStore, profile: str, *faults: str, key: object = None, files: dict[str, bytes] | None = None
) -> dict[str, object]:
    config = profiles.load(profile, faults)
    config.files.update(files or {})
    chip = VirtualChip(config)

    transmit = chip.transmit

    access = key or chip.config.mrz_key
    return exchange.run(verify_locally(access, trust, pki.utc(2026, 11, 24), os.urandom), transmit)  # type: ignore[arg-type]


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac", "utopia-pace", "utopia-im", "utopia-dh"])
def test_genuine_documents_verify_offline(trust: TrustStore, profile: str) -> None:
    """PA passed, CA and AA SUCCESS for every generated profile, with no server."""
    result = verify(trust, profile)
    assert (
        result["passiveAuthentication"],
        result["chipAuthenticationResult"],
        result["activeAuthenticationResult"],
    ) == (True, "SUCCESS", "SUCCESS"), result["errors"]


@pytest.mark.parametrize(
    ("fault", "ca", "aa", "pa"),
    [
        ("clone", "FAILED", "SUCCESS", True),
        ("wrong-aa-key", "SUCCESS", "FAILED", True),
        ("tampered-dg", "SUCCESS", "SUCCESS", False),
        ("revoked-dsc", "FAILED", "FAILED", False),
        ("no-dg14", "UNAVAILABLE", "SUCCESS", True),
        ("no-dg15", "SUCCESS", "UNAVAILABLE", True),
    ],
)
def test_faults_offline(trust: TrustStore, fault: str, ca: str, aa: str, pa: bool) -> None:
    """Each fault gives the verdicts the server gives for it."""
    result = verify(trust, "utopia", fault)
    assert (
        result["chipAuthenticationResult"],
        result["activeAuthenticationResult"],
        result["passiveAuthentication"],
    ) == (ca, aa, pa)


def test_can_offline(trust: TrustStore) -> None:
    """A CAN opens a PACE chip offline too."""
    assert verify(trust, "utopia-pace", key=CANKey("123456"))["passiveAuthentication"] is True


def test_unparsable_dg15_is_aa_failed_not_a_crash(trust: TrustStore) -> None:
    """A DG15 whose key cannot be parsed gives AA FAILED with the reason, not an exception."""
    result = verify(trust, "utopia", files={"dg15": bytes.fromhex("6F03300100")})
    assert result["activeAuthenticationResult"] == "FAILED"
    assert any(str(error).startswith("active authentication:") for error in result["errors"])  # type: ignore[attr-defined]
