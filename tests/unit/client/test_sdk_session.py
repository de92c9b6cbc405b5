"""The local SDK protocol (sans-I/O): every command in every state, reader events, the
validation workflow with its access rights, card, key and result messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from docval_client.readers import ReaderInfo
from docval_client.sdk_policy import AppRule, ServerRule
from docval_client.sdk_session import (
    ALLOWED,
    ANY_STATE,
    COMMANDS,
    MAX_COMMAND,
    Cancel,
    Confirm,
    Log,
    ProvideKey,
    Reply,
    Requester,
    Run,
    SdkSession,
    State,
    VersionInfo,
)
from emrtd.mrz import CANKey, MRZKey

SERVER = "ws://127.0.0.1:8765/ws2/validate"
RUN = {"cmd": "RUN_VALIDATION", "serverUrl": SERVER, "clientId": "desk", "validationId": "v1"}
MRZ = {"cmd": "SET_MRZ", "documentNumber": "UT1234567", "dateOfBirth": "900315", "dateOfExpiry": "340415"}
READER = "ACS ACR1252 1S CL Reader PICC 0"


def send(session: SdkSession, command: dict[str, Any] | str) -> list[Any]:
    text = command if isinstance(command, str) else json.dumps(command)
    return session.command(text)


def messages(effects: list[Any]) -> list[dict[str, Any]]:
    return [effect.message for effect in effects if isinstance(effect, Reply)]


ORIGIN = "http://127.0.0.1:8000"


def requester(*, approved: bool = True, send_result: bool = True) -> Requester:
    """A page on this machine allowed the loopback DocVal servers (pre-approved or not)."""
    servers = (ServerRule("ws://127.0.0.1:*/ws2/validate", approved=approved),)
    return Requester(ORIGIN, "unit-test/1", AppRule("http://127.0.0.1:*", servers, send_result), 30.0)


def new(*, card: bool = True, simulator: bool = False, approved: bool = True,
        send_result: bool = True) -> SdkSession:
    session = SdkSession(VersionInfo("9.9"), simulator=simulator,
                         requester=requester(approved=approved, send_result=send_result))
    session.readers_changed([ReaderInfo(READER, card)])
    return session


def in_state(state: State) -> SdkSession:
    """A session driven to ``state`` the way an app would get there."""
    session = new(card=state is not State.INSERT_CARD, approved=state is not State.CONFIRM)
    if state is State.IDLE:
        return session
    send(session, RUN | ({"accessKey": "CAN"} if state is State.ENTER_CAN else {}))
    if state is not State.ACCESS_RIGHTS:
        send(session, {"cmd": "ACCEPT"})
    if state is State.RUNNING:
        send(session, MRZ)
    assert session.state is state
    return session


@pytest.mark.parametrize("state", list(State))
def test_bad_state_for_every_command_outside_its_state(state: State) -> None:
    """Each known command not allowed in a state answers BAD_STATE naming it, and changes nothing."""
    for name in sorted(COMMANDS - ANY_STATE - ALLOWED[state]):
        session = in_state(state)
        assert messages(send(session, {"cmd": name})) == [{"msg": "BAD_STATE", "error": name}]
        assert session.state is state


@pytest.mark.parametrize("state", list(State))
def test_queries_work_in_every_state(state: State) -> None:
    """GET_INFO, GET_API_LEVEL, GET_READER_LIST answer in every state."""
    session = in_state(state)
    info = messages(send(session, {"cmd": "GET_INFO"}))[0]
    assert info["msg"] == "INFO" and info["VersionInfo"]["Implementation-Version"] == "9.9"
    level = {"msg": "API_LEVEL", "available": [1], "current": 1}
    assert messages(send(session, {"cmd": "GET_API_LEVEL"})) == [level]
    listed = messages(send(session, {"cmd": "GET_READER_LIST"}))[0]
    assert [r["name"] for r in listed["reader"]] == [READER]
    assert session.state is state


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("{not json", "Expecting property name"),
        ("[1, 2]", 'a command is a JSON object with a "cmd" string'),
        ('{"msg": "INFO"}', 'a command is a JSON object with a "cmd" string'),
        ('{"cmd": 5}', 'a command is a JSON object with a "cmd" string'),
    ],
)
def test_broken_json_is_invalid(text: str, error: str) -> None:
    """Broken JSON and non-commands answer INVALID with the reason."""
    (message,) = messages(send(new(), text))
    assert message["msg"] == "INVALID" and message["error"].startswith(error)


def test_oversized_command_is_invalid_before_parsing() -> None:
    """A command above the size cap is refused without being parsed."""
    (message,) = messages(send(new(), "{" + " " * MAX_COMMAND + "}"))
    assert message == {"msg": "INVALID", "error": f"message larger than {MAX_COMMAND} bytes"}


def test_unknown_commands_are_case_sensitive() -> None:
    """'get_INFo' is not GET_INFO: UNKNOWN_COMMAND with the name as sent."""
    assert messages(send(new(), {"cmd": "get_INFo"})) == [{"msg": "UNKNOWN_COMMAND", "error": "get_INFo"}]


def test_api_level() -> None:
    """SET_API_LEVEL accepts a listed level and answers API_LEVEL; an unknown one gives error."""
    session = new()
    assert messages(send(session, {"cmd": "SET_API_LEVEL", "level": 1}))[0]["current"] == 1
    (message,) = messages(send(session, {"cmd": "SET_API_LEVEL", "level": 7}))
    assert message["error"] == "invalid level: 7" and message["current"] == 1


def test_get_reader() -> None:
    """GET_READER describes a known reader, reports an unknown one as detached, needs a name."""
    session = new()
    (known,) = messages(send(session, {"cmd": "GET_READER", "name": READER}))
    assert known == {
        "msg": "READER", "name": READER, "attached": True, "keypad": False,
        "card": {"inoperative": False, "deactivated": False, "retryCounter": -1},
    }
    (unknown,) = messages(send(session, {"cmd": "GET_READER", "name": "nope"}))
    assert unknown == {"msg": "READER", "name": "nope", "attached": False, "keypad": False, "card": None}
    assert messages(send(session, {"cmd": "GET_READER"}))[0]["error"] == "name must be a reader name"


def test_reader_events_report_changes_only() -> None:
    """READER goes out for a card in or out and a reader added or removed, never for no change."""
    session = new(card=False)
    assert session.readers_changed([ReaderInfo(READER, False)]) == []
    (inserted,) = messages(session.readers_changed([ReaderInfo(READER, True)]))
    assert inserted["name"] == READER and inserted["card"] is not None
    added, = messages(session.readers_changed([ReaderInfo(READER, True), ReaderInfo("Second", False)]))
    assert added == {"msg": "READER", "name": "Second", "attached": True, "keypad": False, "card": None}
    gone = messages(session.readers_changed(None))  # pcscd stopped
    assert [(m["name"], m["attached"]) for m in gone] == [(READER, False), ("Second", False)]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"serverUrl": "http://x"}, "serverUrl must be a ws:// or wss:// URL"),
        ({"clientId": ""}, "clientId must be a non-empty string"),
        ({"sendResult": "yes"}, "sendResult must be true or false"),
        ({"accessKey": "PIN"}, 'accessKey must be "MRZ" or "CAN"'),
        ({"reader": "Simulator"}, "the simulator is off (start: docval-client sdk --simulator)"),
    ],
)
def test_invalid_run_validation_starts_nothing(change: dict[str, Any], error: str) -> None:
    """A wrong RUN_VALIDATION parameter answers VALIDATION with error and stays IDLE."""
    session = new()
    assert messages(send(session, RUN | change)) == [{"msg": "VALIDATION", "error": error}]
    assert session.state is State.IDLE


def test_access_rights() -> None:
    """Required SOD/DG1/DG14/DG15 stay; optional ones can be switched off; unknown ones are an error."""
    session = new()
    started, rights = messages(send(session, RUN))
    assert started == {"msg": "VALIDATION"}
    assert rights["chat"]["required"] == ["SOD", "DG1", "DG14", "DG15"]
    assert rights["chat"]["effective"] == ["SOD", "DG1", "DG14", "DG15", "DG2", "DG7", "DG11", "DG12"]
    (changed,) = messages(send(session, {"cmd": "SET_ACCESS_RIGHTS", "chat": ["DG2"]}))
    assert changed["chat"]["effective"] == ["SOD", "DG1", "DG14", "DG15", "DG2"]
    (refused,) = messages(send(session, {"cmd": "SET_ACCESS_RIGHTS", "chat": ["DG1", "DG3"]}))
    assert refused["error"] == "not optional access rights: DG1, DG3"
    assert messages(send(session, {"cmd": "GET_ACCESS_RIGHTS"}))[0]["chat"] == changed["chat"]
    send(session, {"cmd": "ACCEPT"})
    (run,) = send(session, MRZ)
    assert isinstance(run, Run) and run.request.optional_files == frozenset({"dg2"})


def test_insert_card_then_enter_mrz_then_run() -> None:
    """No card: INSERT_CARD; a card arrives: READER then ENTER_MRZ; a valid MRZ starts the run."""
    session = new(card=False)
    send(session, RUN)
    assert messages(send(session, {"cmd": "ACCEPT"})) == [{"msg": "INSERT_CARD"}]
    reader_msg, enter = messages(session.readers_changed([ReaderInfo(READER, True)]))
    assert reader_msg["msg"] == "READER" and enter["msg"] == "ENTER_MRZ" and enter["reader"]["name"] == READER
    (run,) = send(session, MRZ)
    assert isinstance(run, Run) and run.reader == READER
    assert run.key == MRZKey("UT1234567", "900315", "340415")
    assert session.state is State.RUNNING


def test_invalid_key_gives_error_wrong_key_does_not() -> None:
    """Invalid MRZ input: ENTER_MRZ with error; a key the chip refused: ENTER_MRZ again without."""
    session = in_state(State.ENTER_MRZ)
    (invalid,) = messages(send(session, MRZ | {"dateOfBirth": "901332"}))
    assert invalid["msg"] == "ENTER_MRZ" and "date of birth" in invalid["error"]
    assert isinstance(send(session, MRZ)[0], Run)
    (again,) = messages(session.key_refused())
    assert again["msg"] == "ENTER_MRZ" and "error" not in again
    (provide,) = send(session, MRZ | {"dateOfExpiry": "340416"})
    assert isinstance(provide, ProvideKey) and provide.key.date_of_expiry == "340416"  # type: ignore[union-attr]


def test_mrz_lines_and_can() -> None:
    """SET_MRZ takes the printed MRZ (check digits verified); SET_CAN takes six digits."""
    session = in_state(State.ENTER_MRZ)
    lines = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
    (run,) = send(session, {"cmd": "SET_MRZ", "value": lines})
    assert isinstance(run, Run) and run.key == MRZKey("L898902C3", "740812", "120415")
    session = in_state(State.ENTER_CAN)
    (bad,) = messages(send(session, {"cmd": "SET_CAN", "value": "12345"}))
    assert bad["msg"] == "ENTER_CAN" and bad["error"] == "a CAN is six digits"
    (run,) = send(session, {"cmd": "SET_CAN", "value": "123456"})
    assert isinstance(run, Run) and run.key == CANKey("123456")


def test_simulator_card_by_command() -> None:
    """With the simulator on, INSERT_CARD {name: Simulator} picks the virtual passport."""
    session = new(card=False, simulator=True)
    send(session, RUN)
    assert messages(send(session, {"cmd": "ACCEPT"})) == [{"msg": "INSERT_CARD"}]  # not picked by itself
    (enter,) = messages(send(session, {"cmd": "INSERT_CARD", "name": "Simulator"}))
    assert enter["msg"] == "ENTER_MRZ" and enter["reader"]["name"] == "Simulator"
    other = new(card=False)
    send(other, RUN)
    send(other, {"cmd": "ACCEPT"})
    assert "error" in messages(send(other, {"cmd": "INSERT_CARD", "name": "Simulator"}))[0]


@pytest.mark.parametrize("state", [State.ACCESS_RIGHTS, State.INSERT_CARD, State.ENTER_MRZ])
def test_cancel_before_the_run_ends_at_once(state: State) -> None:
    """CANCEL before the DocVal session starts: VALIDATION result CANCELLED_BY_USER, back to IDLE."""
    session = in_state(state)
    assert messages(send(session, {"cmd": "CANCEL"})) == [
        {
            "msg": "VALIDATION",
            "result": {"major": "error", "validationId": "v1", "reason": "CANCELLED_BY_USER"},
        }
    ]
    assert session.state is State.IDLE


def test_cancel_and_disconnect_while_running_cancel_the_session() -> None:
    """While running, CANCEL and a lost app connection both ask the adapter to cancel."""
    assert send(in_state(State.RUNNING), {"cmd": "CANCEL"}) == [Cancel()]
    assert in_state(State.RUNNING).disconnected() == [Cancel()]
    assert in_state(State.ACCESS_RIGHTS).disconnected() == []


def test_final_messages() -> None:
    """The end: ok with valid and passport when the server sent RESULT; error with reason and message."""
    passport = {
        "passiveAuthentication": True,
        "chipAuthenticationResult": "SUCCESS",
        "activeAuthenticationResult": "UNAVAILABLE",
    }
    session = in_state(State.RUNNING)
    (done,) = messages(session.finished("", passport))
    assert done == {"msg": "VALIDATION", "result": {"major": "ok", "validationId": "v1", "valid": True}}
    assert session.state is State.IDLE
    session = in_state(State.RUNNING)
    (no_result,) = messages(session.finished("", None))
    assert no_result["result"] == {"major": "ok", "validationId": "v1"}  # the verdict is at the backend
    session = in_state(State.RUNNING)
    reason, message = "NFC_CHIP_COMMUNICATION_FAILED", "card removed during reading"
    (failed,) = messages(session.finished(reason, None, message))
    assert failed["result"] == {"major": "error", "validationId": "v1", "reason": reason, "message": message}
    assert messages(send(session, RUN))[0] == {"msg": "VALIDATION"}  # a new workflow may start


def test_server_not_on_the_apps_list_is_refused_before_anything() -> None:
    """A serverUrl outside the app's server list: VALIDATION error, IDLE, nothing run, logged."""
    session = new()
    for url in ("wss://rogue.example/ws2/validate", "ws://127.0.0.1:8765/other",
                "ws://127.0.0.1:80@rogue.example/ws2/validate", "ws://127.0.0.2:8765/ws2/validate"):
        effects = send(session, RUN | {"serverUrl": url})
        (refused,) = messages(effects)
        assert refused["msg"] == "VALIDATION"
        assert "is not allowed for http://127.0.0.1:8000" in refused["error"]
        assert not any(isinstance(e, Run) for e in effects) and session.state is State.IDLE
        assert any(isinstance(e, Log) and "refused" in e.line for e in effects)


