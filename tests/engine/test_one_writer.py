"""One writer per connection (issue 13): two workers in one process, one of them slowed past the lease.

Every ActiveCampaign write is logged with the worker that sent it and the (fake) time it reached AC.
A pass that keeps working keeps its lease (renewed as it calls and while it waits out a Retry-After),
so the other worker is refused; a pass that stalls past the expiry (a frozen process) loses it, and
once the new holder took over, the stalled one sends nothing more and stores nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync_core.clock import FakeClock
from sync_core.engine import PassResult
from tests.engine.conftest import Harness, HarnessFactory


@dataclass
class Write:
    at: float
    worker: str
    path: str


@dataclass
class WriteLog:
    writes: list[Write] = field(default_factory=list)

    def of(self, worker: str) -> list[Write]:
        return [w for w in self.writes if w.worker == worker]


class RecordingTransport(httpx.AsyncBaseTransport):
    """The sandbox behind a network that takes ``latency`` (fake) seconds for each call."""

    def __init__(self, h: Harness, worker: str, log: WriteLog, *, latency: float = 0.0) -> None:
        self._inner = httpx.ASGITransport(app=h.ac_app)
        self._clock: FakeClock = h.clock
        self._worker = worker
        self._log = log
        self.latency = latency
        self.called = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.called.set()
        await self._clock.sleep(self.latency)
        if request.method != "GET":
            self._log.writes.append(Write(self._clock.time(), self._worker, request.url.path))
        return await self._inner.handle_async_request(request)


async def _refused_meanwhile(h: Harness, log: WriteLog, a_called: asyncio.Event,
                             done: asyncio.Event) -> list[PassResult]:
    """Worker B tries again and again while A works (yielding only, so the fake time is A's)."""
    b = h.engine(holder="B", ac_transport=RecordingTransport(h, "B", log))
    await a_called.wait()
    results = []
    while not done.is_set():
        results.append(await b.run_pass(h.cid))
        for _ in range(20):
            await asyncio.sleep(0)
    return results


async def test_a_pass_slowed_past_the_lease_keeps_it_and_the_other_worker_writes_nothing(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=60, page_size=20)
    log = WriteLog()
    slow = RecordingTransport(h, "A", log, latency=25.0)  # each call takes 25 s to reach AC
    h.ac.inject_fault(force_429=4)  # and AC throttles: 4 Retry-After waits on top
    a = h.engine(holder="A", ac_transport=slow)
    done = asyncio.Event()

    async def run_a() -> PassResult:
        try:
            return await a.run_pass(h.cid)
        finally:
            done.set()

    started = h.clock.time()
    result_a, refused = await asyncio.gather(run_a(), _refused_meanwhile(h, log, slow.called, done))
    assert result_a.outcome in ("finished", "continued"), result_a.message
    assert h.clock.time() - started > 2 * a.lease_ttl  # the pass outlasted two lease lifetimes
    # Every try of B while A ran was refused (its last one may come after A released the lease).
    while_a_ran = refused[:-1] if refused[-1].outcome != "lease_held" else refused
    assert len(while_a_ran) > 10 and all(r.outcome == "lease_held" for r in while_a_ran)
    assert all(r.held_by and r.held_by.startswith("A/") for r in while_a_ran)
    a_writes = log.of("A")
    assert a_writes and all(w.at >= a_writes[-1].at for w in log.of("B"))


async def test_a_stalled_pass_loses_the_lease_and_sends_and_stores_nothing_more(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=60)
    log = WriteLog()
    stalled_at: dict[str, Any] = {}

    async def stall_then_let_b_sync(name: str, info: dict[str, Any]) -> None:
        if name != "after_ac_write" or stalled_at:
            return
        # A froze for longer than its lease: meanwhile B takes over and syncs everything.
        stalled_at["writes"] = len(log.of("A"))
        h.clock.advance(a.lease_ttl + 10)
        b = h.engine(holder="B", ac_transport=RecordingTransport(h, "B", log))
        for _ in range(20):
            r = await b.run_pass(h.cid)
            assert r.outcome in ("finished", "continued"), r.message
            if not r.more_work and not r.open_imports:
                break
            h.clock.advance(30)
        stalled_at["b_done"] = h.clock.time()

    a = h.engine(holder="A", checkpoint=stall_then_let_b_sync, ac_transport=RecordingTransport(h, "A", log))
    result = await a.run_pass(h.cid)

    assert stalled_at, "A never reached an AC write"
    assert result.outcome == "lease_held" and "taken over" in (result.message or "")
    assert len(log.of("A")) == stalled_at["writes"]  # not one AC call of A after it lost the lease
    b_writes = log.of("B")
    assert b_writes and all(w.at >= b_writes[0].at for w in log.writes[len(log.of("A")):])
    # B's work stands: every contact synced once, every link complete, no run left "running".
    await h.until_idle()
    by_email = h.ac_by_email()  # asserts one AC contact per email
    links = await h.links()
    assert all(link.ac_id for link in links) and len(links) == len(by_email)
    runs = await h.store.list_runs(h.cid, limit=50)
    a_run = next(r for r in runs if r.status == "failed")
    assert a_run.message and "stopped" in a_run.message
    assert not [r for r in runs if r.status == "running"]


async def test_the_next_pass_marks_a_crashed_run_failed(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=5)

    async def die(name: str, info: dict[str, Any]) -> None:
        if name == "after_ac_write":
            raise KeyboardInterrupt  # stands for the process being killed: no finally of ours runs to the end

    with contextlib.suppress(KeyboardInterrupt):
        await h.engine(checkpoint=die).run_pass(h.cid)
    (crashed,) = await h.store.list_runs(h.cid, limit=5)
    assert crashed.status in ("running", "failed")
    h.clock.advance(61)
    await h.until_idle()
    runs = await h.store.list_runs(h.cid, limit=10)
    first = next(r for r in runs if r.run_id == crashed.run_id)
    assert first.status == "failed" and first.message and "stopped without finishing" in first.message
