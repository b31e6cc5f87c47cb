"""Sales-action latency while an initial sync runs (issue 19), in simulated time.

    python -m bench.sales_latency [--contacts 10000] [--actions 200] [--think 1.0]

One process: Azurite (real), both sandboxes and the API in-process (the API test harness), one AC budget in
the store shared by the pass and the seller. A seller ("Sam Seller", ActiveCampaign User) adds ``--actions``
leads of theirs that are not in ActiveCampaign yet to an automation, one after another with ``--think``
simulated seconds between clicks, through ``POST …/records/lead/{id}/automations`` (so each action checks
record access, syncs the lead on request and adds it), while the initial sync of ``--contacts`` Dynamics
contacts runs (passes of 540 s, 120 s between passes while imports are pending, as the queue worker does).
Reported: p50/p95/max of the actions that started while the sync ran, against the target p95 <= 1 s.

Simulated time (:class:`EventClock`): a sleep wakes in time order, and time moves only when no task can
run and, while an action is in progress, only when the action itself waits on the clock (for the budget or a
Retry-After): the action's own processing and Azurite round trips cost no simulated time, and neither does the
pass's work happening meanwhile. The sandboxes read the same clock, so AC's 5/s window and import delays hold
on it.

Why not ``bench/simclock.py``'s :class:`SimClock`: it drives sandboxes in another process, setting their clock
over loopback each time it moves, and counts only the I/O that goes through its own transports. Here the
sandboxes run in process and the seller's think time and the pass's waits share one event queue, so time stays
frozen while an action works and its latency never includes the pass's waits; the two clocks serve different
set-ups and are kept apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import heapq
import json
import statistics
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from bench.report import Row
from devtools.azurite import connection_string_from_env, running_azurite
from sync_core.engine.runner import SyncEngine
from tests.api.conftest import CID, Api, api_harness
from tests.api.sales_helpers import P, catalogue, owned_lead, record_path

TARGET_P95 = 1.0
PASS_BUDGET = 540.0
IMPORT_REQUEUE = 120.0


_SELLER: contextvars.ContextVar[bool] = contextvars.ContextVar("seller", default=False)
STALL_BREAK = 2.0
"""Wall seconds of an idle loop after which time moves even during an action (never seen; counted)."""


class EventClock:
    """A ``sync_core.clock.Clock`` whose sleeps wake in time order; time moves when the loop is idle."""

    def __init__(self, start: float) -> None:
        self._t = start
        self._heap: list[tuple[float, int, asyncio.Future[None]]] = []
        self._n = 0
        self.slept = 0.0
        self.in_action = False
        self._seller_sleeping = 0
        self.stall_breaks = 0

    def time(self) -> float:
        return self._t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._t, UTC)

    def monotonic(self) -> float:
        return self._t

    def advance(self, seconds: float) -> None:
        self._t += seconds

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._heap, (self._t + seconds, self._n, fut))
        self._n += 1
        seller = _SELLER.get()
        self._seller_sleeping += seller
        try:
            await fut
        finally:
            self._seller_sleeping -= seller

    def _may_move(self, idle_since: float, loop: asyncio.AbstractEventLoop) -> bool:
        if not self.in_action or self._seller_sleeping:
            return True
        if loop.time() - idle_since > STALL_BREAK:
            self.stall_breaks += 1
            return True
        return False

    async def tick(self) -> None:
        """Runs until cancelled: wakes the earliest sleeper whenever nothing else can run."""
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while True:
            if not await _idle(loop) or not self._heap:
                idle_since = loop.time()
                await asyncio.sleep(0.001)
                continue
            await asyncio.sleep(0.002)
            if not await _idle(loop) or not self._may_move(idle_since, loop):
                continue
            idle_since = loop.time()
            at, _, fut = heapq.heappop(self._heap)
            if not fut.done():
                self._t = max(self._t, at)
                fut.set_result(None)


async def _idle(loop: asyncio.AbstractEventLoop) -> bool:
    for _ in range(3):
        await asyncio.sleep(0)
        if getattr(loop, "_ready", None):
            return False
    return True


async def _initial_sync(api: Api, clock: EventClock, state: dict[str, Any]) -> None:
    assert api.rt.clients is not None
    engine = SyncEngine(api.rt.store, api.rt.clients.bound(api.rt.store, api.rt.secrets), clock=clock)
    started = clock.time()
    for _ in range(200):
        result = await engine.run_pass(CID, time_budget=PASS_BUDGET)
        state["passes"] += 1
        if result.outcome not in ("finished", "continued"):
            raise RuntimeError(f"pass {result.outcome}: {result.message}")
        if result.more_work:
            continue
        if result.open_imports:
            await clock.sleep(IMPORT_REQUEUE)
            continue
        break
    state["sync_seconds"] = clock.time() - started
    state["syncing"] = False


async def _seller(api: Api, clock: EventClock, leads: list[str], think: float, state: dict[str, Any]) -> None:
    h = api.auth("Sam Seller", lifetime=10 * 24 * 3600)
    _SELLER.set(True)  # this task and what it starts: the action's own waits
    for lead in leads:
        during = state["syncing"]
        start = clock.time()
        clock.in_action = True
        r = await api.client.post(f"{record_path('lead', lead)}/automations", json={"automation_id": "1"},
                                  headers=h)
        clock.in_action = False
        state["actions"].append({"seconds": clock.time() - start, "status": r.status_code, "during_sync": during})
        await clock.sleep(think)


def _summary(actions: list[dict[str, Any]]) -> dict[str, Any]:
    during = sorted(a["seconds"] for a in actions if a["during_sync"])
    if not during:
        return {"during_sync": 0}
    q = statistics.quantiles(during, n=100, method="inclusive") if len(during) > 1 else during * 99
    return {"during_sync": len(during), "p50": round(statistics.median(during), 3), "p95": round(q[94], 3),
            "max": round(during[-1], 3), "target_p95": TARGET_P95, "met": q[94] <= TARGET_P95,
            "not_200": sum(1 for a in actions if a["status"] != 200),
            "histogram": _histogram(during)}


def _histogram(values: list[float]) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[f"{v:.1f}"] = out.get(f"{v:.1f}", 0) + 1
    return out


async def run(contacts: int, n_actions: int, think: float, conn: str, page_size: int = 5000) -> dict[str, Any]:
    clock = EventClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ticker = asyncio.create_task(clock.tick())
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with api_harness(conn, "b" + uuid.uuid4().hex[:10], clock, Path(tmp), key,  # type: ignore[arg-type]
                                   seed_contacts=contacts, dv_page_size=page_size) as api:
                await api.connect()
                catalogue(api)
                r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
                r.raise_for_status()
                leads = [owned_lead(api, "Sam Seller", email=f"bench.lead.{i}@example.com") for i in range(n_actions)]
                state: dict[str, Any] = {"syncing": True, "passes": 0, "actions": []}
                await asyncio.gather(_initial_sync(api, clock, state), _seller(api, clock, leads, think, state))
                linked = await api.rt.store.count_links(CID, "contact")
                return {"contacts": contacts, "linked": linked, "passes": state["passes"],
                        "stall_breaks": clock.stall_breaks,
                        "sync_seconds": round(state["sync_seconds"], 1), "actions": n_actions, "think": think,
                        "dynamics_page_size": page_size,
                        **_summary(state["actions"])}
    finally:
        ticker.cancel()


@contextmanager
def _azurite() -> Iterator[str]:
    existing = connection_string_from_env()
    if existing:
        yield existing
        return
    with running_azurite() as az:
        yield az.connection_string


def measure(conn: str | None = None, *, contacts: int = 10_000, actions: int = 200, think: float = 1.0,
            page_size: int = 5000) -> dict[str, Any]:
    """One measurement, on ``conn``'s Azurite or one of its own."""
    if conn:
        return asyncio.run(run(contacts, actions, think, conn, page_size))
    with _azurite() as own:
        return asyncio.run(run(contacts, actions, think, own, page_size))