def test_certificate_says_who_asks_and_where_the_data_go() -> None:
    """GET_CERTIFICATE: origin, User-Agent, server and its TLS identity, data groups, what the app gets."""
    session = new(send_result=False)
    send(session, RUN | {"sendResult": True})
    (certificate,) = messages(send(session, {"cmd": "GET_CERTIFICATE"}))
    description = certificate["description"]
    assert description["subjectName"] == ORIGIN and description["userAgent"] == "unit-test/1"
    assert description["serverUrl"] == SERVER
    assert description["serverIdentity"] == "none (ws:// on this machine)"
    assert description["dataGroups"][:4] == ["SOD", "DG1", "DG14", "DG15"]
    assert description["resultToApp"] == "verdict only"  # asked, but not granted by the policy


def test_without_pre_approval_the_user_confirms_on_the_console() -> None:
    """ACCEPT asks the console (Confirm with who/what/where); yes goes on, no ends the workflow."""
    session = new(approved=False)
    send(session, RUN)
    (confirm,) = send(session, {"cmd": "ACCEPT"})
    assert isinstance(confirm, Confirm) and confirm.timeout == 30.0
    for part in (ORIGIN, "unit-test/1", SERVER, "SOD, DG1, DG14, DG15", "verdict only", "[y/N]"):
        assert part in confirm.prompt
    assert session.state is State.CONFIRM
    (enter,) = messages(session.confirmed(True))
    assert enter["msg"] == "ENTER_MRZ"
    session = in_state(State.CONFIRM)
    (declined,) = messages(session.confirmed(False))
    assert declined["result"]["reason"] == "CANCELLED_BY_USER" and "30 s" in declined["result"]["message"]
    assert session.state is State.IDLE and session.confirmed(True) == []  # a late answer changes nothing


