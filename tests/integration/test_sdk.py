"""The local SDK (``docval-client sdk``) as a process: port file, status query, the
one-connection and busy rules, live READER messages from the real pcscd, and whole validations
with the simulator reader and with a virtual passport in vpcd, against twistd and a result
server on loopback."""

from __future__ import annotations

import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket

from docval_client.busy import WorkflowLock

from .sdk_helpers import App, answer, running_sdk, wait_for_line
from .test_client_cli import server  # noqa: F401  (the twistd + result server fixture)
from .test_vpcd_passport import insert

pytestmark = pytest.mark.pcsc
MRZ = {"documentNumber": "UT1234567", "dateOfBirth": "900315", "dateOfExpiry": "340415"}
VPCD = "Virtual PCD 00 00"


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("sdk")
    with running_sdk(folder) as running:
        running["folder"] = folder
        yield running


@pytest.fixture
def app(sdk: dict[str, Any]) -> Iterator[App]:
    connected = App(sdk["port"])
    yield connected
    connected.close()
    time.sleep(0.2)  # let the SDK see the close before the next test connects


def test_port_file_and_status(sdk: dict[str, Any]) -> None:
    """--port 0 writes the chosen port to $TMPDIR/docval-client.<pid>.port; /status answers the version."""
    assert sdk["port_file"].name == f"docval-client.{sdk['proc'].pid}.port"
    with urllib.request.urlopen(f"http://127.0.0.1:{sdk['port']}/status?Status=json") as response:
        status = json.load(response)
        assert response.headers["Server"] == f"docval-client/{status['Implementation-Version']}"
    assert status["Implementation-Title"] == "docval-client" and status["Specification-Version"] == "2"
    with urllib.request.urlopen(f"http://127.0.0.1:{sdk['port']}/status") as response:
        assert "Implementation-Title: docval-client" in response.read().decode()


def test_one_connection_at_a_time(sdk: dict[str, Any], app: App) -> None:
    """A second app connection is refused with HTTP 429 while the first is open."""
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        App(sdk["port"], agent="second-app")
    assert refused.value.status_code == 429
    app.send(cmd="GET_API_LEVEL")
    assert app.until("API_LEVEL")["current"] == 1


def test_user_agent_is_shown(sdk: dict[str, Any], app: App) -> None:
    """The connecting app's User-Agent is printed on the SDK's console."""
    app.send(cmd="GET_INFO")
    app.until("INFO")
    assert f"app connected from http://127.0.0.1:{sdk['port']}: pytest-app/1.0" in sdk["log"].read_text()


def test_busy_machine_is_409(sdk: dict[str, Any]) -> None:
    """While a validation holds the machine's workflow lock (docval-client read), apps get HTTP 409."""
    lock = WorkflowLock(Path(sdk["folder"]) / "docval-client.lock")
    assert lock.acquire()
    try:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            App(sdk["port"])
        assert refused.value.status_code == 409
    finally:
        lock.release()


def test_live_reader_messages(app: App) -> None:
    """A passport put into / taken out of the vpcd reader gives READER messages with and without card."""
    app.send(cmd="GET_READER_LIST")
    listed = app.until("READER_LIST")
    assert {
        "name": "Simulator",
        "attached": True,
        "keypad": False,
        "card": {"inoperative": False, "deactivated": False, "retryCounter": -1},
    } in listed["reader"]
    sim = insert("utopia")
    try:
        arrived = app.until("READER", name=VPCD)
        assert arrived["attached"] is True and arrived["card"] is not None
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    assert app.until("READER", name=VPCD)["card"] is None


def test_simulator_validation(server: dict[str, Any], app: App) -> None:  # noqa: F811
    """The Simulator reader validates end to end: VALID with the passport; the result server got it."""
    app.send(
        cmd="RUN_VALIDATION",
        serverUrl=server["url"],
        clientId="desk",
        validationId="sdk-sim",
        sendResult=True,
        reader="Simulator",
    )
    assert app.until("VALIDATION") == {"msg": "VALIDATION"}
    app.until("ACCESS_RIGHTS")
    app.send(cmd="ACCEPT")
    assert app.until("ENTER_MRZ")["reader"]["name"] == "Simulator"
    app.send(cmd="SET_MRZ", **MRZ)
    result = app.until("VALIDATION")["result"]
    assert result["major"] == "ok" and result["valid"] is True
    assert result["passport"]["mrzInfo"]["primaryIdentifier"] == "ERIKSSON"
    assert any(m["msg"] == "STATUS" and m["state"] == "chip authentication" for m in app.seen)
    posted = json.loads((server["folder"] / "results" / "sdk-sim.json").read_text())
    assert posted["validationId"] == "sdk-sim"


def test_vpcd_passport_with_a_wrong_key_first(server: dict[str, Any], app: App) -> None:  # noqa: F811
    """A real PC/SC reader: INSERT_CARD until the passport arrives, a refused MRZ asks again
    without error, the right one validates; declined DG2 is not read."""
    app.send(
        cmd="RUN_VALIDATION",
        serverUrl=server["url"],
        clientId="desk",
        validationId="sdk-vpcd",
        sendResult=True,
    )
    app.until("ACCESS_RIGHTS")
    app.send(cmd="SET_ACCESS_RIGHTS", chat=["DG11", "DG12"])
    app.until("ACCESS_RIGHTS")
    app.send(cmd="ACCEPT")
    app.until("INSERT_CARD")
    sim = insert("utopia")
    try:
        assert app.until("ENTER_MRZ")["reader"]["name"] == VPCD
        app.send(cmd="SET_MRZ", **(MRZ | {"dateOfExpiry": "340416"}))
        again = app.until("ENTER_MRZ")
        assert "error" not in again
        app.send(cmd="SET_MRZ", **MRZ)
        result = app.until("VALIDATION")["result"]
    finally:
        sim.terminate()
        sim.wait(timeout=10)
    assert result["major"] == "ok" and result["valid"] is True, result
    assert not result["passport"].get("facePhoto")
    assert not any(m["msg"] == "STATUS" and m["state"] == "read dg2" for m in app.seen)


