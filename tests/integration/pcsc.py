"""Helpers for tests that need the real pcscd with the vpcd virtual reader."""

from __future__ import annotations

from typing import Any

from ..conftest import missing_pcsc

VPCD_READER_PREFIX = "Virtual PCD"


def vpcd_readers() -> list[Any]:
    """The vpcd readers pcscd offers; fails (under CI) or skips when the stack is missing."""
    try:
        from smartcard.pcsc.PCSCExceptions import (
            EstablishContextException,
            ListReadersException,
        )
        from smartcard.System import readers
    except ImportError as exc:  # pyscard not installed
        missing_pcsc(f"pyscard cannot be imported: {exc}")
        raise
    try:
        found = [r for r in readers() if str(r).startswith(VPCD_READER_PREFIX)]
    except (EstablishContextException, ListReadersException) as exc:
        missing_pcsc(f"pcscd is not running: {exc}")
        raise
    if not found:
        missing_pcsc("pcscd runs but offers no 'Virtual PCD' reader (vsmartcard-vpcd missing?)")
    return found
