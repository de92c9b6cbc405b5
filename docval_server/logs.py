"""Logs an operator can use. Every session ends with one line (``session <id> <outcome>: …``)
whose fields (session_id, outcome, client_id, platform, the three verdicts, relayed_apdus,
duration_ms, pid) are structured log event fields; nothing personal, no keys, nothing a
client sent verbatim (the client id only when it is a configured one, the platform only from
the spec's set).

For JSON lines, give twistd this observer factory::

    twistd --logger docval_server.logs.json_observer -n docval --config docval.toml

which writes Twisted's JSON log format (one JSON object per line, the fields above included)
to standard output.
"""

from __future__ import annotations

import sys

from twisted.logger import ILogObserver, jsonFileLogObserver


def json_observer() -> ILogObserver:
    """Twisted's JSON log observer on standard output (a twistd ``--logger`` factory)."""
    stream = open(sys.stdout.fileno(), "w", encoding="utf-8", closefd=False, buffering=1)
    observer: ILogObserver = jsonFileLogObserver(stream)  # type: ignore[assignment]
    return observer
