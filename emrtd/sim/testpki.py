"""The test PKI of the virtual passports: seeded CSCAs for the specimen state Utopia
(``UT``), their document signers (valid, expired, revoked), CRLs, a CMS-signed master list,
and an untrusted "rogue" CSCA with the same names for negative tests. Everything is derived
from one seed (:mod:`emrtd.sim.pki`), so every build is byte-identical."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import pki


@dataclass(frozen=True)
class TestPKI:
    """Trusted CSCAs with their DSCs and CRLs, a master list, and an untrusted CSCA."""

    seed: pki.Seed = field(repr=False)
    country: str  # ISO 3166 alpha-2 of the CSCAs ("UT", Utopia, ICAO's specimen state)
    csca_ec: pki.Authority
    csca_rsa: pki.Authority
    dsc_ec: pki.Authority
    dsc_rsa: pki.Authority
    dsc_expired: pki.Authority
    dsc_revoked: pki.Authority
    rogue_csca: pki.Authority
    rogue_dsc: pki.Authority
    ml_signer: pki.Authority
    crls: tuple[bytes, ...]
    master_list: bytes

    def trust_files(self) -> dict[str, bytes]:
        """The trust store as files: CSCA certificates (PEM), CRLs (DER), the master list."""
        return {
            "csca-ut-ecdsa.pem": pki.pem("CERTIFICATE", self.csca_ec.der),
            "csca-ut-rsa.pem": pki.pem("CERTIFICATE", self.csca_rsa.der),
            "csca-ut-ecdsa.crl": self.crls[0],
            "csca-ut-rsa.crl": self.crls[1],
            "masterlist-ut.ml": self.master_list,
        }


DEFAULT_SEED = "docval-test-pki"


def test_pki(seed: str = DEFAULT_SEED) -> TestPKI:
    """The test PKI for a seed (cached: seeded RSA key generation takes a few seconds)."""
    return _test_pki(seed)


@functools.lru_cache(maxsize=4)
def _test_pki(seed: str) -> TestPKI:
    s = pki.Seed(seed)
    utc = pki.utc
    ca_years, ds_years = (utc(2024), utc(2039)), (utc(2025), utc(2036))

    def issue(
        common_name: str,
        key: pki.PrivateKey,
        issuer: pki.Authority | None,
        serial: int,
        valid: tuple[datetime, datetime],
        **options: Any,
    ) -> pki.Authority:
        return pki.certificate(
            subject=pki.name("UT", common_name),
            key=key,
            issuer=issuer,
            serial=serial,
            not_before=valid[0],
            not_after=valid[1],
            ca=issuer is None,
            **options,
        )

    ec_key = functools.partial(pki.ec_key, s)
    csca_ec = issue(
        "CSCA Utopia ECDSA",
        ec_key("csca-ec", "brainpoolP384r1"),
        None,
        0x1001,
        ca_years,
        explicit=True,
        hash_name="sha384",
    )
    csca_rsa = issue("CSCA Utopia RSA", pki.rsa_key(s, "csca-rsa", 3072), None, 0x1002, ca_years)
    dsc_ec = issue("DS Utopia ECDSA 1", ec_key("dsc-ec", "brainpoolP256r1"), csca_ec, 0x2001, ds_years)
    dsc_rsa = issue("DS Utopia RSA 1", pki.rsa_key(s, "dsc-rsa", 2048), csca_rsa, 0x2002, ds_years, pss=True)
    dsc_expired = issue(
        "DS Utopia ECDSA expired",
        ec_key("dsc-expired", "secp256r1"),
        csca_ec,
        0x2003,
        (utc(2024), utc(2024, 12, 31)),
    )
    dsc_revoked = issue(
        "DS Utopia ECDSA revoked", ec_key("dsc-revoked", "secp256r1"), csca_ec, 0x2004, ds_years
    )
    # Same names and serials as the trusted pair, other keys: only a key check tells them apart.
    rogue_csca = issue("CSCA Utopia ECDSA", ec_key("rogue", "secp256r1"), None, 0x1001, ca_years)
    rogue_dsc = issue("DS Utopia ECDSA 1", ec_key("rogue-dsc", "secp256r1"), rogue_csca, 0x2001, ds_years)
    ml_signer = issue(
        "Master List Signer Utopia",
        ec_key("ml-signer", "brainpoolP256r1"),
        csca_ec,
        0x3001,
        ds_years,
        extended_key_usage=pki.OID_ML_SIGNER_EKU,
    )
    crls = (
        pki.revocation_list(csca_ec, [(0x2004, utc(2025, 6, 1))], utc(2026, 1, 1), utc(2036, 1, 1)).dump(),
        pki.revocation_list(csca_rsa, [], utc(2026, 1, 1), utc(2036, 1, 1)).dump(),
    )
    master_list = pki.master_list(
        ml_signer, [csca_ec.certificate, csca_rsa.certificate], signer_chain=(csca_ec.certificate,)
    )
    return TestPKI(
        s,
        "UT",
        csca_ec,
        csca_rsa,
        dsc_ec,
        dsc_rsa,
        dsc_expired,
        dsc_revoked,
        rogue_csca,
        rogue_dsc,
        ml_signer,
        crls,
        master_list,
    )
