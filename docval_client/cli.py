"""``docval-client``: validate a passport on a USB reader with a DocVal server.

    docval-client readers
    docval-client read --server ws://127.0.0.1:8765/ws2/validate --client-id demo \\
        (--mrz "LINE1LINE2" | --document-number N --birth YYMMDD --expiry YYMMDD | --can NNNNNN) \\
        [--reader NAME] [--json result.json] [--photo face.jpg] [--ca-file server.pem]

The only module that prints or exits. Errors are one line (``--debug`` adds the traceback).
Exit codes: 0 the document validated (PA passed, CA and AA SUCCESS or UNAVAILABLE, as the
vendor's iOS app decides), 1 it did not, 2 usage or environment errors (no reader, no card,
server unreachable, wrong access key).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from emrtd import mrz
from emrtd.docval.reasons import CloseReason
from emrtd.docval.verdict import validated
from emrtd.errors import EmrtdError

from .card import CardError, PcscCard, list_readers
from .session import Options, Outcome, Progress, validation


def _access_key(args: argparse.Namespace) -> mrz.AccessKey:
    if args.can:
        return mrz.CANKey(args.can)
    if args.mrz:
        return mrz.parse(args.mrz.replace("\\n", "\n"), strict=False).access_key
    if args.document_number and args.birth and args.expiry:
        return mrz.MRZKey(args.document_number, args.birth, args.expiry)
    raise EmrtdError("give --mrz, or --document-number with --birth and --expiry, or --can")


def summary(passport: dict[str, Any], notes: tuple[str, ...] = ()) -> list[str]:
    info = passport.get("mrzInfo") or {}
    details = passport.get("passiveAuthenticationDetails") or {}

    def mark(flag: bool) -> str:
        return "✔" if flag else "✘"

    lines = [
        f"holder:    {info.get('primaryIdentifier', '?')}, {' '.join(info.get('secondaryIdentifier') or [])}",
        f"document:  {info.get('documentCode', '?')} {info.get('documentNumber', '?')} "
        f"({info.get('issuingState', '?')}), expires {info.get('dateOfExpiry', '?')}",
        f"  {mark(bool(details.get('sodSignatureValid')))} SOD signature",
        f"  {mark(bool(details.get('documentCertificateValid')))} document signer certificate",
        f"  {mark(bool(details.get('allHashesValid')))} data group hashes "
        f"{details.get('dataGroupsWithValidHash')}",
        f"  {mark(passport.get('chipAuthenticationResult') != 'FAILED')} chip authentication: "
        f"{passport.get('chipAuthenticationResult')}",
        f"  {mark(passport.get('activeAuthenticationResult') != 'FAILED')} active authentication: "
        f"{passport.get('activeAuthenticationResult')}",
    ]
    lines += [f"  ! {error}" for error in passport.get("errors") or []]
    lines += [f"  i {note}" for note in notes]
    lines.append("VALID" if validated(passport) else "NOT VALID")
    return lines


class ProgressView:
    """One line per step; for files a bar with bytes, redrawn in place on a terminal and
    printed once, complete, when the output is a file or pipe."""

    WIDTH = 24

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.open_line = False

    def __call__(self, event: Progress) -> None:
        if not event.step.startswith("read ") or not event.total:
            self._end_line()
            self.stream.write(f"  {event.step}\n")
        else:
            name = event.step[5:]
            filled = self.WIDTH * event.done // event.total
            bar = "█" * filled + "·" * (self.WIDTH - filled)
            line = f"  {name:<6} {bar} {event.done:>6,}/{event.total:,} bytes"
            if self.live:
                self.stream.write("\r" + line)
                self.open_line = True
                if event.done >= event.total:
                    self._end_line()
            elif event.done >= event.total:
                self.stream.write(line + "\n")
        self.stream.flush()

    def _end_line(self) -> None:
        if self.open_line:
            self.stream.write("\n")
            self.open_line = False


def _block(text: str) -> int:
    """--max-block: an integer from 8 to 65536."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 8 <= value <= 65536:
        raise argparse.ArgumentTypeError("must be from 8 to 65536")
    return value


def _link(args: argparse.Namespace) -> dict[str, Any]:
    """Options for emrtd.extended_length.negotiate from --extended-length/--max-block."""
    return {"extended": args.extended_length, "max_block": args.max_block}


