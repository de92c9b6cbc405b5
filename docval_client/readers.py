"""What the client knows of a reader, as plain data: shared by the pyscard adapter
(:mod:`docval_client.card`), which produces it, and the sans-I/O SDK session, which reports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReaderInfo:
    """A reader's name and whether a card is in it."""

    name: str
    has_card: bool
