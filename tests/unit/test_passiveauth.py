"""Passive Authentication and the trust store: real master lists and the BSI reference SOD,
our test passports, and negative fixtures after BSI TR-03105-5.1 (LDS_H, ISO7816_D/F/G):
each is rejected with its own reason and nothing escapes the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import cms
from hypothesis import given
from hypothesis import strategies as st

from emrtd import passiveauth, pubkey
from emrtd.docval import verdict
from emrtd.errors import LDSError, TrustStoreError
from emrtd.lds import dg14
from emrtd.sim import encoders, pki, profiles, testpki
from emrtd.truststore import TrustStore

from ..conftest import BSI, MASTERLISTS, shared_file

AT = pki.utc(2026, 11, 24)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = testpki.test_pki()
    return TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)


def utopia(*faults: str) -> dict[str, bytes]:
    return dict(profiles.passport("utopia", faults).files)


# -- trust store --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("master_list", "anchor", "at_least"),
    [
        ("DE_ML_2026-05-28-08-28-45.ml", "DE_ROOT_CA_CSCA07.cer", 500),
        ("NL_ML_2026-07-22.ml", "NL_ROOT_CA.cer", 350),
    ],
)
def test_real_master_lists_load_with_their_anchor(master_list: str, anchor: str, at_least: int) -> None:
    """The German and Dutch master lists verify against their root CSCA and index hundreds of CSCAs."""
    shared_file(MASTERLISTS / master_list)
    store = TrustStore.load(MASTERLISTS / anchor, MASTERLISTS / master_list)
    assert store.master_lists == 1 and len(store) >= at_least
    countries = {csca.country for csca in store.cscas}
    assert {"DE", "NL", "FR"} <= countries


def test_every_csca_key_of_the_real_master_lists_is_read() -> None:
    """Each CSCA key in the German and Dutch master lists (RSA, and EC with named or explicit
    parameters) is read by the one SubjectPublicKeyInfo parser, none refused."""
    from emrtd import pubkey

    shared_file(MASTERLISTS / "NL_ML_2026-07-22.ml")
    store = TrustStore.load(MASTERLISTS)
    kinds: dict[str, int] = {}
    for csca in store.cscas:
        key = pubkey.parse_spki(csca.certificate["tbs_certificate"]["subject_public_key_info"].dump())
        kinds[type(key).__name__] = kinds.get(type(key).__name__, 0) + 1
    assert kinds.get("ECPublicKey", 0) >= 100 and kinds.get("RSAPublicKey", 0) >= 300, kinds
    assert sum(kinds.values()) == len(store.cscas)


def test_master_list_without_anchor_is_refused() -> None:
    """A master list cannot vouch for itself: without the country's CSCA it is an error."""
    shared_file(MASTERLISTS / "NL_ML_2026-07-22.ml")
    with pytest.raises(TrustStoreError, match="does not chain to a configured CSCA"):
        TrustStore.load(MASTERLISTS / "NL_ML_2026-07-22.ml")


