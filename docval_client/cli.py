"""``docval-client``: validate a passport on a USB reader with a DocVal server.

    docval-client readers
    docval-client read --server ws://127.0.0.1:8765/ws2/validate --client-id demo \\
        (--mrz "LINE1LINE2" | --document-number N --birth YYMMDD --expiry YYMMDD | --can NNNNNN) \\
        [--reader NAME] [--json result.json] [--photo face.jpg] [--ca-file server.pem]

The only module that prints or exits. Errors are one line with what to do about them
(``--debug`` adds the traceback; with ``--json`` they are also written there as JSON).
Exit codes: 0 the document validated (PA passed, CA and AA SUCCESS or UNAVAILABLE, as the
vendor's iOS app decides; with ``--fail-expired`` also not expired), 1 it did not, 2 usage or
environment errors (bad input, no reader, no card, server unreachable or silent, wrong access
key: no verdict on the document).

Defaults for ``--server``, ``--client-id``, ``--ca-file``, ``--reader`` and headers come from
the environment (``DOCVAL_SERVER``, ``DOCVAL_CLIENT_ID``, ``DOCVAL_CA_FILE``, ``DOCVAL_READER``,
``DOCVAL_AUTHORIZATION``), else from ``$XDG_CONFIG_HOME/docval/client.toml`` (keys
``server``, ``client_id``, ``ca_file``, ``reader``, ``authorization`` and a ``headers`` table);
the command line wins.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import time
import traceback
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from emrtd import mrz
from emrtd.docval.reasons import CloseReason
from emrtd.errors import EmrtdError

from . import advice
from . import summary as summaries
from .card import CardError, PcscCard, list_readers
from .session import Options, Outcome, Progress, validation

EXIT_CODES = """exit codes:
  0  VALID: Passive Authentication passed, chip and active authentication SUCCESS or not
     offered (and, with --fail-expired, the document has not expired)
  1  NOT VALID: the checks ran and the document failed one
  2  no verdict: bad input, no reader or card, server unreachable or silent, access key refused"""


def _access_key(args: argparse.Namespace) -> mrz.AccessKey:
    """The access key from what was typed, checked before anything touches the card: the MRZ
    with its check digits, the fields' formats, the CAN's six digits."""
    try:
        if args.can:
            return mrz.CANKey(args.can)
        if args.mrz:
            return mrz.parse(args.mrz.replace("\\n", "\n"), strict=True).access_key
        if args.document_number and args.birth and args.expiry:
            return mrz.MRZKey(args.document_number, args.birth, args.expiry)
    except EmrtdError as exc:
        raise advice.UsageError(
            f"{exc}: check what you typed against the document (nothing was sent to the chip)"
        ) from None
    raise advice.UsageError("give --mrz, or --document-number with --birth and --expiry, or --can")


def summary(
    passport: dict[str, Any], notes: tuple[str, ...] = (), *, fail_expired: bool = False
) -> list[str]:
    return summaries.lines(passport, notes, today=date.today(), fail_expired=fail_expired)


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

    def end(self) -> None:
        """End a bar line left open (the session stopped mid-file)."""
        self._end_line()
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
    print(f"waiting up to {args.wait:g} s for a passport on a reader...", file=_out(args), flush=True)
    card = PcscCard(args.reader, wait=args.wait)
    lock = _locked(card)
    print(f"reader: {card.reader}; verifying locally against {len(trust)} CSCAs", file=_out(args), flush=True)
    started = time.monotonic()
    try:
        link = exchange.run(extended_length.negotiate(card.atr, card.max_apdu, **_link(args)), card.transmit)
        _print_link(link.blocks.size, link.extended, link.source, _out(args))
        view = ProgressView(_out(args))
        passport = exchange.run(
            verify_locally(
                key, trust, datetime.now(UTC), os.urandom, max_block=link.blocks,
                progress=lambda step, done, total: view(Progress(step, done, total)),
            ),
            card.transmit,
        )
        view.end()
    finally:
        card.close()
        lock.release()
    print(f"read in {time.monotonic() - started:.2f} s", file=_out(args), flush=True)
    return _report(passport, args)


def _key_from_line(line: str) -> mrz.AccessKey:
    """An access key typed (or scanned) for one document in ``watch``: the MRZ (two or three
    lines joined, or one per line with ``|``), ``NUMBER YYMMDD YYMMDD``, or a six-digit CAN."""
    text = line.strip()
    parts = text.split()
    try:
        if text.isdigit() and len(text) == 6:
            return mrz.CANKey(text)
        if len(parts) == 3 and all(len(p) <= 22 for p in parts):
            return mrz.MRZKey(*parts)
        return mrz.parse(text.replace("|", "\n"), strict=True).access_key
    except EmrtdError as exc:
        raise advice.UsageError(f"{exc}: type the MRZ, 'NUMBER YYMMDD YYMMDD' or the CAN") from None


def watch(args: argparse.Namespace) -> int:
    """Passport after passport: wait for a card, read and validate it, show the result, wait
    for its removal, again, until Ctrl-C (online, or ``--offline`` with a trust store)."""
    import os
    import threading
    from datetime import UTC, datetime

    from twisted.internet import reactor as _reactor
    from twisted.internet import threads
    from twisted.internet.defer import Deferred, inlineCallbacks

    from emrtd import exchange, extended_length
    from emrtd.truststore import TrustStore

    from .card import list_readers
    from .offline import verify_locally
    from .protocol import Driver, connect

    reactor: Any = _reactor
    fixed_key = _access_key(args) if (args.mrz or args.can or args.document_number) else None
    if args.offline and not args.trust_store:
        raise advice.UsageError("--offline needs --trust-store DIR")
    if not args.offline:
        if not args.server or not args.client_id:
            raise advice.UsageError("watch needs --server and --client-id (or --offline --trust-store DIR)")
        advice.server_url(args.server)
    trust = TrustStore.load(args.trust_store) if args.offline else None
    stop = threading.Event()
    tally = {"read": 0, "valid": 0}
    failure: dict[str, str] = {}

    def wait_for_card() -> PcscCard | None:
        while not stop.is_set():
            try:
                return PcscCard(args.reader, wait=0)
            except CardError as exc:
                if "no card" not in str(exc):
                    raise
                stop.wait(0.25)
        return None

    def wait_for_removal(reader_name: str) -> None:
        while not stop.is_set():
            try:
                present = [r.has_card for r in list_readers() if r.name == reader_name]
            except CardError:
                present = []
            if not any(present):
                return
            stop.wait(0.25)

    def read_offline_card(card: PcscCard, key: mrz.AccessKey) -> dict[str, Any]:
        assert trust is not None
        link = exchange.run(extended_length.negotiate(card.atr, card.max_apdu, **_link(args)), card.transmit)
        return exchange.run(
            verify_locally(key, trust, datetime.now(UTC), os.urandom, max_block=link.blocks), card.transmit
        )

    def read_online_card(card: PcscCard, key: mrz.AccessKey) -> Deferred[Any]:
        options = Options(
            str(uuid.uuid4()), args.client_id, key, send_result=True,
            extended_length=args.extended_length, max_block=args.max_block, atr=card.atr,
            reader_max_apdu=card.max_apdu, server_timeout=args.server_timeout,
        )
        driver = Driver(validation(options), card.transmit_raw, ProgressView())
        state["driver"] = driver
        connect(args.server, driver, ca_file=args.ca_file, insecure=args.insecure, headers=_headers(args),
                timeout=args.server_timeout)
        return driver.done.addCallback(lambda outcome: (outcome, driver.error))

    state: dict[str, Any] = {}

    @inlineCallbacks
    def loop() -> Any:
        try:
            while not stop.is_set():
                print("waiting for a passport (Ctrl-C to stop)...", flush=True)
                card = yield threads.deferToThread(wait_for_card)
                if card is None:
                    break
                reader_name = card.reader
                print(f"reader: {reader_name}", flush=True)
                key = fixed_key
                if key is None:
                    print("access key (MRZ, 'NUMBER YYMMDD YYMMDD' or CAN): ", end="", flush=True)
                    line = yield threads.deferToThread(sys.stdin.readline)
                    if not line:
                        card.close()
                        break
                    try:
                        key = _key_from_line(line)
                    except advice.UsageError as exc:
                        print(f"error: {exc}", flush=True)
                        card.close()
                        yield threads.deferToThread(wait_for_removal, reader_name)
                        continue
                passport: dict[str, Any] | None = None
                try:
                    if args.offline:
                        passport = yield threads.deferToThread(read_offline_card, card, key)
                    else:
                        outcome, error = yield read_online_card(card, key)
                        passport = outcome.passport
                        if passport is None:
                            reason = outcome.reason
                            if isinstance(reason, CloseReason):
                                reason = reason.value
                            hint = advice.close_hint(reason) if reason else None
                            print(f"error: {error or (f'{reason}: {hint}' if hint else reason)}", flush=True)
                except (EmrtdError, OSError) as exc:
                    print(f"error: {exc}", flush=True)
                finally:
                    card.close()
                tally["read"] += 1
                if passport is not None:
                    lines = summary(passport, fail_expired=args.fail_expired)
                    for text in lines:
                        print(text, flush=True)
                    tally["valid"] += lines[-1] == "VALID"
                    if args.jsonl:
                        with open(args.jsonl, "a", encoding="utf-8") as out:
                            written = summaries.as_written(
                                passport, today=date.today(), fail_expired=args.fail_expired
                            )
                            out.write(json.dumps(written) + "\n")
                print("remove the passport", flush=True)
                yield threads.deferToThread(wait_for_removal, reader_name)
        except Exception as exc:  # noqa: BLE001 - one line, then stop
            failure["error"] = str(exc)
        finally:
            if reactor.running:
                reactor.stop()

    def stopping() -> None:
        stop.set()
        driver = state.get("driver")
        if driver is not None:
            driver.cancel()

    reactor.addSystemEventTrigger("before", "shutdown", stopping)
    reactor.callWhenRunning(loop)
    reactor.run()
    print(f"{tally['read']} passports read, {tally['valid']} VALID", flush=True)
    if "error" in failure:
        raise advice.UsageError(failure["error"])
    return 0


def dump(args: argparse.Namespace) -> int:
    """Read every file of the chip into a folder (and run CA/AA live) for ``verify`` later."""
    import os
    from datetime import UTC, datetime

    from emrtd import exchange, extended_length
    from emrtd.apdu import CommandAPDU, ResponseAPDU
    from emrtd.truststore import TrustStore

    from . import dumps
    from .offline import verify_locally

    key = _access_key(args)
    asked = [name for name in ("json", "photo", "report", "fail_expired") if getattr(args, name)]
    if asked and not args.trust_store:
        option = "--" + asked[0].replace("_", "-")
        raise advice.UsageError(f"dump {option} needs --trust-store (or run verify on the dump later)")
    _check_photo_path(args.photo)
    _check_photo_path(args.report, "--report")
    trust = TrustStore.load(args.trust_store) if args.trust_store else TrustStore([], {})
    folder = Path(args.folder)
    if folder.exists() and any(folder.iterdir()):
        raise advice.UsageError(f"{folder} is not empty: give a new or empty folder for the dump")
    print(f"waiting up to {args.wait:g} s for a passport on a reader...", flush=True)
    card = PcscCard(args.reader, wait=args.wait)
    lock = _locked(card)
    print(f"reader: {card.reader}", flush=True)
    counts = {"apdus": 0, "bytes": 0}

    def transmit(command: CommandAPDU) -> ResponseAPDU:
        response = card.transmit(command)
        counts["apdus"] += 1
        counts["bytes"] += len(response.data) + 2
        return response

    started, clock = datetime.now(UTC), time.monotonic()
    kept: dict[str, Any] = {}
    try:
        link = exchange.run(extended_length.negotiate(card.atr, card.max_apdu, **_link(args)), transmit)
        _print_link(link.blocks.size, link.extended, link.source)
        passport = exchange.run(
            verify_locally(key, trust, started, os.urandom, max_block=link.blocks, dump=kept), transmit
        )
        atr = card.atr.hex().upper() if card.atr else None
        reader_name = card.reader
    finally:
        card.close()
        lock.release()
    live = kept.get("live", {})
    manifest: dict[str, Any] = {
        "tool": f"docval-client {_version()}",
        "reader": reader_name,
        "atr": atr,
        "protocol": kept.get("protocol"),
        "extendedLength": link.extended,
        "blockSize": link.blocks.size,
        "started": started.isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - clock, 3),
        "apdus": counts["apdus"],
        "bytesFromChip": counts["bytes"],
        "live": live,
    }
    files: dict[str, bytes] = kept.get("files", {})
    dumps.write(folder, files, manifest)
    print(f"{len(files)} files written to {folder}: {', '.join(n for n in dumps.FILE_NAMES if n in files)}")
    print(
        f"live checks: chip authentication {live['chipAuthentication']}, "
        f"active authentication {live['activeAuthentication']}"
    )
    print(f"{counts['apdus']} APDUs, {counts['bytes']} bytes from the chip in {manifest['seconds']:.2f} s")
    print("the dump holds the holder's personal data (photo, MRZ): keep it accordingly")
    if args.trust_store:
        return _report(passport, args)
    return 0


def verify(args: argparse.Namespace) -> int:
    """Passive Authentication and the parsers over a dump made earlier."""
    from datetime import UTC, datetime

    from emrtd.truststore import TrustStore

    from . import dumps

    trust = TrustStore.load(args.trust_store)
    passport, notes = dumps.verify(Path(args.folder), trust, datetime.now(UTC))
    print(f"dump {args.folder}: verifying against {len(trust)} CSCAs", file=_out(args))
    return _report(passport, args, notes)


def _print_link(block: int, extended: bool, source: str, out: Any = None) -> None:
    kind = "extended-length" if extended else "short"
    print(f"  {kind} APDUs, {block}-byte blocks ({source})", file=out or sys.stdout, flush=True)


def _report(passport: dict[str, Any], args: argparse.Namespace, notes: tuple[str, ...] = ()) -> int:
    out = sys.stderr if args.json == "-" else sys.stdout  # stdout is the JSON's then
    for line in summary(passport, notes, fail_expired=args.fail_expired):
        print(line, file=out)
    written = summaries.as_written(passport, today=date.today(), fail_expired=args.fail_expired)
    if args.json == "-":
        print(json.dumps(written, indent=2))
    elif args.json:
        Path(args.json).write_text(json.dumps(written, indent=2))
    if getattr(args, "report", None):
        from .report import render

        page = render(passport, notes, today=date.today(), fail_expired=args.fail_expired)
        Path(args.report).write_text(page, encoding="utf-8")
        print(f"report written to {args.report}", file=out)
    if args.photo:
        if passport.get("facePhoto"):
            print(_write_photo(base64.b64decode(passport["facePhoto"]), Path(args.photo)), file=out)
        else:
            print("no face photo in the result: nothing written to " + args.photo, file=out)
    return 0 if summaries.verdict(passport, today=date.today(), fail_expired=args.fail_expired) else 1


PHOTO_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".jp2": "JPEG2000", ".j2k": "JPEG2000"}


def _out(args: argparse.Namespace) -> Any:
    """Where the human-readable lines go: stdout, unless the JSON goes there (--json -)."""
    return sys.stderr if getattr(args, "json", None) == "-" else sys.stdout


def _check_photo_path(path: str | None, option: str = "--photo") -> None:
    """An output file (--photo, --report) must be writable, checked before the card is read."""
    if not path:
        return
    folder = Path(path).parent
    if not folder.is_dir():
        raise advice.UsageError(f"{option} {path}: the folder {folder} does not exist")
    import os

    if not os.access(folder, os.W_OK):
        raise advice.UsageError(f"{option} {path}: the folder {folder} is not writable")


def _write_photo(data: bytes, path: Path) -> str:
    """Write the face image in the format the file name asks for (.jpg, .png, .jp2),
    converting with Pillow when the chip holds another; an unknown extension gets the
    chip's bytes as they are. Returns what was written, for the user."""
    import io

    from PIL import Image

    try:
        image = Image.open(io.BytesIO(data))
        held = image.format or "unknown"
    except Exception:  # noqa: BLE001 - an undecodable image is written as it is
        path.write_bytes(data)
        return f"photo written to {path} as held by the chip (not a decodable image)"
    wanted = PHOTO_FORMATS.get(path.suffix.lower())
    if wanted is None or wanted == held:
        path.write_bytes(data)
        return f"photo written to {path} ({held}, as held by the chip)"
    converted = image.convert("RGB") if wanted == "JPEG" else image
    converted.save(path, format=wanted)
    return f"photo written to {path} ({wanted}, converted from the chip's {held})"


