"""Rate limits, faults and credentials against the sandbox (its clock is the test's FakeClock)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import pytest
from starlette.applications import Starlette

from sync_core.activecampaign import ActiveCampaignClient, AuthenticationError, TransientError
from sync_core.clock import FakeClock
from sync_core.model.budget import SlidingWindowBudget
from tests.clients_ac.conftest import client_for


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """Largest number of timestamps inside any half-open window [t, t + window)."""
    best, q = 0, deque[float]()
    for t in sorted(times):
        q.append(t)
        while q[0] <= t - window:
            q.popleft()
        best = max(best, len(q))
    return best


async def test_429_storm_every_call_succeeds(ac_app: Starlette, ac_state: Any, clock: FakeClock) -> None:
    ac_state.reset(seed_contacts=20)
    client = client_for(ac_app, clock)
    ac_state.inject_fault(force_429=6)
    start = clock.time()
    results = await asyncio.gather(*(client.get_contact(str(cid)) for cid in list(ac_state.contacts)[:10]))
    assert len(results) == 10 and all(r["id"] for r in results)
    assert ac_state.count_requests(status=429) >= 1  # the storm really happened
    assert clock.time() - start >= 1  # Retry-After was honoured on the fake clock
    await client.aclose()


@pytest.mark.parametrize("status", [429, 503])
async def test_unpaced_burst_is_absorbed(ac_app: Starlette, ac_state: Any, clock: FakeClock, status: int) -> None:
    """A client whose own budget is far too generous still ends with every call done: 429/503 + Retry-After."""
    ac_state.switches["rate_limit_status"] = status
    ac_state.reset(seed_contacts=5)
    greedy = client_for(ac_app, clock, budget=SlidingWindowBudget(1000, 1.0, clock=clock))
    cids = list(ac_state.contacts)
    results = await asyncio.gather(*(greedy.get_contact(str(cids[n % 5])) for n in range(25)))
    assert len(results) == 25
    assert ac_state.count_requests(status=status) >= 1
    await greedy.aclose()


async def test_two_clients_share_one_budget(ac_app: Starlette, ac_state: Any, clock: FakeClock) -> None:
    ac_state.reset(seed_contacts=10)
    shared = SlidingWindowBudget(5, 1.0, clock=clock)
    grants: list[float] = []

    class Recording:
        limit, window = shared.limit, shared.window

        async def acquire(self) -> None:
            await shared.acquire()
            grants.append(clock.time())

        async def hold_off(self, seconds: float) -> None:
            await shared.hold_off(seconds)

    one = client_for(ac_app, clock, budget=Recording())
    two = client_for(ac_app, clock, budget=Recording())
    cids = [str(c) for c in ac_state.contacts]

    async def work(client: ActiveCampaignClient, n: int) -> None:
        for i in range(n):
            await client.get_contact(cids[i % len(cids)])

    await asyncio.gather(work(one, 23), work(two, 19), one.get_me(), two.get_me())
    sandbox_times = [r.time for r in ac_state.requests]
    assert len(sandbox_times) == len(grants) == 44
    assert max_in_window(sandbox_times) <= 5
    assert max_in_window(grants) <= 5
    assert ac_state.count_requests(status=429) == 0
    assert one.calls.total + two.calls.total == 44
    await one.aclose()
    await two.aclose()


async def test_dropped_connections_and_5xx_are_retried(client: ActiveCampaignClient, ac_state: Any) -> None:
    ac_state.reset(seed_contacts=3)
    cid = str(next(iter(ac_state.contacts)))
    ac_state.inject_fault(drop_next=2)
    assert (await client.get_contact(cid))["id"] == cid
    ac_state.clear_faults()
    ac_state.inject_fault(error_rate=1.0, error_status=500)
    with pytest.raises(TransientError):
        await client.get_contact(cid)
    ac_state.clear_faults()
    assert client.calls.snapshot()["contact.get"] == 3 + 9  # 2 drops + success, 9 tries of a 500


async def test_bad_key_is_an_authentication_error(ac_app: Starlette, clock: FakeClock) -> None:
    bad = client_for(ac_app, clock, key="not-the-key")
    with pytest.raises(AuthenticationError):
        await bad.get_me()
    with pytest.raises(AuthenticationError):
        await bad.find_contact_by_email("a@example.com")
    with pytest.raises(AuthenticationError):
        await bad.bulk_import([{"email": "a@example.com"}, {"email": "b@example.com"}])
    await bad.aclose()
