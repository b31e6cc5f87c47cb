"""The shared request budget holds its window across holders in different processes."""

from __future__ import annotations

import asyncio

from sync_core.clock import FakeClock
from sync_core.model.budget import RequestBudget
from sync_core.store import SharedRequestBudget

from .conftest import StoreFactory


def _max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_two_stores_never_grant_more_than_the_limit_in_any_window(make_store: StoreFactory,
                                                                       clock: FakeClock) -> None:
    a, b = await make_store(), await make_store()
    budgets = [s.request_budget("acme.api-us1.com", limit=5, window=1.0) for s in (a, b, a, b)]
    assert all(isinstance(x, RequestBudget) for x in budgets)
    grants: list[float] = []

    async def spend(budget: SharedRequestBudget, n: int) -> None:
        for _ in range(n):
            await budget.acquire()
            assert budget.last_grant is not None
            grants.append(budget.last_grant)

    start = clock.time()
    await asyncio.gather(*(spend(x, 10) for x in budgets))
    assert len(grants) == 40
    assert _max_in_any_window(grants, 1.0) <= 5
    # The window is full most of the time, not merely respected: 40 grants need about 7 windows.
    assert max(grants) - start < 12


async def test_a_hold_off_pauses_every_holder(make_store: StoreFactory, clock: FakeClock) -> None:
    a, b = await make_store(), await make_store()
    x = a.request_budget("acct", limit=5, window=1.0)
    y = b.request_budget("acct", limit=5, window=1.0)
    await y.acquire()
    t0 = clock.time()
    await x.hold_off(30)
    await y.acquire()
    assert y.last_grant is not None and y.last_grant >= t0 + 30


async def test_budgets_with_other_keys_are_independent(make_store: StoreFactory, clock: FakeClock) -> None:
    s = await make_store()
    one = s.request_budget("acct-1", limit=2, window=10.0)
    two = s.request_budget("acct-2", limit=2, window=10.0)
    for _ in range(2):
        await one.acquire()
        await two.acquire()
    assert clock.slept == 0
    await one.acquire()
    assert clock.slept >= 10 - 1e-9
