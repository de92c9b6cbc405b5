"""The test PKI and passport generator: reproducible, structurally valid, and each fault
mode breaks exactly what it names."""

from __future__ import annotations

import hashlib
import io

import pytest
from asn1crypto import cms, crl, x509
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image

from emrtd import pubkey
from emrtd.errors import EmrtdError
from emrtd.lds import com, dg1, dg2, dg14, sod
from emrtd.sim import documents, pki, profiles, spec, testpki
from emrtd.truststore import CscaMasterList


def test_same_seed_same_pki() -> None:
    """One seed gives byte-identical keys, certificates, CRLs and signed data; another seed differs."""

    def make(seed_text: str) -> tuple[bytes, bytes, bytes, bytes]:
        seed = pki.Seed(seed_text)
        ca = pki.certificate(
            subject=pki.name("UT", "CSCA"),
            key=pki.ec_key(seed, "ca", "brainpoolP256r1"),
            issuer=None,
            serial=1,
            not_before=pki.utc(2024),
            not_after=pki.utc(2030),
            ca=True,
            explicit=True,
        )
        ds = pki.certificate(
            subject=pki.name("UT", "DS"),
            key=pki.rsa_key(seed, "ds", 1024),
            issuer=ca,
            serial=2,
            not_before=pki.utc(2024),
            not_after=pki.utc(2030),
            ca=False,
        )
        revoked = pki.revocation_list(ca, [(2, pki.utc(2025))], pki.utc(2025), pki.utc(2026)).dump()
        signed = pki.signed_data(pki.OID_LDS_SECURITY_OBJECT, b"\x30\x00", ds).dump()
        return ca.der, ds.der, revoked, signed

    assert make("reproducible") == make("reproducible")
    assert make("reproducible")[0] != make("other")[0]


