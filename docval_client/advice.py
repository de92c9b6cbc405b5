"""What a person at a desk can do about a failure, one line each: checks of what they typed
(server URL, access key) before anything touches the card or the network, and a hint for each
way a session can end without a result. Pure functions; the CLI prints them."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from emrtd.docval.reasons import CloseReason
from emrtd.errors import EmrtdError

API_PATH = "/ws2/validate"


class UsageError(EmrtdError):
    """Something the user typed cannot work; the message says what to type instead."""


def server_url(url: str) -> str:
    """The DocVal URL as given, or :class:`UsageError` saying how to write it."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        fixed = urlunsplit(("ws" if parts.scheme == "http" else "wss", *parts[1:]))
        raise UsageError(f"{url} is not a WebSocket URL: the DocVal server is at {fixed}")
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise UsageError(
            f"--server must be a ws:// or wss:// URL such as ws://host:8765{API_PATH}, got {url!r}"
        )
    if parts.path in ("", "/"):
        fixed = urlunsplit((parts.scheme, parts.netloc, API_PATH, parts.query, ""))
        raise UsageError(f"{url} names no path: the DocVal API is at {fixed}")
    return url


def header(text: str) -> tuple[str, str]:
    """``NAME:VALUE`` from ``--header``."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or any(ch in name for ch in " \t\r\n") or any(ch in value for ch in "\r\n"):
        raise UsageError(f"--header takes NAME:VALUE (e.g. 'Authorization: Bearer x'), got {text!r}")
    return name, value


HINTS: dict[str, str] = {
    CloseReason.INVALID_ACCESS_KEY_VALUES.value: (
        "the chip refused the access key: check the document number, the date of birth and the "
        "date of expiry (YYMMDD) against the MRZ printed on the document, or use --can with the "
        "six-digit number on its data page"
    ),
    CloseReason.ACCESS_CONTROL_FAILED.value: (
        "access control with the chip failed: hold the document still on the reader and try again"
    ),
    CloseReason.NFC_CHIP_COMMUNICATION_FAILED.value: (
        "the chip stopped answering: was the document moved or taken off the reader? Try again"
    ),
    CloseReason.INVALID_CLIENT_ID.value: (
        "the server does not know this --client-id: ask its operator for yours"
    ),
    CloseReason.POST_TO_RESULT_SERVER_FAILED.value: (
        "the server could not deliver the result to its result server: ask its operator"
    ),
    CloseReason.MAX_SESSION_TIME_EXCEEDED.value: "the session took longer than the server allows: try again",
    CloseReason.FILE_READ_ERROR.value: "the chip refused to give a file: the document may be damaged",
}


def close_hint(reason: str) -> str | None:
    """A one-line hint for a close reason, when there is one to give."""
    return HINTS.get(reason)


def connection_hint(message: str, url: str) -> str:
    """The reason a connection failed, with what to try."""
    message = message.rstrip(". ")
    lowered = message.lower()
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return (
            f"cannot reach the server at {url}: TLS failed ({message}); give the server's CA "
            "certificate with --ca-file FILE, or use --insecure for a test server only"
        )
    if "refused" in lowered:
        return f"cannot reach the server at {url}: {message}; is it running, and is the port right?"
    return f"cannot reach the server at {url}: {message}"
