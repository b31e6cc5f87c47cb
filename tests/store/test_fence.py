"""The fence: once a newer pass holds the connection, an older pass writes no link, cursor, import or request."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from sync_core.clock import FakeClock
from sync_core.model.state import CreateRequest, DynamicsCursor, ImportBatch, RecordLink
from sync_core.store import Fence, LeaseHeldError, LeaseLostError, StaleCursorError, SyncStore

from .conftest import StoreFactory

CID = "conn-1"


def _link(i: int, email: str | None = None) -> RecordLink:
    return RecordLink(entity="contact", dynamics_id=f"d{i}", ac_id=f"a{i}", email=email or f"p{i}@example.com",
                      dynamics_values={"firstname": f"n{i}"})


async def test_a_lease_is_never_re_entered_and_each_take_over_raises_the_token(make_store: StoreFactory,
                                                                               clock: FakeClock) -> None:
    s = await make_store()
    first = await s.acquire_lease(CID, "w/pass-1", ttl=60)
    with pytest.raises(LeaseHeldError) as held:
        await s.acquire_lease(CID, "w/pass-1", ttl=60)  # the same holder too: passes exclude each other
    assert held.value.holder == "w/pass-1" and held.value.expires_at == first.expires_at
    await s.release_lease(first)
    second = await s.acquire_lease(CID, "w/pass-2", ttl=60)
    clock.advance(61)
    third = await s.acquire_lease(CID, "w/pass-3", ttl=60)
    assert (first.fence, second.fence, third.fence) == (1, 2, 3)


async def test_writes_of_a_pass_that_lost_its_lease_fail_whole(make_store: StoreFactory, clock: FakeClock) -> None:
    old_store, new_store = await make_store(), await make_store()
    old_lease = await old_store.acquire_lease(CID, "old/pass", ttl=60)
    old = old_store.fenced(await old_store.claim_fence(old_lease))
    await old.save_links(CID, [_link(1)])
    cursor = await old.save_cursor(CID, DynamicsCursor("contact", done=1))

    clock.advance(61)  # the old pass stalled past its expiry: a newer pass takes over
    new_lease = await new_store.acquire_lease(CID, "new/pass", ttl=60)
    new = new_store.fenced(await new_store.claim_fence(new_lease))

    with pytest.raises(LeaseLostError):
        await old.save_links(CID, [_link(2), _link(1, "changed@example.com")])
    with pytest.raises(LeaseLostError):
        await old.save_cursor(CID, DynamicsCursor("contact", done=999, etag=cursor.etag))
    with pytest.raises(LeaseLostError):
        await old.save_import(CID, ImportBatch(batch_id="b1", submitted_at=clock.now()))
    with pytest.raises(LeaseLostError):  # once lost, it does not even try
        await old.delete_link(CID, _link(1))

    assert await new.get_link(CID, "contact", "d2") is None
    kept = await new.get_link(CID, "contact", "d1")
    assert kept is not None and kept.email == "p1@example.com"
    assert [lk.dynamics_id for lk in await new.find_links_by_email(CID, "changed@example.com")] == []
    stored = await new.get_dynamics_cursor(CID, "contact")
    assert stored is not None and stored.done == 1
    assert await new.list_imports(CID, status=None) == []

    # The newer pass writes as usual, and the old one cannot claim the fence back.
    await new.save_links(CID, [_link(3)])
    await new.save_cursor(CID, stored)
    with pytest.raises(LeaseLostError):
        await old_store.claim_fence(old_lease)


async def test_a_stale_cursor_is_still_told_apart_from_a_lost_lease(store_pair: tuple[SyncStore, Fence]) -> None:
    s, fence = store_pair
    fenced = s.fenced(fence)
    saved = await fenced.save_cursor(CID, DynamicsCursor("lead"))
    await fenced.save_cursor(CID, saved)
    with pytest.raises(StaleCursorError) as err:
        await fenced.save_cursor(CID, saved)  # an old etag: the cursor moved, the fence is still ours
    assert not isinstance(err.value, LeaseLostError)
    await fenced.save_links(CID, [_link(1)])  # and the pass goes on writing


async def test_many_concurrent_fenced_link_writes_all_land(store_pair: tuple[SyncStore, Fence]) -> None:
    s, fence = store_pair
    fenced = s.fenced(fence)
    links = [_link(i) for i in range(400)]  # ~12 transactions, spread over the fence's slots
    await asyncio.gather(*(fenced.save_links(CID, links[i:i + 50]) for i in range(0, 400, 50)))
    assert await s.count_links(CID, "contact") == 400
    assert [lk.dynamics_id async for lk in s.iter_links(CID, "contact")][:1] == ["d0"]  # no fence row listed


@pytest.fixture
async def store_pair(make_store: StoreFactory) -> tuple[SyncStore, Fence]:
    s = await make_store()
    lease = await s.acquire_lease(CID, "w/pass", ttl=60)
    return s, await s.claim_fence(lease)


async def test_a_stale_pass_writes_no_request_row(make_store: StoreFactory, clock: FakeClock) -> None:
    """Request rows are a pass's writes too (issue 18): a pass that lost its lease cannot mark a request
    done or failed over the newer pass's row."""
    old_store, new_store = await make_store(), await make_store()
    old = old_store.fenced(await old_store.claim_fence(await old_store.acquire_lease(CID, "old/pass", ttl=60)))
    pending = CreateRequest(entity="lead", ac_id="7", dynamics_id="d7", source="webhook", requested_at=clock.now())
    await old.save_request(CID, pending)

    clock.advance(61)
    new = new_store.fenced(await new_store.claim_fence(await new_store.acquire_lease(CID, "new/pass", ttl=60)))
    with pytest.raises(LeaseLostError):
        await old.save_request(CID, dataclasses.replace(pending, status="done", outcome="created"))
    stored = await new.get_request(CID, "lead", "7")
    assert stored is not None and stored.status == "pending"
    await new.save_request(CID, dataclasses.replace(pending, status="failed", outcome="x"))
    assert [(r.ac_id, r.status) for r in await new.list_requests(CID)] == [("7", "failed")]  # no fence row listed
    assert await new.count_requests(CID) == {"pending": 0, "done": 0, "failed": 1}
