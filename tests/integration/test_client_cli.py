"""docval-client end to end, as the README demo runs it: a virtual passport in pcscd's vpcd
reader, the client CLI reading it over PC/SC, the DocVal server (twistd) and the example
result server on loopback."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from .pcsc import vpcd_readers
from .test_server import TWISTD, free_port, start_result_server, wait_http
from .test_vpcd_passport import insert

pytestmark = pytest.mark.pcsc
CLIENT = Path(sys.executable).with_name("docval-client")
UTOPIA = ["--document-number", "UT1234567", "--birth", "900315", "--expiry", "340415"]


@contextmanager
def docval_server(folder: Path, server_settings: str = "", scheme: str = "ws") -> Iterator[dict[str, Any]]:
    """twistd docval (``[server]`` settings added; the endpoint too when given) and the result
    server on loopback, with the test trust store; yields the URL and the folder."""
    vpcd_readers()
    result_port, ws_port = free_port(), free_port()
    results = start_result_server(folder, result_port)
    endpoint = "" if "endpoint" in server_settings else f'endpoint = "tcp:{ws_port}:interface=127.0.0.1"'
    (folder / "docval.toml").write_text(f"""
[server]
{endpoint}
{server_settings.replace("PORT", str(ws_port))}
[trust]
paths = ["trust"]
[clients.desk]
result_url = "http://127.0.0.1:{result_port}/results"
""")
    twistd = subprocess.Popen(
        [str(TWISTD), "-n", "--pidfile=", "docval", "--config", "docval.toml"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if scheme == "wss":
            import ssl

            context = ssl.create_default_context(cafile=str(folder / "cert.pem"))
            wait_http(f"https://127.0.0.1:{ws_port}/health", context=context)
        else:
            wait_http(f"http://127.0.0.1:{ws_port}/health")
        yield {"url": f"{scheme}://127.0.0.1:{ws_port}/ws2/validate", "folder": folder}
    finally:
        for proc in (twistd, results):
            proc.terminate()
            proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with docval_server(tmp_path_factory.mktemp("client")) as running:
        yield running


@contextmanager
def inserted(profile: str, *faults: str) -> Iterator[None]:
    """A virtual passport in the vpcd reader for the block."""
    sim = insert(profile, faults)
    try:
        yield
    finally:
        sim.terminate()
        sim.wait(timeout=10)


def read_at(url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """``docval-client read`` against ``url`` with the vpcd reader (the passport is the caller's)."""
    return _client(
        "read", "--server", url, "--client-id", "desk", "--reader", "Virtual PCD", "--wait", "10", *extra
    )


def run_client(
    server: dict[str, Any], profile: str, key: list[str], *faults: str
) -> subprocess.CompletedProcess[str]:
    """``docval-client read`` against the module's server with ``profile`` (and ``faults``) in
    the vpcd reader, the result written to out.json."""
    with inserted(profile, *faults):
        return read_at(server["url"], "--json", str(server["folder"] / "out.json"), *key)


def test_genuine_passport_validates(server: dict[str, Any]) -> None:
    """PACE chip through pcscd: VALID, exit 0, all checks ticked, result JSON written."""
    done = run_client(server, "utopia", UTOPIA)
    assert done.returncode == 0, done.stderr
    assert "VALID" in done.stdout and "✘" not in done.stdout
    assert "extended-length APDUs, 32512-byte blocks (EF.ATR/INFO)" in done.stdout
    assert re.search(r"^  dg2 +█+ +[\d,]+/[\d,]+ bytes$", done.stdout, re.M), done.stdout
    result = json.loads((server["folder"] / "out.json").read_text())
    assert result["chipAuthenticationResult"] == "SUCCESS" and result["passiveAuthentication"] is True


def test_bac_chip_validates(server: dict[str, Any]) -> None:
    """A BAC-only chip (3DES CA via MSE:Set KAT) validates too."""
    done = run_client(server, "utopia-bac", UTOPIA)
    assert done.returncode == 0, done.stderr


def test_refused_extended_length_falls_back(server: dict[str, Any]) -> None:
    """--extended-length on a chip without it (bsi-short): one refused read, then short blocks;
    the read completes (NOT VALID only because the BSI CSCA is not in the server's trust)."""
    bsi = ["--document-number", "C11T002JM", "--birth", "960812", "--expiry", "231031"]
    done = run_client(server, "bsi-short", [*bsi, "--extended-length", "--max-block", "4096"])
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "short APDUs, 223-byte blocks (given, fell back)" in done.stdout
    assert re.search(r"^  dg2 +█+ +[\d,]+/[\d,]+ bytes$", done.stdout, re.M), done.stdout


def test_clone_is_not_valid(server: dict[str, Any]) -> None:
    """A cloned chip: CA FAILED, NOT VALID, exit 1."""
    done = run_client(server, "utopia", UTOPIA, "clone")
    assert done.returncode == 1, done.stderr
    assert "✘ chip authentication" in done.stdout and "NOT VALID" in done.stdout


def test_wrong_access_key_is_one_line(server: dict[str, Any]) -> None:
    """A wrong MRZ: one error line naming INVALID_ACCESS_KEY_VALUES and what to check, exit 2."""
    done = run_client(
        server, "utopia", ["--document-number", "UT1234567", "--birth", "900315", "--expiry", "340416"]
    )
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert last.startswith(
        "error: INVALID_ACCESS_KEY_VALUES: the chip refused the access key: check the document number"
    )


def test_unreachable_server_is_one_line(server: dict[str, Any]) -> None:
    """A server that refuses the connection: one 'cannot reach the server' line, exit 2."""
    unreachable = {**server, "url": "ws://127.0.0.1:1/ws2/validate"}
    done = run_client(unreachable, "utopia", UTOPIA)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.startswith("error: cannot reach the server at ws://127.0.0.1:1/ws2/validate: ")
    assert done.stderr.strip().endswith("Connection refused; is it running, and is the port right?")
    assert len(done.stderr.splitlines()) == 1


def test_no_card_is_one_line(server: dict[str, Any]) -> None:
    """No card in the reader: one error line, exit 2."""
    done = _client(
        "read", "--server", server["url"], "--client-id", "desk", "--reader", "Virtual PCD",
        "--wait", "0", *UTOPIA, timeout=30,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.strip().startswith("error: no card")


def interrupted_read(server: dict[str, Any], validation_id: str, interrupt: str) -> tuple[int, str, str]:
    """Start a read and, once chip authentication begins, take the card out ("card") or press
    Ctrl-C ("ctrl-c"); return the exit code, stdout and stderr."""
    import signal

    sim = insert("utopia")
    try:
        client = subprocess.Popen(
            [
                str(CLIENT),
                "read",
                "--server",
                server["url"],
                "--client-id",
                "desk",
                "--reader",
                "Virtual PCD",
                "--wait",
                "10",
                "--validation-id",
                validation_id,
                *UTOPIA,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert client.stdout is not None
        for line in client.stdout:
            if "chip authentication" in line:
                if interrupt == "card":
                    sim.send_signal(signal.SIGUSR1)  # docval-sim takes the card out
                else:
                    client.send_signal(signal.SIGINT)
                break
        out, err = client.communicate(timeout=60)
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    return client.returncode, out, err


def test_card_removed_mid_read(server: dict[str, Any]) -> None:
    """Taking the card out during the read: one error line, exit 2, the server posts nothing."""
    code, out, err = interrupted_read(server, "removed", "card")
    assert code == 2, (out, err)
    assert err.strip().startswith("error: card removed") or "NFC_CHIP_COMMUNICATION_FAILED" in err
    assert not (server["folder"] / "results" / "removed.json").exists()


def test_ctrl_c_cancels(server: dict[str, Any]) -> None:
    """Ctrl-C during the read ends with one 'cancelled' line and exit 2; nothing is posted."""
    code, out, err = interrupted_read(server, "cancelled", "ctrl-c")
    assert code == 2 and err.strip() == "error: cancelled", (out, err)
    assert not (server["folder"] / "results" / "cancelled.json").exists()


def run_offline(server: dict[str, Any], *faults: str) -> subprocess.CompletedProcess[str]:
    """``docval-client read --offline`` against the test trust store, with a utopia passport
    (and ``faults``) in the vpcd reader."""
    with inserted("utopia", *faults):
        return _client(
            "read", "--offline", "--trust-store", str(server["folder"] / "trust"),
            "--reader", "Virtual PCD", "--wait", "10", *UTOPIA,
        )  # fmt: skip


def test_offline_mode_through_pcscd(server: dict[str, Any]) -> None:
    """--offline --trust-store: the same checks locally, VALID for a genuine chip, NOT VALID for a clone."""
    for faults, code in (((), 0), (("clone",), 1)):
        done = run_offline(server, *faults)
        assert done.returncode == code, (done.stdout, done.stderr)
    assert "✘ chip authentication" in done.stdout


def test_chip_without_dg14_and_reader_by_index(server: dict[str, Any]) -> None:
    """A chip without DG14 (no handover, CA UNAVAILABLE) is VALID; the reader can be given by number."""
    with inserted("utopia", "no-dg14"):
        listed = _client("readers", timeout=30).stdout.splitlines()
        index = next(i for i, line in enumerate(listed) if "Virtual PCD 00 00" in line)
        done = _client(
            "read", "--server", server["url"], "--client-id", "desk", "--reader", str(index),
            "--wait", "10", *UTOPIA,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "– chip authentication (not offered by the chip)" in done.stdout and "VALID" in done.stdout


PEER_CHIPS = [
    # (fault modes, exit code, a line the CLI prints, a reason in the result's errors)
    (("no-sfi",), 0, "VALID", None),
    (("std-params",), 0, "VALID", None),
    (("id-data-sod",), 0, "VALID", "eContentType is id-data"),
    (("empty-sod",), 1, "NOT VALID", "sod: EF.SOD is empty"),
    (("empty-dg2",), 1, "NOT VALID", "DG2: "),
]


@pytest.mark.parametrize("faults,code,line,reason", PEER_CHIPS, ids=["+".join(p[0]) for p in PEER_CHIPS])
def test_chips_as_peers_write_them(
    server: dict[str, Any], faults: tuple[str, ...], code: int, line: str, reason: str | None
) -> None:
    """Chips as other issuers write them (no SFI, standardized domain parameters, an id-data
    SOD, an empty EF.SOD or DG2), read through pcscd: the session runs to its end, the result
    is posted and printed, and the exit code is the verdict's (an empty file is a finding)."""
    out = server["folder"] / "out.json"
    out.unlink(missing_ok=True)
    done = run_client(server, "utopia", UTOPIA, *faults)
    assert done.returncode == code, (done.stdout, done.stderr)
    assert line in done.stdout and "Traceback" not in done.stderr
    result = json.loads(out.read_text())
    if reason is not None:
        assert any(reason in error for error in result["errors"]), result["errors"]
        assert reason in done.stdout  # printed among the findings
    assert result["chipAuthenticationResult"] == ("FAILED" if "empty-sod" in faults else "SUCCESS")


@pytest.mark.parametrize(
    "faults", [("empty-sod",), ("empty-dg2", "no-sfi")], ids=["empty-sod", "empty-dg2+no-sfi"]
)
def test_offline_empty_files_are_findings(server: dict[str, Any], faults: tuple[str, ...]) -> None:
    """Offline, an empty EF.SOD or DG2 is NOT VALID (exit 1) with the reason, not exit 2."""
    done = run_offline(server, *faults)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "NOT VALID" in done.stdout and "Traceback" not in done.stderr


def _client(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLIENT), *args], capture_output=True, text=True, timeout=timeout)


def test_input_mistakes_are_caught_before_the_card(server: dict[str, Any]) -> None:
    """A wrong MRZ check digit, a bad date and an http:// URL: one line each naming the problem,
    exit 2, and no card needed (nothing was sent to a chip)."""
    bad_mrz = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<UT12345675UTO9003152F3404159<<<<<<<<<<<<<<05"
    cases = [
        (
            ["--server", server["url"], "--client-id", "desk", "--mrz", bad_mrz],
            "wrong check digit in composite",
        ),
        (
            [
                "--server",
                server["url"],
                "--client-id",
                "desk",
                "--document-number",
                "UT1234567",
                "--birth",
                "901315",
                "--expiry",
                "340415",
            ],
            "date of birth must be a date as YYMMDD",
        ),
        (
            ["--server", server["url"].replace("ws://", "http://"), "--client-id", "desk", *UTOPIA],
            "is not a WebSocket URL: the DocVal server is at ws://",
        ),
        (
            ["--server", server["url"].rsplit("/", 2)[0], "--client-id", "desk", *UTOPIA],
            "names no path: the DocVal API is at",
        ),
    ]
    for args, message in cases:
        done = _client("read", "--reader", "Virtual PCD", "--wait", "0", *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], done.stderr


def test_silent_server_times_out(server: dict[str, Any]) -> None:
    """A server that completes the WebSocket handshake and then says nothing: the client gives
    up after --server-timeout with one line naming what it waited for, exit 2."""
    import base64
    import hashlib
    import socket
    import threading
    import time

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key")
            )
            accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
            conn.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )

    threading.Thread(target=serve, daemon=True).start()
    with inserted("utopia"):
        began = time.monotonic()
        done = read_at(
            f"ws://127.0.0.1:{port}/ws2/validate",
            "--server-timeout",
            "2",
            *UTOPIA,
        )
        elapsed = time.monotonic() - began
        listener.close()
        for conn in held:
            conn.close()
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip() == (
        "error: the server sent nothing for 2 s while we waited for ACCEPT; it may be overloaded, "
        "or a proxy holds the connection"
    )
    assert elapsed < 20, elapsed


def test_header_reaches_a_server_that_requires_authorization(tmp_path: Path) -> None:
    """--header (and --authorization) go with the handshake: without it 401 in one line, with it VALID."""
    outcomes = []
    with docval_server(tmp_path, 'authorization = "Bearer desk-s3cret"') as running:
        for extra in (
            [],
            ["--header", "Authorization: Bearer desk-s3cret"],
            ["--authorization", "Bearer desk-s3cret"],
        ):
            with inserted("utopia"):
                outcomes.append(read_at(running["url"], *extra, *UTOPIA))
    refused, with_header, with_option = outcomes
    assert (
        refused.returncode == 2 and "401" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    )
    assert with_header.returncode == 0, with_header.stderr
    assert with_option.returncode == 0, with_option.stderr


def test_summary_json_photo_and_expiry(server: dict[str, Any], tmp_path: Path) -> None:
    """The summary a person reads (formatted dates, nationality, DG11/DG12 details, expiry);
    --json - puts only JSON on stdout; --photo converts to what the extension asks for; the
    expired BSI document is flagged (in the JSON too: clientFindings), and --fail-expired makes
    it NOT VALID."""
    from PIL import Image

    with inserted("utopia-bac"):  # its face is JPEG 2000
        done = read_at(
            server["url"],
            "--json",
            "-",
            "--photo",
            str(tmp_path / "face.png"),
            *UTOPIA,
        )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["chipAuthenticationResult"] == "SUCCESS"
    assert "born 15 Mar 1990" in done.stderr and "valid until 15 Apr 2034" in done.stderr
    assert "nationality UTO, female" in done.stderr and "in ZENITH,UTOPIA" in done.stderr, done.stderr
    assert "(PNG, converted from the chip's JPEG2000)" in done.stderr
    assert Image.open(tmp_path / "face.png").format == "PNG"
    bsi = ["--document-number", "C11T002JM", "--birth", "960812", "--expiry", "231031"]
    for extra in ([], ["--fail-expired"]):
        with inserted("bsi"):
            done = _client(
                "read",
                "--offline",
                "--trust-store",
                str(server["folder"] / "trust"),
                "--reader",
                "Virtual PCD",
                "--wait",
                "10",
                "--json",
                str(tmp_path / "bsi.json"),
                *extra,
                *bsi,
            )
        assert "EXPIRED on 31 Oct 2023" in done.stdout and "✘ not expired" in done.stdout
        assert done.returncode == 1, done.stdout  # the BSI DSC is not in this trust store either
        found = json.loads((tmp_path / "bsi.json").read_text())["clientFindings"]
        assert found["documentExpired"] is True and found["dateOfExpiry"] == "2023-10-31"
        assert found["expiryFailsVerdict"] is bool(extra) and found["verdict"] == "NOT VALID"


def test_photo_folder_checked_before_reading(server: dict[str, Any]) -> None:
    """--photo into a folder that does not exist: one line, exit 2, before any card is needed."""
    done = _client(
        "read",
        "--server",
        server["url"],
        "--client-id",
        "desk",
        "--reader",
        "Virtual PCD",
        "--wait",
        "0",
        "--photo",
        "/nonexistent/x.jpg",
        *UTOPIA,
    )
    assert done.returncode == 2 and done.stderr.strip() == (
        "error: --photo /nonexistent/x.jpg: the folder /nonexistent does not exist"
    )


def test_dump_then_verify_gives_the_live_verdict(server: dict[str, Any], tmp_path: Path) -> None:
    """dump reads every file (with a manifest, no keys); verify later gives the same PA verdict
    as the live offline read, CA/AA as recorded; a changed file is refused in one line."""
    trust = str(server["folder"] / "trust")
    folder = tmp_path / "dump"
    for faults, code in (((), 0), (("tampered-dg",), 1)):
        target = folder / ("+".join(faults) or "genuine")
        with inserted("utopia", *faults):
            dumped = _client(
                "dump",
                str(target),
                "--reader",
                "Virtual PCD",
                "--wait",
                "10",
                "--trust-store",
                trust,
                "--json",
                str(tmp_path / "live.json"),
                *UTOPIA,
            )
        assert dumped.returncode == code, (dumped.stdout, dumped.stderr)
        manifest = json.loads((target / "manifest.json").read_text())
        assert {"com", "cardaccess", "sod", "dg1", "dg2", "dg14", "dg15"} <= set(manifest["files"])
        assert manifest["protocol"] == "PACE" and manifest["apdus"] > 10 and manifest["atr"]
        assert "UT1234567" not in json.dumps(manifest)  # no MRZ data, no keys
        assert manifest["live"]["chipAuthentication"] == "SUCCESS"
        live = json.loads((tmp_path / "live.json").read_text())
        checked = _client(
            "verify", str(target), "--trust-store", trust, "--json", str(tmp_path / "later.json")
        )
        assert checked.returncode == code, (checked.stdout, checked.stderr)
        later = json.loads((tmp_path / "later.json").read_text())
        assert later["passiveAuthentication"] == live["passiveAuthentication"]
        assert later["passiveAuthenticationDetails"] == live["passiveAuthenticationDetails"]
        assert later["chipAuthenticationResult"] == live["chipAuthenticationResult"]
        assert "not re-checkable offline" in checked.stdout
    with inserted(
        "utopia"
    ):  # a dump needs no trust store: the live CA/AA are recorded before the trust order
        bare = _client("dump", str(folder / "bare"), "--reader", "Virtual PCD", "--wait", "10", *UTOPIA)
    assert bare.returncode == 0 and "live checks: chip authentication SUCCESS" in bare.stdout, bare.stdout
    assert _client("verify", str(folder / "bare"), "--trust-store", trust).returncode == 0
    (folder / "genuine" / "dg2.bin").write_bytes(b"\x75\x00")
    refused = _client("verify", str(folder / "genuine"), "--trust-store", trust)
    assert refused.returncode == 2 and "was changed after the dump" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_watch_reads_passport_after_passport(server: dict[str, Any], tmp_path: Path) -> None:
    """watch: two passports inserted one after the other are each read, validated, shown and
    appended to the JSON-lines file; Ctrl-C ends it with a tally and exit 0."""
    import queue
    import signal
    import threading

    jsonl = tmp_path / "results.jsonl"
    watcher = subprocess.Popen(
        [
            str(CLIENT),
            "watch",
            "--server",
            server["url"],
            "--client-id",
            "desk",
            "--reader",
            "Virtual PCD",
            "--jsonl",
            str(jsonl),
            *UTOPIA,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert watcher.stdout is not None
    stdout = watcher.stdout

    def pump() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()

    def until(text: str, seconds: float = 60) -> list[str]:
        seen = []
        while True:
            line = lines.get(timeout=seconds)
            seen.append(line)
            if text in line:
                return seen

    try:
        until("waiting for a passport")
        for profile in ("utopia", "utopia-bac"):
            with inserted(profile):
                shown = until("remove the passport")
                assert any(line.strip() == "VALID" for line in shown), shown
            until("waiting for a passport")
        watcher.send_signal(signal.SIGINT)
        watcher.wait(timeout=30)
        tally = until("passports read", 10)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0, watcher.stderr.read() if watcher.stderr else ""
    assert "2 passports read, 2 VALID" in tally[-1]
    results = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(results) == 2 and all(r["passiveAuthentication"] for r in results)
    assert [r["clientFindings"]["verdict"] for r in results] == ["VALID", "VALID"]


def test_html_report_shows_the_photo_in_chromium(server: dict[str, Any], tmp_path: Path) -> None:
    """--report writes one self-contained page; headless Chromium shows the decoded photo (a
    JPEG 2000 face converted for the browser), the verdict, the data and the checks."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("chromium is not installed (scripts/test.sh installs Debian's chromium)")
    page_file = tmp_path / "report.html"
    with inserted("utopia-bac"):  # JPEG 2000 face
        done = read_at(
            server["url"],
            "--report",
            str(page_file),
            *UTOPIA,
        )
    assert done.returncode == 0, done.stderr
    text = page_file.read_text()
    assert "<script" not in text and "http://" not in text and "https://" not in text
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True)
        try:
            page = browser.new_page()
            page.goto(page_file.as_uri())
            assert page.eval_on_selector("#photo", "img => img.complete && img.naturalWidth") > 0
            assert page.inner_text("#verdict") == "VALID"
            body = page.inner_text("body")
            shot = page.locator("#photo").screenshot()
        finally:
            browser.close()
    assert "ERIKSSON, ANNA MARIA" in body and "15 Apr 2034" in body and "✔ chip authentication" in body
    from PIL import Image

    image = Image.open(io.BytesIO(shot)).convert("L")
    low, high = image.getextrema()
    assert isinstance(low, int) and isinstance(high, int) and high - low > 30, (
        "the photo area is blank"
    )  # a decoded face, not an empty box


def test_self_signed_wss_server_gets_a_hint_then_works_with_ca_file(tmp_path: Path) -> None:
    """A wss:// server with a self-signed certificate: without --ca-file one line suggesting
    --ca-file/--insecure (exit 2); with --ca-file the passport validates."""
    from .test_server import self_signed

    key, cert = self_signed(tmp_path)
    runs = []
    settings = f'endpoint = "ssl:PORT:interface=127.0.0.1:privateKey={key}:certKey={cert}"'
    with docval_server(tmp_path, settings, scheme="wss") as running:
        for extra in ([], ["--ca-file", str(cert)]):
            with inserted("utopia"):
                runs.append(read_at(running["url"], *extra, *UTOPIA))
    refused, trusted = runs
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "--ca-file" in refused.stderr and "--insecure" in refused.stderr, refused.stderr
    assert trusted.returncode == 0, trusted.stderr