def test_csca_has_explicit_brainpool_parameters_and_signs_its_dscs() -> None:
    """The ECDSA CSCA publishes explicit brainpoolP384r1 parameters and its DSC verifies under it."""
    trust = testpki.test_pki()
    csca_key = pubkey.parse_spki(
        trust.csca_ec.certificate["tbs_certificate"]["subject_public_key_info"].dump()
    )
    assert isinstance(csca_key, pubkey.ECPublicKey) and csca_key.curve.name == "brainpoolP384r1"
    params = trust.csca_ec.certificate["tbs_certificate"]["subject_public_key_info"]["algorithm"][
        "parameters"
    ]
    assert params.name == "specified"
    dsc = cx509.load_der_x509_certificate(trust.dsc_ec.der)
    csca_public = trust.csca_ec.signer.key.public_key()
    assert isinstance(csca_public, ec.EllipticCurvePublicKey)  # cryptography cannot load explicit parameters
    csca_public.verify(dsc.signature, dsc.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
    rsa_dsc = cx509.load_der_x509_certificate(trust.dsc_rsa.der)
    rsa_dsc.verify_directly_issued_by(cx509.load_der_x509_certificate(trust.csca_rsa.der))


def test_crl_revokes_the_revoked_dsc_only() -> None:
    """The ECDSA CSCA's CRL lists the revoked DSC's serial and nothing else."""
    trust = testpki.test_pki()
    revoked = crl.CertificateList.load(trust.crls[0])["tbs_cert_list"]["revoked_certificates"]
    assert [entry["user_certificate"].native for entry in revoked] == [
        trust.dsc_revoked.certificate.serial_number
    ]
    assert crl.CertificateList.load(trust.crls[1])["tbs_cert_list"]["revoked_certificates"].native in (
        None,
        [],
    )


def test_master_list_holds_both_cscas_and_is_signed() -> None:
    """The master list is CMS SignedData (2.23.136.1.1.2) over both CSCAs; its signature verifies."""
    trust = testpki.test_pki()
    info = cms.ContentInfo.load(trust.master_list)
    signed = info["content"]
    assert signed["encap_content_info"]["content_type"].dotted == pki.OID_MASTER_LIST
    content = signed["encap_content_info"]["content"].native
    certs = CscaMasterList.load(content)["cert_list"]
    assert {c.dump() for c in certs} == {trust.csca_ec.der, trust.csca_rsa.der}
    signer = signed["signer_infos"][0]
    digest = [a for a in signer["signed_attrs"] if a["type"].native == "message_digest"][0]["values"][
        0
    ].native
    assert digest == hashlib.sha256(content).digest()
    signer_key = cx509.load_der_x509_certificate(trust.ml_signer.der).public_key()
    assert isinstance(signer_key, ec.EllipticCurvePublicKey)
    signed_attributes = b"\x31" + signer["signed_attrs"].dump()[1:]  # signed as a SET, sent as [0]
    signer_key.verify(signer["signature"].native, signed_attributes, ec.ECDSA(hashes.SHA256()))


def passport(name: str = "utopia", *faults: str) -> documents.Passport:
    return profiles.passport(name, faults)


def sod_hashes(document: documents.Passport) -> dict[int, bytes]:
    return sod.parse(document.files["sod"]).hashes


def test_sod_hashes_match_every_data_group() -> None:
    """Every data group's SHA-256 is in the SOD, and EF.COM lists exactly those groups."""
    document = passport()
    hashes = sod_hashes(document)
    groups = {int(n[2:]): raw for n, raw in document.files.items() if n.startswith("dg")}
    assert set(hashes) == set(groups) == {1, 2, 11, 12, 14, 15}
    for number, raw in groups.items():
        assert hashes[number] == hashlib.sha256(raw).digest()
    assert sorted(com.parse(document.files["com"]).tags) == [0x61, 0x6B, 0x6C, 0x6E, 0x6F, 0x75]


def test_sod_is_signed_by_the_dsc() -> None:
    """The SOD's signer is the trusted ECDSA DSC and its signed attributes verify."""
    document = passport()
    parsed = sod.parse(document.files["sod"])
    assert parsed.certificates[0].dump() == testpki.test_pki().dsc_ec.der


@pytest.mark.parametrize("kind", ["jpeg", "jp2"])
def test_dg2_holds_a_decodable_face(kind: str) -> None:
    """DG2 carries a 240x320 face that Pillow decodes, as JPEG or JPEG 2000."""
    passport_spec = spec.PassportSpec(f"face-{kind}", image=kind)
    face = dg2.parse(documents.build(passport_spec).files["dg2"]).face
    assert (face.width, face.height) == (240, 320)
    assert Image.open(io.BytesIO(face.data)).size == (240, 320)


def test_dg1_carries_the_mrz_and_dg14_the_keys() -> None:
    """DG1 holds the spec's MRZ; DG14 holds PACE, CA and key infos."""
    document = passport("utopia-pace")
    assert dg1.parse(document.files["dg1"]).mrz.document_number == "UT1234567"
    infos = dg14.parse(document.files["dg14"]).security_infos
    assert len(infos.pace) == 2 and infos.chip_authentication[0].key_id == 1
    assert infos.active_authentication is not None


def test_tampered_dg_breaks_only_its_hash() -> None:
    """tampered-dg: DG1's hash no longer matches; the other groups still do."""
    document = passport("utopia", "tampered-dg")
    hashes = sod_hashes(document)
    assert hashes[1] != hashlib.sha256(document.files["dg1"]).digest()
    assert hashes[2] == hashlib.sha256(document.files["dg2"]).digest()


def test_signer_faults_pick_the_bad_dsc() -> None:
    """unknown-dsc, expired-dsc and revoked-dsc sign with the rogue, expired and revoked DSCs."""
    trust = testpki.test_pki()
    for fault, authority in (
        ("unknown-dsc", trust.rogue_dsc),
        ("expired-dsc", trust.dsc_expired),
        ("revoked-dsc", trust.dsc_revoked),
    ):
        signer = sod.parse(passport("utopia", fault).files["sod"]).certificates[0]
        assert signer.dump() == authority.der, fault
    expired = x509.Certificate.load(trust.dsc_expired.der)
    assert expired["tbs_certificate"]["validity"]["not_after"].native < pki.utc(2025)


def test_wrong_issuing_state_and_missing_groups() -> None:
    """wrong-issuing-state changes DG1's state; no-dg14/no-dg15 drop the files, hashes and COM tags."""
    assert dg1.parse(passport("utopia", "wrong-issuing-state").files["dg1"]).mrz.issuing_state == "D<<"
    document = passport("utopia", "no-dg14", "no-dg15")
    assert "dg14" not in document.files and "dg15" not in document.files
    assert set(sod_hashes(document)) == {1, 2, 11, 12}
    assert document.keys.ca_keys == () and document.keys.aa_key is None


def test_unknown_fault_is_refused() -> None:
    """An unknown fault name is a clear error listing the known ones."""
    with pytest.raises(EmrtdError, match="known: clone"):
        passport("utopia", "haunted")
