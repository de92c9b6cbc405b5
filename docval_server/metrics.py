"""Session counters in the Prometheus text exposition format (no client library needed for
three series): sessions by outcome, session durations, sessions in flight."""

from __future__ import annotations

from collections import Counter

BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.active = 0
        self.outcomes: Counter[str] = Counter()
        self.bucket_counts = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self.abuse: Counter[str] = Counter()  # failed_client_id, failed_authorization, rate_limited

    def count(self, event: str) -> None:
        self.abuse[event] += 1

    def started(self) -> None:
        self.active += 1

    def ended(self, outcome: str, seconds: float) -> None:
        self.active -= 1
        self.outcomes[outcome] += 1
        self.duration_sum += seconds
        self.duration_count += 1
        for index, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.bucket_counts[index] += 1

    def render(self, refused: dict[str, int] | None = None) -> str:
        lines = [
            "# HELP docval_sessions_active Validation sessions in flight.",
            "# TYPE docval_sessions_active gauge",
            f"docval_sessions_active {self.active}",
            "# HELP docval_sessions_total Finished sessions by close reason (NORMAL for success).",
            "# TYPE docval_sessions_total counter",
        ]
        lines += [f'docval_sessions_total{{outcome="{o}"}} {n}' for o, n in sorted(self.outcomes.items())]
        lines += [
            "# HELP docval_session_duration_seconds Session duration from connect to close.",
            "# TYPE docval_session_duration_seconds histogram",
        ]
        lines += [
            f'docval_session_duration_seconds_bucket{{le="{b:g}"}} {c}'
            for b, c in zip(BUCKETS, self.bucket_counts, strict=True)
        ]
        lines += [
            f'docval_session_duration_seconds_bucket{{le="+Inf"}} {self.duration_count}',
            f"docval_session_duration_seconds_sum {self.duration_sum:.3f}",
            f"docval_session_duration_seconds_count {self.duration_count}",
            "# HELP docval_handshake_failures_total Failed client ids and Authorization headers, and"
            " handshakes refused for too many of them (429).",
            "# TYPE docval_handshake_failures_total counter",
        ]
        for event in ("failed_authorization", "failed_client_id", "rate_limited"):
            lines.append(f'docval_handshake_failures_total{{kind="{event}"}} {self.abuse[event]}')
        lines += [
            "# HELP docval_connections_refused_total Connections refused at accept (caps) or dropped"
            " for incomplete headers at the deadline.",
            "# TYPE docval_connections_refused_total counter",
        ]
        for reason, count in sorted((refused or {}).items()):
            lines.append(f'docval_connections_refused_total{{reason="{reason}"}} {count}')
        return "\n".join(lines) + "\n"
