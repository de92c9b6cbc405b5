"""Sans-I/O card conversations as generators.

A protocol step is a generator that *yields* :class:`~emrtd.apdu.CommandAPDU` objects and is
*sent* the card's :class:`~emrtd.apdu.ResponseAPDU` for each; its return value is the step's
result. Steps compose with ``yield from``; no step ever does I/O. A driver owns the card:
:func:`run` drives one synchronously against any ``transmit`` callable (``card.transmit`` of
any :class:`~emrtd.interfaces.Card`: a scripted card, the virtual chip, a PC/SC reader);
:func:`drive` runs one inside another generator whose own driver reaches the card (the
DocVal client session, driven by its Twisted adapter).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from .apdu import CommandAPDU, ResponseAPDU
from .sm import SecureMessaging

T = TypeVar("T")

Exchange = Generator[CommandAPDU, ResponseAPDU, T]
"""A card conversation that ends with a value of type ``T``."""


def transmit(command: CommandAPDU, sm: SecureMessaging | None = None) -> Exchange[ResponseAPDU]:
    """Send one command, protected when ``sm`` is given, and return the (unwrapped) response."""
    if sm is None:
        return (yield command)
    response = yield sm.wrap(command)
    return sm.unwrap(response)


def run(exchange: Exchange[T], transmit_fn: Callable[[CommandAPDU], ResponseAPDU]) -> T:
    """Drive ``exchange`` to its end synchronously, sending each command to ``transmit_fn``."""
    try:
        command = next(exchange)
        while True:
            command = exchange.send(transmit_fn(command))
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def drive(
    exchange: Exchange[T], step: Callable[[CommandAPDU], Generator[Any, Any, ResponseAPDU]]
) -> Generator[Any, Any, T]:
    """Run ``exchange`` inside another generator: each command goes through the sub-generator
    ``step(command)``, which yields whatever its driver needs and returns the response."""
    try:
        command = next(exchange)
        while True:
            response = yield from step(command)
            command = exchange.send(response)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
