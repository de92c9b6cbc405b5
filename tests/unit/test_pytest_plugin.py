"""The shipped pytest plugin, used as a user's integration test would use it (the README's
example): its fixtures come from the ``pytest11`` entry point, not from our conftest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from emrtd.sim import VirtualChip
from emrtd.truststore import TrustStore


def test_a_clone_is_caught(
    virtual_passport: Callable[..., VirtualChip], docval_pair: Callable[..., Any]
) -> None:
    """The README's five-line example: a cloned chip fails Chip Authentication."""
    run = docval_pair(virtual_passport("utopia", "clone"))
    assert run.outcome.passport["chipAuthenticationResult"] == "FAILED"


def test_a_genuine_passport_validates(
    virtual_passport: Callable[..., VirtualChip], docval_pair: Callable[..., Any]
) -> None:
    """A genuine passport passes every check, and the POSTed result equals the RESULT."""
    run = docval_pair(virtual_passport("utopia-bac"), validation_id="v-plugin")
    passport = run.outcome.passport
    assert passport["validationId"] == "v-plugin" and run.posts == [passport]
    assert (passport["passiveAuthentication"], passport["chipAuthenticationResult"]) == (True, "SUCCESS")


def test_trust_fixtures(emrtd_trust_store: TrustStore, emrtd_trust_dir: Path) -> None:
    """The trust store and the trust folder hold the same CSCAs."""
    assert len(emrtd_trust_store) == 2
    assert len(TrustStore.load(emrtd_trust_dir)) == 2
