"""The pytest plugin of ``docval`` (entry point ``pytest11: docval``), loaded by pytest as soon
as the package is installed. Fixtures for your own integration tests:

``virtual_passport(profile="utopia", *faults)``
    a :class:`~emrtd.sim.VirtualChip` of a profile of :mod:`emrtd.sim.profiles`, with fault
    modes of :data:`emrtd.sim.spec.FAULTS` (``"clone"``, ``"tampered-dg"`` …);
``emrtd_trust_store``
    the :class:`~emrtd.truststore.TrustStore` that trusts the ``utopia*`` passports;
``emrtd_trust_dir``
    the same trust material as files in a folder (CSCAs, CRLs, master list), for a server;
``docval_pair(chip, **options)``
    one whole DocVal validation of ``chip`` in memory, our desktop client session against the
    server session (:func:`docval_server.testing.validate_in_memory`); ``options`` go to
    :class:`docval_client.session.Options` (the access key defaults to the chip's MRZ).

Example::

    def test_a_clone_is_caught(virtual_passport, docval_pair):
        run = docval_pair(virtual_passport("utopia", "clone"))
        assert run.outcome.passport["chipAuthenticationResult"] == "FAILED"
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..truststore import TrustStore
from . import profiles, testpki
from .chip import VirtualChip


@pytest.fixture
def virtual_passport() -> Callable[..., VirtualChip]:
    """A factory of virtual passports: ``virtual_passport("utopia-pace", "clone")``."""

    def make(profile: str = "utopia", *faults: str) -> VirtualChip:
        return VirtualChip(profiles.load(profile, faults))

    return make


@pytest.fixture(scope="session")
def emrtd_trust_store() -> TrustStore:
    """The trust store of the test PKI (its CSCAs and CRLs)."""
    keys = testpki.test_pki()
    return TrustStore.from_der([keys.csca_ec.der, keys.csca_rsa.der], crls=keys.crls)


@pytest.fixture(scope="session")
def emrtd_trust_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the test PKI's CSCAs, CRLs and master list, as a server loads them."""
    folder = tmp_path_factory.mktemp("emrtd-trust")
    for name, data in testpki.test_pki().trust_files().items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture
def docval_pair(emrtd_trust_store: TrustStore) -> Callable[..., Any]:
    """Run a validation in memory: ``docval_pair(chip, validation_id="v-1")``."""
    from docval_client.session import Options  # the apps only when this fixture is used
    from docval_server.testing import validate_in_memory

    def run(chip: VirtualChip, *, trust: TrustStore | None = None, **options: Any) -> Any:
        key = options.pop("access_key", None) or chip.config.mrz_key
        if key is None:
            raise ValueError("this virtual passport has no MRZ key: pass access_key=")
        settings = {"validation_id": "in-memory", "client_id": "in-memory"} | options
        return validate_in_memory(
            chip,
            Options(settings.pop("validation_id"), settings.pop("client_id"), key, **settings),
            trust=trust or emrtd_trust_store,
        )

    return run
