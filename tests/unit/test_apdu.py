"""Command and response APDUs: the seven ISO 7816-3 cases, status words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd.apdu import CommandAPDU, ResponseAPDU, status_meaning
from emrtd.errors import APDUError, StatusWordError


@pytest.mark.parametrize(
    "apdu, encoded",
    [
        (CommandAPDU(0x00, 0xA4, 0x04, 0x0C), "00A4040C"),
        (CommandAPDU(0x00, 0x84, 0x00, 0x00, ne=8), "0084000008"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=256), "00B0000000"),
        (CommandAPDU(0x00, 0xA4, 0x02, 0x0C, b"\x01\x1e"), "00A4020C02011E"),
        (CommandAPDU(0x00, 0x82, 0, 0, bytes(2), ne=40), "00820000020000" + "28"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=65536), "00B00000000000"),
        (CommandAPDU(0x00, 0xB0, 0x00, 0x00, ne=1000), "00B000000003E8"),
        (CommandAPDU(0x00, 0xD6, 0, 0, bytes(300)), "00D6000000012C" + "00" * 300),
        (CommandAPDU(0x00, 0x86, 0, 0, bytes(300), ne=65536), "00860000" + "00012C" + "00" * 300 + "0000"),
    ],
)
def test_encodes_each_case(apdu: CommandAPDU, encoded: str) -> None:
    """Each case encodes per ISO 7816-3 §12.1 and decodes back to the same command."""
    assert apdu.to_bytes().hex().upper() == encoded.upper()
    assert CommandAPDU.from_bytes(bytes.fromhex(encoded)) == apdu


def test_forced_extended_length() -> None:
    """extended=True writes a short command in extended form."""
    assert CommandAPDU(0, 0xB0, 0, 0, ne=4, extended=True).to_bytes().hex() == "00b00000000004"


@pytest.mark.parametrize(
    "raw", ["00A404", "00A4040C0501", "00A4040C0000", "00A4040C00000201", "00A4040C0000000102"]
)
def test_rejects_inconsistent_lengths(raw: str) -> None:
    """Bodies that match no case raise APDUError."""
    with pytest.raises(APDUError):
        CommandAPDU.from_bytes(bytes.fromhex(raw))


def test_rejects_out_of_range_fields() -> None:
    """Header bytes and Ne are range-checked at construction."""
    with pytest.raises(APDUError):
        CommandAPDU(0x100, 0, 0, 0)
    with pytest.raises(APDUError):
        CommandAPDU(0, 0, 0, 0, ne=65537)


def test_response_status_words() -> None:
    """A response splits into data and SW; check() raises StatusWordError with the step."""
    response = ResponseAPDU.from_bytes(bytes.fromhex("01026A82"))
    assert (response.data, response.sw1, response.sw2) == (b"\x01\x02", 0x6A, 0x82)
    with pytest.raises(StatusWordError) as info:
        response.check("SELECT")
    assert info.value.sw == 0x6A82 and info.value.step == "SELECT"
    assert "not found" in str(info.value)
    assert response.check("SELECT", 0x6A82) is response


def test_status_word_families() -> None:
    """Families 61xx, 6Cxx and 63Cx have meanings."""
    assert status_meaning(0x6C10) == "wrong Le: 16 bytes available"
    assert status_meaning(0x63C2) == "verification failed, 2 tries left"


def test_short_response_rejected() -> None:
    """A response shorter than a status word is an APDUError."""
    with pytest.raises(APDUError):
        ResponseAPDU.from_bytes(b"\x90")


commands = st.builds(
    CommandAPDU,
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=400),
    st.one_of(st.none(), st.integers(1, 65536)),
)


@given(commands)
def test_round_trip(command: CommandAPDU) -> None:
    """Any command survives encoding and decoding."""
    assert CommandAPDU.from_bytes(command.to_bytes()) == command


@given(st.binary(max_size=600))
def test_garbage_raises_only_apdu_error(data: bytes) -> None:
    """Random bytes decode to a command or raise APDUError."""
    try:
        CommandAPDU.from_bytes(data)
    except APDUError:
        pass
