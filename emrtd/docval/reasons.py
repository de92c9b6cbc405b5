"""The close reasons of the DocVal v2 protocol, one table: the phrase both vendor SDKs know
and the WebSocket close code they map it to (``interop-notes.md``, "Close reasons and codes").

``SERVER_SHUTTING_DOWN`` is not here on purpose: the vendor clients know only these phrases,
so a server going away closes with one of them (see ``docval_server``)."""

from __future__ import annotations

import enum


class CloseReason(enum.Enum):
    """A close reason phrase (``value``) and its WebSocket close ``code``."""

    code: int

    def __new__(cls, reason: str, code: int) -> CloseReason:
        member = object.__new__(cls)
        member._value_ = reason
        member.code = code
        return member

    NORMAL = ("", 1000)
    TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE = ("TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE", 1001)
    TIMEOUT_WHILE_WAITING_FOR_RESPONSE = ("TIMEOUT_WHILE_WAITING_FOR_RESPONSE", 1001)
    MAX_SESSION_TIME_EXCEEDED = ("MAX_SESSION_TIME_EXCEEDED", 1011)
    UNEXPECTED_MESSAGE = ("UNEXPECTED_MESSAGE", 1008)
    INVALID_START_MESSAGE = ("INVALID_START_MESSAGE", 1008)
    PROTOCOL_ERROR = ("PROTOCOL_ERROR", 1008)
    INVALID_CLIENT_ID = ("INVALID_CLIENT_ID", 4401)
    INVALID_ACCESS_KEY_VALUES = ("INVALID_ACCESS_KEY_VALUES", 1008)
    ACCESS_CONTROL_FAILED = ("ACCESS_CONTROL_FAILED", 4403)
    COMMUNICATION_FAILED = ("COMMUNICATION_FAILED", 1011)
    FILE_READ_ERROR = ("FILE_READ_ERROR", 1011)
    EMRTD_PASSPORT_READER_ERROR = ("EMRTD_PASSPORT_READER_ERROR", 1011)
    SERVER_ERROR = ("SERVER_ERROR", 1011)
    POST_TO_RESULT_SERVER_FAILED = ("POST_TO_RESULT_SERVER_FAILED", 1011)
    NFC_CHIP_COMMUNICATION_FAILED = ("NFC_CHIP_COMMUNICATION_FAILED", 1001)
    CANCELLED_BY_USER = ("CANCELLED_BY_USER", 1001)
    MALFORMED_JSON = ("MALFORMED_JSON", 1008)

    @classmethod
    def find(cls, reason: str) -> CloseReason | None:
        """The member whose phrase is ``reason``, or None for a phrase outside the table."""
        return next((member for member in cls if member.value == reason), None)
