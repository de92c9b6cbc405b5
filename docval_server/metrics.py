"""The server's metrics with ``prometheus-client``, one registry per server (so that tests and
several servers in one process do not share counters):

* ``docval_sessions_active`` (gauge), ``docval_sessions_total{outcome}`` (counter; NORMAL for
  success), ``docval_session_duration_seconds`` (histogram);
* ``docval_handshake_failures_total{kind}``: failed client ids, failed Authorization headers,
  and handshakes refused for too many of them (429);
* ``docval_connections_refused_total{reason}``: connections refused at the caps or dropped at
  the header deadline.

With ``--workers`` each worker runs with ``PROMETHEUS_MULTIPROC_DIR`` set by the supervisor:
the values go to files there, and the supervisor's admin endpoint sums them
(:func:`aggregate`): counters and histograms across workers, the active gauge as a live sum.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
HANDSHAKE_FAILURES = ("failed_authorization", "failed_client_id", "rate_limited")
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._active = Gauge(
            "docval_sessions_active",
            "Validation sessions in flight.",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._sessions = Counter(
            "docval_sessions",
            "Finished sessions by close reason (NORMAL for success).",
            ["outcome"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "docval_session_duration_seconds",
            "Session duration from connect to close.",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._failures = Counter(
            "docval_handshake_failures",
            "Failed client ids and Authorization headers, and handshakes refused for too many of them (429).",
            ["kind"],
            registry=self.registry,
        )
        for kind in HANDSHAKE_FAILURES:
            self._failures.labels(kind)  # present at zero from the start
        self._refused = Counter(
            "docval_connections_refused",
            "Connections refused at accept (caps) or dropped for incomplete headers at the deadline.",
            ["reason"],
            registry=self.registry,
        )

    def started(self) -> None:
        self._active.inc()

    def ended(self, outcome: str, seconds: float) -> None:
        self._active.dec()
        self._sessions.labels(outcome).inc()
        self._duration.observe(seconds)

    def count(self, event: str) -> None:
        self._failures.labels(event).inc()

    def refused(self, reason: str) -> None:
        self._refused.labels(reason).inc()

    def value(self, name: str, **labels: str) -> float:
        """One sample's current value (0 when absent), for tests and health views."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def render(self) -> bytes:
        return generate_latest(self.registry)


def aggregate(directory: str) -> bytes:
    """The workers' metrics summed from ``PROMETHEUS_MULTIPROC_DIR`` (the supervisor's view)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)
