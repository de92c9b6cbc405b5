"""The result POST policy, with StubTreq and a Clock: success, retried statuses, final statuses,
timeouts and connection errors, and what reaches the result server."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from treq.testing import StubTreq
from twisted.internet.defer import Deferred, fail
from twisted.internet.error import ConnectionRefusedError
from twisted.internet.task import Clock
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from docval_server._types import HTTPClient
from docval_server.posting import Policy, ResultPoster, Target

TRICKLE = -1


class Recorder(Resource):
    """Answers each POST with the next status of a script; NOT_DONE_YET for None (a hang)."""

    isLeaf = True

    def __init__(self, statuses: list[int | None]) -> None:
        super().__init__()
        self.statuses = statuses
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []

    def render_POST(self, request: Request) -> bytes | int:
        assert request.content is not None
        self.bodies.append(request.content.read())
        self.headers.append({k.decode(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()})
        status = self.statuses.pop(0) if self.statuses else 200
        if status is None:
            return NOT_DONE_YET
        if status == TRICKLE:  # 200 and the start of a body that never ends
            request.setResponseCode(200)
            request.write(b"partial")
            return NOT_DONE_YET
        request.setResponseCode(status)
        if 300 <= status < 400:
            request.setHeader(b"location", b"http://elsewhere.test/r")
        return b"ok"


def run(statuses: list[int | None], *, clock_steps: int = 0) -> tuple[bool | None, Recorder, ResultPoster]:
    recorder = Recorder(statuses)
    clock = Clock()
    poster = ResultPoster(cast(HTTPClient, StubTreq(recorder)), clock, Policy())
    outcome: list[bool] = []
    poster.post(Target("http://results.test/r", {"X-Api-Key": "k"}), {"validationId": "v"}).addCallback(
        outcome.append
    )
    for _ in range(clock_steps):
        clock.advance(1.0)
    return (outcome[0] if outcome else None), recorder, poster


def test_success_on_first_attempt() -> None:
    """A 200 ends the POST at once with the JSON body and the configured headers."""
    ok, recorder, _ = run([200])
    assert ok is True and len(recorder.bodies) == 1
    assert json.loads(recorder.bodies[0]) == {"validationId": "v"}
    assert (
        recorder.headers[0]["Content-Type"] == "application/json" and recorder.headers[0]["X-Api-Key"] == "k"
    )


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_retried_statuses_then_success(status: int) -> None:
    """408, 429 and 5xx are retried after the backoff; a later 200 succeeds."""
    ok, recorder, _ = run([status, status, 200], clock_steps=5)
    assert ok is True and len(recorder.bodies) == 3


def test_three_retries_then_give_up() -> None:
    """Four attempts in all (one plus three retries), then the POST has failed."""
    ok, recorder, poster = run([503, 503, 503, 503, 200], clock_steps=10)
    assert ok is False and len(recorder.bodies) == 4
    assert [a.status for a in poster.attempts] == [503, 503, 503, 503]


@pytest.mark.parametrize("status", [301, 302, 307, 308, 400, 401, 403, 404, 409, 422])
def test_other_errors_are_final(status: int) -> None:
    """Any other status fails at once, without a retry; redirects are not followed."""
    ok, recorder, _ = run([status], clock_steps=10)
    assert ok is False and len(recorder.bodies) == 1


def test_timeout_is_retried() -> None:
    """An attempt that hangs for 3 s times out and is retried."""
    ok, recorder, poster = run([None, 200], clock_steps=6)
    assert ok is True and len(recorder.bodies) == 2 and poster.attempts[0].error == "timeout"


def test_a_body_that_never_ends_times_out_and_is_retried() -> None:
    """200 with a body that trickles on: the attempt ends at the 3 s deadline and is retried."""
    ok, recorder, poster = run([TRICKLE, 200], clock_steps=6)
    assert ok is True and len(recorder.bodies) == 2
    assert poster.attempts[0].error == "timeout" and poster.attempts[1].status == 200


def test_attempt_record_is_bounded() -> None:
    """The poster keeps only the latest attempts, however many results it posts."""
    recorder = Recorder([])
    poster = ResultPoster(cast(HTTPClient, StubTreq(recorder)), Clock(), Policy())
    for _ in range(200):
        poster.post(Target("http://results.test/r"), {})
    assert len(recorder.bodies) == 200 and len(poster.attempts) == 64


def test_connection_errors_are_retried() -> None:
    """Connection refused on every attempt: four attempts, then failure."""

    class Refusing:
        calls = 0

        def post(self, url: str, *args: Any, **kwargs: Any) -> Deferred[Any]:
            Refusing.calls += 1
            return fail(ConnectionRefusedError())

    clock = Clock()
    poster = ResultPoster(Refusing(), clock)
    outcome: list[bool] = []
    poster.post(Target("http://127.0.0.1:9/"), {}).addCallback(outcome.append)
    for _ in range(10):
        clock.advance(1.0)
    assert outcome == [False] and Refusing.calls == 4


def test_signer_headers_are_sent() -> None:
    """A configured signer's headers travel with the POST."""
    recorder = Recorder([200])
    poster = ResultPoster(
        cast(HTTPClient, StubTreq(recorder)), Clock(), signer=lambda m, u, h, b: {"Signature": "sig1=:AA==:"}
    )
    poster.post(Target("http://results.test/r"), {})
    assert recorder.headers[0]["Signature"] == "sig1=:AA==:"
