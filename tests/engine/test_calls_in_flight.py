"""At network latency a pass keeps several per-record AC calls in flight (issue 23): one call after another
tops out at 1/latency calls a second, under AC's 5/s. The AC stand-in sits behind a transport that holds
every request a few event-loop turns (in flight) and records how many were in flight at once; the 5/s
limit stays on. The 429 count is the bench's to show (``python -m bench --only latency``): the fake clock
here moves when any task sleeps, also under calls still on the wire, so arrivals drift from their grants.
The account's budget is the in-process one here: the store's (an Azurite round trip a grant) would answer
slower than the held calls and hide the overlap."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from sync_core.engine import ClientFactory, SyncEngine
from sync_core.engine.fanout import AC_CALLS_IN_FLIGHT
from sync_core.engine.runner import PassResult
from sync_core.model.budget import RequestBudget, SlidingWindowBudget
from sync_core.model.hosts import HostPolicy
from sync_core.store import SyncStore
from tests.engine.conftest import Harness, HarnessFactory, base_config


class InFlight(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        route = f"{request.method} {request.url.path.rstrip('/0123456789')}"
        self.now[route] += 1
        self.peak[route] = max(self.peak[route], self.now[route])
        try:
            for _ in range(5):  # on the wire: the pass's other tasks run meanwhile
                await asyncio.sleep(0)
            return await self.inner.handle_async_request(request)
        finally:
            self.now[route] -= 1


class InProcessBudget(ClientFactory):
    def __init__(self, h: Harness, wire: InFlight) -> None:
        super().__init__(clock=h.clock, ac_transport=wire, dv_transport=httpx.ASGITransport(app=h.dv_app),
                         host_policy=HostPolicy(local=True))
        self.budget = SlidingWindowBudget(5, 1.0, clock=h.clock)

    def ac_budget(self, store: SyncStore, api_url: str) -> RequestBudget:
        return self.budget


async def test_account_writes_and_associations_keep_calls_in_flight(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=300, config=base_config(accounts={"enabled": True, "direction": "push"}))
    wire = InFlight(httpx.ASGITransport(app=h.ac_app))
    engine = SyncEngine(h.store, InProcessBudget(h, wire).bound(h.store, h.secrets), clock=h.clock)
    for _ in range(10):
        r = await engine.run_pass(h.cid)
        assert r.outcome in ("finished", "continued"), r.message
        if not r.more_work and not r.open_imports:
            break
        if r.open_imports:
            h.clock.advance(30)
    assert len(h.ac.contacts) == 300
    for route in ("POST /api/3/accounts", "POST /api/3/accountContacts", "POST /api/3/import/bulk_import"):
        assert 2 <= wire.peak[route] <= AC_CALLS_IN_FLIGHT, (route, dict(wire.peak))
    linked = [x for x in h.ac.requests if x.route == "/api/3/accountContacts" and x.status == 201]
    assert linked, "the associations were created"


async def test_new_contacts_ids_are_read_several_pages_at_once(harness: HarnessFactory) -> None:
    # 600 contacts imported: their ids are read back in id ranges, several pages in flight (one page after
    # another would top out at 1/latency calls a second), and every link gets its contact's id.
    h = await harness(seed_contacts=600, ac_switches={"import_delay_seconds": 0})
    wire = InFlight(httpx.ASGITransport(app=h.ac_app))
    engine = SyncEngine(h.store, InProcessBudget(h, wire).bound(h.store, h.secrets), clock=h.clock)
    for _ in range(10):
        r = await engine.run_pass(h.cid)
        assert r.outcome in ("finished", "continued"), r.message
        if not r.more_work and not r.open_imports:
            break
        if r.open_imports:
            h.clock.advance(30)
    assert 2 <= wire.peak["GET /api/3/contacts"] <= AC_CALLS_IN_FLIGHT, dict(wire.peak)
    links = await h.links()
    ac = h.ac_by_email()
    assert len(links) == 600 and len(ac) == 600
    assert all(link.ac_id == str(ac[link.email.lower()].id) for link in links)


async def _one_pass_of_1000(harness: HarnessFactory, *, import_delay_seconds: int
                            ) -> tuple[Harness, InFlight, PassResult]:
    """One finished pass over 1,000 new contacts (one page: 4 imports), AC's calls in flight counted."""
    h = await harness(seed_contacts=1_000, ac_switches={"import_delay_seconds": import_delay_seconds})
    wire = InFlight(httpx.ASGITransport(app=h.ac_app))
    engine = SyncEngine(h.store, InProcessBudget(h, wire).bound(h.store, h.secrets), clock=h.clock)
    r = await engine.run_pass(h.cid)
    assert r.outcome == "finished", r.message
    return h, wire, r


async def test_the_imports_of_the_push_are_asked_about_several_at_once_after_it(harness: HarnessFactory) -> None:
    # One page of 1,000: 4 imports, processed at once. The look after the push asks import/info about them
    # oldest first, more in flight as each is found processed (one after another it would top out at
    # 1/latency); every import is asked once and every link is complete in the same pass.
    h, wire, r = await _one_pass_of_1000(harness, import_delay_seconds=0)
    assert r.run is not None
    calls = r.run.api_calls["activecampaign"]
    assert calls.get("bulk_import") == 4 and calls.get("import.info") == 4, calls
    assert 2 <= wire.peak["GET /api/3/import/info"] <= AC_CALLS_IN_FLIGHT, dict(wire.peak)
    assert r.open_imports == 0
    links = await h.links()
    assert len(links) == 1_000 and all(link.ac_id is not None for link in links)


async def test_a_look_that_meets_a_processing_import_first_asks_once(harness: HarnessFactory) -> None:
    # AC takes an hour: the look after the push asks about the oldest import only (it is processing, so
    # are the later ones), and the follow-up pass comes back for all 4.
    _, _, r = await _one_pass_of_1000(harness, import_delay_seconds=3600)
    assert r.run is not None
    assert r.run.api_calls["activecampaign"].get("import.info") == 1
    assert r.open_imports == 4
