"""The one verdict function: protocol outcomes plus Passive Authentication in, the result's
``chipAuthenticationResult`` / ``activeAuthenticationResult`` out, with the trust order.

The trust order (ICAO 9303-11 §6.1, §6.2: the keys that CA and AA check come from DG14 and
DG15, which only Passive Authentication vouches for): a protocol counts as ``SUCCESS`` only
when it succeeded *and* PA proved the data group holding its key (signature, DSC chain and
that group's own hash). A clone can carry its own DG14/DG15 and pass its own protocol; only
the issuer's signature tells. ``UNAVAILABLE`` means the document does not offer the protocol
(no DG14 or no CA key in it; no DG15); everything else is ``FAILED``.

Server (online) and ``docval-client`` offline mode both call :func:`verdicts`, so the two
cannot disagree about what a document's checks mean. :func:`validated` is the one rule for
"is this result VALID" (the vendor's iOS app's rule).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..passiveauth import PassiveAuthenticationResult

CheckResult = Literal["SUCCESS", "FAILED", "UNAVAILABLE"]
CHECK_RESULTS: tuple[CheckResult, ...] = ("SUCCESS", "FAILED", "UNAVAILABLE")
ACCEPTED: tuple[CheckResult, ...] = ("SUCCESS", "UNAVAILABLE")

CA_GROUP = 14
AA_GROUP = 15


@dataclass(frozen=True)
class Outcome:
    """How a protocol ran, before the trust order: ``passed`` is True or False, or None
    when the document does not offer it; ``reason`` says why it failed or was not run.

    ``key_verified`` is for keys that do not come from DG14/DG15: PACE-CAM proves the key of
    EF.CardSecurity, whose own signature (checked like the SOD's) vouches for it; then that
    check, not PA's hash of the data group, completes the trust order."""

    passed: bool | None
    reason: str | None = None
    key_verified: bool | None = None


NOT_OFFERED = Outcome(None)
PASSED = Outcome(True)


def failed(reason: str) -> Outcome:
    """A protocol that ran (or should have) and did not pass."""
    return Outcome(False, reason)


def not_offered(reason: str | None = None) -> Outcome:
    """A protocol the document does not offer (UNAVAILABLE)."""
    return Outcome(None, reason)


@dataclass(frozen=True)
class Verdicts:
    """The two verdicts of a result and the reasons to record in its ``errors``."""

    chip_authentication: CheckResult
    active_authentication: CheckResult
    errors: tuple[str, ...]


def trusted_verdict(pa: PassiveAuthenticationResult, data_group: int, passed: bool | None) -> CheckResult:
    """One protocol's verdict with the trust order applied (see the module docstring)."""
    if passed is None:
        return "UNAVAILABLE"
    return "SUCCESS" if passed and pa.verified(data_group) else "FAILED"


def _one(
    pa: PassiveAuthenticationResult, name: str, group: int, outcome: Outcome, errors: list[str]
) -> CheckResult:
    if outcome.reason and outcome.passed is not True:
        errors.append(f"{name}: {outcome.reason}")
    if outcome.key_verified is not None:
        return "SUCCESS" if outcome.passed and outcome.key_verified else "FAILED"
    if outcome.passed and not pa.verified(group):
        errors.append(f"{name}: DG{group} is not verified by Passive Authentication")
    return trusted_verdict(pa, group, outcome.passed)


def verdicts(pa: PassiveAuthenticationResult, chip: Outcome, active: Outcome) -> Verdicts:
    """The verdicts of Chip and Active Authentication for a document whose PA is ``pa``."""
    errors: list[str] = []
    ca = _one(pa, "chip authentication", CA_GROUP, chip, errors)
    aa = _one(pa, "active authentication", AA_GROUP, active, errors)
    return Verdicts(ca, aa, tuple(errors))


def validated(passport: Mapping[str, Any]) -> bool:
    """VALID: PA passed, and CA and AA each SUCCESS or UNAVAILABLE (the vendor's iOS rule)."""
    return (
        bool(passport.get("passiveAuthentication"))
        and passport.get("chipAuthenticationResult") in ACCEPTED
        and passport.get("activeAuthenticationResult") in ACCEPTED
    )


__all__ = [
    "ACCEPTED",
    "CHECK_RESULTS",
    "NOT_OFFERED",
    "PASSED",
    "CheckResult",
    "Outcome",
    "Verdicts",
    "failed",
    "not_offered",
    "trusted_verdict",
    "validated",
    "verdicts",
]
