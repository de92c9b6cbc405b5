"""The server session state machine, driven by a scripted client that reads a virtual chip:
the full flow with Chip Authentication relayed through the client, the verdicts for faulty
documents, and every out-of-order or malformed message closing with its reason."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from docval_server.session import (
    CancelTimer,
    CloseConnection,
    Effect,
    Limits,
    Log,
    PostResult,
    Send,
    ServerSession,
    SetTimer,
    State,
)
from emrtd import access, activeauth, exchange, reader
from emrtd.apdu import CommandAPDU, ResponseAPDU
from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.lds import dg15
from emrtd.sim import pki, profiles, testpki
from emrtd.sim.chip import VirtualChip
from emrtd.sm import SecureMessaging
from emrtd.truststore import TrustStore

NOW = pki.utc(2026, 11, 24)


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = testpki.test_pki()
    return TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)


def new_session(trust: TrustStore, *, diagnostics: bool = False, **limits: Any) -> ServerSession:
    return ServerSession(
        known_clients=lambda cid: cid == "client-1",
        trust=trust,
        random=challenge_then_urandom(),
        now=lambda: NOW,
        limits=Limits(**limits),
        diagnostics_allowed=lambda cid: diagnostics and cid == "client-1",
    )


def challenge_then_urandom() -> Any:
    """The AA challenge 0102030405060708 first, then real randomness for CA keys."""
    queue = [bytes.fromhex("0102030405060708")]
    return lambda n: queue.pop(0) if queue and n == 8 else os.urandom(n)


def sent(effects: list[Effect]) -> list[Any]:
    return [e.message for e in effects if isinstance(e, Send)]


def closed(effects: list[Effect]) -> CloseReason | None:
    reasons = [e.reason for e in effects if isinstance(e, CloseConnection)]
    return reasons[0] if reasons else None


def start_json(**fields: Any) -> str:
    return json.dumps(
        {
            "type": "START",
            "validationId": "v-1",
            "clientId": "client-1",
            "platform": "desktop",
            "nfcAdapterSupportsExtendedLength": True,
            "enableDiagnostics": False,
            **fields,
        }
    )


def relay(
    session: ServerSession,
    chip: VirtualChip,
    out: list[Effect],
    feed: Callable[[list[Effect]], list[Effect]] = lambda effects: effects,
) -> tuple[list[Effect], int]:
    """Relay the server's APDUs to ``chip`` one by one, in the order queued (Android and
    desktop behaviour); returns every effect and the number of flights the server sent."""
    queue = [m for m in sent(out) if isinstance(m, wire.ApduMessage)]
    flights = 1 if queue else 0
    relay.most_queued = len(queue)  # type: ignore[attr-defined]
    while queue:
        response = chip.transmit_raw(queue.pop(0).data)
        more = feed(session.receive_binary(wire.ApduMessage(response).serialize()))
        out = out + more
        fresh = [m for m in sent(more) if isinstance(m, wire.ApduMessage)]
        flights += bool(fresh)
        queue += fresh
        relay.most_queued = max(relay.most_queued, len(queue))  # type: ignore[attr-defined]
    return out, flights


@dataclass
class ScriptedClient:
    """Reads a virtual chip the way the vendor clients do and talks to the session."""

    session: ServerSession
    chip: VirtualChip
    effects: list[Effect] = field(default_factory=list)
    challenge: bytes = b""
    flights: int = 0  # server messages that carried relayed APDUs (one network round trip each)

    def transmit(self, command: CommandAPDU) -> ResponseAPDU:
        return self.chip.transmit(command)

    def feed(self, effects: list[Effect]) -> list[Effect]:
        self.effects += effects
        return effects

    def open(self) -> SecureMessaging:
        assert self.chip.config.mrz_key is not None
        return exchange.run(access.open_document(self.chip.config.mrz_key, os.urandom), self.transmit).sm

    def read(self, name: str, sm: SecureMessaging) -> bytes | None:
        try:
            return exchange.run(reader.read_file(reader.file_by_name(name), sm), self.transmit)
        except Exception:  # noqa: BLE001 - absent file
            return None

    def run(
        self,
        *,
        send_result: bool = True,
        skip_handover: bool = False,
        vendor: str = "",
        drop_signature: bool = False,
    ) -> list[Effect]:
        """``vendor`` "android"/"ios" sends START and FINISH as that SDK writes them (absent vs
        null signature, platform name) and the files in a shuffled order."""
        platform = {"android": "android", "ios": "iOS"}.get(vendor, "desktop")
        accept = sent(self.feed(self.session.receive_text(start_json(platform=platform))))[0]
        self.challenge = accept.active_authentication_challenge
        sm = self.open()
        files: dict[str, bytes] = {}
        for name in ("sod", "dg14"):
            raw = self.read(name, sm)
            if raw is not None:
                files[name] = raw
        if "dg14" in files and not skip_handover:
            self.feed(self.session.receive_binary(wire.FileMessage("dg14", files["dg14"]).serialize()))
            info = wire.SecureMessagingInfo.from_secure_messaging(sm)
            out = self.feed(self.session.receive_text(wire.serialize_text(wire.CaHandover(65536, 223, info))))
            out, self.flights = relay(self.session, self.chip, out, self.feed)
            handback = [m for m in sent(out) if isinstance(m, wire.CaHandback)][0]
            sm = handback.secure_messaging_info.to_secure_messaging()
            if handback.check_result == "FAILED":
                sm = self.open()  # the vendor clients re-run access control after a failed CA
            server_files = {m.name for m in sent(out) if isinstance(m, wire.FileMessage)}
        else:
            server_files = set()
        for name in ("dg1", "dg2", "dg7", "dg11", "dg12", "dg15"):
            if name in server_files:
                continue
            raw = self.read(name, sm)
            if raw is not None:
                files[name] = raw
        signature = None
        if "dg15" in files:
            key = dg15.parse(files["dg15"]).public_key
            signature = exchange.run(
                activeauth.internal_authenticate(
                    self.challenge, sm, signature_length=activeauth.expected_length(key)
                ),
                self.transmit,
            )
        if drop_signature:
            signature = None
        order = list(files.items())
        if vendor:
            random.Random(vendor).shuffle(order)
        for name, raw in order:
            if name == "dg14" and not skip_handover:
                continue
            self.feed(self.session.receive_binary(wire.FileMessage(name, raw).serialize()))
        finish: dict[str, Any] = {"type": "FINISH", "sendResult": send_result}
        if signature is not None:
            finish["activeAuthenticationSignature"] = wire.b64encode(signature)
        elif vendor == "ios":
            finish["activeAuthenticationSignature"] = None  # iOS writes null, Android leaves it out
        return self.feed(self.session.receive_text(json.dumps(finish)))


def validate(
    trust: TrustStore, profile: str, *faults: str, **options: Any
) -> tuple[ServerSession, ScriptedClient, dict[str, Any]]:
    session = new_session(trust)
    client = ScriptedClient(session, VirtualChip(profiles.load(profile, faults)))
    effects = client.run(**options)
    posts = [e for e in effects if isinstance(e, PostResult)]
    assert posts and posts[0].client_id == "client-1", effects
    return session, client, posts[0].body


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac", "utopia-pace", "utopia-dh"])
def test_genuine_passport_validates(trust: TrustStore, profile: str) -> None:
    """A genuine passport: CA relayed and SUCCESS, AA SUCCESS, PA passed; RESULT then CLOSE 1000."""
    session, client, result = validate(trust, profile)
    assert result["chipAuthenticationResult"] == "SUCCESS"
    assert result["activeAuthenticationResult"] == "SUCCESS"
    assert result["passiveAuthentication"] is True and result["errors"] == []
    assert result["mrzInfo"]["documentNumber"] == "UT1234567" and result["validationId"] == "v-1"
    assert result["facePhoto"] and result["passiveAuthenticationDetails"]["allHashesValid"]
    files_sent = [m for m in sent(client.effects) if isinstance(m, wire.FileMessage)]
    assert [f.name for f in files_sent] == ["dg1"]
    final = session.post_finished(True)
    assert [type(m).__name__ for m in sent(final)] == ["Result"] and closed(final) is CloseReason.NORMAL
    assert session.state is State.CLOSED and session._files == {}


def test_ca_relay_round_trips(trust: TrustStore) -> None:
    """Android/desktop get CA in one flight (SELECT + READ DG1, CA, READ DG1 under the new
    keys); iOS one APDU at a time: three (AES) or two (3DES KAT) round trips."""
    for profile, vendor, apdus, flights in (
        ("utopia", "", 5, 1),
        ("utopia-bac", "", 4, 1),
        ("utopia", "android", 5, 1),
        ("utopia", "ios", 3, 3),
        ("utopia-bac", "ios", 2, 2),
    ):
        _session, client, result = validate(trust, profile, vendor=vendor)
        assert len([m for m in sent(client.effects) if isinstance(m, wire.ApduMessage)]) == apdus
        assert client.flights == flights, (profile, vendor)
        assert result["chipAuthenticationResult"] == "SUCCESS"


@pytest.mark.parametrize(
    ("fault", "ca", "aa", "pa"),
    [
        ("clone", "FAILED", "SUCCESS", True),
        ("wrong-aa-key", "SUCCESS", "FAILED", True),
        ("tampered-dg", "SUCCESS", "SUCCESS", False),
        ("unknown-dsc", "FAILED", "FAILED", False),
        ("no-dg14", "UNAVAILABLE", "SUCCESS", True),
        ("no-dg15", "SUCCESS", "UNAVAILABLE", True),
    ],
)
def test_faulty_documents(trust: TrustStore, fault: str, ca: str, aa: str, pa: bool) -> None:
    """Each fault gives its verdicts; CA/AA count only when PA proved their keys."""
    _session, _client, result = validate(trust, "utopia", fault)
    assert (
        result["chipAuthenticationResult"],
        result["activeAuthenticationResult"],
        result["passiveAuthentication"],
    ) == (ca, aa, pa), result["errors"]


def test_client_that_skips_the_handover_gets_ca_failed(trust: TrustStore) -> None:
    """DG14 present but no CA_HANDOVER: chip authentication is FAILED, not UNAVAILABLE."""
    _session, _client, result = validate(trust, "utopia", skip_handover=True)
    assert result["chipAuthenticationResult"] == "FAILED"


def test_no_result_message_without_send_result(trust: TrustStore) -> None:
    """sendResult false: after the POST only CLOSE 1000 goes out."""
    session, _client, _result = validate(trust, "utopia", send_result=False)
    final = session.post_finished(True)
    assert sent(final) == [] and closed(final) is CloseReason.NORMAL


def test_failed_post_closes_with_its_reason(trust: TrustStore) -> None:
    """A POST that failed after retries closes with POST_TO_RESULT_SERVER_FAILED and no RESULT."""
    session, _client, _result = validate(trust, "utopia")
    final = session.post_finished(False)
    assert sent(final) == [] and closed(final) is CloseReason.POST_TO_RESULT_SERVER_FAILED


def test_timers(trust: TrustStore) -> None:
    """The start, APDU and session timers close with their reasons; stale timers do nothing."""
    session = new_session(trust, start_timeout=3)
    assert SetTimer("start", 3) in session.connected()
    assert closed(session.timer_fired("start")) is CloseReason.TIMEOUT_WHILE_WAITING_FOR_START_MESSAGE
    session = new_session(trust)
    session.receive_text(start_json())
    assert session.timer_fired("start") == []
    assert closed(session.timer_fired("session")) is CloseReason.MAX_SESSION_TIME_EXCEEDED
    session = new_session(trust)
    client = ScriptedClient(session, VirtualChip(profiles.load("utopia")))
    session.receive_text(start_json())
    sm = client.open()
    raw14 = client.read("dg14", sm)
    assert raw14 is not None
    session.receive_binary(wire.FileMessage("dg14", raw14).serialize())
    out = session.receive_text(
        wire.serialize_text(wire.CaHandover(256, 223, wire.SecureMessagingInfo.from_secure_messaging(sm)))
    )
    assert any(isinstance(e, SetTimer) and e.name == "apdu" for e in out)
    assert closed(session.timer_fired("apdu")) is CloseReason.TIMEOUT_WHILE_WAITING_FOR_RESPONSE


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        (["not json"], CloseReason.MALFORMED_JSON),
        (['{"type": "START"}'], CloseReason.INVALID_START_MESSAGE),
        (['{"type": "START", "validationId": "v", "clientId": 5}'], CloseReason.INVALID_START_MESSAGE),
        ([start_json(clientId="stranger")], CloseReason.INVALID_CLIENT_ID),
        (['{"type": "FINISH", "sendResult": true}'], CloseReason.UNEXPECTED_MESSAGE),
        (
            ['{"type": "ACCEPT", "activeAuthenticationChallenge": "AAAAAAAAAAA="}'],
            CloseReason.UNEXPECTED_MESSAGE,
        ),
        (['{"type": "BOGUS"}'], CloseReason.UNEXPECTED_MESSAGE),
        ([start_json(), start_json()], CloseReason.UNEXPECTED_MESSAGE),
        ([start_json(), b"\x01\x03dg9ab"], None),  # a file, fine so far
        ([start_json(), b"\x01\x03dg9"], None),  # an empty file: a finding for the result
        ([start_json(), b"\x01\x05hello" + b"x"], CloseReason.PROTOCOL_ERROR),
        ([start_json(), b"\x02\x90\x00"], CloseReason.PROTOCOL_ERROR),
        ([start_json(), b"\x07"], CloseReason.PROTOCOL_ERROR),
        ([start_json(), b"\x01\x03dg1" + b"a", b"\x01\x03dg1" + b"b"], CloseReason.PROTOCOL_ERROR),
        ([start_json(), b"\x01\x03dg1" + bytes(2000)], CloseReason.FILE_READ_ERROR),
        (
            [
                start_json(),
                json.dumps(
                    {
                        "type": "CA_HANDOVER",
                        "maxTransceiveLengthForSecureMessaging": 256,
                        "maxBlockSize": 223,
                        "secureMessagingInfo": {
                            "algorithm": "AES",
                            "encKey": "AAAAAAAAAAAAAAAAAAAAAA==",
                            "macKey": "AAAAAAAAAAAAAAAAAAAAAA==",
                            "ssc": 0,
                        },
                    }
                ),
            ],
            CloseReason.PROTOCOL_ERROR,
        ),  # no dg14 before it
        ([start_json(), '{"type": "FINISH", "sendResult": "yes"}'], CloseReason.PROTOCOL_ERROR),
    ],
)
def test_bad_messages_close_with_their_reason(
    trust: TrustStore, messages: list[str | bytes], reason: CloseReason | None
) -> None:
    """Malformed, unknown or out-of-order messages close with the reason interop-notes.md names."""
    session = new_session(trust)
    effects: list[Effect] = []
    for message in messages:
        effects = (
            session.receive_binary(message) if isinstance(message, bytes) else session.receive_text(message)
        )
    assert closed(effects) is reason
    if reason is not None:
        assert CancelTimer("session") in effects and session.state is State.CLOSED


def test_monitoring_is_logged_only_with_diagnostics(trust: TrustStore) -> None:
    """MONITORING is logged only when the client asked for diagnostics and the config allows
    them for its client id; dropped otherwise."""
    monitoring = json.dumps({"type": "MONITORING", "message": "Starting PACE"})
    quiet = new_session(trust, diagnostics=True)
    quiet.receive_text(start_json())
    assert quiet.receive_text(monitoring) == []
    not_allowed = new_session(trust, diagnostics=False)
    not_allowed.receive_text(start_json(enableDiagnostics=True))
    assert not_allowed.receive_text(monitoring) == []
    chatty = new_session(trust, diagnostics=True)
    chatty.receive_text(start_json(enableDiagnostics=True))
    assert chatty.receive_text(monitoring) == [Log("info", 'MONITORING: "Starting PACE"')]


def test_monitoring_is_escaped_capped_and_bounded(trust: TrustStore) -> None:
    """Newlines and terminal escapes are escaped, text is cut at 512 characters, and at most 50
    lines are logged per session (the 50th says so)."""
    session = new_session(trust, diagnostics=True)
    session.receive_text(start_json(enableDiagnostics=True))
    forged = json.dumps({"type": "MONITORING", "message": "ok\n2026-01-01 [-] FAKE\x1b[2J" + "x" * 2000})
    (log,) = session.receive_text(forged)
    assert isinstance(log, Log) and "\n" not in log.text and "\x1b" not in log.text
    assert "\\n" in log.text and "\\u001b" in log.text and "(cut from" in log.text and len(log.text) < 700
    logged = [session.receive_text(forged) for _ in range(100)]
    assert sum(len(e) for e in logged) == 49 and "further ones dropped" in str(logged[48][0])


def test_finish_without_sod_and_dg1_posts_nothing(trust: TrustStore) -> None:
    """FINISH before the SOD and DG1 arrived closes with PROTOCOL_ERROR; nothing is posted."""
    session = new_session(trust)
    session.receive_text(start_json())
    effects = session.receive_text(json.dumps({"type": "FINISH", "sendResult": True}))
    assert CloseConnection(CloseReason.PROTOCOL_ERROR) in effects
    assert not any(isinstance(e, PostResult) for e in effects)


def test_identical_resend_is_tolerated_a_different_one_is_not(trust: TrustStore) -> None:
    """A file sent twice with the same bytes is ignored; with other bytes it is PROTOCOL_ERROR."""
    session = new_session(trust)
    session.receive_text(start_json())
    assert session.receive_binary(b"\x01\x04dg14" + b"\x6e\x00") == []
    assert session.receive_binary(b"\x01\x04dg14" + b"\x6e\x00") == []
    assert CloseConnection(CloseReason.PROTOCOL_ERROR) in session.receive_binary(
        b"\x01\x04dg14" + b"\x6e\x01\x00"
    )


def test_connection_lost_forgets_everything(trust: TrustStore) -> None:
    """A client that disconnects mid-session leaves no files, posts nothing, and ends the timers."""
    session = new_session(trust)
    session.receive_text(start_json())
    session.receive_binary(b"\x01\x03dg1abc")
    effects = session.connection_lost()
    assert CancelTimer("session") in effects and not any(isinstance(e, PostResult) for e in effects)
    assert session._files == {} and session.state is State.CLOSED
    assert session.receive_text(start_json()) == []


@pytest.mark.parametrize("vendor", ["android", "ios"])
def test_vendor_transcripts(trust: TrustStore, vendor: str) -> None:
    """As the Android/iOS SDKs write it (platform, absent vs null signature, shuffled files), a
    passport validates; with no signature, AA is FAILED when DG15 exists and UNAVAILABLE without it."""
    _session, _client, result = validate(trust, "utopia", vendor=vendor)
    assert (result["chipAuthenticationResult"], result["activeAuthenticationResult"]) == (
        "SUCCESS",
        "SUCCESS",
    )
    _session, _client, result = validate(trust, "utopia", vendor=vendor, drop_signature=True)
    assert result["activeAuthenticationResult"] == "FAILED"
    _session, _client, result = validate(trust, "utopia", "no-dg15", vendor=vendor, drop_signature=True)
    assert result["activeAuthenticationResult"] == "UNAVAILABLE" and result["passiveAuthentication"]


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac"])
def test_vendor_transcripts_relay(trust: TrustStore, profile: str) -> None:
    """Android (queues APDUs, relays them in order) gets every CA command in one message
    burst; iOS (a Task per message: order not kept) never has two APDUs outstanding."""
    _session, client, result = validate(trust, profile, vendor="android")
    assert client.flights == 1 and relay.most_queued > 1  # type: ignore[attr-defined]
    assert result["chipAuthenticationResult"] == "SUCCESS"
    _session, client, result = validate(trust, profile, vendor="ios")
    assert relay.most_queued == 1 and client.flights > 1  # type: ignore[attr-defined]
    assert result["chipAuthenticationResult"] == "SUCCESS"


def _handover(
    session: ServerSession, profile: str, *faults: str, platform: str = "android", block: int = 223
) -> tuple[ScriptedClient, list[Effect]]:
    """START, access control, DG14 and CA_HANDOVER; returns the client and the server's answer."""
    client = ScriptedClient(session, VirtualChip(profiles.load(profile, faults)))
    session.receive_text(start_json(platform=platform))
    sm = client.open()
    raw14 = client.read("dg14", sm)
    assert raw14 is not None
    session.receive_binary(wire.FileMessage("dg14", raw14).serialize())
    info = wire.SecureMessagingInfo.from_secure_messaging(sm)
    return client, session.receive_text(wire.serialize_text(wire.CaHandover(65536, block, info)))


