"""ICAO PKD LDIF downloads as trust material: built here from the test PKI the way the PKD
writes them (dn per object, base64 values folded at 76 columns), loaded by TrustStore.load
like the equivalent certificate, master-list and CRL files."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from emrtd.errors import TrustStoreError
from emrtd.sim import testpki
from emrtd.truststore import TrustStore


def _entry(dn: str, attribute: str, der: bytes) -> str:
    """One LDIF entry with the value base64-encoded and folded as the PKD does."""
    line = f"{attribute}:: {base64.b64encode(der).decode()}"
    folded = [line[:76]] + [" " + line[i : i + 75] for i in range(76, len(line), 75)]
    return f"dn: {dn}\nobjectClass: top\n" + "\n".join(folded) + "\n"


def _pkd_ldif() -> str:
    keys = testpki.test_pki()
    return "\n".join(
        [
            "version: 1",
            "# a comment, as the PKD's header",
            "",
            _entry("cn=CSCA Utopia,o=csca,c=UT,dc=data", "userCertificate;binary", keys.csca_ec.der),
            _entry("cn=DS Utopia,o=dsc,c=UT,dc=data", "userCertificate;binary", keys.dsc_ec.der),
            _entry("cn=ML Utopia,o=ml,c=UT,dc=data", "pkdMasterListContent", keys.master_list),
            _entry("cn=CRL Utopia,o=crl,c=UT,dc=data", "certificateRevocationList;binary", keys.crls[0]),
            _entry("cn=CRL Utopia RSA,o=crl,c=UT,dc=data", "certificateRevocationList;binary", keys.crls[1]),
        ]
    )


def test_pkd_ldif_loads_like_the_files(tmp_path: Path) -> None:
    """Master list, CRLs and the CSCA from LDIF give the same store as the files; the document
    signer certificate is skipped (not a trust anchor)."""
    (tmp_path / "icaopkd-002-complete.ldif").write_text(_pkd_ldif())
    from_ldif = TrustStore.load(tmp_path)
    files = tmp_path / "files"
    files.mkdir()
    for name, data in testpki.test_pki().trust_files().items():
        (files / name).write_bytes(data)
    from_files = TrustStore.load(files)
    assert len(from_ldif) == len(from_files) and from_ldif.master_lists == 1 and from_ldif.crls == 2
    assert from_ldif.skipped == from_files.skipped + 1  # the DSC
    keys = testpki.test_pki()
    assert from_ldif.is_revoked(keys.dsc_revoked.certificate)
    assert not from_ldif.is_revoked(keys.dsc_ec.certificate)


def test_bad_ldif_names_the_file_and_line(tmp_path: Path) -> None:
    """A broken base64 value is one TrustStoreError naming the file and line."""
    (tmp_path / "broken.ldif").write_text("dn: cn=x\npkdMasterListContent:: not*base64\n")
    with pytest.raises(TrustStoreError, match=r"broken.ldif: LDIF line 2: bad base64"):
        TrustStore.load(tmp_path)