def read(args: argparse.Namespace) -> int:
    _check_photo_path(args.photo)
    _check_photo_path(args.report, "--report")
    if not args.offline:
        if not args.server or not args.client_id:
            raise advice.UsageError("read needs --server and --client-id (or --offline --trust-store DIR)")
        advice.server_url(args.server)
    _access_key(args)  # checked before the card is touched
    return _read(args)


def _locked(card: PcscCard) -> Any:
    """The reader's lock, taken; a reader in use by another docval-client is a clear error."""
    from .busy import WorkflowLock, reader_lock_path

    lock = WorkflowLock(reader_lock_path(card.reader))
    if not lock.acquire():
        card.close()
        raise advice.UsageError(f"another docval-client is using the reader {card.reader!r}")
    return lock


def _read(args: argparse.Namespace) -> int:
    if args.offline:
        return read_offline(args)

    from twisted.internet import reactor as _reactor

    from .protocol import Driver, connect

    reactor: Any = _reactor
    key = _access_key(args)
    print(f"waiting up to {args.wait:g} s for a passport on a reader...", file=_out(args), flush=True)
    card = PcscCard(args.reader, wait=args.wait)
    lock = _locked(card)
    print(f"reader: {card.reader}", file=_out(args), flush=True)
    options = Options(
        args.validation_id or str(uuid.uuid4()),
        args.client_id,
        key,
        send_result=True,
        extended_length=args.extended_length,
        max_block=args.max_block,
        atr=card.atr,
        reader_max_apdu=card.max_apdu,
        enable_diagnostics=args.diagnostics,
        server_timeout=args.server_timeout,
    )
    started = time.monotonic()
    view = ProgressView(_out(args))
    driver = Driver(validation(options), card.transmit_raw, view)
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
    connect(
        args.server, driver, ca_file=args.ca_file, insecure=args.insecure, headers=_headers(args),
        timeout=args.server_timeout,
    )
    reactor.run()
    view.end()  # a bar cut short by Ctrl-C or a removed card gets its line ended
    card.close()
    lock.release()
    outcome: Outcome | None = result.get("outcome")
    if outcome is None:
        raise EmrtdError("cancelled")
    elapsed = time.monotonic() - started
    if outcome.length_source:  # empty when the session never started (server unreachable)
        _print_link(outcome.block, outcome.extended_length, outcome.length_source, _out(args))
    apdus, chip_bytes = max(outcome.apdus, driver.apdus), max(outcome.chip_bytes, driver.chip_bytes)
    print(
        f"{apdus} APDUs, {chip_bytes} bytes from the chip in {elapsed:.2f} s",
        file=_out(args),
        flush=True,
    )
    if outcome.passport is None:
        reason = outcome.reason.value if isinstance(outcome.reason, CloseReason) else outcome.reason
        hint = advice.close_hint(reason) if reason else None
        unreachable = "cannot reach the server: "
        if driver.error and driver.error.startswith(unreachable):
            message = advice.connection_hint(driver.error.removeprefix(unreachable), args.server)
        else:
            told = f"{reason}: {hint}" if hint else reason
            message = driver.error or told or "the server closed without a result"
        # no result: an error of the session, not a verdict on the document
        raise SessionError(message, reason or "")
    return _report(outcome.passport, args, outcome.notes)


