"""SODs as some real issuers wrote them: eContentType id-data (accepted, verified, and noted
in the result), a SignerInfo naming its DSC with the RDNs in another order, or naming no
certificate we can match (the certificate whose key verifies the signature is taken; one that
does not verify never is)."""

from __future__ import annotations

from typing import Any

import pytest
from asn1crypto import cms, x509
from hypothesis import given
from hypothesis import strategies as st

from emrtd import derparts, passiveauth, tlv
from emrtd.docval import result, verdict
from emrtd.lds import sod
from emrtd.sim import encoders, pki, profiles, testpki
from emrtd.truststore import TrustStore

AT = pki.utc(2026, 11, 24)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    keys = testpki.test_pki()
    return TrustStore.from_der([keys.csca_ec.der, keys.csca_rsa.der], crls=keys.crls)


def files_with_sod(sod_bytes: bytes) -> dict[str, bytes]:
    files = dict(profiles.passport("utopia").files)
    files["sod"] = sod_bytes
    return {name: raw for name, raw in files.items() if name == "sod" or name.startswith("dg")}


def signed_sod(content_type: str = pki.OID_LDS_SECURITY_OBJECT) -> cms.ContentInfo:
    groups = {n: r for n, r in profiles.passport("utopia").files.items() if n.startswith("dg")}
    content = encoders.lds_security_object(encoders.group_hashes(groups))
    return pki.signed_data(
        content_type, content, testpki.test_pki().dsc_ec, signing_time=pki.utc(2025, 4, 15)
    )


def with_sid(info: cms.ContentInfo, sid: Any) -> bytes:
    """The same SignedData with another signer identifier (the sid is not signed)."""
    info = cms.ContentInfo.load(info.dump())
    info["content"]["signer_infos"][0]["sid"] = sid
    return tlv.encode(0x77, info.dump(force=True))


def test_id_data_sod_verifies_and_is_noted(trust: TrustStore) -> None:
    """eContentType id-data over an LDSSecurityObject: PA passes, and the result says so."""
    raw = tlv.encode(0x77, signed_sod(sod.OID_DATA).dump())
    pa = passiveauth.verify(files_with_sod(raw), trust, AT)
    assert pa.passed and pa.notes and "id-data" in pa.notes[0]
    built = result.build(
        "v", files_with_sod(raw), pa, verdict.verdicts(pa, verdict.NOT_OFFERED, verdict.NOT_OFFERED)
    )
    assert any("id-data" in error for error in built["errors"])


def test_other_content_types_are_still_refused(trust: TrustStore) -> None:
    """Only id-data is tolerated: a SOD of another content type is not an LDS security object."""
    raw = tlv.encode(0x77, signed_sod("2.23.136.1.1.2").dump())
    pa = passiveauth.verify(files_with_sod(raw), trust, AT)
    assert not pa.passed and pa.errors[0].startswith("sod:")


def test_signer_issuer_with_reordered_rdns(trust: TrustStore) -> None:
    """The SignerInfo names the DSC's issuer with its RDNs reversed: found, verified, PA passes."""
    info = signed_sod()
    dsc = testpki.test_pki().dsc_ec.certificate
    reversed_issuer = x509.Name(name="", value=x509.RDNSequence(list(reversed(list(dsc.issuer.chosen)))))
    assert reversed_issuer != dsc.issuer
    sid = cms.SignerIdentifier(
        name="issuer_and_serial_number", value={"issuer": reversed_issuer, "serial_number": dsc.serial_number}
    )
    pa = passiveauth.verify(files_with_sod(with_sid(info, sid)), trust, AT)
    assert pa.sod_signature_valid and pa.passed


def test_unmatched_sid_uses_the_certificate_that_verifies(trust: TrustStore) -> None:
    """A sid that matches no certificate: the SignedData's certificate whose key verifies the
    signature is the signer."""
    sid = cms.SignerIdentifier(name="subject_key_identifier", value=b"\x01" * 20)
    pa = passiveauth.verify(files_with_sod(with_sid(signed_sod(), sid)), trust, AT)
    assert pa.sod_signature_valid and pa.passed


def test_a_certificate_that_does_not_verify_is_never_taken(trust: TrustStore) -> None:
    """The same, but the only certificate is another DSC: the signature does not verify."""
    keys = testpki.test_pki()
    groups = {n: r for n, r in profiles.passport("utopia").files.items() if n.startswith("dg")}
    content = encoders.lds_security_object(encoders.group_hashes(groups))
    info = pki.signed_data(
        pki.OID_LDS_SECURITY_OBJECT, content, keys.dsc_ec, signing_time=pki.utc(2025, 4, 15)
    )
    info = cms.ContentInfo.load(info.dump())
    info["content"]["certificates"] = cms.CertificateSet(
        [cms.CertificateChoices(name="certificate", value=keys.dsc_rsa.certificate)]
    )
    sid = cms.SignerIdentifier(name="subject_key_identifier", value=b"\x01" * 20)
    pa = passiveauth.verify(files_with_sod(with_sid(info, sid)), trust, AT)
    assert not pa.sod_signature_valid and not pa.passed


