"""The two shapes every part of the project agrees on: a card and a random source.

A *card* is anything that answers command APDUs: the virtual chip
(:class:`emrtd.sim.VirtualChip`), a PC/SC reader (``docval_client.card.PcscCard``) and the
test doubles (:class:`emrtd.testing.ScriptedCard`). ``transmit`` takes and returns APDU
objects; ``transmit_raw`` takes and returns bytes, for relaying APDUs that someone else built
(the server's Chip Authentication commands pass through the client as bytes).

A *random source* is ``random(n) -> n bytes`` (``os.urandom`` in production, a seeded or
scripted source in tests), passed to every protocol that needs randomness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .apdu import CommandAPDU, ResponseAPDU

RandomSource = Callable[[int], bytes]
"""``random(n)`` returns ``n`` random bytes."""


@runtime_checkable
class Card(Protocol):
    """Something that answers APDUs, as objects or as raw bytes."""

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        """Send one command, return the card's response."""
        ...

    def transmit_raw(self, command: bytes) -> bytes:
        """Send one encoded command, return response data ‖ SW1SW2."""
        ...


__all__ = ["Card", "RandomSource"]
