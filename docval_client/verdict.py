"""When a DocVal result means "valid": the one rule the CLI, offline mode and the SDK share."""

from __future__ import annotations

from typing import Any

ACCEPTED = ("SUCCESS", "UNAVAILABLE")


def validated(passport: dict[str, Any]) -> bool:
    """PA passed, and CA and AA each SUCCESS or UNAVAILABLE (as the vendor's iOS app decides)."""
    return (
        bool(passport.get("passiveAuthentication"))
        and passport.get("chipAuthenticationResult") in ACCEPTED
        and passport.get("activeAuthenticationResult") in ACCEPTED
    )