def test_tampered_master_list_is_refused() -> None:
    """One flipped byte inside the signed certificate list fails the master list's messageDigest."""
    test_pki = testpki.test_pki()
    data = bytearray(test_pki.master_list)
    data[len(data) // 3] ^= 0x01
    with pytest.raises(TrustStoreError):
        TrustStore.from_der([test_pki.csca_ec.der], master_lists=[bytes(data)])


def test_test_master_list_and_crls_load_from_a_folder(tmp_path: Path) -> None:
    """The files docval-sim writes load as a trust store: CSCAs, master list and CRLs."""
    for name, data in testpki.test_pki().trust_files().items():
        (tmp_path / name).write_bytes(data)
    store = TrustStore.load(tmp_path)
    assert (len(store), store.master_lists, store.crls) == (2, 1, 2)
    assert store.is_revoked(testpki.test_pki().dsc_revoked.certificate)


def test_crl_not_signed_by_a_csca_is_refused() -> None:
    """A CRL signed by a key other than its issuer CSCA's is a load error."""
    test_pki = testpki.test_pki()
    forged = pki.revocation_list(test_pki.rogue_csca, [(1, pki.utc(2025))], pki.utc(2025), pki.utc(2026))
    with pytest.raises(TrustStoreError, match="not signed by a CSCA"):
        TrustStore.from_der([test_pki.csca_ec.der], crls=[forged.dump()])


def test_bad_files_give_one_clear_error(tmp_path: Path) -> None:
    """A garbage certificate file or a missing path is a TrustStoreError naming the file."""
    bad = tmp_path / "broken.pem"
    bad.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(TrustStoreError, match="broken.pem"):
        TrustStore.load(bad)
    with pytest.raises(TrustStoreError, match="no such file"):
        TrustStore.load(tmp_path / "missing")


# -- real data ------------------------------------------------------------------------------


def test_bsi_reference_sod_signature_and_hashes() -> None:
    """The BSI SOD's RSASSA-PSS signature verifies; DG1-4 and DG14 match; DG15 has no hash in it."""
    files = {
        "sod": shared_file(BSI / "EF_SOD.bin"),
        "dg1": shared_file(BSI / "Datagroup1.bin"),
        "dg2": shared_file(BSI / "Datagroup2.bin"),
        "dg14": shared_file(BSI / "Datagroup14.bin"),
        "dg15": shared_file(BSI / "Datagroup15.bin"),
    }
    result = passiveauth.verify(files, TrustStore.from_der(), AT)
    assert result.sod_signature_valid
    assert result.data_groups_with_valid_hash == (1, 2, 14)
    assert not result.document_certificate_valid and "no CSCA in the trust store" in result.errors[0]
    assert "DG15 was read but the SOD holds no hash" in " ".join(result.errors)
    assert not result.verified(15) and verdict.trusted_verdict(result, 15, True) == "FAILED"


# -- our passports ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["utopia", "utopia-bac", "utopia-pace", "utopia-dh"])
def test_valid_passports_pass(trust: TrustStore, name: str) -> None:
    """ECDSA-brainpool and RSA-PSS signed test passports pass every check."""
    result = passiveauth.verify(profiles.passport(name).files, trust, AT)
    assert result.passed, result.errors
    assert result.details() == {
        "sodSignatureValid": True,
        "documentCertificateValid": True,
        "dataGroupsChecked": [1, 2, 11, 12, 14, 15],
        "dataGroupsWithValidHash": [1, 2, 11, 12, 14, 15],
        "allHashesValid": True,
        "error": None,
    }


def test_master_list_trust_store_works_like_the_certificate_files(trust: TrustStore) -> None:
    """A store built from the master list (anchored by the ECDSA CSCA) validates the RSA-signed passport."""
    test_pki = testpki.test_pki()
    from_ml = TrustStore.from_der([test_pki.csca_ec.der], master_lists=[test_pki.master_list])
    assert passiveauth.verify(profiles.passport("utopia-bac").files, from_ml, AT).passed


def resign(files: dict[str, bytes], **options: object) -> dict[str, bytes]:
    """Replace the SOD with one over ``files``' groups, built with the given options."""
    hashes = encoders.group_hashes({n: r for n, r in files.items() if n.startswith("dg")})
    hashes.update(options.pop("hashes", {}))  # type: ignore[call-overload]
    for number in options.pop("drop", ()):  # type: ignore[attr-defined]
        del hashes[number]
    signer = options.pop("signer", testpki.test_pki().dsc_ec)
    files = dict(files)
    files["sod"] = encoders.sign_sod(hashes, signer, **options)  # type: ignore[arg-type]
    return files


def rewrite_sod(files: dict[str, bytes], change: Callable[[cms.ContentInfo], bytes]) -> dict[str, bytes]:
    info = cms.ContentInfo.load(files["sod"][4:])
    return {**files, "sod": b"\x77\x82" + len(raw := change(info)).to_bytes(2, "big") + raw}


def flip_signature(info: cms.ContentInfo) -> bytes:
    signer = info["content"]["signer_infos"][0]
    value = bytearray(signer["signature"].native)
    value[-1] ^= 0x01
    signer["signature"] = bytes(value)
    return bytes(info.dump(force=True))


def md5_digest(info: cms.ContentInfo) -> bytes:
    info["content"]["signer_infos"][0]["digest_algorithm"] = {"algorithm": "md5"}
    return bytes(info.dump(force=True))


def odd_dsc(label: str, serial: int, **override: Any) -> pki.Authority:
    """A DSC issued with the trusted ECDSA CSCA's key, with one field overridden."""
    return pki.certificate(
        subject=pki.name("UT", f"DS {label}"),
        key=pki.ec_key(pki.Seed(label), "ds", "secp256r1"),
        issuer=testpki.test_pki().csca_ec,
        serial=serial,
        not_before=pki.utc(2025),
        not_after=pki.utc(2036),
        ca=False,
        **override,
    )


NEGATIVE: list[tuple[str, Callable[[], dict[str, bytes]], str, tuple[bool, bool, bool]]] = [
    # (fixture, files, expected reason, (sodSignatureValid, documentCertificateValid, allHashesValid))
    ("wrong DG hash", lambda: utopia("tampered-dg"), "DG1 does not match its SOD hash", (True, True, False)),
    (
        "missing DG hash",
        lambda: resign(utopia(), drop=(2,)),
        "DG2 was read but the SOD holds no hash",
        (True, True, False),
    ),
    (
        "extra DG hash",
        lambda: resign(utopia(), hashes={3: bytes(32)}),
        "SOD hashes DG3, which EF.COM does not list",
        (True, True, False),
    ),
    (
        "wrong messageDigest",
        lambda: resign(utopia(), message_digest=bytes(32)),
        "messageDigest attribute does not match",
        (False, True, True),
    ),
    (
        "wrong SOD signature",
        lambda: rewrite_sod(utopia(), flip_signature),
        "signature does not verify",
        (False, True, True),
    ),
    (
        "disallowed algorithm",
        lambda: rewrite_sod(utopia(), md5_digest),
        "disallowed digest algorithm md5",
        (False, True, True),
    ),
    (
        "DSC not issued by the CSCA",
        lambda: utopia("unknown-dsc"),
        "not signed by a trusted CSCA",
        (True, False, True),
    ),
    ("expired DSC", lambda: utopia("expired-dsc"), "the DSC is expired", (True, False, True)),
    ("revoked DSC", lambda: utopia("revoked-dsc"), "is revoked", (True, False, True)),
    (
        "issuer is not the CSCA subject",
        lambda: resign(
            utopia(), signer=odd_dsc("misnamed", 0x2999, issuer_name=pki.name("UT", "Somebody Else"))
        ),
        "issuer name differs from the CSCA's subject",
        (True, False, True),
    ),
    (
        "DSC key usage",
        lambda: resign(utopia(), signer=odd_dsc("no signing", 0x2998, key_usage={"key_encipherment"})),
        "does not allow digital signatures",
        (True, False, True),
    ),
    (
        "wrong issuing state",
        lambda: utopia("wrong-issuing-state"),
        "issuing state D<< does not match",
        (True, False, True),
    ),
    (
        "trailing bytes after the SOD",
        lambda: {**utopia(), "sod": utopia()["sod"] + b"\x00"},
        "sod:",
        (False, False, False),
    ),
    ("malformed ASN.1", lambda: {**utopia(), "sod": b"\x77\x03\x30\x01\x02"}, "sod:", (False, False, False)),
    (
        "oversized SOD",
        lambda: {**utopia(), "sod": b"\x77\x83\x01\x00\x00" + bytes(65536)},
        "limit",
        (False, False, False),
    ),
    (
        "no SOD",
        lambda: {k: v for k, v in utopia().items() if k != "sod"},
        "EF.SOD was not read",
        (False, False, False),
    ),
]


@pytest.mark.parametrize(("fixture", "make", "reason", "flags"), NEGATIVE, ids=[n[0] for n in NEGATIVE])
def test_negative_fixture_is_rejected_with_its_reason(
    trust: TrustStore,
    fixture: str,
    make: Callable[[], dict[str, bytes]],
    reason: str,
    flags: tuple[bool, bool, bool],
) -> None:
    """Each broken document fails PA with its own reason and exactly the flags it breaks."""
    result = passiveauth.verify(make(), trust, AT)
    assert not result.passed
    assert reason in " ".join(result.errors), result.errors
    assert (result.sod_signature_valid, result.document_certificate_valid, result.all_hashes_valid) == flags
    assert result.details()["error"]


def test_not_yet_valid_dsc(trust: TrustStore) -> None:
    """Checked before the DSC's validity starts, a genuine passport fails as "not yet valid"."""
    result = passiveauth.verify(utopia(), trust, pki.utc(2024, 6, 1))
    assert not result.document_certificate_valid
    assert "the DSC is not yet valid" in " ".join(result.errors)


def test_trust_order_for_chip_and_active_authentication(trust: TrustStore) -> None:
    """CA/AA successes count only when PA verified DG14/DG15; a missing protocol is UNAVAILABLE."""
    good = passiveauth.verify(utopia(), trust, AT)
    assert verdict.trusted_verdict(good, 14, True) == "SUCCESS"
    assert verdict.trusted_verdict(good, 15, False) == "FAILED"
    assert verdict.trusted_verdict(good, 15, None) == "UNAVAILABLE"
    unsigned = passiveauth.verify(utopia("unknown-dsc"), trust, AT)
    assert verdict.trusted_verdict(unsigned, 14, True) == "FAILED"


def test_corrupted_ca_public_key_is_a_typed_error() -> None:
    """A DG14 whose CA point is off the curve is rejected by the parser with LDSError."""
    raw = bytearray(profiles.passport("utopia").files["dg14"])
    key = dg14.parse(bytes(raw)).security_infos.chip_authentication_keys[0].public_key
    assert isinstance(key, pubkey.ECPublicKey)
    point = key.encode_point()
    at = bytes(raw).index(point)
    raw[at + len(point) - 1] ^= 0x01
    with pytest.raises(LDSError, match="not on the curve"):
        dg14.parse(bytes(raw))


def test_card_security_and_cam_through_the_chip(trust: TrustStore) -> None:
    """PACE-CAM: EF.CardSecurity verifies against the trust store and its key verifies the CAM data;
    on a clone the signed key does not match the chip."""
    import os

    from emrtd import exchange, pace, reader
    from emrtd.sim.chip import VirtualChip

    for faults, cam_ok in (((), True), (("clone",), False)):
        config = profiles.load("utopia-pace", faults)
        chip = VirtualChip(config)

        transmit = chip.transmit

        info = pace.choose(dg14.parse_card_access(config.files["cardaccess"]).pace)
        assert config.mrz_key is not None
        result = exchange.run(pace.pace(info, config.mrz_key, os.urandom), transmit)
        raw = exchange.run(reader.read_file(reader.EF_CARD_SECURITY, result.sm), transmit)
        checked = passiveauth.verify_card_security(raw, trust, AT)
        assert checked.valid and checked.security_infos is not None, checked.errors
        key = checked.security_infos.chip_authentication_keys[0].public_key
        assert isinstance(key, pubkey.ECPublicKey)
        assert pace.verify_chip_authentication_data(result, key.encode_point()) is cam_ok


def test_card_security_signed_by_an_unknown_dsc_is_not_valid(trust: TrustStore) -> None:
    """EF.CardSecurity of a document signed outside the trust store fails the certificate check."""
    raw = profiles.passport("utopia-pace", ["unknown-dsc"]).files["cardsecurity"]
    checked = passiveauth.verify_card_security(raw, trust, AT)
    assert checked.signature_valid and not checked.certificate_valid
    assert "not signed by a trusted CSCA" in " ".join(checked.errors)
    assert not passiveauth.verify_card_security(b"\x30\x03\x02\x01\x00", trust, AT).valid


@given(st.binary(max_size=2000), st.binary(max_size=300))
def test_pa_never_raises_on_garbage(sod_bytes: bytes, dg: bytes) -> None:
    """Random SOD and data group bytes give a failed result, never an exception."""
    test_pki = testpki.test_pki()
    store = TrustStore.from_der([test_pki.csca_ec.der])
    result = passiveauth.verify(
        {"sod": b"\x77" + bytes([len(sod_bytes) % 128]) + sod_bytes, "dg1": dg}, store, AT
    )
    assert not result.passed and result.errors
    assert not passiveauth.verify_card_security(sod_bytes, store, AT).valid


@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255), st.booleans())
def test_pa_rejects_any_change_to_the_signed_bytes(position: int, flip: int, in_content: bool) -> None:
    """Any one-byte change inside the LDSSecurityObject or the signed attributes fails PA."""
    from emrtd.lds import sod as sod_module

    files = utopia()
    parsed = sod_module.parse(files["sod"])
    region = parsed.econtent if in_content else bytes(parsed.signer_infos[0]["signed_attrs"].dump())[2:]
    start = files["sod"].index(region)
    sod_bytes = bytearray(files["sod"])
    sod_bytes[start + position % len(region)] ^= flip
    test_pki = testpki.test_pki()
    store = TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)
    result = passiveauth.verify({**files, "sod": bytes(sod_bytes)}, store, AT)
    assert not result.passed and result.errors


def test_certificate_facts_are_the_certificates_own() -> None:
    """The remembered facts of the BSI SOD's DSC (serial, issuer, SPKI) are the
    certificate's, and its signer info's sid names it byte for byte."""
    from emrtd import signeddata
    from emrtd.lds import sod

    parsed = sod.parse(shared_file(BSI / "EF_SOD.bin"))
    (dsc,) = parsed.certificates
    facts = signeddata.facts(dsc)
    assert facts.serial_number == dsc.serial_number
    assert facts.issuer_der == dsc.issuer.dump()
    assert facts.spki_der == dsc["tbs_certificate"]["subject_public_key_info"].dump()
    assert facts.sid_der == parsed.signer_infos[0]["sid"].chosen.dump()
    assert signeddata.facts(dsc) is facts  # remembered, not parsed again
