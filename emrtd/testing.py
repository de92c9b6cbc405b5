"""Test doubles shipped with the library (like ``treq.testing``): scripted cards and fixed
random sources, for replaying worked examples in your own tests."""

from __future__ import annotations

from collections.abc import Iterable

from .apdu import CommandAPDU, ResponseAPDU


class ScriptMismatch(AssertionError):
    """The code under test sent a command other than the script's next one."""


class ScriptedCard:
    """A card that answers a fixed script of (expected command, response) pairs, in hex.

    A :class:`~emrtd.interfaces.Card`: ``transmit`` (and ``transmit_raw``) check each command
    byte for byte against the script; ``done`` tells whether every step was used.
    """

    def __init__(self, script: Iterable[tuple[str, str]]) -> None:
        self._script = [
            (bytes.fromhex(cmd.replace(" ", "")), bytes.fromhex(rsp.replace(" ", "")))
            for cmd, rsp in script
        ]
        self._position = 0
        self.sent: list[bytes] = []

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return ResponseAPDU.from_bytes(self.transmit_raw(command.to_bytes()))

    def transmit_raw(self, raw: bytes) -> bytes:
        self.sent.append(raw)
        if self._position >= len(self._script):
            raise ScriptMismatch(f"unscripted command {raw.hex().upper()}")
        expected, response = self._script[self._position]
        if raw != expected:
            raise ScriptMismatch(
                f"step {self._position}: expected {expected.hex().upper()}, got {raw.hex().upper()}"
            )
        self._position += 1
        return response

    @property
    def done(self) -> bool:
        return self._position == len(self._script)


class FixedRandom:
    """A random source returning pre-set chunks in order; each call must ask for the next
    chunk's exact length."""

    def __init__(self, *chunks: bytes | str) -> None:
        self._chunks = [bytes.fromhex(c) if isinstance(c, str) else c for c in chunks]

    def __call__(self, n: int) -> bytes:
        if not self._chunks:
            raise AssertionError(f"random({n}) called but no fixed chunk is left")
        chunk = self._chunks.pop(0)
        if len(chunk) != n:
            raise AssertionError(f"random({n}) called but the next fixed chunk has {len(chunk)}")
        return chunk


def fixed_random(*chunks: bytes | str) -> FixedRandom:
    """A :class:`FixedRandom` for the given chunks (bytes or hex strings)."""
    return FixedRandom(*chunks)
