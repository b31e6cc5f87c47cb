"""Cursors under optimistic concurrency; the per-connection lease."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from sync_core.clock import FakeClock
from sync_core.model.errors import ConcurrencyError
from sync_core.model.state import AcCursor, DynamicsCursor
from sync_core.store import LeaseHeldError, StaleCursorError, SyncStore

from .conftest import StoreFactory

CID = "conn-1"


async def test_cursor_round_trips_with_long_links_and_boundary_keys(store: SyncStore) -> None:
    delta = "https://org.crm.dynamics.com/api/data/v9.2/contacts?$deltatoken=" + "9" * 70_000
    c = DynamicsCursor("contact", phase="delta", delta_link=delta,
                       watermark=datetime(2026, 1, 5, 8, 59, 59, 123456, tzinfo=UTC), done=3_000_000_000, total=None,
                       select_signature="sig")
    saved = await store.save_cursor(CID, c)
    assert saved.etag and c.etag is None
    got = await store.get_cursor(CID, "contact", "dynamics")
    assert got == saved
    assert await store.get_cursor(CID, "contact", "activecampaign") is None
    ac = AcCursor("contact", phase="delta", boundary_keys=["1@t", "2@t"], position="42", tz_offset_minutes=-360,
                  import_links_accounts=False, watermark=datetime(2026, 1, 5, 8, 0, tzinfo=UTC))
    saved_ac = await store.save_cursor(CID, ac)
    assert await store.get_ac_cursor(CID, "contact") == saved_ac
    assert await store.get_dynamics_cursor(CID, "contact") == saved


async def test_two_writers_with_one_etag_one_wins_the_other_is_told(make_store: StoreFactory) -> None:
    a, b = await make_store(), await make_store()
    base = await a.save_cursor(CID, AcCursor("lead"))
    mine = await a.get_ac_cursor(CID, "lead")
    theirs = await b.get_ac_cursor(CID, "lead")
    assert mine is not None and theirs is not None and mine.etag == theirs.etag == base.etag
    mine.done, theirs.done = 10, 20

    results = await asyncio.gather(a.save_cursor(CID, mine), b.save_cursor(CID, theirs), return_exceptions=True)
    winners = [r for r in results if isinstance(r, AcCursor)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], StaleCursorError) and isinstance(losers[0], ConcurrencyError)
    stored = await a.get_cursor(CID, "lead", "activecampaign")
    assert stored is not None and stored.done == winners[0].done and stored.etag == winners[0].etag

    # "must not exist yet" is refused once it exists; the winner's etag keeps working.
    with pytest.raises(StaleCursorError):
        await b.save_cursor(CID, AcCursor("lead"))
    again = await a.save_cursor(CID, winners[0])
    await a.delete_cursor(CID, "lead", "activecampaign")
    with pytest.raises(StaleCursorError):
        await a.save_cursor(CID, again)
    await a.delete_cursor(CID, "lead", "activecampaign")  # already gone: fine


async def test_lease_is_refused_at_once_and_taken_over_after_expiry(make_store: StoreFactory,
                                                                    clock: FakeClock) -> None:
    w1, w2 = await make_store(), await make_store()
    lease = await w1.acquire_lease(CID, "worker-1", ttl=60)
    assert lease.holder == "worker-1" and lease.etag

    with pytest.raises(LeaseHeldError) as held:
        await w2.acquire_lease(CID, "worker-2", ttl=60)
    assert held.value.holder == "worker-1"
    assert clock.slept == 0  # refused without waiting

    clock.advance(30)
    lease = await w1.renew_lease(lease, ttl=60)  # now expires at +90
    clock.advance(59)
    with pytest.raises(LeaseHeldError):
        await w2.acquire_lease(CID, "worker-2", ttl=60)

    clock.advance(2)  # expired
    taken = await w2.acquire_lease(CID, "worker-2", ttl=60)
    assert taken.holder == "worker-2"
    with pytest.raises(LeaseHeldError):
        await w1.renew_lease(lease, ttl=60)
    await w1.release_lease(lease)  # lost already: leaves the new holder alone
    with pytest.raises(LeaseHeldError):
        await w1.acquire_lease(CID, "worker-1", ttl=60)

    await w2.release_lease(taken)
    again = await w1.acquire_lease(CID, "worker-1", ttl=60)
    assert again.holder == "worker-1"


async def test_two_takers_of_an_expired_lease_only_one_wins(make_store: StoreFactory, clock: FakeClock) -> None:
    stores = [await make_store() for _ in range(3)]
    await stores[0].acquire_lease(CID, "old", ttl=5)
    clock.advance(10)
    results = await asyncio.gather(*(s.acquire_lease(CID, f"w{i}", ttl=60) for i, s in enumerate(stores)),
                                   return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, LeaseHeldError) for r in results if isinstance(r, BaseException))
