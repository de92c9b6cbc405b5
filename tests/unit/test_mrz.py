"""MRZ parsing, check digits and access keys, against ICAO 9303 examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd import mrz
from emrtd.errors import MRZError

# ICAO 9303-4 §4.2.2 specimen (TD3).
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
# ICAO 9303-5 specimen (TD1).
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
# 9303-11 App. D.2 examples with a 12-character document number (dmrtd bac_test.dart).
TD2_LONG = "I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<D23145890<UTO3407127M95071227349<<<8"
TD1_LONG = "I<UTOD23145890<7349<<<<<<<<<<<3407127M9507122UTO<<<<<<<<<<<2STEVENSON<<PETER<JOHN<<<<<<<<<"


def test_check_digit_examples() -> None:
    """9303-3 §4.9: weights 7-3-1; letters count 10-35, fillers 0."""
    assert mrz.check_digit("L898902C3") == "6"
    assert mrz.check_digit("740812") == "2"
    assert mrz.check_digit("ZE184226B<<<<<") == "1"


def test_parses_td3_specimen() -> None:
    """The TD3 specimen parses with every check digit valid, composite included."""
    parsed = mrz.parse(TD3)
    assert parsed.document_type == "TD3"
    assert parsed.issuing_state == "UTO"
    assert parsed.primary_identifier == "ERIKSSON"
    assert parsed.secondary_identifiers == ("ANNA", "MARIA")
    assert parsed.document_number == "L898902C3"
    assert (parsed.date_of_birth, parsed.sex, parsed.date_of_expiry) == ("740812", "F", "120415")
    assert parsed.optional_data1 == "ZE184226B"
    assert parsed.gender == "FEMALE"
    assert parsed.valid


def test_parses_td1_specimen() -> None:
    """The TD1 specimen parses, with the composite over its three lines."""
    parsed = mrz.parse(TD1)
    assert parsed.document_type == "TD1"
    assert parsed.document_number == "D23145890"
    assert parsed.nationality == "UTO"


@pytest.mark.parametrize("text", [TD2_LONG, TD1_LONG])
def test_long_document_number(text: str) -> None:
    """A 12-character number continues in the optional data (9303-5 note j) and keys BAC."""
    parsed = mrz.parse(text)
    assert parsed.document_number == "D23145890734"
    assert parsed.access_key.kseed.hex() == "b366ad857ddca2b08c0e299811714730"


def test_wrong_check_digit_is_reported() -> None:
    """A wrong date-of-birth digit fails strict parsing and is listed otherwise."""
    broken = TD3.replace("7408122F", "7408123F")
    with pytest.raises(MRZError):
        mrz.parse(broken)
    assert "date of birth" in mrz.parse(broken, strict=False).check_digit_errors


def test_bac_key_from_appendix_d() -> None:
    """9303-11 App. D.2: MRZ_information and Kseed for L898902C / 690806 / 940623."""
    key = mrz.MRZKey("L898902C", "690806", "940623")
    assert key.mrz_information == "L898902C<369080619406236"
    assert key.kseed.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAE"
    assert key.pace_secret.hex().upper() == "239AB9CB282DAF66231DC5A4DF6BFBAEDF477565"


def test_user_input_is_normalised() -> None:
    """Lower case, spaces and trailing fillers in user input give the same key."""
    assert mrz.MRZKey(" l898902c< ", "690806", "940623") == mrz.MRZKey("L898902C", "690806", "940623")


@pytest.mark.parametrize(
    "number, birth, expiry",
    [
        ("", "690806", "940623"),
        ("L89-8902", "690806", "940623"),
        ("L898902C", "691306", "940623"),
        ("L898902C", "6908", "940623"),
    ],
)
def test_rejects_bad_key_input(number: str, birth: str, expiry: str) -> None:
    """Bad characters, impossible dates and short dates are MRZErrors."""
    with pytest.raises(MRZError):
        mrz.MRZKey(number, birth, expiry)


def test_can_key() -> None:
    """A CAN is six digits and is its own PACE secret (password reference 2)."""
    key = mrz.CANKey("123 456")
    assert key.pace_secret == b"123456" and key.password_reference == 2
    with pytest.raises(MRZError):
        mrz.CANKey("12345")


def test_keys_do_not_print_personal_data() -> None:
    """Access keys and MRZs never show their contents in repr."""
    assert "L898902C" not in repr(mrz.MRZKey("L898902C", "690806", "940623"))
    assert "ERIKSSON" not in repr(mrz.parse(TD3))


alphabet = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


@given(
    st.text(alphabet, min_size=1, max_size=9).filter(lambda s: s.strip("<") != "" and s[0] != "<"),
    st.dates().map(lambda d: d.strftime("%y%m%d")),
    st.dates().map(lambda d: d.strftime("%y%m%d")),
    st.sampled_from("MFX<"),
)
def test_generated_td3_round_trip(number: str, birth: str, expiry: str, sex: str) -> None:
    """A TD3 built with correct check digits parses back to its fields."""
    doc = number.ljust(9, "<")
    line2 = doc + mrz.check_digit(doc) + "UTO" + birth + mrz.check_digit(birth) + sex
    line2 += expiry + mrz.check_digit(expiry) + "<" * 14 + "<"
    line2 += mrz.check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    parsed = mrz.parse("P<UTOTEST<<A".ljust(44, "<") + "\n" + line2)
    assert parsed.document_number == doc.rstrip("<")
    assert (parsed.date_of_birth, parsed.date_of_expiry, parsed.sex) == (birth, expiry, sex)


@given(st.text(max_size=120))
def test_garbage_raises_only_mrz_error(text: str) -> None:
    """Any string parses or raises MRZError."""
    try:
        mrz.parse(text, strict=False)
    except MRZError:
        pass