def read_offline(args: argparse.Namespace) -> int:
    if not args.trust_store:
        raise EmrtdError("--offline needs --trust-store DIR")
    import os
    from datetime import UTC, datetime

    from emrtd import exchange, extended_length
    from emrtd.truststore import TrustStore

    from .offline import verify_locally

    key = _access_key(args)
    trust = TrustStore.load(args.trust_store)
    card = PcscCard(args.reader, wait=args.wait)
    print(f"reader: {card.reader}; verifying locally against {len(trust)} CSCAs", flush=True)
    started = time.monotonic()
    try:
        link = exchange.run(extended_length.negotiate(card.atr, card.max_apdu, **_link(args)), card.transmit)
        _print_link(link.blocks.size, link.extended, link.source)
        passport = exchange.run(
            verify_locally(key, trust, datetime.now(UTC), os.urandom, max_block=link.blocks), card.transmit
        )
    finally:
        card.close()
    print(f"read in {time.monotonic() - started:.2f} s", flush=True)
    return _report(passport, args)


def _print_link(block: int, extended: bool, source: str) -> None:
    kind = "extended-length" if extended else "short"
    print(f"  {kind} APDUs, {block}-byte blocks ({source})", flush=True)


def _report(passport: dict[str, Any], args: argparse.Namespace, notes: tuple[str, ...] = ()) -> int:
    for line in summary(passport, notes):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(passport, indent=2))
    if args.photo and passport.get("facePhoto"):
        Path(args.photo).write_bytes(base64.b64decode(passport["facePhoto"]))
        print(f"photo written to {args.photo}")
    return 0 if validated(passport) else 1


def read(args: argparse.Namespace) -> int:
    from .busy import WorkflowLock

    lock = WorkflowLock()
    if not lock.acquire():
        raise EmrtdError("another validation is running on this machine (docval-client read or sdk)")
    try:
        return _read(args)
    finally:
        lock.release()


def _read(args: argparse.Namespace) -> int:
    if args.offline:
        return read_offline(args)
    if not args.server or not args.client_id:
        raise EmrtdError("read needs --server and --client-id (or --offline --trust-store DIR)")

    from twisted.internet import reactor as _reactor

    from .protocol import Driver, connect

    reactor: Any = _reactor
    key = _access_key(args)
    card = PcscCard(args.reader, wait=args.wait)
    print(f"reader: {card.reader}", flush=True)
    options = Options(
        args.validation_id or str(uuid.uuid4()),
        args.client_id,
        key,
        send_result=True,
        extended_length=args.extended_length,
        max_block=args.max_block,
        atr=card.atr,
        reader_max_apdu=card.max_apdu,
    )
    started = time.monotonic()
    driver = Driver(validation(options), card.transmit_raw, ProgressView())
    result: dict[str, Any] = {}

    def finished(outcome: Outcome) -> None:
        from twisted.internet.error import ReactorNotRunning

        result["outcome"] = outcome
        try:
            reactor.stop()
        except ReactorNotRunning:  # already stopping (Ctrl-C)
            pass

    driver.done.addCallback(finished)
    reactor.addSystemEventTrigger("before", "shutdown", driver.cancel)  # Ctrl-C: CANCELLED_BY_USER
    connect(args.server, driver, ca_file=args.ca_file, insecure=args.insecure)
    reactor.run()
    card.close()
    outcome: Outcome | None = result.get("outcome")
    if outcome is None:
        raise EmrtdError("cancelled")
    elapsed = time.monotonic() - started
    if outcome.length_source:  # empty when the session never started (server unreachable)
        _print_link(outcome.block, outcome.extended_length, outcome.length_source)
    print(f"{outcome.apdus} APDUs, {outcome.chip_bytes} bytes from the chip in {elapsed:.2f} s", flush=True)
    if outcome.passport is None:
        reason = outcome.reason.value if isinstance(outcome.reason, CloseReason) else outcome.reason
        message = driver.error or reason or "the server closed without a result"
        print(f"error: {message}", file=sys.stderr)
        return 2  # no result: an error of the session, not a verdict on the document
    return _report(outcome.passport, args, outcome.notes)


