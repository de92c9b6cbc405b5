"""The DocVal WebSocket API v2 wire format, shared by ``docval_server`` and ``docval_client``.

Text messages are UTF-8 JSON objects with a ``type``; binary messages are a type byte and a
body. Every message is a frozen value type with ``to_json``/``serialize``; :func:`parse_text`
and :func:`parse_binary` validate strictly and raise :class:`WireFormatError` whose
``reason`` is the :class:`~emrtd.docval.reasons.CloseReason` the spec assigns:

* not UTF-8, not JSON, not an object, duplicate keys, NaN → ``CloseReason.MALFORMED_JSON``;
* a missing, unknown or wrong-direction ``type`` → ``CloseReason.UNEXPECTED_MESSAGE``;
* a bad START field → ``CloseReason.INVALID_START_MESSAGE``;
* any other bad field, and any malformed binary message → ``CloseReason.PROTOCOL_ERROR``.

Unknown *extra* fields are ignored (clients add fields between versions); known fields must
have exactly the documented JSON type (``true`` is not a number, ``1`` is not a boolean).

Binary formats::

    FILE  01 | nameLen (1 byte) | name (UTF-8, nameLen bytes) | data
    APDU  02 | command or response bytes

``ssc`` follows ``interop-notes.md``: it may arrive as a Java signed long (negative about half
the time after BAC) and is masked to unsigned; it is written back as a signed 64-bit number
whenever it fits in 64 bits, so Java clients can read it, and AES counters above 2**64 are
written unsigned.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import EmrtdError
from ..sm import SecureMessaging
from .reasons import CloseReason
from .verdict import CHECK_RESULTS, CheckResult

MAX_STRING = 4096  # longest accepted string field (ids, platform, monitoring text)
MAX_SIGNATURE = 2048  # bytes of an AA signature (RSA-8192 is 1024)


class WireFormatError(EmrtdError, ValueError):
    """A DocVal v2 message is malformed; ``reason`` is the close reason the spec assigns."""

    def __init__(self, message: str, *, reason: CloseReason) -> None:
        self.reason = reason
        super().__init__(message, step=reason.value)


# -- field helpers ------------------------------------------------------------------------

def _fail(reason: CloseReason, message: str) -> WireFormatError:
    return WireFormatError(message, reason=reason)


def _get(obj: dict[str, Any], name: str, kind: type, reason: CloseReason, *, required: bool = True) -> Any:
    if name not in obj:
        if required:
            raise _fail(reason, f"missing field {name!r}")
        return None
    value = obj[name]
    if kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise _fail(reason, f"field {name!r} must be a {kind.__name__}")
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise _fail(reason, f"field {name!r} is longer than {MAX_STRING} characters")
    return value


def b64encode(data: bytes) -> str:
    """Standard, padded base64."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, name: str, reason: CloseReason) -> bytes:
    """Strict standard base64 (padding required, no stray characters)."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _fail(reason, f"field {name!r} is not valid base64") from None


# -- SecureMessagingInfo ------------------------------------------------------------------

_KEY_LENGTHS = {"AES": (16, 24, 32), "DESede": (16, 24)}


@dataclass(frozen=True, slots=True)
class SecureMessagingInfo:
    """``{"algorithm": "AES"|"DESede", "encKey", "macKey", "ssc"}``; ``ssc`` unsigned here."""

    algorithm: Literal["AES", "DESede"]
    enc_key: bytes = field(repr=False)
    mac_key: bytes = field(repr=False)
    ssc: int

    @classmethod
    def from_json(cls, obj: Any, reason: CloseReason = CloseReason.PROTOCOL_ERROR) -> SecureMessagingInfo:
        if not isinstance(obj, dict):
            raise _fail(reason, "secureMessagingInfo must be an object")
        algorithm = _get(obj, "algorithm", str, reason)
        if algorithm not in _KEY_LENGTHS:
            raise _fail(reason, "secureMessagingInfo.algorithm must be AES or DESede")
        enc = b64decode(_get(obj, "encKey", str, reason), "encKey", reason)
        mac = b64decode(_get(obj, "macKey", str, reason), "macKey", reason)
        for name, key in (("encKey", enc), ("macKey", mac)):
            if len(key) not in _KEY_LENGTHS[algorithm]:
                raise _fail(reason, f"{name} has {len(key)} bytes, not a {algorithm} key length")
            if algorithm == "DESede" and len(key) == 24 and key[16:] != key[:8]:
                raise _fail(reason, f"{name} is three-key 3DES; eMRTDs use K1‖K2‖K1")
        ssc = _get(obj, "ssc", int, reason)
        width = 64 if algorithm == "DESede" else 128
        if not -(1 << 63) <= ssc < (1 << width):
            raise _fail(reason, "ssc is out of range")
        if ssc < 0:
            ssc &= (1 << 64) - 1
        return cls(algorithm, enc, mac, ssc)

    def to_json(self) -> dict[str, Any]:
        ssc = self.ssc
        if (1 << 63) <= ssc < (1 << 64):
            ssc -= 1 << 64  # a Java long
        return {
            "algorithm": self.algorithm,
            "encKey": b64encode(self.enc_key),
            "macKey": b64encode(self.mac_key),
            "ssc": ssc,
        }

    def to_secure_messaging(self) -> SecureMessaging:
        algorithm: Literal["3DES", "AES"] = "3DES" if self.algorithm == "DESede" else "AES"
        return SecureMessaging(algorithm, self.enc_key, self.mac_key, self.ssc)

    @classmethod
    def from_secure_messaging(cls, sm: SecureMessaging) -> SecureMessagingInfo:
        if sm.algorithm == "3DES":  # Java's DESede wants 24 bytes: K1‖K2‖K1
            return cls("DESede", sm.ks_enc + sm.ks_enc[:8], sm.ks_mac + sm.ks_mac[:8], sm.ssc)
        return cls("AES", sm.ks_enc, sm.ks_mac, sm.ssc)


# -- text messages ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Start:
    """``{"type":"START","validationId":…,"clientId":…,"platform":"desktop",
    "nfcAdapterSupportsExtendedLength":true,"enableDiagnostics":false}``"""

    validation_id: str
    client_id: str
    platform: str = "desktop"
    nfc_adapter_supports_extended_length: bool = False
    enable_diagnostics: bool = False

    TYPE = "START"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Start:
        r = CloseReason.INVALID_START_MESSAGE
        validation_id = _get(obj, "validationId", str, r)
        client_id = _get(obj, "clientId", str, r)
        if not validation_id or not client_id:
            raise _fail(r, "validationId and clientId must not be empty")
        platform = _get(obj, "platform", str, r, required=False)
        extended = _get(obj, "nfcAdapterSupportsExtendedLength", bool, r, required=False)
        diagnostics = _get(obj, "enableDiagnostics", bool, r, required=False)
        return cls(validation_id, client_id, platform or "unknown", bool(extended),
                   bool(diagnostics))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "validationId": self.validation_id,
            "clientId": self.client_id,
            "platform": self.platform,
            "nfcAdapterSupportsExtendedLength": self.nfc_adapter_supports_extended_length,
            "enableDiagnostics": self.enable_diagnostics,
        }


@dataclass(frozen=True, slots=True)
class Accept:
    """``{"type":"ACCEPT","activeAuthenticationChallenge":"BK69zyH/nsA="}`` (8 bytes)."""

    active_authentication_challenge: bytes

    TYPE = "ACCEPT"

    def __post_init__(self) -> None:
        if len(self.active_authentication_challenge) != 8:
            raise _fail(CloseReason.PROTOCOL_ERROR, "the AA challenge is 8 bytes")

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Accept:
        text = _get(obj, "activeAuthenticationChallenge", str, CloseReason.PROTOCOL_ERROR)
        return cls(b64decode(text, "activeAuthenticationChallenge", CloseReason.PROTOCOL_ERROR))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "activeAuthenticationChallenge": b64encode(self.active_authentication_challenge),
        }


@dataclass(frozen=True, slots=True)
class CaHandover:
    """``{"type":"CA_HANDOVER","maxTransceiveLengthForSecureMessaging":256,
    "maxBlockSize":223,"secureMessagingInfo":{…}}``"""

    max_transceive_length_for_secure_messaging: int
    max_block_size: int
    secure_messaging_info: SecureMessagingInfo

    TYPE = "CA_HANDOVER"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CaHandover:
        r = CloseReason.PROTOCOL_ERROR
        transceive = _get(obj, "maxTransceiveLengthForSecureMessaging", int, r)
        block = _get(obj, "maxBlockSize", int, r)
        if not 1 <= transceive <= 65536 + 2 or not 1 <= block <= 65536:
            raise _fail(r, "maxTransceiveLengthForSecureMessaging / maxBlockSize out of range")
        return cls(transceive, block, SecureMessagingInfo.from_json(obj.get("secureMessagingInfo")))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "maxTransceiveLengthForSecureMessaging": self.max_transceive_length_for_secure_messaging,
            "maxBlockSize": self.max_block_size,
            "secureMessagingInfo": self.secure_messaging_info.to_json(),
        }


@dataclass(frozen=True, slots=True)
class CaHandback:
    """``{"type":"CA_HANDBACK","checkResult":"SUCCESS","secureMessagingInfo":{…}}``"""

    check_result: CheckResult
    secure_messaging_info: SecureMessagingInfo

    TYPE = "CA_HANDBACK"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CaHandback:
        result = _get(obj, "checkResult", str, CloseReason.PROTOCOL_ERROR)
        if result not in CHECK_RESULTS:
            raise _fail(CloseReason.PROTOCOL_ERROR, "checkResult must be SUCCESS, FAILED or UNAVAILABLE")
        return cls(result, SecureMessagingInfo.from_json(obj.get("secureMessagingInfo")))

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.TYPE,
            "checkResult": self.check_result,
            "secureMessagingInfo": self.secure_messaging_info.to_json(),
        }


@dataclass(frozen=True, slots=True)
class Finish:
    """``{"type":"FINISH","sendResult":true,"activeAuthenticationSignature":"…"}``; the
    signature may be absent (Android) or ``null`` (iOS) when there is none."""

    send_result: bool
    active_authentication_signature: bytes | None = field(default=None, repr=False)

    TYPE = "FINISH"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Finish:
        send = _get(obj, "sendResult", bool, CloseReason.PROTOCOL_ERROR)
        signature = None
        if obj.get("activeAuthenticationSignature") is not None:
            text = _get(obj, "activeAuthenticationSignature", str, CloseReason.PROTOCOL_ERROR)
            signature = b64decode(text, "activeAuthenticationSignature", CloseReason.PROTOCOL_ERROR)
            if not signature or len(signature) > MAX_SIGNATURE:
                raise _fail(CloseReason.PROTOCOL_ERROR, "activeAuthenticationSignature has a bad length")
        return cls(send, signature)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.TYPE, "sendResult": self.send_result}
        if self.active_authentication_signature is not None:
            out["activeAuthenticationSignature"] = b64encode(self.active_authentication_signature)
        return out


@dataclass(frozen=True, slots=True)
class Result:
    """``{"type":"RESULT","passport":{…}}``"""

    passport: dict[str, Any] = field(repr=False)

    TYPE = "RESULT"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Result:
        return cls(_get(obj, "passport", dict, CloseReason.PROTOCOL_ERROR))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "passport": self.passport}


@dataclass(frozen=True, slots=True)
class Monitoring:
    """``{"type":"MONITORING","message":"Starting PACE protocol with CAN"}`` (client only)."""

    message: str

    TYPE = "MONITORING"

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Monitoring:
        return cls(_get(obj, "message", str, CloseReason.PROTOCOL_ERROR))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "message": self.message}


@dataclass(frozen=True, slots=True)
class Close:
    """``{"type":"CLOSE","code":1008,"reason":"INVALID_START_MESSAGE"}``"""

    code: int
    reason: str

    TYPE = "CLOSE"

    @classmethod
    def for_reason(cls, reason: CloseReason) -> Close:
        return cls(reason.code, reason.value)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Close:
        code = _get(obj, "code", int, CloseReason.PROTOCOL_ERROR)
        if not (code == 1000 or 1001 <= code <= 1014 or 3000 <= code <= 4999):
            raise _fail(CloseReason.PROTOCOL_ERROR, f"close code {code} is not a valid WebSocket close code")
        return cls(code, _get(obj, "reason", str, CloseReason.PROTOCOL_ERROR))

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "code": self.code, "reason": self.reason}


TextMessage = Start | Accept | CaHandover | CaHandback | Finish | Result | Monitoring | Close
CLIENT_TYPES: dict[str, Any] = {
    m.TYPE: m for m in (Start, CaHandover, Finish, Monitoring)
}
SERVER_TYPES: dict[str, Any] = {m.TYPE: m for m in (Accept, CaHandback, Result, Close)}


# -- binary messages ----------------------------------------------------------------------

FILE_TYPE = 0x01
APDU_TYPE = 0x02


@dataclass(frozen=True, slots=True)
class FileMessage:
    """``01 | nameLen | name | data``: a whole file, e.g. ``sod`` or ``dg14``."""

    name: str
    data: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.name.encode("utf-8")) > 255:
            raise _fail(CloseReason.PROTOCOL_ERROR, "a FILE name is at most 255 bytes")

    def serialize(self) -> bytes:
        name = self.name.encode("utf-8")
        return bytes([FILE_TYPE, len(name)]) + name + self.data


@dataclass(frozen=True, slots=True)
class ApduMessage:
    """``02 | bytes``: a command (server → client) or a response with SW1SW2 (client → server)."""

    data: bytes = field(repr=False)

    def serialize(self) -> bytes:
        return bytes([APDU_TYPE]) + self.data


BinaryMessage = FileMessage | ApduMessage


def parse_binary(data: bytes) -> BinaryMessage:
    """Parse a binary message; anything malformed is PROTOCOL_ERROR."""
    if not data:
        raise _fail(CloseReason.PROTOCOL_ERROR, "empty binary message")
    kind = data[0]
    if kind == FILE_TYPE:
        if len(data) < 2:
            raise _fail(CloseReason.PROTOCOL_ERROR, "FILE message has no name length")
        length = data[1]
        if len(data) < 2 + length:
            raise _fail(CloseReason.PROTOCOL_ERROR, "FILE name runs past the end of the message")
        try:
            name = bytes(data[2 : 2 + length]).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(CloseReason.PROTOCOL_ERROR, "FILE name is not UTF-8") from None
        return FileMessage(name, bytes(data[2 + length :]))
    if kind == APDU_TYPE:
        if len(data) < 3:
            raise _fail(CloseReason.PROTOCOL_ERROR, "APDU message is shorter than a status word")
        return ApduMessage(bytes(data[1:]))
    raise _fail(CloseReason.PROTOCOL_ERROR, f"unknown binary message type {kind:#04x}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _fail(CloseReason.MALFORMED_JSON, f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise _fail(CloseReason.MALFORMED_JSON, f"{name} is not JSON")


def parse_text(data: str | bytes, *, sender: Literal["client", "server"]) -> TextMessage:
    """Parse a text message sent by ``sender``; raise WireFormatError with its close reason."""
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(CloseReason.MALFORMED_JSON, "text message is not UTF-8") from None
    try:
        obj = json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except WireFormatError:
        raise
    except (ValueError, RecursionError):
        raise _fail(CloseReason.MALFORMED_JSON, "text message is not JSON") from None
    if not isinstance(obj, dict):
        raise _fail(CloseReason.MALFORMED_JSON, "text message is not a JSON object")
    kind = obj.get("type")
    table = CLIENT_TYPES if sender == "client" else SERVER_TYPES
    if not isinstance(kind, str) or kind not in table:
        raise _fail(CloseReason.UNEXPECTED_MESSAGE, f"unexpected message type {kind!r} from the {sender}")
    message: TextMessage = table[kind].from_json(obj)
    return message


def serialize_text(message: TextMessage) -> str:
    """Compact JSON of a text message."""
    return json.dumps(message.to_json(), separators=(",", ":"), ensure_ascii=False)


def serialize(message: TextMessage | BinaryMessage) -> str | bytes:
    """Text messages become ``str`` (send as a text frame), binary ones ``bytes``."""
    if isinstance(message, FileMessage | ApduMessage):
        return message.serialize()
    return serialize_text(message)
