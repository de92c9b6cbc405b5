"""Shared test configuration: the PC/SC marker, the vectors and reference data paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import txaio
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("DOCVAL_SHARED", ROOT.parent / "shared"))
BSI = SHARED / "data" / "bsi-tr03105-reference"
MASTERLISTS = SHARED / "data" / "masterlists"

settings.register_profile("ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pcsc_required() -> bool:
    """Under CI (or DOCVAL_REQUIRE_PCSC=1) a missing pcscd is a failure, never a skip."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("DOCVAL_REQUIRE_PCSC") == "1"


def missing_pcsc(reason: str) -> None:
    if pcsc_required():
        pytest.fail(f"PC/SC stack required but unavailable: {reason}", pytrace=False)
    pytest.skip(f"PC/SC stack unavailable: {reason}")


def shared_file(path: Path) -> bytes:
    if not path.exists():
        pytest.fail(f"reference data missing: {path} (is ../shared checked out?)", pytrace=False)
    return path.read_bytes()


def use_txaio(framework: str) -> None:
    """Point txaio (Autobahn's async layer) at ``twisted`` or ``asyncio``. txaio allows one
    framework per process; the adapters' unit tests run Autobahn on Twisted, the server's
    integration client on asyncio, so each test module says which it needs."""
    module = txaio
    module._explicit_framework = None
    getattr(module, f"use_{framework}")()


@pytest.fixture(autouse=True)
def _txaio_framework(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests whose module sets ``TXAIO_FRAMEWORK`` run with txaio on that framework."""
    framework = getattr(request.module, "TXAIO_FRAMEWORK", None)
    if framework is not None:
        use_txaio(framework)
    yield
