"""The local SDK's Autobahn adapter (``docval_client.sdk_server``) in memory: commands in,
messages out, one app at a time, reader events pushed to the app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from twisted.internet.task import Clock

from docval_client.console import ConsoleConfirmer
from docval_client.readers import ReaderInfo
from docval_client.sdk_server import SdkFactory, make_site

from .memory import clock_for_autobahn, connect, recording_factory, settle

TXAIO_FRAMEWORK = "twisted"
URL = "ws://127.0.0.1:24727/sdk"


@pytest.fixture
def clock() -> Iterator[Clock]:
    with clock_for_autobahn() as clock:
        yield clock


def messages(factory: Any) -> list[dict[str, Any]]:
    return [json.loads(m) for m in factory.received]


def test_get_info_and_reader_list(clock: Clock) -> None:
    """GET_INFO answers INFO with the version; GET_READER_LIST lists the simulator reader."""
    lines: list[str] = []
    sdk = SdkFactory(say=lines.append, simulator="utopia")
    app = recording_factory(URL, headers={"User-Agent": "unit-test-app"})
    _server, client, pump = connect(make_site(sdk), app)
    settle(pump, clock)
    client.sendMessage(b'{"cmd": "GET_INFO"}', isBinary=False)
    client.sendMessage(b'{"cmd": "GET_READER_LIST"}', isBinary=False)
    settle(pump, clock)
    info, readers = messages(app)[-2:]
    assert info["msg"] == "INFO" and info["VersionInfo"]["Name"] == "docval-client"
    assert [r["name"] for r in readers["reader"]] == ["Simulator"]
    assert any("unit-test-app" in line for line in lines)


def test_one_app_at_a_time(clock: Clock) -> None:
    """A second app is refused at the handshake while the first is connected."""
    sdk = SdkFactory(say=lambda _line: None)
    first, second = recording_factory(URL), recording_factory(URL)
    settle(connect(make_site(sdk), first)[2], clock)
    settle(connect(make_site(sdk), second)[2], clock)
    assert first.opened and not second.opened


def test_reader_changes_reach_the_app(clock: Clock) -> None:
    """A card put on a reader is pushed to the connected app as READER."""
    sdk = SdkFactory(say=lambda _line: None)
    app = recording_factory(URL)
    pump = connect(make_site(sdk), app)[2]
    settle(pump, clock)
    sdk.readers_changed([ReaderInfo("USB Reader 00", True)])
    settle(pump, clock)
    reader = messages(app)[-1]
    assert reader["msg"] == "READER" and reader["name"] == "USB Reader 00" and reader["card"] is not None


def test_bad_commands_keep_the_connection(clock: Clock) -> None:
    """Broken JSON is INVALID, an unknown command UNKNOWN_COMMAND; the app stays connected."""
    sdk = SdkFactory(say=lambda _line: None)
    app = recording_factory(URL)
    _server, client, pump = connect(make_site(sdk), app)
    settle(pump, clock)
    client.sendMessage(b"{oops", isBinary=False)
    client.sendMessage(b'{"cmd": "FLY"}', isBinary=False)
    settle(pump, clock)
    assert [m["msg"] for m in messages(app)[-2:]] == ["INVALID", "UNKNOWN_COMMAND"]
    assert app.closed is None


def test_origin_not_on_the_list_is_refused_and_named(clock: Clock) -> None:
    """A page from an origin the policy does not list never opens; the console names the origin."""
    lines: list[str] = []
    sdk = SdkFactory(say=lines.append, simulator="utopia")
    app = recording_factory(URL, origin="http://evil.example")
    settle(connect(make_site(sdk), app)[2], clock)
    assert not app.opened and sdk.active is None
    assert any("refused app from origin http://evil.example" in line for line in lines)
    allowed = recording_factory(URL, origin="http://localhost:8000")
    settle(connect(make_site(sdk), allowed)[2], clock)
    assert allowed.opened and any("app connected from http://localhost:8000" in line for line in lines)


def _asked(clock: Clock) -> tuple[Any, Any, Any, ConsoleConfirmer, list[str]]:
    """A page on this machine asks for a validation with a loopback server; the SDK asks the console."""
    lines: list[str] = []
    confirmer = ConsoleConfirmer(clock, lines.append)
    sdk = SdkFactory(say=lines.append, confirmer=confirmer, simulator="utopia")
    app = recording_factory(URL, origin="http://localhost:8000", headers={"User-Agent": "page/1"})
    _server, client, pump = connect(make_site(sdk), app)
    settle(pump, clock)
    run = {"cmd": "RUN_VALIDATION", "serverUrl": "ws://127.0.0.1:8765/ws2/validate", "clientId": "desk",
           "reader": "Simulator"}
    client.sendMessage(json.dumps(run).encode(), isBinary=False)
    client.sendMessage(b'{"cmd": "ACCEPT"}', isBinary=False)
    settle(pump, clock)
    return app, client, pump, confirmer, lines


def test_console_confirmation_moves_the_workflow_on(clock: Clock) -> None:
    """ACCEPT prints the question (origin, agent, server, data); "y" on the console goes on."""
    app, _client, pump, confirmer, lines = _asked(clock)
    (prompt,) = [line for line in lines if "[y/N]" in line]
    assert prompt.startswith("http://localhost:8000 (") and "page/1)" in prompt
    assert "ws://127.0.0.1:8765/ws2/validate" in prompt
    assert messages(app)[-1]["msg"] == "ACCESS_RIGHTS"  # nothing moves until the user answers
    confirmer.line_received("y\n")
    settle(pump, clock)
    assert messages(app)[-1]["msg"] == "ENTER_MRZ"


def test_no_answer_in_time_cancels(clock: Clock) -> None:
    """No answer within the timeout: the workflow ends with CANCELLED_BY_USER."""
    app, _client, pump, _confirmer, lines = _asked(clock)
    clock.advance(61)
    settle(pump, clock)
    assert messages(app)[-1]["result"]["reason"] == "CANCELLED_BY_USER"
    assert any("no answer in 60 s: refused" in line for line in lines)


def test_without_a_console_unapproved_pairs_are_refused(clock: Clock) -> None:
    """With no console (the default factory), an unapproved pair is refused at once, with a hint."""
    lines: list[str] = []
    sdk = SdkFactory(say=lines.append, simulator="utopia")
    app = recording_factory(URL, origin="http://localhost:8000")
    _server, client, pump = connect(make_site(sdk), app)
    settle(pump, clock)
    run = {"cmd": "RUN_VALIDATION", "serverUrl": "ws://127.0.0.1:8765/ws2/validate", "clientId": "desk"}
    client.sendMessage(json.dumps(run).encode(), isBinary=False)
    client.sendMessage(b'{"cmd": "ACCEPT"}', isBinary=False)
    settle(pump, clock)
    assert messages(app)[-1]["result"]["reason"] == "CANCELLED_BY_USER"
    assert any("pre-approve" in line for line in lines)
