"""What the benchmark scripts share: a rate measured over a fixed wall-clock interval."""

from __future__ import annotations

import time
from collections.abc import Callable


def per_second(fn: Callable[[], object], seconds: float = 1.0) -> float:
    """How many times ``fn`` runs per second, measured for ``seconds``."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)