def sdk(args: argparse.Namespace) -> int:
    """Serve the local SDK WebSocket until Ctrl-C or SIGTERM."""
    from twisted.internet import reactor as _reactor
    from twisted.internet.endpoints import TCP4ServerEndpoint

    from . import console, sdk_policy, sdk_server

    reactor: Any = _reactor

    def say(line: str) -> None:
        print(line, flush=True)

    policy = sdk_policy.load(Path(args.config) if args.config else None).allowing(args.allow_origin)

    if args.simulator is not None:
        from emrtd.sim import profiles

        if args.simulator not in profiles.PROFILES:
            known = ", ".join(profiles.PROFILES)
            raise EmrtdError(f"unknown simulator profile {args.simulator!r}; known: {known}")
    confirmer = console.ConsoleConfirmer(reactor, say)
    factory = sdk_server.SdkFactory(
        say=say, policy=policy, confirmer=confirmer, simulator=args.simulator, ca_file=args.ca_file,
        insecure=args.insecure,
    )
    endpoint = TCP4ServerEndpoint(reactor, args.port, interface="127.0.0.1")
    state: dict[str, Any] = {}

    def listening(port: Any) -> None:
        number = port.getHost().port
        if args.port == 0:
            path = sdk_server.port_file()
            path.write_text(f"{number}\n")
            state["port_file"] = path
        say(f"docval-client SDK on ws://127.0.0.1:{number}/sdk (status: http://127.0.0.1:{number}/status?Status=json)")
        if args.simulator:
            say(f"simulator reader on: virtual passport {args.simulator!r}")
        say(f"apps allowed ({policy.source}): {', '.join(rule.origin for rule in policy.apps) or 'none'}")
        console.read_lines(reactor, confirmer, sys.stdin)

    def failed(failure: Any) -> None:
        state["error"] = f"cannot listen on 127.0.0.1:{args.port}: {failure.getErrorMessage()}"
        reactor.stop()

    endpoint.listen(sdk_server.make_site(factory)).addCallbacks(listening, failed)
    stop = sdk_server.start_watching(reactor, factory)
    reactor.addSystemEventTrigger("before", "shutdown", stop.set)
    reactor.run()
    if "port_file" in state:
        state["port_file"].unlink(missing_ok=True)
    if "error" in state:
        raise EmrtdError(state["error"])
    return 0


def readers(_args: argparse.Namespace) -> int:
    found = list_readers()
    if not found:
        print("no readers")
        return 2
    for index, reader in enumerate(found):
        print(f"{index}: {reader.name}  [{'card' if reader.has_card else 'no card'}]")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="docval-client", description=__doc__.split("\n")[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("readers", help="list readers and whether a card is present").set_defaults(run=readers)
    r = sub.add_parser("read", help="read and validate the passport on a reader")
    r.add_argument("--server", help="ws:// or wss:// URL of /ws2/validate")
    r.add_argument("--client-id")
    r.add_argument("--offline", action="store_true", help="verify locally, without a server")
    r.add_argument("--trust-store", help="with --offline: folder of CSCA certificates, master lists, CRLs")
    r.add_argument("--validation-id")
    r.add_argument("--mrz", help="the MRZ lines (joined, or separated by \\n)")
    r.add_argument("--document-number")
    r.add_argument("--birth", help="date of birth YYMMDD")
    r.add_argument("--expiry", help="date of expiry YYMMDD")
    r.add_argument("--can", help="the 6-digit card access number")
    r.add_argument(
        "--reader", help="reader name (prefix) or number from 'readers'; default: the first with a card"
    )
    r.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card")
    r.add_argument("--json", help="write the result JSON here")
    r.add_argument("--photo", help="write the face image here")
    r.add_argument("--ca-file", help="CA certificate for a wss:// server")
    r.add_argument("--insecure", action="store_true", help="do not verify the wss:// server certificate")
    r.add_argument(
        "--extended-length",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use (or never use) extended-length APDUs; default: ask the chip (EF.ATR/INFO, ATR, probe)",
    )
    r.add_argument(
        "--max-block",
        type=_block,
        default=None,
        help="READ BINARY block size; default: the largest the chip and reader allow (223 without "
        "extended length); a refused long read falls back to 223 by itself",
    )
    r.set_defaults(run=read)
    k = sub.add_parser("sdk", help="serve the local SDK WebSocket for apps (ws://127.0.0.1:PORT/sdk)")
    k.add_argument("--port", type=int, default=24727, help="TCP port on 127.0.0.1; 0 picks one and "
                   "writes it to $TMPDIR/docval-client.<pid>.port")
    k.add_argument("--simulator", nargs="?", const="utopia", default=None, metavar="PROFILE",
                   help="offer a 'Simulator' reader holding a virtual passport (default profile: utopia)")
    k.add_argument("--config", help="the SDK's trust configuration (default: "
                   "$XDG_CONFIG_HOME/docval/sdk.toml; without it: pages on this machine and native "
                   "apps, DocVal servers on this machine, every validation confirmed here)")
    k.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="also allow this web origin (e.g. http://localhost:5173, or null for file:// "
                   "pages) with DocVal servers on this machine; repeatable")
    k.add_argument("--ca-file", help="CA certificate for wss:// DocVal servers without their own ca_file")
    k.add_argument("--insecure", action="store_true", help="do not verify wss:// server certificates")
    k.set_defaults(run=sdk)
    args = parser.parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except (EmrtdError, CardError, OSError) as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: cancelled", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
