"""What a connection may cost (docval_server.guard), with a Clock: failure budgets per address,
the connection budget's counting, and the descriptor-limit fit."""

from __future__ import annotations

import resource

from twisted.internet.task import Clock

from docval_server.guard import (
    FD_HEADROOM,
    ConnectionBudget,
    FailureBudget,
    GuardLimits,
    fit_to_descriptor_limit,
)


def test_failure_budget_empties_and_refills_per_address() -> None:
    """Five failures spend an address's five tokens; one comes back per refill period; other
    addresses are not affected."""
    clock = Clock()
    budget = FailureBudget(clock, capacity=5, refill_seconds=6.0)
    for _ in range(5):
        assert budget.allowed("10.0.0.1")
        budget.spend("10.0.0.1")
    assert not budget.allowed("10.0.0.1") and budget.allowed("10.0.0.2")
    clock.advance(5.9)
    assert not budget.allowed("10.0.0.1")
    clock.advance(0.2)
    assert budget.allowed("10.0.0.1")


def test_failure_budget_table_is_bounded() -> None:
    """The table forgets the least recently seen addresses beyond its size."""
    budget = FailureBudget(Clock(), capacity=1, refill_seconds=60.0, max_addresses=100)
    for index in range(1000):
        budget.spend(f"10.0.{index // 256}.{index % 256}")
    assert len(budget._buckets) == 100


def test_connection_budget_counts_per_address_and_in_all() -> None:
    """Admission stops at the per-address cap and at the total cap; releases free the slots
    (twice is harmless)."""
    budget = ConnectionBudget(GuardLimits(max_connections=5, max_connections_per_address=3), Clock())
    transports = [object() for _ in range(6)]
    for transport in transports[:3]:
        assert budget.admit("a")
        budget.acquire(transport, "a")
    assert not budget.admit("a") and budget.admit("b")
    for transport in transports[3:5]:
        budget.acquire(transport, "b")
    assert not budget.admit("c")
    budget.release(transports[0])
    budget.release(transports[0])
    assert budget.admit("a") and budget.per_address == {"a": 2, "b": 2}
    assert budget.counters == {"total_cap": 1, "address_cap": 1, "header_timeout": 0}


def test_max_connections_fit_the_descriptor_limit() -> None:
    """max_connections plus the headroom fits RLIMIT_NOFILE (raised, or the cap lowered)."""
    fitted = fit_to_descriptor_limit(GuardLimits(max_connections=10_000_000))
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert fitted.max_connections + FD_HEADROOM <= soft
    assert fit_to_descriptor_limit(GuardLimits(max_connections=10)).max_connections == 10
