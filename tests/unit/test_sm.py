"""Secure messaging against ICAO 9303-11 App. D.4 and the AES example, both sides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd import crypto
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.errors import CryptoError, SecureMessagingError
from emrtd.sm import SecureMessaging

KS_ENC = bytes.fromhex("979EC13B1CBFE9DCD01AB0FED307EAE5")
KS_MAC = bytes.fromhex("F1CB1F1FB5ADF208806B89DC579DC1F8")
SSC = 0x887022120C06C226


def d4() -> SecureMessaging:
    return SecureMessaging("3DES", KS_ENC, KS_MAC, SSC)


def test_appendix_d4_select_read_read() -> None:
    """App. D.4: protected SELECT EF.COM and two READ BINARYs, byte for byte."""
    sm = d4()
    steps = [
        (
            CommandAPDU(0, 0xA4, 0x02, 0x0C, b"\x01\x1e"),
            "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800",
            "990290008E08FA855A5D4C50A8ED9000",
            "",
        ),
        (
            CommandAPDU(0, 0xB0, 0, 0, ne=4),
            "0CB000000D9701048E08ED6705417E96BA5500",
            "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000",
            "60145F01",
        ),
        (
            CommandAPDU(0, 0xB0, 0, 4, ne=0x12),
            "0CB000040D9701128E082EA28A70F3C7B53500",
            "871901FB9235F4E4037F2327DCC8964F1F9B8C30F42C8E2FFF224A990290008E08C8B2787EAEA07D749000",
            "04303130365F36063034303030305C026175",
        ),
    ]
    for command, protected, response, plain in steps:
        assert sm.wrap(command).to_bytes().hex().upper() == protected
        unwrapped = sm.unwrap(ResponseAPDU.from_bytes(bytes.fromhex(response)))
        assert unwrapped.data.hex().upper() == plain and unwrapped.sw == 0x9000
    assert sm.ssc == SSC + 6


def test_aes_example() -> None:
    """gmrtd AES example: IV = E(KSenc, SSC), CMAC truncated to 8 bytes."""
    sm = SecureMessaging(
        "AES",
        bytes.fromhex("CC86415F2ED7E8FD663B754265695AE1"),
        bytes.fromhex("581E84B8EE06C4D3EEE30461498D7FB3"),
        0xBA,
    )
    wrapped = sm.wrap(CommandAPDU(0, 0x22, 0x41, 0xA4, bytes.fromhex("800A04007F000702020302028401C3")))
    assert wrapped.to_bytes().hex().upper() == (
        "0C2241A41D871101980953D37F67558690045D78A853B18A8E08929767A2CEF172E200"
    )
    assert sm.unwrap(ResponseAPDU.from_bytes(bytes.fromhex("990290008E08FC873EBB62219C8A9000"))).ok


def test_bad_mac_is_rejected_before_decryption() -> None:
    """A response with one flipped MAC bit raises SecureMessagingError at the MAC step."""
    sm = d4()
    sm.wrap(CommandAPDU(0, 0xA4, 0x02, 0x0C, b"\x01\x1e"))
    with pytest.raises(SecureMessagingError) as info:
        sm.unwrap(ResponseAPDU.from_bytes(bytes.fromhex("990290008E08FA855A5D4C50A8EC9000")))
    assert info.value.step == "unwrap"


def test_unprotected_error_does_not_advance_ssc() -> None:
    """A plain 6A82 is passed through and the SSC stays at the command's value."""
    sm = d4()
    sm.wrap(CommandAPDU(0, 0xA4, 0x02, 0x0C, b"\x01\x1e"))
    assert sm.unwrap(ResponseAPDU(b"", 0x6A82)).sw == 0x6A82
    assert sm.ssc == SSC + 1


def test_plain_success_is_an_error() -> None:
    """A bare 9000 under SM means the chip dropped protection: an error."""
    sm = d4()
    sm.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4))
    with pytest.raises(SecureMessagingError):
        sm.unwrap(ResponseAPDU(b"", 0x9000))


def test_odd_ins_uses_do85() -> None:
    """Odd INS (READ BINARY B1) carries its data in DO'85' without the padding indicator."""
    chip, terminal = d4(), d4()
    wrapped = terminal.wrap(CommandAPDU(0, 0xB1, 0, 0, bytes.fromhex("54028000"), ne=100))
    assert wrapped.data[0] == 0x85
    assert chip.unwrap_command(wrapped).data == bytes.fromhex("54028000")


def test_extended_length_wrap() -> None:
    """A command asking for more than 256 bytes is protected as an extended APDU."""
    wrapped = d4().wrap(CommandAPDU(0, 0xB0, 0, 0, ne=1000))
    assert wrapped.needs_extended and wrapped.ne == 65536
    assert wrapped.to_bytes()[-2:] == b"\x00\x00"