def test_cancel_while_the_user_is_asked() -> None:
    """CANCEL during the console question ends the workflow; the answer that follows is ignored."""
    session = in_state(State.CONFIRM)
    assert messages(send(session, {"cmd": "CANCEL"}))[0]["result"]["reason"] == "CANCELLED_BY_USER"
    assert session.confirmed(True) == [] and session.state is State.IDLE


@pytest.mark.parametrize(
    ("granted", "asked", "gets_passport"),
    [(False, False, False), (False, True, False), (True, False, False), (True, True, True)],
)
def test_personal_data_only_where_granted(granted: bool, asked: bool, gets_passport: bool) -> None:
    """The app always gets the verdict; the passport only if it asked and its entry grants it."""
    passport = {"passiveAuthentication": True, "chipAuthenticationResult": "SUCCESS",
                "activeAuthenticationResult": "SUCCESS", "mrzInfo": {"primaryIdentifier": "ERIKSSON"}}
    session = new(send_result=granted)
    send(session, RUN | {"sendResult": asked})
    send(session, {"cmd": "ACCEPT"})
    send(session, MRZ)
    effects = session.finished("", passport)
    (done,) = messages(effects)
    assert done["result"]["valid"] is True and ("passport" in done["result"]) is gets_passport
    (log,) = [e.line for e in effects if isinstance(e, Log)]
    assert log == f"validation v1 for {ORIGIN} with {SERVER}: VALID" and "ERIKSSON" not in log
