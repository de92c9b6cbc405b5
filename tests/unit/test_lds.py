"""LDS parsing against the BSI TR-03105-5 reference passport, and hostile input."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given
from hypothesis import strategies as st

from emrtd import lds, pubkey, tlv
from emrtd.errors import LDSError, UnsupportedAlgorithmError
from emrtd.lds import com, dg1, dg2, dg7, dg14, dg15, sod, textgroups

from ..conftest import BSI, shared_file

FILES = {
    "com": "EF_COM.bin",
    "dg1": "Datagroup1.bin",
    "dg2": "Datagroup2.bin",
    "dg3": "Datagroup3.bin",
    "dg4": "Datagroup4.bin",
    "dg14": "Datagroup14.bin",
    "dg15": "Datagroup15.bin",
    "sod": "EF_SOD.bin",
}


def bsi(name: str) -> bytes:
    return shared_file(BSI / FILES[name])


def test_com_lists_data_groups() -> None:
    """EF.COM of the BSI passport: LDS 1.7, DG1, DG2, DG3, DG4, DG14."""
    parsed = com.parse(bsi("com"))
    assert parsed.lds_version == "0107"
    assert parsed.data_groups == (1, 2, 3, 4, 14)


def test_dg1_mrz() -> None:
    """DG1 holds the TD3 MRZ of MUSTERMANN ERIKA, document C11T002JM."""
    parsed = dg1.parse(bsi("dg1")).mrz
    assert parsed.document_type == "TD3"
    assert parsed.document_number == "C11T002JM"
    assert parsed.primary_identifier == "MUSTERMANN"
    assert parsed.secondary_identifiers == ("ERIKA",)
    assert parsed.issuing_state == "D<<"  # the MRZ field as written, fillers kept


def test_dg2_jpeg2000_face() -> None:
    """DG2 (15,083 bytes) yields one JPEG 2000 face from its ISO 19794-5 record."""
    face = dg2.parse(bsi("dg2")).face
    assert face.format == "JPEG2000" and face.container == "ISO19794-5"
    assert face.data[:12] == bytes.fromhex("0000000C6A5020200D0A870A")


def test_dg14_chip_authentication_with_explicit_parameters() -> None:
    """DG14 holds a CA-ECDH-3DES key on explicit brainpoolP224r1 parameters."""
    infos = dg14.parse(bsi("dg14")).security_infos
    (info,) = infos.chip_authentication
    assert (info.key_agreement, info.cipher, info.version) == ("ECDH", "3DES", 1)
    (key_info,) = infos.chip_authentication_keys
    assert isinstance(key_info.public_key, pubkey.ECPublicKey)
    assert key_info.public_key.curve.name == "brainpoolP224r1"


def test_dg15_rsa_key() -> None:
    """DG15 holds a 1024-bit RSA Active Authentication key."""
    key = dg15.parse(bsi("dg15")).public_key
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 1024


def test_dg1_issuing_state_without_a_full_parse() -> None:
    """The issuing state is read from DG1 alone; a file that holds no MRZ gives None."""
    assert dg1.issuing_state(bsi("dg1")) == "D<<"
    assert dg1.issuing_state(bsi("com")) is None
    assert dg1.issuing_state(b"\x61\x05\x5f\x1f\x02AB") is None
    assert dg1.issuing_state(b"") is None


@pytest.mark.parametrize(
    "items, reason",
    [
        (b"\x30\x05\x02\x01\x01\x04\x00" * 2, "repeated data group number 1"),
        (b"\x30\x05\x02\x01\x11\x04\x00", "invalid or repeated data group number 17"),
        (b"\x30\x05\x04\x01\x01\x04\x00", "DataGroupHash is not what its ASN.1 definition says"),
        (b"\x30\x08\x02\x01\x01\x04\x00\x05\x01\x00", "DataGroupHash is not what"),
        (b"\x31\x05\x02\x01\x01\x04\x00", "DataGroupHash is not what"),
        (b"\x30\x06\x02\x02\x00\x01\x04\x00", "not a DER INTEGER"),
    ],
)
def test_sod_hash_list_is_checked_field_by_field(items: bytes, reason: str) -> None:
    """A DataGroupHash with a repeated or out-of-range number, a wrong type or a trailing
    field is an LDSError naming the fault."""
    with pytest.raises(LDSError, match=reason):
        sod._data_group_hashes(items)


def test_sod_hashes_match_the_raw_files() -> None:
    """The SOD's SHA-256 hashes equal the hashes of DG1-4 and DG14 as stored."""
    parsed = sod.parse(bsi("sod"))
    assert parsed.hash_algorithm_name == "SHA-256"
    assert sorted(parsed.hashes) == [1, 2, 3, 4, 14]
    for number in parsed.hashes:
        assert hashlib.sha256(bsi(f"dg{number}")).digest() == parsed.hashes[number]
    assert len(parsed.certificates) == 1


def test_card_access_of_appendix_g1() -> None:
    """EF.CardAccess of 9303-11 App. G.1: PACE-ECDH-GM-AES-128 on parameter id 13."""
    (info,) = dg14.parse_card_access(bytes.fromhex("31143012060A04007F0007020204020202010202010D")).pace
    assert (info.key_agreement, info.mapping, info.cipher, info.key_length) == ("ECDH", "GM", "AES", 16)
    assert info.parameter_id == 13