def test_cancel_while_waiting_for_a_card(server: dict[str, Any], app: App) -> None:  # noqa: F811
    """CANCEL while INSERT_CARD ends the workflow with CANCELLED_BY_USER; a new one can start."""
    for _ in range(100):  # the previous test's passport may still be leaving the reader
        app.send(cmd="GET_READER", name=VPCD)
        if app.until("READER", name=VPCD)["card"] is None:
            break
        time.sleep(0.1)
    app.send(cmd="RUN_VALIDATION", serverUrl=server["url"], clientId="desk", validationId="sdk-cancel")
    app.until("ACCESS_RIGHTS")
    app.send(cmd="ACCEPT")
    app.until("INSERT_CARD")
    app.send(cmd="CANCEL")
    assert app.until("VALIDATION")["result"]["reason"] == "CANCELLED_BY_USER"
    app.send(cmd="RUN_VALIDATION", serverUrl=server["url"], clientId="desk")
    assert app.until("VALIDATION") == {"msg": "VALIDATION"}


# -- the trust model: who may connect, where the data may go, what the app gets ----------------


def test_origin_not_allowed_is_403(sdk: dict[str, Any]) -> None:
    """A page from an origin the SDK does not list is refused with HTTP 403, named on the console."""
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        App(sdk["port"], origin="http://evil.example")
    assert refused.value.status_code == 403
    assert "refused app from origin http://evil.example" in sdk["log"].read_text()


class Rogue:
    """A listening socket on loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.url = f"ws://127.0.0.1:{self.sock.getsockname()[1]}/ws2/validate"
        self.accepted = 0

    def count(self) -> int:
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                return self.accepted
            self.accepted += 1
            conn.close()


def test_rogue_server_is_never_contacted(server: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    """Whatever serverUrl the app sends, the SDK connects to no server off the app's list; the
    card is not touched (no STATUS) and the app gets a VALIDATION error."""
    allowed = f"""
[[app]]
origin = "http://127.0.0.1:*"
[[app.server]]
url = "{server["url"]}"
approved = true
"""
    rogue = Rogue()
    with running_sdk(tmp_path, config=allowed) as running:
        app = App(running["port"])
        try:
            for url in (
                rogue.url,
                rogue.url.replace("127.0.0.1", "localhost"),
                "wss://rogue.example/ws2/validate",
                server["url"].replace("/ws2/validate", "/other"),
                f"ws://127.0.0.1:{server['url'].split(':')[2].split('/')[0]}@rogue.example/ws2/validate",
            ):
                app.send(
                    cmd="RUN_VALIDATION", serverUrl=url, clientId="desk", reader="Simulator", sendResult=True
                )
                refused = app.until("VALIDATION")
                assert "is not allowed for" in refused["error"], refused
            assert not any(m["msg"] == "STATUS" for m in app.seen)
        finally:
            app.close()
    assert rogue.count() == 0


def test_default_configuration_asks_and_keeps_personal_data_from_the_app(
    server: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    """No sdk.toml: the user is asked on the console (who, which server, which data); after "y"
    the validation runs, and the final message has the verdict and validationId only."""
    with running_sdk(tmp_path, config=None) as running:
        app = App(running["port"])
        try:
            app.send(
                cmd="RUN_VALIDATION",
                serverUrl=server["url"],
                clientId="desk",
                validationId="sdk-default",
                sendResult=True,
                reader="Simulator",
            )
            app.until("ACCESS_RIGHTS")
            app.send(cmd="ACCEPT")
            answer(running, "y")
            app.until("ENTER_MRZ")
            app.send(cmd="SET_MRZ", **MRZ)
            result = app.until("VALIDATION")["result"]
        finally:
            app.close()
        log = running["log"].read_text()
    assert result == {"major": "ok", "validationId": "sdk-default", "valid": True}
    prompt = wait_for_line(running["log"], "[y/N]")
    assert f"http://127.0.0.1:{running['port']} (pytest-app/1.0)" in prompt and server["url"] in prompt
    assert "SOD, DG1, DG14, DG15" in prompt and "verdict only" in prompt
    assert f"validation sdk-default for http://127.0.0.1:{running['port']} with {server['url']}: VALID" in log
    assert "ERIKSSON" not in log
    posted = json.loads((server["folder"] / "results" / "sdk-default.json").read_text())
    assert posted["mrzInfo"]["primaryIdentifier"] == "ERIKSSON"  # the data went to the server only


def test_refused_on_the_console_touches_no_card(server: dict[str, Any], tmp_path: Path) -> None:  # noqa: F811
    """ "n" on the console ends the workflow with CANCELLED_BY_USER before any card is read."""
    with running_sdk(tmp_path, config=None) as running:
        app = App(running["port"])
        try:
            app.send(cmd="RUN_VALIDATION", serverUrl=server["url"], clientId="desk", reader="Simulator")
            app.until("ACCESS_RIGHTS")
            app.send(cmd="ACCEPT")
            answer(running, "n")
            result = app.until("VALIDATION")["result"]
        finally:
            app.close()
    assert result["reason"] == "CANCELLED_BY_USER"
    assert not any(m["msg"] in ("ENTER_MRZ", "STATUS") for m in app.seen)
