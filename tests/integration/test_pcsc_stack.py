"""The real PC/SC stack: pcscd with the vpcd driver, seen through pyscard."""

from __future__ import annotations

import pytest

from .pcsc import vpcd_readers

pytestmark = pytest.mark.pcsc


def test_pcscd_offers_the_virtual_reader() -> None:
    """pyscard lists the 'Virtual PCD' readers that vsmartcard-vpcd adds to pcscd."""
    names = [str(reader) for reader in vpcd_readers()]
    assert names[0].startswith("Virtual PCD 00 00")
