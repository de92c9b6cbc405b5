"""``python -m docval_server`` / ``docval-server``: the server in the foreground, the same as
``twistd -n docval`` with the same options (``--config``, ``--endpoint``)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from twisted.scripts.twistd import run

    sys.argv = ["twistd", "--nodaemon", "--pidfile=", "docval", *(sys.argv[1:] if argv is None else argv)]
    run()  # type: ignore[no-untyped-call]
    return 0


if __name__ == "__main__":
    sys.exit(main())