def _real_dg1(profile: str) -> bytes:
    chip = VirtualChip(profiles.load(profile))
    assert chip.config.mrz_key is not None
    sm = exchange.run(access.open_document(chip.config.mrz_key, os.urandom), chip.transmit).sm
    return exchange.run(reader.read_file(reader.DATA_GROUPS[1], sm), chip.transmit)


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac"])
def test_clone_in_one_flight_hands_back_dg1(trust: TrustStore, profile: str) -> None:
    """A cloned chip (CA key not the one in DG14): one flight, then FILE dg1 (read under the
    old keys) before CA_HANDBACK FAILED, as the Android connector requires."""
    session = new_session(trust)
    client, out = _handover(session, profile, "clone")
    out, flights = relay(session, client.chip, out)
    messages = sent(out)
    kinds = [type(m).__name__ for m in messages if not isinstance(m, wire.ApduMessage)]
    assert flights == 1 and kinds == ["FileMessage", "CaHandback"]
    assert messages[-1].check_result == "FAILED"
    assert messages[-2].name == "dg1" and messages[-2].data == _real_dg1(profile)


@pytest.mark.parametrize("platform", ["android", "iOS"])
def test_clone_then_client_gives_up_posts_ca_failed(trust: TrustStore, platform: str) -> None:
    """A clone, then the client's reads fail and it goes away before FINISH: the relying party
    still gets a NOT VALID result with chipAuthenticationResult FAILED (DG1 when it was read)."""
    session = new_session(trust)
    client, out = _handover(session, "utopia", "clone", platform=platform)
    relay(session, client.chip, out)
    effects = session.connection_lost()
    posts = [e for e in effects if isinstance(e, PostResult)]
    assert len(posts) == 1
    body = posts[0].body
    assert body["chipAuthenticationResult"] == "FAILED" and body["passiveAuthentication"] is False
    assert body["validationId"] == "v-1"
    assert "chip authentication failed" in body["errors"][0]
    if platform == "android":  # the one-flight read DG1 under the old keys first
        assert body["mrzInfo"]["documentNumber"] == "UT1234567"
    else:  # iOS: one command at a time, today's count: no DG1 in hand
        assert body["mrzInfo"] is None


