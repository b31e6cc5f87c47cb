"""The sync process, measured on its own: ``python -m bench.worker JOB.json RESULT.json``.

``engine`` jobs run the product as the queue worker does (``handle_request`` with its re-queue
delays) against the sandboxes on loopback until the queue is empty. ``generic`` jobs run what a
generic integration does: one ``contact/sync`` per Dynamics contact. Both use a :class:`SimClock`;
the result holds simulated, wall and CPU seconds, the peak RSS and every API call by kind.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.simclock import LatencyTransport, SimClock, store_io
from bench.stack import AC_KEY, DV_TOKEN

MAX_PASSES = 400


class SimQueue:
    """The pass queue in memory; a message becomes visible ``delay_seconds`` of simulated time later."""

    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()

    async def send(self, request: Any, *, delay_seconds: int = 0) -> None:
        heapq.heappush(self._heap, (self._clock.time() + delay_seconds, next(self._seq), request))

    def pop(self) -> tuple[float, Any] | None:
        if not self._heap:
            return None
        due, _, request = heapq.heappop(self._heap)
        return due, request


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


async def run_engine(job: dict[str, Any], clock: SimClock, transport: LatencyTransport) -> dict[str, Any]:
    from sync_core.engine import ClientFactory, SyncEngine
    from sync_core.engine.scheduling import PassRequest, handle_request
    from sync_core.model.hosts import HostPolicy
    from sync_core.store import LocalSecretStore, SyncStore

    store = SyncStore.from_connection_string(job["storage"], table_prefix=job["prefix"], clock=clock)
    store_io(store, clock)
    factory = ClientFactory(clock=clock, ac_options=job.get("ac_options") or None, ac_transport=transport,
                            dv_transport=transport, host_policy=HostPolicy(local=True))  # the loopback stand-ins
    engine = SyncEngine(store, factory.bound(store, LocalSecretStore(job["secrets_path"])), clock=clock,
                        holder="bench-worker")
    queue = SimQueue(clock)
    cid = job["connection_id"]
    start = clock.time()
    await queue.send(PassRequest(connection_id=cid, reason=job.get("reason", "timer"), requested_at=clock.now()))
    passes: list[dict[str, Any]] = []
    ac_calls: dict[str, int] = {}
    dv_calls: dict[str, int] = {}
    counts: dict[str, dict[str, int]] = {}
    try:
        while (item := queue.pop()) is not None:
            due, request = item
            if due > clock.time():
                await clock.sleep(due - clock.time())
            began = clock.time()
            handled = await handle_request(engine, queue, request, clock=clock)
            result = handled.result
            if result.outcome in ("failed", "missing", "skipped"):
                raise RuntimeError(f"pass {len(passes) + 1}: {result.outcome}: {result.message}")
            run = result.run
            if run is not None:
                _add(ac_calls, run.api_calls.get("activecampaign", {}))
                _add(dv_calls, run.api_calls.get("dynamics", {}))
                for entity, per in run.counts.items():
                    _add(counts.setdefault(entity, {}), per)
            passes.append({"reason": request.reason, "outcome": result.outcome, "sim_start": began - start,
                           "sim_seconds": clock.time() - began, "open_imports": result.open_imports,
                           "ac_calls": dict(run.api_calls.get("activecampaign", {})) if run else {}})
            print(f"  pass {len(passes)} ({request.reason}): {result.outcome}, {clock.time() - began:.0f} s sim, "
                  f"AC calls {sum((run.api_calls.get('activecampaign') or {}).values()) if run else 0}, "
                  f"open imports {result.open_imports}", file=sys.stderr, flush=True)
            if len(passes) >= MAX_PASSES:
                raise RuntimeError("the connection did not become idle")
    finally:
        table_calls = store.table_calls
        await store.close()
    return {"sim_seconds": clock.time() - start, "passes": passes, "ac_calls": ac_calls, "dv_calls": dv_calls,
            "counts": counts, "table_calls": table_calls}


async def run_generic(job: dict[str, Any], clock: SimClock, transport: LatencyTransport) -> dict[str, Any]:
    """One contact/sync per contact through the product's AC client and an in-process 5/s budget."""
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    start = clock.time()
    dv = DataverseClient(job["dv_url"], StaticTokenCredential(DV_TOKEN), clock=clock, transport=transport)
    ac = ActiveCampaignClient(job["ac_url"], AC_KEY, clock=clock, transport=transport)
    synced = 0
    try:
        async for page in dv.query("contacts", select=["emailaddress1", "firstname", "lastname", "telephone1"],
                                   top=int(job["sample"])):
            for r in page.records:
                if not r.get("emailaddress1"):
                    continue
                await ac.sync_contact({"email": r["emailaddress1"], "firstName": r.get("firstname") or "",
                                       "lastName": r.get("lastname") or "", "phone": r.get("telephone1") or ""})
                synced += 1
        ac_calls, dv_calls = ac.calls.snapshot(), dv.calls.snapshot()
    finally:
        await ac.aclose()
        await dv.aclose()
    return {"sim_seconds": clock.time() - start, "ac_calls": ac_calls, "dv_calls": dv_calls,
            "counts": {"contact": {"created": synced}}, "passes": []}


async def _main(job: dict[str, Any]) -> dict[str, Any]:
    clock = await SimClock.attach(job["ac_url"])
    transport = LatencyTransport(clock)  # the API calls: I/O the clock waits for, then the announced latency
    try:
        wall0, cpu0 = time.perf_counter(), time.process_time()
        run = run_generic if job["mode"] == "generic" else run_engine
        body = await run(job, clock, transport)
        body["wall_seconds"] = time.perf_counter() - wall0
        body["cpu_seconds"] = time.process_time() - cpu0
        body["slept"] = clock.slept
        body["latency_waited"] = transport.waited
        body["clock_moves"] = clock.moves
    finally:
        await transport.close()
        await clock.aclose()
    return body


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text())
    profile_dir = os.environ.get("BENCH_PROFILE")
    if profile_dir:
        # BENCH_PROFILE=<dir>: a cProfile of each sync process, named after its job file.
        import cProfile

        profiler = cProfile.Profile()
        body = profiler.runcall(asyncio.run, _main(job))
        profiler.dump_stats(str(Path(profile_dir) / (Path(argv[0]).stem + ".prof")))
    else:
        body = asyncio.run(_main(job))
    # ru_maxrss is in KiB on Linux: the whole process's peak, interpreter and imports included.
    body["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(argv[1]).write_text(json.dumps(body))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