def test_key_lengths_are_checked() -> None:
    """3DES takes 16-byte keys (24 if K3 = K1); AES 16/24/32."""
    assert SecureMessaging("3DES", KS_ENC + KS_ENC[:8], KS_MAC, 0).ks_enc == KS_ENC
    with pytest.raises(CryptoError):
        SecureMessaging("3DES", bytes(8), KS_MAC, 0)
    with pytest.raises(CryptoError):
        SecureMessaging("AES", bytes(20), bytes(20), 0)


def test_keys_not_in_repr() -> None:
    """The repr of a channel shows the algorithm and SSC, never keys."""
    assert KS_ENC.hex() not in repr(d4()).lower()


def test_padding_rules() -> None:
    """Padding method 2 appends 80 00..; unpadding rejects anything else."""
    assert crypto.pad(b"\x01\x02", 8) == bytes.fromhex("0102800000000000")
    assert crypto.unpad(bytes.fromhex("0102800000000000")) == b"\x01\x02"
    for bad in ("0102000000000000", "0102800000000001", "01028000"):
        with pytest.raises(CryptoError):
            crypto.unpad(bytes.fromhex(bad))


@given(
    st.sampled_from(["3DES", "AES"]),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=300),
    st.one_of(st.none(), st.integers(1, 65536)),
    st.binary(max_size=300),
    st.integers(0, 0xFFFF),
)
def test_both_sides_round_trip(
    algorithm: str,
    ins: int,
    p1: int,
    p2: int,
    data: bytes,
    ne: int | None,
    reply: bytes,
    sw: int,
) -> None:
    """What the terminal wraps, the chip unwraps, and the chip's reply comes back intact."""
    key = bytes(range(16))
    terminal = SecureMessaging(algorithm, key, key[::-1], 7)  # type: ignore[arg-type]
    chip = terminal.copy()
    command = CommandAPDU(0x00, ins, p1, p2, data, ne)
    assert chip.unwrap_command(terminal.wrap(command)) == command
    response = ResponseAPDU(reply, sw)
    back = terminal.unwrap(chip.wrap_response(response, odd_ins=bool(ins & 1)))
    assert back == response and terminal.ssc == chip.ssc


@given(st.binary(max_size=120), st.integers(0, 0xFFFF))
def test_garbage_unwrap_raises_only_sm_error(data: bytes, sw: int) -> None:
    """Random response bytes unwrap or raise SecureMessagingError, nothing else."""
    sm = d4()
    sm.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4))
    try:
        sm.unwrap(ResponseAPDU(data, sw))
    except SecureMessagingError:
        pass


@given(
    algorithm=st.sampled_from(["AES", "3DES"]),
    messages=st.lists(
        st.tuples(st.integers(0, 6), st.binary(min_size=16, max_size=16), st.booleans()),
        min_size=1, max_size=8,
    ),
    seed=st.binary(min_size=32, max_size=32),
)
def test_open_contexts_give_plain_cbc(
    algorithm: str, messages: list[tuple[int, bytes, bool]], seed: bytes
) -> None:
    """crypto.BlockCipher keeps one context open across messages, encrypting and decrypting in
    any order with any IV: every output equals CBC with a fresh ``cryptography`` context."""
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = seed[:16]
    block = 16 if algorithm == "AES" else 8
    reference = algorithms.AES(key) if algorithm == "AES" else TripleDES(key + key[:8])
    cipher = crypto.aes(key) if algorithm == "AES" else crypto.tdes(key)
    for blocks, iv_seed, encrypt in messages:
        data = (iv_seed[::-1] + seed)[: blocks * block] * 2
        iv = iv_seed[:block]
        fresh = Cipher(reference, modes.CBC(iv))
        context = fresh.encryptor() if encrypt else fresh.decryptor()
        expected = context.update(data) + context.finalize()
        assert (cipher.encrypt(data, iv) if encrypt else cipher.decrypt(data, iv)) == expected


def test_copies_share_the_ciphers_and_stay_correct() -> None:
    """A channel's copies use its ciphers (made once); interleaving them still gives App. D.4's
    bytes: the chaining state belongs to the cipher, not to the copy."""
    sm = d4()
    first = sm.copy()
    assert first.wrap(CommandAPDU(0, 0xA4, 0x02, 0x0C, b"\x01\x1e")).to_bytes().hex().upper() == (
        "0CA4020C158709016375432908C044F68E08BF8B92D635FF24F800"
    )
    other = sm.copy()
    other.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4))  # uses the shared ciphers in between
    assert other.ciphers is first.ciphers is not None
    first.unwrap(ResponseAPDU.from_bytes(bytes.fromhex("990290008E08FA855A5D4C50A8ED9000")))
    read = first.wrap(CommandAPDU(0, 0xB0, 0, 0, ne=4))
    assert read.to_bytes().hex().upper() == "0CB000000D9701048E08ED6705417E96BA5500"
    answer = "8709019FF0EC34F9922651990290008E08AD55CC17140B2DED9000"
    plain = first.unwrap(ResponseAPDU.from_bytes(bytes.fromhex(answer)))
    assert plain.data.hex().upper() == "60145F01"