def summary_line(out: dict[str, Any]) -> str:
    verdict = "met" if out.get("met") else "NOT met"
    return (f"sales-action latency (simulated): p50 {out.get('p50')} s, p95 {out.get('p95')} s over "
            f"{out.get('during_sync')} actions during an initial sync of {out.get('contacts')} contacts; "
            f"target p95 <= {TARGET_P95} s: {verdict}")


def sales_rows(out: dict[str, Any]) -> list[Row]:
    n = out.get("during_sync", 0)
    return [Row(f"sales action p95, {n} adds to automation during an initial sync of {out.get('contacts'):,}",
                f"{out.get('p95')} s (p50 {out.get('p50')} s, not 200: {out.get('not_200')})",
                f"<= {TARGET_P95} s", bool(out.get("met")) and n > 0)]


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.sales_latency", description=__doc__.split("\n\n")[0])
    p.add_argument("--contacts", type=int, default=10_000)
    p.add_argument("--actions", type=int, default=200)
    p.add_argument("--think", type=float, default=1.0, help="simulated seconds between a seller's clicks")
    p.add_argument("--page-size", type=int, default=5000,
                   help="Dynamics page size of the pass (5000: the product's; small pages make it write "
                        "per record with contact/sync, the heaviest AC load)")
    args = p.parse_args()
    out = measure(contacts=args.contacts, actions=args.actions, think=args.think, page_size=args.page_size)
    print(json.dumps(out, indent=2))
    print(summary_line(out))


if __name__ == "__main__":
    main()
