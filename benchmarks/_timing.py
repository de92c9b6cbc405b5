"""What the benchmark scripts share: a rate measured over a fixed wall-clock interval."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def per_second(fn: Callable[[], object], seconds: float = 1.0) -> float:
    """How many times ``fn`` runs per second, measured for ``seconds``."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def side_by_side(fns: Sequence[Callable[[], object]], seconds: float = 2.0, rounds: int = 8) -> list[float]:
    """Rates of ``fns`` measured in alternating bursts (``seconds`` per function in all, split
    over ``rounds``), each function's best burst: on a shared machine noise slows a burst and
    never speeds one up, and alternating exposes every function to the same noise."""
    best = [0.0] * len(fns)
    for _ in range(rounds):
        for index, fn in enumerate(fns):
            best[index] = max(best[index], per_second(fn, seconds / rounds))
    return best
