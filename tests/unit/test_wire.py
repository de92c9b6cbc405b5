"""The DocVal v2 wire format: exact fields, strict validation, close reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.docval.wire import WireFormatError
from emrtd.sm import SecureMessaging

SMI = {
    "algorithm": "AES",
    "encKey": "AAAAAAAAAAAAAAAAAAAAAA==",
    "macKey": "AAAAAAAAAAAAAAAAAAAAAA==",
    "ssc": 5,
}


def reason_of(text: str | bytes, sender: str = "client") -> str:
    with pytest.raises(WireFormatError) as info:
        wire.parse_text(text, sender=sender)  # type: ignore[arg-type]
    reason: str = info.value.reason.value
    return reason


def test_spec_start_example() -> None:
    """The spec's START example parses to its fields."""
    start = wire.parse_text(
        json.dumps(
            {
                "type": "START",
                "validationId": "cf847daa-a548-4509-bdeb-4edd51aee448",
                "clientId": "YOUR CLIENT ID",
                "platform": "android",
                "nfcAdapterSupportsExtendedLength": True,
                "enableDiagnostics": True,
            }
        ),
        sender="client",
    )
    assert start == wire.Start(
        "cf847daa-a548-4509-bdeb-4edd51aee448", "YOUR CLIENT ID", "android", True, True
    )


def test_spec_accept_example() -> None:
    """ACCEPT carries 8 challenge bytes as padded base64 ("BK69zyH/nsA=")."""
    accept = wire.parse_text(
        '{"type":"ACCEPT","activeAuthenticationChallenge":"BK69zyH/nsA="}', sender="server"
    )
    assert isinstance(accept, wire.Accept)
    assert wire.serialize(accept) == '{"type":"ACCEPT","activeAuthenticationChallenge":"BK69zyH/nsA="}'


def test_close_example_and_codes() -> None:
    """CLOSE carries code and reason; the reason table gives the interop codes."""
    close = wire.Close.for_reason(CloseReason.INVALID_START_MESSAGE)
    assert wire.serialize(close) == '{"type":"CLOSE","code":1008,"reason":"INVALID_START_MESSAGE"}'
    expected = {
        "TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE": 1001,
        "TIMEOUT_WHILE_WAITING_FOR_RESPONSE": 1001,
        "MAX_SESSION_TIME_EXCEEDED": 1011,
        "UNEXPECTED_MESSAGE": 1008,
        "INVALID_START_MESSAGE": 1008,
        "PROTOCOL_ERROR": 1008,
        "INVALID_CLIENT_ID": 4401,
        "INVALID_ACCESS_KEY_VALUES": 1008,
        "ACCESS_CONTROL_FAILED": 4403,
        "COMMUNICATION_FAILED": 1011,
        "FILE_READ_ERROR": 1011,
        "EMRTD_PASSPORT_READER_ERROR": 1011,
        "SERVER_ERROR": 1011,
        "POST_TO_RESULT_SERVER_FAILED": 1011,
        "NFC_CHIP_COMMUNICATION_FAILED": 1001,
        "CANCELLED_BY_USER": 1001,
        "MALFORMED_JSON": 1008,
    }
    assert {r.value: r.code for r in CloseReason if r.value} == expected


def test_finish_signature_absent_or_null() -> None:
    """FINISH without a signature (Android) and with null (iOS) mean the same."""
    absent = wire.parse_text('{"type":"FINISH","sendResult":true}', sender="client")
    null = wire.parse_text(
        '{"type":"FINISH","sendResult":true,"activeAuthenticationSignature":null}', sender="client"
    )
    assert absent == null == wire.Finish(True, None)


def test_negative_ssc_is_a_java_long() -> None:
    """A negative DESede SSC is read as signed 64-bit and written back the same way."""
    obj = {
        "algorithm": "DESede",
        "encKey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "macKey": "AAAAAAAAAAAAAAAAAAAAAA==",
        "ssc": -2,
    }
    info = wire.SecureMessagingInfo.from_json(obj)
    assert info.ssc == 2**64 - 2
    assert info.to_json()["ssc"] == -2


def test_aes_ssc_is_128_bit() -> None:
    """AES counters up to 2**128-1 are accepted and those above 2**64 written unsigned."""
    info = wire.SecureMessagingInfo.from_json({**SMI, "ssc": 2**100})
    assert info.to_json()["ssc"] == 2**100
    with pytest.raises(WireFormatError):
        wire.SecureMessagingInfo.from_json({**SMI, "ssc": 2**128})


