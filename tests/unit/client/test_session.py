"""The client session against the server session, both sans-I/O, pumped in memory with a
virtual chip: what a desktop validation does end to end, without sockets or PC/SC."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from docval_client.session import Options, Outcome, Progress
from docval_server.testing import validate_in_memory
from emrtd.docval import wire
from emrtd.docval.reasons import CloseReason
from emrtd.mrz import CANKey, MRZKey
from emrtd.sim import pki, profiles, testpki
from emrtd.sim.chip import VirtualChip
from emrtd.truststore import TrustStore


@pytest.fixture(scope="module")
def trust() -> TrustStore:
    test_pki = testpki.test_pki()
    return TrustStore.from_der([test_pki.csca_ec.der, test_pki.csca_rsa.der], crls=test_pki.crls)


def pump(
    trust: TrustStore,
    profile: str,
    key: Any = None,
    *faults: str,
    trace: list[Any] | None = None,
    chip_files: dict[str, bytes] | None = None,
    **options: Any,
) -> tuple[Outcome, list[Any]]:
    """Run client and server against each other (the shipped in-memory pump); the result
    POST always succeeds. ``trace`` collects what the client sent and its progress events, in
    order; ``options`` override Options."""
    config = profiles.load(profile, faults)
    config.files.update(chip_files or {})
    chip = VirtualChip(config)
    key = key or chip.config.mrz_key
    run = validate_in_memory(
        chip,
        Options("v-desk", "desk", key, **({"extended_length": True} | options)),
        trust=trust,
        now=lambda: pki.utc(2026, 11, 24),
    )
    if trace is not None:
        trace += run.events
    return run.outcome, run.posts


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


@pytest.mark.parametrize(
    ("profile", "extended", "block", "source"),
    [("utopia", True, 0x7F00, "EF.ATR/INFO"), ("bsi-short", False, 223, "probe")],
)
def test_extended_length_is_detected_before_start(
    trust: TrustStore, profile: str, extended: bool, block: int, source: str
) -> None:
    """By default the client asks the chip: START and CA_HANDOVER carry what it found."""
    trace: list[Any] = []
    outcome, _posts = pump(trust, profile, trace=trace, extended_length=None)
    start = next(m for m in trace if isinstance(m, wire.Start))
    handover = next(m for m in trace if isinstance(m, wire.CaHandover))
    assert start.nfc_adapter_supports_extended_length is extended
    assert handover.max_block_size == block
    assert handover.max_transceive_length_for_secure_messaging == (65536 if extended else 256)
    assert (outcome.block, outcome.extended_length, outcome.length_source) == (block, extended, source)
    assert outcome.passport is not None


def test_forced_extended_length_falls_back_and_still_validates(trust: TrustStore) -> None:
    """--extended-length on a chip without it: one refused read, then 223-byte blocks, VALID."""
    trace: list[Any] = []
    outcome, _posts = pump(trust, "bsi-short", trace=trace, extended_length=True, max_block=4096)
    assert outcome.passport is not None and outcome.reason == ""
    assert (outcome.block, outcome.extended_length) == (223, False)
    assert outcome.length_source == "given, fell back"
    handover = next(m for m in trace if isinstance(m, wire.CaHandover))
    assert (handover.max_block_size, handover.max_transceive_length_for_secure_messaging) == (223, 256)


def test_progress_reports_bytes_per_block(trust: TrustStore) -> None:
    """Each file's progress rises block by block to its full length."""
    trace: list[Any] = []
    pump(trust, "utopia", trace=trace, extended_length=False)
    dg2 = [p for p in trace if isinstance(p, Progress) and p.step == "read dg2"]
    size = dg2[-1].total
    assert len(dg2) == -(-size // 223) and dg2[-1].done == size
    assert [p.done for p in dg2] == sorted(p.done for p in dg2) and dg2[0].done == 223


def test_unparsable_dg15_is_sent_unsigned(trust: TrustStore) -> None:
    """A DG15 whose key cannot be parsed: no INTERNAL AUTHENTICATE, the session still ends with
    RESULT, and the server reports AA FAILED (DG15 present, no signature)."""
    trace: list[Any] = []
    outcome, _posts = pump(trust, "utopia", trace=trace, chip_files={"dg15": bytes.fromhex("6F03300100")})
    assert outcome.passport is not None and outcome.reason == ""
    assert outcome.passport["activeAuthenticationResult"] == "FAILED"
    finish = next(m for m in trace if isinstance(m, wire.Finish))
    assert finish.active_authentication_signature is None


def test_unavailable_handback_keeps_the_channel(trust: TrustStore) -> None:
    """A DG14 without a CA key: CA_HANDBACK UNAVAILABLE returns the client's own channel, which
    the client goes on with (no second access control), and the result says UNAVAILABLE."""
    trace: list[Any] = []
    outcome, _posts = pump(trust, "utopia", None, "no-ca-key", trace=trace)
    assert outcome.passport is not None and outcome.passport["chipAuthenticationResult"] == "UNAVAILABLE"
    assert [e.step for e in trace if isinstance(e, Progress) and e.step in ("PACE", "BAC")] == ["PACE"]


class _RefusesLds1UnderSM:
    """A chip whose access control works but which refuses the SELECT of LDS1 under secure
    messaging with a plain 6988, as a chip whose SM broke answers."""

    def __init__(self, chip: VirtualChip) -> None:
        self.chip = chip

    def transmit(self, command: Any) -> Any:
        raise NotImplementedError

    def transmit_raw(self, command: bytes) -> bytes:
        if command[:4] == bytes.fromhex("0CA4040C"):
            return bytes.fromhex("6988")
        return self.chip.transmit_raw(command)


def test_failure_after_access_control_is_a_reader_error(trust: TrustStore) -> None:
    """Access control succeeded, then the chip failed: EMRTD_PASSPORT_READER_ERROR, not
    ACCESS_CONTROL_FAILED (which would send the user to check the MRZ); nothing is posted."""
    chip = VirtualChip(profiles.load("utopia-bac"))
    assert chip.config.mrz_key is not None
    run = validate_in_memory(
        _RefusesLds1UnderSM(chip),
        Options("v", "desk", chip.config.mrz_key, extended_length=True),
        trust=trust,
    )
    assert run.outcome.reason is CloseReason.EMRTD_PASSPORT_READER_ERROR and run.posts == []


class _BreaksFirstRead:
    """A chip that answers its first protected READ BINARY (EF.SOD) with ``answer``."""

    def __init__(self, chip: VirtualChip, answer: Callable[[bytes], bytes]) -> None:
        self.chip, self.answer, self.done = chip, answer, False

    def transmit(self, command: Any) -> Any:
        raise NotImplementedError

    def transmit_raw(self, command: bytes) -> bytes:
        response = self.chip.transmit_raw(command)
        if command[:2] == bytes.fromhex("0CB0") and not self.done:
            self.done = True
            return self.answer(response)
        return response


def _flip_mac(response: bytes) -> bytes:
    return response[:-3] + bytes([response[-3] ^ 1]) + response[-2:]


@pytest.mark.parametrize(
    "answer,reason",
    [
        (_flip_mac, CloseReason.EMRTD_PASSPORT_READER_ERROR),  # secure messaging broke
        (lambda _r: bytes.fromhex("6581"), CloseReason.FILE_READ_ERROR),  # the chip refused the file
    ],
    ids=["wrong-mac", "memory-failure"],
)
def test_read_failures_name_their_kind(
    trust: TrustStore, answer: Callable[[bytes], bytes], reason: CloseReason
) -> None:
    """During the reads, a broken secure-messaging channel is EMRTD_PASSPORT_READER_ERROR and a
    chip refusing a file is FILE_READ_ERROR; neither is ACCESS_CONTROL_FAILED, nothing posted."""
    chip = VirtualChip(profiles.load("utopia-bac"))
    assert chip.config.mrz_key is not None
    run = validate_in_memory(
        _BreaksFirstRead(chip, answer), Options("v", "desk", chip.config.mrz_key), trust=trust
    )
    assert run.outcome.reason is reason and run.posts == []


def test_diagnostics_send_step_monitoring_without_personal_data(trust: TrustStore) -> None:
    """--diagnostics: START asks for it, MONITORING names each step and file size, never the
    holder's data; without it no MONITORING is sent."""
    for enabled in (True, False):
        trace: list[Any] = []
        outcome, _posts = pump(trust, "utopia", trace=trace, enable_diagnostics=enabled)
        assert outcome.passport is not None
        sent = trace  # the messages the client sent, with its progress events
        starts = [m for m in sent if isinstance(m, wire.Start)]
        monitoring = [m.message for m in sent if isinstance(m, wire.Monitoring)]
        assert starts[0].enable_diagnostics is enabled
        if enabled:
            assert "Step: access control PACE done" in monitoring
            assert "Step: read dg2: " in " ".join(monitoring)
            assert not any("ERIKSSON" in text or "UT1234567" in text for text in monitoring)
        else:
            assert monitoring == []
