"""The CLI's progress view: steps as lines, files as byte bars (in place only on a terminal)."""

from __future__ import annotations

import io

from docval_client.cli import ProgressView
from docval_client.session import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_pipe_gets_one_complete_line_per_file() -> None:
    """Into a pipe: a line per step and one finished bar per file, no carriage returns."""
    out = io.StringIO()
    view = ProgressView(out)
    for event in (Progress("PACE"), Progress("read dg2", 223, 500), Progress("read dg2", 500, 500)):
        view(event)
    assert out.getvalue() == "  PACE\n  dg2    " + "█" * 24 + "    500/500 bytes\n"


def test_terminal_redraws_the_bar_in_place() -> None:
    """On a terminal the bar is redrawn with \\r and closed with a newline before the next step."""
    out = Terminal()
    view = ProgressView(out)
    view(Progress("read sod", 100, 1000))
    view(Progress("chip authentication"))
    text = out.getvalue()
    assert text.startswith("\r  sod    " + "██" + "·" * 22 + "    100/1,000 bytes")
    assert text.endswith("bytes\n  chip authentication\n")