def test_dg7_dg11_dg12() -> None:
    """DG7 images and DG11/DG12 text elements (9303-10 §4.7) come out by DocVal name."""
    jpeg = b"\xff\xd8\xff\xe0" + bytes(20)
    dg7_raw = tlv.encode(0x67, tlv.encode(0x02, b"\x01") + tlv.encode(0x5F43, jpeg))
    assert dg7.parse(dg7_raw).images[0].format == "JPEG"
    dg11_raw = tlv.encode(
        0x6B,
        tlv.encode(0x5C, b"\x5f\x0e\x5f\x2b")
        + tlv.encode(0x5F0E, "MÜLLER<<ANNA".encode())
        + tlv.encode(0x5F2B, b"19740812")
        + tlv.encode(0xA0, tlv.encode(0x02, b"\x02") + tlv.encode(0x5F0F, b"A") + tlv.encode(0x5F0F, b"B")),
    )
    fields = textgroups.parse_dg11(dg11_raw).fields
    assert fields == {
        "fullNameOfHolder": "MÜLLER<<ANNA",
        "fullDateOfBirth": "19740812",
        "otherNames": ["A", "B"],
    }
    dg12_raw = tlv.encode(0x6C, tlv.encode(0x5F19, b"CITY") + tlv.encode(0x5F26, b"\x20\x12\x04\x15"))
    assert textgroups.parse_dg12(dg12_raw).fields == {"issuingAuthority": "CITY", "dateOfIssue": "20120415"}


def test_dg2_iso39794_container() -> None:
    """A 39794-5 FaceImageDataBlock ([APPLICATION 5]) yields its 2D image."""
    jpeg = b"\xff\xd8\xff\xe0" + bytes(40)
    two_d = tlv.encode(0xA0, tlv.encode(0x80, jpeg) + tlv.encode(0xA1, tlv.encode(0xA0, b"")))
    rep = tlv.encode(0x30, tlv.encode(0x80, b"\x01") + tlv.encode(0xA1, tlv.encode(0xA0, two_d)))
    block = tlv.encode(0x65, tlv.encode(0xA0, tlv.encode(0x80, b"\x01")) + tlv.encode(0xA1, rep))
    raw = tlv.encode(
        0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01") + tlv.encode(0x7F60, tlv.encode(0x7F2E, block)))
    )
    face = dg2.parse(raw).face
    assert face.container == "ISO39794-5" and face.data == jpeg


def test_size_caps_apply_before_parsing() -> None:
    """A DG1 over its 1 KiB cap is refused without being parsed."""
    with pytest.raises(LDSError) as info:
        dg1.parse(b"\x61\x82\x10\x00" + bytes(4096))
    assert "limit" in str(info.value)


def test_unknown_explicit_curve_is_unsupported() -> None:
    """Explicit parameters that match no known curve raise UnsupportedAlgorithmError."""
    from emrtd import curves

    with pytest.raises(UnsupportedAlgorithmError):
        curves.match_explicit(23, 1, 1, 3, 10, 7)


def test_parsed_files_do_not_print_raw_bytes() -> None:
    """Reprs of parsed files never include the raw (personal) bytes."""
    assert "MUSTERMANN" not in repr(dg1.parse(bsi("dg1")))
    assert len(repr(dg2.parse(bsi("dg2")))) < 200


@pytest.mark.parametrize("name", sorted(lds.PARSERS))
@given(data=st.binary(max_size=300))
def test_garbage_raises_only_lds_error(name: str, data: bytes) -> None:
    """Every parser either parses random bytes or raises LDSError."""
    try:
        lds.parse_file(name, data)
    except LDSError:
        pass


@pytest.mark.parametrize("name", ["dg14", "dg15", "sod", "dg2"])
@given(st.data())
def test_mutated_reference_files_raise_only_lds_error(name: str, data: st.DataObject) -> None:
    """Flipping bytes of real files gives a parse or an LDSError, never another exception."""
    raw = bytearray(bsi(name))
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(raw) - 1))
        raw[index] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    try:
        lds.parse_file(name, bytes(raw[:cut]))
    except LDSError:
        pass


def test_security_infos_shape_is_checked_and_unknown_protocols_kept() -> None:
    """A SecurityInfo that is not SEQUENCE {OID, ANY, ANY OPTIONAL} is an LDSError; an
    unknown protocol is kept with its exact encoding (9303-11 §9.2: readers ignore it)."""
    from asn1crypto import core

    oid = bytes(core.ObjectIdentifier("1.2.3.4").dump())
    unknown = tlv.encode(0x30, oid + b"\x02\x01\x01")
    infos = dg14.parse_card_access(tlv.encode(0x31, unknown))
    assert [(type(i).__name__, getattr(i, "raw", None)) for i in infos.infos] == [("UnknownInfo", unknown)]
    for bad in (
        tlv.encode(0x31, tlv.encode(0x30, oid + b"\x02\x01\x01" * 3)),  # four fields
        tlv.encode(0x31, tlv.encode(0x30, oid)),  # one field
        tlv.encode(0x31, oid + b"\x02\x01\x01"),  # members that are not SEQUENCEs
        tlv.encode(0x31, tlv.encode(0x30, b"\x02\x01\x01\x02\x01\x01")),  # no OID
        tlv.encode(0x30, unknown),  # a SEQUENCE, not a SET
        tlv.encode(0x31, unknown) + b"\x00",  # trailing byte
    ):
        with pytest.raises(LDSError):
            dg14.parse_card_access(bad)
