"""The SDK's console: where the user allows or refuses a validation an app asks for.

:class:`ConsoleConfirmer` asks one question at a time (``y``/``yes`` allows, anything else
refuses, no answer within the timeout refuses) and takes the user's lines from
:func:`read_lines`, a daemon thread reading standard input and handing each line to the
reactor. When standard input is closed (the SDK runs as a service), no one can answer: every
question is refused at once, with a console line saying how to pre-approve instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import IO, Any

Answer = Callable[[bool], None]


class ConsoleConfirmer:
    def __init__(self, clock: Any, say: Callable[[str], None]) -> None:
        self.clock, self.say = clock, say
        self._pending: tuple[Answer, Any] | None = None
        self._closed = False

    def ask(self, prompt: str, timeout: float, answer: Answer) -> None:
        """Print ``prompt`` and call ``answer`` once: with the user's choice, or False."""
        if self._closed:
            self.say("cannot ask: the SDK's console has no input (pre-approve the app and server "
                     "in sdk.toml); refused")
            answer(False)
            return
        self.cancel()
        timer = self.clock.callLater(timeout, self._timed_out, timeout)
        self._pending = (answer, timer)
        self.say(f"{prompt} ({timeout:g} s)")

    def line_received(self, line: str) -> None:
        if self._pending is None:
            return  # nothing asked: a stray line
        answer, timer = self._pending
        self._pending = None
        timer.cancel()
        allowed = line.strip().lower() in ("y", "yes")
        self.say("allowed" if allowed else "refused")
        answer(allowed)

    def closed(self) -> None:
        """Standard input ended: refuse what is pending and everything later."""
        self._closed = True
        if self._pending is not None:
            self.line_received("")

    def cancel(self) -> None:
        """Withdraw a pending question without answering it (the app cancelled or left)."""
        if self._pending is not None:
            _answer, timer = self._pending
            self._pending = None
            timer.cancel()

    def _timed_out(self, timeout: float) -> None:
        if self._pending is not None:
            answer, _timer = self._pending
            self._pending = None
            self.say(f"no answer in {timeout:g} s: refused")
            answer(False)


def read_lines(reactor: Any, confirmer: ConsoleConfirmer, stream: IO[str]) -> threading.Thread:
    """Read ``stream`` line by line in a daemon thread, handing lines to the reactor."""

    def run() -> None:
        for line in stream:
            reactor.callFromThread(confirmer.line_received, line)
        reactor.callFromThread(confirmer.closed)

    thread = threading.Thread(target=run, name="console", daemon=True)
    thread.start()
    return thread