def test_sm_info_converts_to_channel() -> None:
    """DESede info becomes a 3DES channel and back with 24-byte K1‖K2‖K1 keys."""
    sm = SecureMessaging("3DES", bytes(range(16)), bytes(range(16, 32)), 2**63 + 5)
    info = wire.SecureMessagingInfo.from_secure_messaging(sm)
    assert info.algorithm == "DESede" and len(info.enc_key) == 24
    again = info.to_secure_messaging()
    assert (again.ks_enc, again.ks_mac, again.ssc) == (sm.ks_enc, sm.ks_mac, sm.ssc)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "MALFORMED_JSON"),
        (b"\xff\xfe", "MALFORMED_JSON"),
        ("[1,2]", "MALFORMED_JSON"),
        ('{"type":"START","type":"START"}', "MALFORMED_JSON"),
        ('{"type":"FINISH","sendResult":NaN}', "MALFORMED_JSON"),
        ('{"type":"HELLO"}', "UNEXPECTED_MESSAGE"),
        ('{"kind":"START"}', "UNEXPECTED_MESSAGE"),
        ('{"type":"ACCEPT","activeAuthenticationChallenge":"BK69zyH/nsA="}', "UNEXPECTED_MESSAGE"),
        ('{"type":"START","clientId":"c"}', "INVALID_START_MESSAGE"),
        ('{"type":"START","validationId":"v","clientId":7}', "INVALID_START_MESSAGE"),
        ('{"type":"START","validationId":"v","clientId":"c","enableDiagnostics":1}', "INVALID_START_MESSAGE"),
        ('{"type":"FINISH","sendResult":"yes"}', "PROTOCOL_ERROR"),
        ('{"type":"FINISH","sendResult":true,"activeAuthenticationSignature":"***"}', "PROTOCOL_ERROR"),
        (
            '{"type":"CA_HANDOVER","maxTransceiveLengthForSecureMessaging":256,"maxBlockSize":223}',
            "PROTOCOL_ERROR",
        ),
    ],
)
def test_errors_map_to_close_reasons(text: str | bytes, reason: str) -> None:
    """Each kind of bad text message raises with the close reason the spec assigns."""
    assert reason_of(text) == reason


@pytest.mark.parametrize(
    "smi",
    [
        {**SMI, "algorithm": "DES"},
        {**SMI, "encKey": "AAAA"},
        {**SMI, "ssc": True},
        {**SMI, "ssc": 1.5},
        {
            "algorithm": "DESede",
            "encKey": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "macKey": "AAAAAAAAAAAAAAAAAAAAAA==",
            "ssc": 0,
        },
    ],
)
def test_bad_secure_messaging_info(smi: dict[str, Any]) -> None:
    """Unknown algorithms, wrong key lengths and non-integer SSCs are PROTOCOL_ERROR."""
    text = json.dumps(
        {
            "type": "CA_HANDOVER",
            "maxTransceiveLengthForSecureMessaging": 256,
            "maxBlockSize": 223,
            "secureMessagingInfo": smi,
        }
    )
    assert reason_of(text) == "PROTOCOL_ERROR"


def test_binary_messages() -> None:
    """FILE and APDU messages parse and serialise per the spec's byte layout."""
    assert wire.parse_binary(b"\x01\x03dg1ABC") == wire.FileMessage("dg1", b"ABC")
    assert wire.FileMessage("sod", b"\x77").serialize() == b"\x01\x03sod\x77"
    assert wire.parse_binary(b"\x02\x90\x00") == wire.ApduMessage(b"\x90\x00")
    assert wire.parse_binary(b"\x01\x00") == wire.FileMessage("", b"")


@pytest.mark.parametrize("data", [b"", b"\x01", b"\x01\x05ab", b"\x01\x02\xff\xfe", b"\x02\x90", b"\x03abc"])
def test_bad_binary_messages(data: bytes) -> None:
    """Empty, truncated, non-UTF-8 and unknown binary messages are PROTOCOL_ERROR."""
    with pytest.raises(WireFormatError) as info:
        wire.parse_binary(data)
    assert info.value.reason is CloseReason.PROTOCOL_ERROR


def test_file_name_limit() -> None:
    """A FILE name over 255 UTF-8 bytes cannot be built."""
    with pytest.raises(WireFormatError):
        wire.FileMessage("é" * 128, b"")


keys = st.sampled_from([bytes(16), bytes(range(24)), bytes(32)])
messages = st.one_of(
    st.builds(
        wire.Start,
        st.text(min_size=1, max_size=40),
        st.text(min_size=1, max_size=40),
        st.text(max_size=10).filter(bool),
        st.booleans(),
        st.booleans(),
    ),
    st.builds(wire.Finish, st.booleans(), st.one_of(st.none(), st.binary(min_size=1, max_size=300))),
    st.builds(wire.Monitoring, st.text(max_size=100)),
    st.builds(
        wire.CaHandover,
        st.integers(1, 65536),
        st.integers(1, 65536),
        st.builds(wire.SecureMessagingInfo, st.just("AES"), keys, keys, st.integers(0, 2**128 - 1)),
    ),
)


@given(messages)
def test_client_messages_round_trip(message: wire.TextMessage) -> None:
    """Every client message serialises and parses back to itself."""
    if isinstance(message, wire.CaHandover):
        smi = message.secure_messaging_info
        if len(smi.enc_key) != len(smi.mac_key):
            return
    assert wire.parse_text(wire.serialize_text(message), sender="client") == message


@given(st.binary(max_size=200))
def test_binary_garbage_raises_only_wire_errors(data: bytes) -> None:
    """Random binary messages parse or raise WireFormatError."""
    try:
        wire.parse_binary(data)
    except WireFormatError:
        pass


@given(
    st.one_of(
        st.text(max_size=200),
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        ["type", "sendResult", "ssc", "clientId", "validationId", "secureMessagingInfo"]
                    ),
                    c,
                    max_size=4,
                )
            ),
            max_leaves=10,
        ).map(json.dumps),
    )
)
def test_text_garbage_raises_only_wire_errors(text: str | bytes) -> None:
    """Random text and JSON parse or raise WireFormatError with a known reason."""
    try:
        wire.parse_text(text, sender="client")
    except WireFormatError as exc:
        assert exc.reason.value in {
            "MALFORMED_JSON",
            "UNEXPECTED_MESSAGE",
            "INVALID_START_MESSAGE",
            "PROTOCOL_ERROR",
        }
