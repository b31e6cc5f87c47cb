"""The engine's shape (issue 15): one contact followed through its outbound pass, and the protocol
that will carry ActiveCampaign → Dynamics, proven with a stub handler in both sinks."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

import pytest

from sync_core.engine.pass_state import Pass, PassCaches, TimeBox
from sync_core.engine.sink import Action, DryRunSink, LiveSink, Plan
from sync_core.model.state import RecordLink, RunRecord
from sync_core.store import LeaseLostError
from tests.engine.conftest import HarnessFactory

ENGINE = "sync_core.engine."
SERVICES = {
    "sync_core.engine.sink": "every stage writes through it",
    "sync_core.engine.pass_state": "the pass's state (time box, counts)",
    "sync_core.engine.mapping": "value conversions, used while planning and while writing",
    "sync_core.engine.people_rows": "the planned record's properties",
    "sync_core.engine.link_index": "kept in step by the sink",
    "sync_core.engine.lease_keeper": "the lease guard every API call asks first",
    "sync_core.engine.history": "the change notes every writing stage puts on the link",
    "sync_core.engine.consent": "the opt-out rules, asked while planning and carried out while writing",
    "sync_core.engine.deletes": "suppressions asked while planning; what follows a delete found by any stage",
}
"""Modules every stage calls by design; the flow is the order of the others."""


class FlowTrace:
    """Engine modules entered on the pass's own task, in order, and — along the record's own path, from
    the page the Dynamics read hands over until it is written — modules re-entered after being left.

    Building an object (a handler, a writer: ``__init__``) is not a step the record takes; a handler's
    ``prepare`` (what to read) runs before the read, so the record's path starts at the page.
    """

    def __init__(self) -> None:
        self.order: list[str] = []
        self.path: list[str] = []
        self.reentered: list[tuple[str, list[str]]] = []
        self._seen: dict[int, FrameType] = {}
        """Entered frames, kept alive so that no new frame reuses a dead one's id."""

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call" or id(frame) in self._seen:
            return  # a coroutine resuming is not a new entry
        module = str(frame.f_globals.get("__name__", ""))
        if not module.startswith(ENGINE) or module in SERVICES:
            return
        self._seen[id(frame)] = frame
        chain, f, on_main = [], frame.f_back, False
        while f is not None:
            name = str(f.f_globals.get("__name__", ""))
            if name.startswith(ENGINE):
                chain.append(name)
                on_main = on_main or name == "sync_core.engine.runner"
            f = f.f_back
        if not on_main:
            return  # a child task (gather): its parent stage is still running
        on_record_path = "sync_core.engine.page" in chain or module == "sync_core.engine.page"
        if on_record_path and frame.f_code.co_name != "__init__":
            if module in self.path and module not in chain:
                self.reentered.append((f"{module}:{frame.f_code.co_name}", list(reversed(chain))))
            if module not in self.path:
                self.path.append(module)
        if module not in self.order:
            self.order.append(module)


async def test_one_contact_goes_through_each_engine_module_once(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=1)
    await h.run()  # the first pass learns where AC's contact ids start
    await h.dv_create("contacts", {"lastname": "Traced", "emailaddress1": "traced@example.org"})
    h.clock.advance(60)
    engine = h.engine()
    trace = FlowTrace()
    sys.setprofile(trace)
    try:
        result = await engine.run_pass(h.cid)
    finally:
        sys.setprofile(None)
    assert result.outcome == "finished", result.message
    assert "traced@example.org" in h.ac_by_email()
    assert trace.reentered == [], trace.reentered
    assert [m.removeprefix(ENGINE) for m in trace.order] == [
        "runner", "clients", "pass_order", "imports", "fanout", "ac_reader", "link_scan", "pull", "people",
        "entity_pass", "handler",
        "dynamics_reader", "page", "merges", "qualification", "people_write", "ac_recheck", "import_overlap",
    ], " ".join(m.removeprefix(ENGINE) for m in trace.order)
    assert [m.removeprefix(ENGINE) for m in trace.path] == [
        "page", "merges", "qualification", "people", "people_write", "ac_recheck",
    ], " ".join(m.removeprefix(ENGINE) for m in trace.path)


class StubInbound:
    """A stand-in AC → Dynamics handler: plans an update of each record, writes a link per action."""

    entity = "contact"

    def __init__(self) -> None:
        self.fields: list[Any] = []
        self.open_errors: set[str] = set()
        self.written: list[str] = []

    async def plan(self, p: Pass, records: Sequence[dict[str, Any]], *, full_read: bool) -> Plan:
        return Plan("contact", actions=[Action("pull_update", r["id"], r["email"], item=r) for r in records],
                    writer=self)

    async def write(self, p: Pass, plan: Plan) -> None:
        for a in plan.actions:
            self.written.append(a.record_id)
        await p.sink.save_links([RecordLink("contact", a.record_id, f"ac-{a.record_id}", email=a.label)
                                 for a in plan.actions])


def _pass(h: Any, sink: Any, run: RunRecord, caches: PassCaches) -> Pass:
    return Pass(connection=h.config, store=h.store, ac=None, dv=None, clock=h.clock, run=run,  # type: ignore[arg-type]
                time=TimeBox(h.clock, h.clock.monotonic() + 60), sink=sink, caches=caches)


async def test_an_inbound_handler_runs_through_the_same_protocol_into_either_sink(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=1)
    records = [{"id": f"d{i}", "email": f"p{i}@example.org"} for i in range(3)]

    dry_run = RunRecord("dry", h.clock.now(), "test")
    dry, stub = DryRunSink(dry_run), StubInbound()
    p = _pass(h, dry, dry_run, PassCaches())
    await p.sink.apply(p, await stub.plan(p, records, full_read=False))
    assert stub.written == [] and dry_run.counts["contact"] == {"would_pull_update": 3}
    assert [s["id"] for s in dry.samples["contact"]] == ["d0", "d1", "d2"]
    assert await h.links() == []

    # The live sink writes, through the fence of the lease it holds ...
    lease = await h.store.acquire_lease(h.cid, "stub/1", ttl=60)
    fence = await h.store.claim_fence(lease)
    run, caches = RunRecord("live", h.clock.now(), "test"), PassCaches()
    live = LiveSink(h.store.fenced(fence), cid=h.cid, clock=h.clock, run=run, caches=caches)
    p = _pass(h, live, run, caches)
    await p.sink.apply(p, await stub.plan(p, records[:2], full_read=False))
    assert sorted(link.dynamics_id for link in await h.links()) == ["d0", "d1"]

    # ... and only it checks the fence: once a newer pass holds the connection, nothing more lands.
    h.clock.advance(61)
    newer = await h.store.acquire_lease(h.cid, "stub/2", ttl=60)
    await h.store.claim_fence(newer)
    with pytest.raises(LeaseLostError):
        await p.sink.apply(p, await stub.plan(p, records[2:], full_read=False))
    assert sorted(link.dynamics_id for link in await h.links()) == ["d0", "d1"]
    p_dry = _pass(h, DryRunSink(dry_run), dry_run, PassCaches())
    await p_dry.sink.apply(p_dry, await stub.plan(p_dry, records[2:], full_read=False))  # no fence, no write
