"""The client session against the server session, both sans-I/O, pumped in memory with a
virtual chip: what a desktop validation does end to end, without sockets or PC/SC."""

from __future__ import annotations

import os
from typing import Any

import pytest

from docval_client.session import Closed, FromServer, Options, Outcome, Progress, ToChip, ToServer, validation
from docval_server.session import CloseConnection, PostResult, Send, ServerSession
from emrtd import wire
from emrtd.mrz import CANKey, MRZKey
from emrtd.sim import documents, pki, profiles
from emrtd.sim.chip import VirtualChip
from emrtd.truststore import TrustStore
from emrtd.wire import CloseReason


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = documents.test_pki()
    return TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)


def pump(trust: TrustStore, profile: str, key: Any = None, *faults: str) -> tuple[Outcome, list[Any]]:
    """Run client and server against each other; the result POST always succeeds."""
    chip = VirtualChip(profiles.load(profile, faults))
    server = ServerSession(
        known_clients=lambda cid: cid == "desk",
        trust=trust,
        random=os.urandom,
        now=lambda: pki.utc(2026, 11, 24),
    )
    key = key or chip.config.mrz_key
    client = validation(Options("v-desk", "desk", key, extended_length=True))
    inbox: list[Any] = []
    posts: list[Any] = []

    def deliver(effects: list[Any]) -> None:
        for effect in effects:
            if isinstance(effect, Send):
                inbox.append(effect.message)
            elif isinstance(effect, CloseConnection):
                inbox.append(Closed(effect.reason.code, effect.reason.value))
            elif isinstance(effect, PostResult):
                posts.append(effect.body)
                deliver(server.post_finished(True))

    deliver(server.connected())
    request = next(client)
    try:
        while True:
            if isinstance(request, ToChip):
                request = client.send(chip.transmit(request.command))
            elif isinstance(request, ToServer):
                message = request.message
                if isinstance(message, wire.Close):
                    deliver(server.connection_lost())
                elif isinstance(message, (wire.FileMessage, wire.ApduMessage)):
                    deliver(server.receive_binary(message.serialize()))
                else:
                    deliver(server.receive_text(wire.serialize_text(message)))
                request = client.send(None)
            elif isinstance(request, FromServer):
                request = client.send(inbox.pop(0))
            else:
                assert isinstance(request, Progress)
                request = client.send(None)
    except StopIteration as done:
        return done.value, posts


@pytest.mark.parametrize("profile", ["utopia", "utopia-bac", "utopia-pace", "utopia-im", "utopia-dh", "bsi"])
def test_desktop_validation_end_to_end(trust: TrustStore, profile: str) -> None:
    """Every profile validates: RESULT received, close 1000, CA and AA as the document allows."""
    outcome, posts = pump(trust, profile)
    assert outcome.reason == "" and outcome.passport is not None and posts == [outcome.passport]
    if profile == "bsi":  # not in our trust store, and its SOD lacks DG15's hash
        assert outcome.passport["passiveAuthentication"] is False
        assert outcome.passport["chipAuthenticationResult"] == "FAILED"  # untrusted DG14
    else:
        assert outcome.passport["passiveAuthentication"] is True
        assert outcome.passport["chipAuthenticationResult"] == "SUCCESS"
        assert outcome.passport["activeAuthenticationResult"] == "SUCCESS"
    assert outcome.apdus > 10 and outcome.chip_bytes > 10_000


def test_can_works_with_pace(trust: TrustStore) -> None:
    """A CAN opens a PACE chip."""
    outcome, _posts = pump(trust, "utopia-pace", CANKey("123456"))
    assert outcome.passport is not None and outcome.passport["passiveAuthentication"] is True


def test_clone_is_reported_after_re_running_access_control(trust: TrustStore) -> None:
    """A clone fails CA; the client opens the chip again and the result says CA FAILED."""
    outcome, posts = pump(trust, "utopia", None, "clone")
    assert outcome.passport is not None and outcome.passport["chipAuthenticationResult"] == "FAILED"
    assert posts


def test_no_dg14_means_no_handover(trust: TrustStore) -> None:
    """Without DG14 the client does not hand over; CA is UNAVAILABLE."""
    outcome, _posts = pump(trust, "utopia", None, "no-dg14")
    assert outcome.passport is not None and outcome.passport["chipAuthenticationResult"] == "UNAVAILABLE"


def test_wrong_access_key_closes_with_its_reason(trust: TrustStore) -> None:
    """A wrong MRZ closes with INVALID_ACCESS_KEY_VALUES; the server posts nothing."""
    outcome, posts = pump(trust, "utopia", MRZKey("UT1234567", "900315", "340416"))
    assert (
        outcome.reason is CloseReason.INVALID_ACCESS_KEY_VALUES and outcome.passport is None and posts == []
    )
    outcome, posts = pump(trust, "utopia-bac", MRZKey("UT1234567", "900315", "340416"))
    assert outcome.reason is CloseReason.INVALID_ACCESS_KEY_VALUES and posts == []


def test_can_on_a_bac_chip_is_access_control_failed(trust: TrustStore) -> None:
    """A CAN cannot open a BAC-only chip: ACCESS_CONTROL_FAILED."""
    outcome, _posts = pump(trust, "utopia-bac", CANKey("123456"))
    assert outcome.reason is CloseReason.ACCESS_CONTROL_FAILED
