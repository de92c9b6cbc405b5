"""BER-TLV encoding and strict decoding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd import tlv
from emrtd.errors import TLVError


def test_decodes_multibyte_tag_and_long_length() -> None:
    """A two-byte tag with a 0x81 length decodes to its tag int and value."""
    value = bytes(200)
    obj = tlv.decode_single(b"\x5f\x1f\x81\xc8" + value)
    assert obj.tag == 0x5F1F
    assert obj.value == value


def test_encode_uses_minimal_lengths() -> None:
    """Lengths take the short form below 128 and the fewest long-form bytes above."""
    assert tlv.encode_length(0x7F) == b"\x7f"
    assert tlv.encode_length(0x80) == b"\x81\x80"
    assert tlv.encode_length(0x100) == b"\x82\x01\x00"
    assert tlv.encode(0x7F61, b"\x01") == b"\x7f\x61\x01\x01"


def test_children_of_constructed_object() -> None:
    """A constructed object's value decodes to its children in order."""
    obj = tlv.decode_single(bytes.fromhex("6009 5F0102 3031 5C020102".replace(" ", "")))
    assert [child.tag for child in obj.children()] == [0x5F01, 0x5C]


@pytest.mark.parametrize(
    "data, why",
    [
        ("5F1F05414243", "truncated value"),
        ("0101AA00", "trailing byte"),
        ("0180", "indefinite length"),
        ("01850000000001AA", "length field over four bytes"),
        ("01810501020304 05", "non-minimal length in DER"),
        ("5F", "tag continues past end"),
        ("7F80 0100", "tag with leading zero group"),
        ("7F8181 01 00", "tag longer than three bytes"),
        ("", "empty input"),
        ("00", "zero tag byte"),
    ],
)
def test_rejects_malformed(data: str, why: str) -> None:
    """Malformed encodings raise TLVError, never another exception."""
    with pytest.raises(TLVError):
        tlv.decode_single(bytes.fromhex(data.replace(" ", "")))


def test_lenient_mode_accepts_nonminimal_length() -> None:
    """With der=False a non-minimal length (written by some chips) is accepted."""
    assert tlv.decode_single(bytes.fromhex("0181050102030405"), der=False).value == bytes([1, 2, 3, 4, 5])


def test_primitive_has_no_children() -> None:
    """Asking a primitive object for children is an error."""
    with pytest.raises(TLVError):
        tlv.TLV(0x80, b"\x01").children()


tags = st.sampled_from([0x01, 0x30, 0x5C, 0x5F1F, 0x5F2E, 0x7F61, 0x7F2E, 0x9F1F, 0x5F8101])


@given(st.lists(st.tuples(tags, st.binary(max_size=300)), max_size=5))
def test_round_trip(objects: list[tuple[int, bytes]]) -> None:
    """Encoding then decoding any sequence of objects gives them back."""
    encoded = b"".join(tlv.encode(tag, value) for tag, value in objects)
    assert [(o.tag, o.value) for o in tlv.decode_all(encoded)] == objects


@given(st.binary(max_size=64))
def test_garbage_raises_only_tlv_error(data: bytes) -> None:
    """Random bytes either decode or raise TLVError."""
    try:
        tlv.decode_all(data)
    except TLVError:
        pass