def _rebuilt(info: cms.ContentInfo, encap: bytes | None = None, signer_infos: bytes | None = None) -> bytes:
    """The SOD with its SignedData's encapsulated content or SignerInfos replaced by ``encap``
    or ``signer_infos`` (whole encodings), the rest byte for byte as signed."""
    from emrtd import derparts

    (outer,) = derparts.children(info.dump())
    oid, explicit = derparts.children(outer.contents)
    (signed,) = derparts.children(explicit.contents)
    parts = [part.der for part in derparts.children(signed.contents)]
    if encap is not None:
        parts[2] = encap
    if signer_infos is not None:
        parts[-1] = signer_infos
    content = tlv.encode(0x30, b"".join(parts))
    return tlv.encode(0x77, tlv.encode(0x30, oid.der + tlv.encode(0xA0, content)))


def test_ber_econtent_in_chunks_with_indefinite_lengths_verifies(trust: TrustStore) -> None:
    """BER as some issuers write it: eContent as a constructed OCTET STRING of two chunks inside
    indefinite lengths; the messageDigest covers the joined value, PA passes."""
    info = signed_sod()
    econtent = bytes(info["content"]["encap_content_info"]["content"].contents)
    half = len(econtent) // 2
    chunks = tlv.encode(0x04, econtent[:half]) + tlv.encode(0x04, econtent[half:])
    oid = info["content"]["encap_content_info"]["content_type"].dump()
    encap = tlv.encode(0x30, oid + b"\xa0\x80\x24\x80" + chunks + b"\x00\x00\x00\x00")
    raw = _rebuilt(info, encap=encap)
    assert sod.parse(raw).econtent == econtent
    pa = passiveauth.verify(files_with_sod(raw), trust, AT)
    assert pa.passed, pa.errors


def test_malformed_signer_info_is_a_finding_not_a_crash(trust: TrustStore) -> None:
    """A SignerInfo holding only a version: PA fails with 'malformed SignedData' under signature;
    the hashes are still checked."""
    raw = _rebuilt(signed_sod(), signer_infos=tlv.encode(0x31, tlv.encode(0x30, b"\x02\x01\x01")))
    pa = passiveauth.verify(files_with_sod(raw), trust, AT)
    assert not pa.passed and not pa.sod_signature_valid
    assert any(e.startswith("signature: malformed SignedData") for e in pa.errors), pa.errors
    assert pa.data_groups_checked and pa.all_hashes_valid


def test_shared_certificates_keep_their_encoding() -> None:
    """A SOD's certificates are loaded once per encoding and dump() stays their encoding after
    their fields are read."""
    raw = tlv.encode(0x77, signed_sod().dump())
    first, again = sod.parse(raw).certificates[0], sod.parse(raw).certificates[0]
    assert first is again
    assert first.subject and first.public_key  # fields parsed
    assert first.dump() == testpki.test_pki().dsc_ec.certificate.dump()


_ELEMENT = st.tuples(st.integers(0, 255), st.binary(max_size=140), st.sampled_from(["short", "long", "cut"]))


def _encode(first: int, value: bytes, form: str) -> bytes:
    length = len(value)
    header = bytes([first, length]) if form == "short" and length < 0x80 else bytes([first, 0x81, length])
    return header + (value[: length // 2] if form == "cut" else value)


@given(st.one_of(st.binary(max_size=200), st.lists(_ELEMENT, max_size=6).map(
    lambda items: b"".join(_encode(*item) for item in items)
)))
def test_element_walk_matches_asn1crypto_parser(data: bytes) -> None:
    """derparts.children reads the usual elements itself: for any bytes it gives exactly the
    elements asn1crypto's parser gives, or raises ValueError where the parser does."""
    from asn1crypto import parser

    expected: list[tuple[tuple[int, int, int], bytes, bytes, bytes]] = []
    offset, failed = 0, False
    try:
        while offset < len(data):
            (cls, method, tag, header, inner, trailer), offset = parser._parse(data, len(data), offset)
            expected.append(((cls, method, tag), header, inner, trailer))
    except ValueError:
        failed = True
    if failed:
        with pytest.raises(ValueError):
            derparts.children(data)
    else:
        assert [tuple(part) for part in derparts.children(data)] == expected
