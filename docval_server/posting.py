"""Posting the result to the client's result server, with the spec's retry policy.

``docval-websocket-api-v2.md`` §7: 3-second timeout per attempt, up to 3 retries when the
POST fails with a connection error, a timeout, or HTTP 408, 429 or 5xx; any other status
(3xx included: redirects are not followed) is final. The timeout covers the whole attempt:
connect, headers and the response body (a result server trickling its body is cut off).
The treq client and the clock are passed in (``treq.testing.StubTreq`` and
``twisted.internet.task.Clock`` in tests). Optionally the request carries an RFC 9421 HTTP
message signature (see :mod:`docval_server.signing`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.defer import Deferred, ensureDeferred
from twisted.internet.protocol import Protocol, connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure

from ._types import Clock, HTTPClient

RETRY_STATUSES = frozenset({408, 429})
ATTEMPTS_KEPT = 64
log = Logger()


@dataclass(frozen=True)
class Target:
    """Where one client id's results go."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    timeout: float = 3.0
    retries: int = 3
    backoff: tuple[float, ...] = (0.5, 1.0, 2.0)


Signer = Callable[[str, str, Mapping[str, str], bytes], Mapping[str, str]]


@dataclass(frozen=True)
class Attempt:
    """What one attempt ended with, for logs and metrics."""

    status: int | None
    error: str | None


class _Discard(Protocol):
    """Reads a response body to its end, keeping nothing; cancelling aborts the transfer."""

    def __init__(self, done: Deferred[None]) -> None:
        self.done = done

    def dataReceived(self, data: bytes) -> None:  # noqa: N802
        pass

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        if not self.done.called:
            self.done.callback(None)


def _drain(response: Any) -> Deferred[None]:
    reader: _Discard | None = None

    def abort(_d: Deferred[None]) -> None:
        if reader is not None and reader.transport is not None:
            reader.transport.stopProducing()  # drops the connection to the trickling server

    done: Deferred[None] = Deferred(abort)
    reader = _Discard(done)
    response.deliverBody(reader)
    return done


class ResultPoster:
    def __init__(
        self, client: HTTPClient, clock: Clock, policy: Policy = Policy(), signer: Signer | None = None
    ) -> None:
        self.client, self.clock, self.policy, self.signer = client, clock, policy, signer
        self.attempts: deque[Attempt] = deque(maxlen=ATTEMPTS_KEPT)  # the latest, for tests and logs

    def post(self, target: Target, body: dict[str, Any]) -> Deferred[bool]:
        """POST ``body`` as JSON; fires True on a 2xx, False once the policy gives up. Never errbacks."""
        return ensureDeferred(self._post(target, body))

    async def _post(self, target: Target, body: dict[str, Any]) -> bool:
        payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", **target.headers}
        if self.signer is not None:
            headers.update(self.signer("POST", target.url, headers, payload))
        for attempt in range(self.policy.retries + 1):
            if attempt:
                delay = self.policy.backoff[min(attempt - 1, len(self.policy.backoff) - 1)]
                pause: Deferred[None] = Deferred()
                self.clock.callLater(delay, pause.callback, None)
                await pause
            retry = await self._attempt(target.url, headers, payload)
            if retry is None:
                return True
            if not retry:
                return False
        return False

    async def _attempt(self, url: str, headers: dict[str, str], payload: bytes) -> bool | None:
        """None on success; True when the failure may be retried, False when it is final."""
        request = self.client.post(
            url, data=payload, headers={k: [v] for k, v in headers.items()}, allow_redirects=False
        )
        waiting: list[Deferred[Any]] = [request]  # what the deadline cancels: the request, then the body
        timed_out: list[bool] = []

        def give_up() -> None:
            timed_out.append(True)
            waiting[-1].cancel()

        deadline = self.clock.callLater(self.policy.timeout, give_up)
        try:
            response = await request
            status = int(response.code)
            body = _drain(response)  # read it all (we keep none of it), within the same deadline
            waiting.append(body)
            await body
        except Exception as exc:  # timeout, connection refused/reset, DNS: all retried  # noqa: BLE001
            error = "timeout" if timed_out else type(exc).__name__
            self.attempts.append(Attempt(None, error))
            log.warn("result POST failed: {error}", error=error)
            return True
        finally:
            if deadline.active():
                deadline.cancel()
        self.attempts.append(Attempt(status, None))
        if 200 <= status < 300:
            return None
        log.warn("result server answered HTTP {status}", status=status)
        return status in RETRY_STATUSES or 500 <= status < 600
