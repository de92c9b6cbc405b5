"""What a connection may cost the server before (and around) a WebSocket session.

* :class:`ConnectionBudget` (kept by a :class:`GuardedSite`): at most ``max_connections``
  open connections in all and ``max_connections_per_address`` from one client address;
  above either, the connection is refused at accept (closed at once, counted in
  ``/metrics``). A connection is counted until its transport closes, WebSocket or not.
* Every connection must complete its HTTP request headers (the upgrade, or a ``/health``
  request) within ``header_timeout`` seconds *in all*, not per line: a slow-header client
  (slowloris) is dropped at the deadline however it trickles (:class:`GuardedChannel`).
* :class:`FailureBudget` is a token bucket per client address for failed client ids and for
  failed ``Authorization`` headers: each failure spends a token, tokens come back at
  ``refill`` per second up to ``capacity``; an address without tokens is refused at the
  handshake with HTTP 429 until it has one again. The table of addresses is bounded.
"""

from __future__ import annotations

import resource
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twisted.internet.interfaces import IAddress
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.http import HTTPChannel
from twisted.web.server import Site

from ._types import Clock

log = Logger()
#: File descriptors kept for everything but client connections (listening sockets, trust
#: files, result POSTs, logs, the admin port).
FD_HEADROOM = 64


@dataclass(frozen=True)
class GuardLimits:
    max_connections: int = 896  # fits under the common ulimit -n of 1024 with FD_HEADROOM
    max_connections_per_address: int = 64  # mobile carriers put many phones behind one address
    header_timeout: float = 10.0
    failures_per_address: int = 10  # failed client ids (and, apart, Authorization) in a burst
    failure_refill_seconds: float = 6.0  # one failure forgiven per this many seconds


def fit_to_descriptor_limit(limits: GuardLimits) -> GuardLimits:
    """Raise the process's soft ``RLIMIT_NOFILE`` toward the hard limit so that
    ``max_connections`` plus :data:`FD_HEADROOM` fit; if they still do not, lower
    ``max_connections`` to what fits (and say so), so that /health keeps its descriptors."""
    need = limits.max_connections + FD_HEADROOM
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < need:
        fitted = max(1, soft - FD_HEADROOM)
        log.warn(
            "limits.max_connections lowered from {wanted} to {fitted}: ulimit -n is {soft}",
            wanted=limits.max_connections,
            fitted=fitted,
            soft=soft,
        )
        return GuardLimits(
            fitted,
            min(limits.max_connections_per_address, fitted),
            limits.header_timeout,
            limits.failures_per_address,
            limits.failure_refill_seconds,
        )
    return limits


class FailureBudget:
    """Token buckets per address (see the module docstring)."""

    def __init__(
        self, clock: Clock, capacity: int, refill_seconds: float, max_addresses: int = 10_000
    ) -> None:
        self.clock, self.capacity, self.refill_seconds = clock, capacity, refill_seconds
        self.max_addresses = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> tokens, when

    def _tokens(self, address: str) -> float:
        tokens, when = self._buckets.get(address, (float(self.capacity), self.clock.seconds()))
        return min(float(self.capacity), tokens + (self.clock.seconds() - when) / self.refill_seconds)

    def allowed(self, address: str) -> bool:
        return self._tokens(address) >= 1.0

    def spend(self, address: str) -> None:
        self._buckets[address] = (max(0.0, self._tokens(address) - 1.0), self.clock.seconds())
        self._buckets.move_to_end(address)
        while len(self._buckets) > self.max_addresses:
            self._buckets.popitem(last=False)


class ConnectionBudget:
    """Open connections in all and per address, keyed by their transport (a connection keeps
    its transport when the WebSocket upgrade hands it from the HTTP channel to Autobahn)."""

    def __init__(
        self, limits: GuardLimits, clock: Clock, on_refused: Callable[[str], None] = lambda _reason: None
    ) -> None:
        self.limits, self.clock, self.on_refused = limits, clock, on_refused
        self.per_address: dict[str, int] = {}
        self.open: dict[int, str] = {}  # id(transport) -> address
        self.counters = {"total_cap": 0, "address_cap": 0, "header_timeout": 0}

    def refused(self, reason: str) -> None:
        self.counters[reason] += 1
        self.on_refused(reason)

    def admit(self, host: str) -> bool:
        if len(self.open) >= self.limits.max_connections:
            self.refused("total_cap")
            return False
        if self.per_address.get(host, 0) >= self.limits.max_connections_per_address:
            self.refused("address_cap")
            return False
        return True

    def acquire(self, transport: object, host: str) -> None:
        self.open[id(transport)] = host
        self.per_address[host] = self.per_address.get(host, 0) + 1

    def release(self, transport: object) -> None:
        host = self.open.pop(id(transport), None)
        if host is None:
            return  # released already (idempotent)
        left = self.per_address.get(host, 1) - 1
        if left > 0:
            self.per_address[host] = left
        else:
            self.per_address.pop(host, None)


class GuardedSite(Site):
    """A Site that refuses connections over the budget at accept (closed at once)."""

    def __init__(self, resource: Any, budget: ConnectionBudget) -> None:
        super().__init__(resource)  # type: ignore[no-untyped-call]
        self.budget = budget
        self.protocol = GuardedChannel  # type: ignore[assignment]
        self.displayTracebacks = False

    def buildProtocol(self, addr: IAddress | None) -> Any:  # noqa: N802
        if not self.budget.admit(getattr(addr, "host", "?")):
            return None
        return super().buildProtocol(addr)  # type: ignore[no-untyped-call]


class GuardedChannel(HTTPChannel):
    """Counts its connection in the site's budget and drops it unless each request's headers
    are complete within ``header_timeout`` seconds (re-armed for every kept-alive request;
    the WebSocket upgrade's headers are complete before Autobahn takes the connection)."""

    site: GuardedSite
    _deadline: Any = None
    _guarded: object | None = None

    def connectionMade(self) -> None:  # noqa: N802
        super().connectionMade()  # type: ignore[no-untyped-call]
        transport: Any = self.transport
        self._guarded = transport
        self.site.budget.acquire(transport, getattr(transport.getPeer(), "host", "?"))
        self._arm()

    def allHeadersReceived(self) -> None:  # noqa: N802
        self._disarm()
        super().allHeadersReceived()  # type: ignore[no-untyped-call]

    def requestDone(self, request: Any) -> None:  # noqa: N802
        super().requestDone(request)  # type: ignore[no-untyped-call]
        if self.transport is not None and self.transport.connected:
            self._arm()

    def connectionLost(self, reason: Failure = connectionDone) -> None:  # noqa: N802
        self._disarm()
        if self._guarded is not None:
            self.site.budget.release(self._guarded)
        super().connectionLost(reason)  # type: ignore[no-untyped-call]

    def _arm(self) -> None:
        self._disarm()
        budget = self.site.budget
        self._deadline = budget.clock.callLater(budget.limits.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None and self._deadline.active():
            self._deadline.cancel()
        self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        self.site.budget.refused("header_timeout")
        if self.transport is not None:
            self.transport.abortConnection()