class SessionError(EmrtdError):
    """The session ended without a result; ``reason`` is the close reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _headers(args: argparse.Namespace) -> dict[str, str]:
    headers = dict(args.config_headers)
    for text in args.header:
        name, value = advice.header(text)
        headers[name] = value
    if args.authorization:
        headers["Authorization"] = args.authorization
    return headers


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


def _settings() -> dict[str, Any]:
    """Defaults from the environment, else from the user's client.toml (see the module doc)."""
    import os
    import tomllib

    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    path = Path(base) / "docval" / "client.toml"
    file: dict[str, Any] = {}
    if path.is_file():
        try:
            file = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise advice.UsageError(f"cannot read {path}: {exc}") from None
    unknown = set(file) - {"server", "client_id", "ca_file", "reader", "authorization", "headers"}
    if unknown:
        raise advice.UsageError(f"{path}: unknown setting {sorted(unknown)[0]!r}")
    settings = {key: file.get(key) for key in ("server", "client_id", "ca_file", "reader", "authorization")}
    for key in settings:
        value = os.environ.get(f"DOCVAL_{key.upper()}")
        if value:
            settings[key] = value
    headers = file.get("headers") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise advice.UsageError(f"{path}: headers must map names to strings")
    settings["headers"] = headers
    return settings


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("docval")
    except Exception:  # noqa: BLE001 - running from a checkout without metadata
        from emrtd import __version__

        return __version__


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    parser = argparse.ArgumentParser(
        prog="docval-client",
        description=__doc__.split("\n")[0],
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"docval-client {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("readers", help="list readers and whether a card is present", parents=[common])
    listing.set_defaults(run=readers)
    try:
        settings = _settings()
    except advice.UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    r = sub.add_parser(
        "read",
        help="read and validate the passport on a reader",
        parents=[common],
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("--server", default=settings["server"], help="ws:// or wss:// URL of /ws2/validate")
    r.add_argument("--client-id", default=settings["client_id"])
    r.add_argument("--offline", action="store_true", help="verify locally, without a server")
    r.add_argument("--trust-store", help="with --offline: folder of CSCA certificates, master lists, CRLs")
    r.add_argument("--validation-id")
    r.add_argument("--mrz", help="the MRZ lines (joined, or separated by \\n)")
    r.add_argument("--document-number")
    r.add_argument("--birth", help="date of birth YYMMDD")
    r.add_argument("--expiry", help="date of expiry YYMMDD")
    r.add_argument("--can", help="the 6-digit card access number")
    r.add_argument(
        "--reader", default=settings["reader"],
        help="reader name (prefix) or number from 'readers'; default: the first with a card",
    )
    r.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card")
    r.add_argument("--json", help="write the result JSON here ('-': standard output); errors too")
    r.add_argument("--photo", help="write the face image here (.jpg, .png or .jp2: converted as asked)")
    r.add_argument(
        "--report", metavar="FILE.html", help="write a self-contained HTML page: photo, data and checks"
    )
    r.add_argument("--ca-file", default=settings["ca_file"], help="CA certificate for a wss:// server")
    r.add_argument("--insecure", action="store_true", help="do not verify the wss:// server certificate")
    r.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                   help="send this HTTP header with the WebSocket handshake; repeatable")
    r.add_argument("--authorization", default=settings["authorization"], metavar="VALUE",
                   help="the Authorization header the server requires (e.g. 'Bearer s3cret')")
    r.add_argument("--server-timeout", type=float, default=20.0, metavar="SECONDS",
                   help="give up when the server is silent this long (ACCEPT, each relayed APDU, the "
                   "handback; RESULT gets 45 s); default 20")
    r.add_argument("--fail-expired", action="store_true",
                   help="an expired document is NOT VALID (exit 1); by default expiry is only shown")
    r.add_argument("--diagnostics", action="store_true",
                   help="ask the server for a diagnostic session and send it MONITORING step messages")
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
    r.set_defaults(run=read, config_headers=settings["headers"])
    def key_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--mrz", help="the MRZ lines (joined, or separated by \\n)")
        command.add_argument("--document-number")
        command.add_argument("--birth", help="date of birth YYMMDD")
        command.add_argument("--expiry", help="date of expiry YYMMDD")
        command.add_argument("--can", help="the 6-digit card access number")

    def output_options(command: argparse.ArgumentParser) -> None:
        command.add_argument("--json", help="write the result JSON here ('-': standard output)")
        command.add_argument("--photo", help="write the face image here (.jpg, .png or .jp2)")
        command.add_argument("--report", metavar="FILE.html", help="write an HTML page of the result")
        command.add_argument("--fail-expired", action="store_true",
                             help="an expired document is NOT VALID (exit 1); by default only shown")

    described = {"epilog": EXIT_CODES, "formatter_class": argparse.RawDescriptionHelpFormatter}
    w = sub.add_parser("watch", help="read passport after passport until Ctrl-C", parents=[common])
    w.add_argument("--server", default=settings["server"], help="ws:// or wss:// URL of /ws2/validate")
    w.add_argument("--client-id", default=settings["client_id"])
    w.add_argument("--offline", action="store_true", help="verify locally, without a server")
    w.add_argument("--trust-store", help="with --offline: folder of CSCA certificates, master lists, CRLs")
    key_options(w)
    w.add_argument("--reader", default=settings["reader"], help="reader name (prefix) or number")
    w.add_argument("--jsonl", metavar="FILE", help="append each result to this JSON-lines file")
    w.add_argument("--fail-expired", action="store_true", help="count an expired document as NOT VALID")
    w.add_argument("--ca-file", default=settings["ca_file"], help="CA certificate for a wss:// server")
    w.add_argument("--insecure", action="store_true", help="do not verify the wss:// server certificate")
    w.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="handshake header")
    w.add_argument("--authorization", default=settings["authorization"], metavar="VALUE")
    w.add_argument("--server-timeout", type=float, default=20.0, metavar="SECONDS")
    w.add_argument("--extended-length", action=argparse.BooleanOptionalAction, default=None)
    w.add_argument("--max-block", type=_block, default=None)
    w.set_defaults(run=watch, config_headers=settings["headers"])
    d = sub.add_parser("dump", help="save every file of the chip to a folder, to verify later",
                       parents=[common], **described)
    d.add_argument("folder", metavar="DIR", help="a new or empty folder")
    key_options(d)
    d.add_argument("--reader", default=settings["reader"], help="reader name (prefix) or number")
    d.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card")
    d.add_argument("--trust-store", help="also verify now against this trust store and show the summary")
    output_options(d)
    d.add_argument("--extended-length", action=argparse.BooleanOptionalAction, default=None,
                   help="use (or never use) extended-length APDUs; default: ask the chip")
    d.add_argument("--max-block", type=_block, default=None, help="READ BINARY block size")
    d.set_defaults(run=dump)
    v = sub.add_parser("verify", help="verify a dump made with 'dump' (Passive Authentication, parsers)",
                       parents=[common], **described)
    v.add_argument("folder", metavar="DIR", help="a folder written by 'docval-client dump'")
    v.add_argument("--trust-store", required=True, help="folder of CSCA certificates, master lists, CRLs")
    output_options(v)
    v.set_defaults(run=verify)
    k = sub.add_parser("sdk", help="serve the local SDK WebSocket for apps (ws://127.0.0.1:PORT/sdk)",
                       parents=[common])
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
    k.add_argument("--ca-file", default=settings["ca_file"],
                   help="CA certificate for wss:// DocVal servers without their own ca_file")
    k.add_argument("--insecure", action="store_true", help="do not verify wss:// server certificates")
    k.set_defaults(run=sdk)
    args = parser.parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        code: int = args.run(args)
        return code
    except (EmrtdError, CardError, OSError) as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        _json_error(args, str(exc), getattr(exc, "reason", None))
        return 2
    except KeyboardInterrupt:
        print("error: cancelled", file=sys.stderr)
        _json_error(args, "cancelled", CloseReason.CANCELLED_BY_USER.value)
        return 2


def _json_error(args: argparse.Namespace, message: str, reason: str | None) -> None:
    """With --json, the error goes there too, as {"error": …, "reason": …}."""
    target = getattr(args, "json", None)
    if not target:
        return
    text = json.dumps({"error": message, "reason": reason or None}, indent=2)
    if target == "-":
        print(text)
    else:
        try:
            Path(target).write_text(text)
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main())
