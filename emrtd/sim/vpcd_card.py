"""``docval-sim`` (also ``python -m emrtd.sim``): the virtual passport as a card in the
``vpcd`` reader of ``pcscd``.

The socket side of :mod:`emrtd.sim.vpcd` (which is sans-I/O); the only module of
:mod:`emrtd` that opens a socket, and only when run as this command. Connecting to vpcd inserts
the card; closing the connection removes it. ``SIGUSR1`` toggles the card out and back in;
``SIGTERM``/Ctrl-C remove it and exit. ``--log-apdus`` prints every APDU pair (this shows
passport data: use it for diagnostics only).

``--profile`` picks a passport (``--list`` shows them and the fault modes), ``--fault``
adds fault modes, ``--write-trust-store DIR`` writes the test PKI's CSCAs, CRLs and master
list for a server's trust store and exits. The test PKI's keys come from a disk cache after the
first start (:mod:`emrtd.sim.cache`); ``--rebuild`` empties it and makes them again.
"""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import time
from pathlib import Path
from types import FrameType

from ..errors import EmrtdError
from . import cache, profiles, spec, testpki
from .chip import VirtualChip
from .vpcd import DEFAULT_PORT, VpcdSession


class _Toggle:
    def __init__(self) -> None:
        self.present = True
        self.changed = False
        self.stop = False

    def flip(self, _sig: int, _frame: FrameType | None) -> None:
        self.present = not self.present
        self.changed = True

    def quit(self, _sig: int, _frame: FrameType | None) -> None:
        self.stop = True


def _serve(sock: socket.socket, session: VpcdSession, toggle: _Toggle, log: bool) -> None:
    sock.settimeout(0.2)
    while not toggle.stop and not toggle.changed:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        if not data:
            raise ConnectionError("vpcd closed the connection")
        reply = session.receive(data)
        if log:
            for command, response in session.chip.state.log:
                print(f"> {command.hex().upper()}\n< {response.hex().upper()}", flush=True)
            session.chip.state.log.clear()
        if reply:
            sock.sendall(reply)


def run(
    profile: str, host: str, port: int, log: bool, connect_timeout: float, faults: tuple[str, ...] = ()
) -> int:
    chip = VirtualChip(profiles.load(profile, faults))
    if faults:
        profile = f"{profile} (faults: {', '.join(faults)})"
    chip.log_apdus = log
    toggle = _Toggle()
    signal.signal(signal.SIGUSR1, toggle.flip)
    signal.signal(signal.SIGTERM, toggle.quit)
    signal.signal(signal.SIGINT, toggle.quit)
    deadline = time.monotonic() + connect_timeout
    while not toggle.stop:
        if not toggle.present:
            toggle.changed = False
            print("card removed", flush=True)
            while not toggle.changed and not toggle.stop:
                time.sleep(0.05)
            toggle.changed = False
            continue
        try:
            sock = socket.create_connection((host, port), timeout=2)
        except OSError as exc:
            if time.monotonic() > deadline:
                print(
                    f"error: cannot reach vpcd at {host}:{port} ({exc.strerror or exc}); "
                    "is pcscd running with vsmartcard-vpcd installed?",
                    file=sys.stderr,
                )
                return 2
            time.sleep(0.2)
            continue
        print(f"virtual passport '{profile}' inserted into vpcd at {host}:{port}", flush=True)
        try:
            _serve(sock, VpcdSession(chip), toggle, log)
        except ConnectionError:
            deadline = time.monotonic() + connect_timeout
        finally:
            sock.close()
    print("card removed, exiting", flush=True)
    return 0


def write_trust_store(folder: Path) -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in testpki.test_pki().trust_files().items():
            (folder / name).write_bytes(data)
    except OSError as exc:
        print(f"error: cannot write the trust store to {folder}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"test trust store written to {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docval-sim", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="bsi", choices=profiles.PROFILES)
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=spec.FAULTS,
        help="add a fault mode (repeatable; utopia profiles only)",
    )
    parser.add_argument("--list", action="store_true", help="list profiles and fault modes, then exit")
    parser.add_argument(
        "--write-trust-store",
        metavar="DIR",
        type=Path,
        help="write the test PKI's CSCAs, CRLs and master list to DIR, then exit",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--log-apdus", action="store_true", help="print APDUs (personal data!)")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    parser.add_argument(
        "--rebuild", action="store_true", help="empty the key cache and make the test PKI again"
    )
    args = parser.parse_args(argv)
    if args.rebuild:
        cache.clear()
    if args.list:
        for name in profiles.PROFILES:
            print(f"{name:12} {profiles.DESCRIPTIONS[name]}")
        print("faults:", ", ".join(spec.FAULTS))
        return 0
    try:
        if args.write_trust_store:
            return write_trust_store(args.write_trust_store)
        return run(
            args.profile, args.host, args.port, args.log_apdus, args.connect_timeout, tuple(args.fault)
        )
    except EmrtdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