def test_clone_then_timeout_posts_ca_failed(trust: TrustStore) -> None:
    """The client falls silent after a failed CA: at max_session_time the CA FAILED result is
    posted, then the session closes."""
    session = new_session(trust)
    client, out = _handover(session, "utopia", "clone")
    relay(session, client.chip, out)
    effects = session.timer_fired("session")
    assert [type(e).__name__ for e in effects][-2:] == ["PostResult", "CloseConnection"]


def test_relay_failure_is_no_evidence(trust: TrustStore) -> None:
    """A relay that fails (iOS answers 6F00 when it cannot reach the chip) is CA FAILED but no
    evidence of a clone: a session that then ends posts nothing."""
    for platform in ("android", "iOS"):
        session = new_session(trust)
        _client, out = _handover(session, "utopia", platform=platform)
        while apdus := [m for m in sent(out) if isinstance(m, wire.ApduMessage)]:
            out = []
            for _apdu in apdus:
                out += session.receive_binary(wire.ApduMessage(b"\x6f\x00").serialize())
        handback = [m for m in sent(out) if isinstance(m, wire.CaHandback)]
        assert handback and handback[0].check_result == "FAILED"
        assert not [e for e in session.connection_lost() if isinstance(e, PostResult)]


def test_dg1_longer_than_one_block_costs_one_more_flight(trust: TrustStore) -> None:
    """With a 32-byte block DG1 (93 bytes) needs the flight and then the rest, one block at a time."""
    session = new_session(trust)
    client, out = _handover(session, "utopia", block=32)
    out, flights = relay(session, client.chip, out)
    handback = [m for m in sent(out) if isinstance(m, wire.CaHandback)][0]
    dg1 = [m for m in sent(out) if isinstance(m, wire.FileMessage)][0]
    assert handback.check_result == "SUCCESS" and dg1.data == _real_dg1("utopia")
    assert flights == 1 + -(-(len(dg1.data) - 32) // 32)


def test_pipelining_is_configurable_per_client(trust: TrustStore) -> None:
    """``pipelined`` decides per START: an android client set to sequential gets one APDU at a time."""
    session = ServerSession(
        known_clients=lambda cid: cid == "client-1",
        trust=trust,
        random=challenge_then_urandom(),
        now=lambda: NOW,
        pipelined=lambda _start: False,
    )
    client, out = _handover(session, "utopia", platform="android")
    assert len([m for m in sent(out) if isinstance(m, wire.ApduMessage)]) == 1
    out, flights = relay(session, client.chip, out)
    assert flights == 3


def test_handover_with_java_signed_ssc_and_24_byte_desede_keys(trust: TrustStore) -> None:
    """A CA_HANDOVER written by a Java client (negative ssc, K1‖K2‖K1 keys) continues the BAC channel."""
    session = new_session(trust)
    client = ScriptedClient(session, VirtualChip(profiles.load("utopia-bac")))
    session.receive_text(start_json(platform="android"))
    sm = client.open()
    raw14 = client.read("dg14", sm)
    assert raw14 is not None
    session.receive_binary(wire.FileMessage("dg14", raw14).serialize())
    ssc = sm.ssc - (1 << 64) if sm.ssc >= 1 << 63 else sm.ssc
    handover = {
        "type": "CA_HANDOVER",
        "maxTransceiveLengthForSecureMessaging": 256,
        "maxBlockSize": 223,
        "secureMessagingInfo": {
            "algorithm": "DESede",
            "encKey": wire.b64encode(sm.ks_enc + sm.ks_enc[:8]),
            "macKey": wire.b64encode(sm.ks_mac + sm.ks_mac[:8]),
            "ssc": ssc,
        },
    }
    out, _flights = relay(session, client.chip, session.receive_text(json.dumps(handover)))
    handback = [m for m in sent(out) if isinstance(m, wire.CaHandback)][0]
    assert handback.check_result == "SUCCESS"


def test_files_binary_only_when_configured(trust: TrustStore) -> None:
    """filesBinary (base64 of every file) appears only with include_files; by default it is absent."""
    _session, _client, plain = validate(trust, "utopia")
    assert "filesBinary" not in plain
    session = new_session(trust, include_files=True)
    client = ScriptedClient(session, VirtualChip(profiles.load("utopia")))
    body = next(e for e in client.run() if isinstance(e, PostResult)).body
    assert sorted(body["filesBinary"]) == ["dg1", "dg11", "dg12", "dg14", "dg15", "dg2", "sod"]
    dg1 = wire.b64decode(body["filesBinary"]["dg1"], "dg1", CloseReason.PROTOCOL_ERROR)
    assert dg1 == profiles.passport("utopia").files["dg1"]


def _alive(matches: Callable[[object], bool]) -> int:
    """Objects the garbage collector can reach that ``matches``, directly or one container
    down (a cache's entry holds its value in a tuple the collector may not track)."""
    import gc

    gc.collect()
    count = 0
    for obj in gc.get_objects():
        if matches(obj):
            count += 1
        elif isinstance(obj, list):
            count += sum(1 for item in obj if isinstance(item, tuple) and any(matches(x) for x in item))
    return count


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac"])
def test_the_chips_keys_do_not_outlive_the_session(trust: TrustStore, profile: str) -> None:
    """After a session, no parsed copy of the chip's CA key (DG14) or AA key (DG15) stays in the
    server's process: those keys identify a chip, and certificate-key caches never take them."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from emrtd.lds import dg14
    from emrtd.pubkey import ECPublicKey

    files = profiles.passport(profile).files
    ca_key = dg14.parse(files["dg14"]).security_infos.chip_authentication_keys[0].public_key
    assert isinstance(ca_key, ECPublicKey)
    ca_x = ca_key.x
    aa_key = dg15.parse(files["dg15"]).public_key
    assert isinstance(aa_key, rsa.RSAPublicKey)
    aa_n = aa_key.public_numbers().n
    del files, ca_key, aa_key
    session, client, result = validate(trust, profile)
    assert result["chipAuthenticationResult"] == result["activeAuthenticationResult"] == "SUCCESS"
    del session, client, result
    assert _alive(lambda o: isinstance(o, ECPublicKey) and o.x == ca_x) == 0
    assert _alive(lambda o: isinstance(o, rsa.RSAPublicKey) and o.public_numbers().n == aa_n) == 0
