"""One pass of one connection: lease, read both sides, write, checkpoint, continue if cut short.

Order per DESIGN.md §3: outstanding imports and the AC read come before any write, then the
entities in the order accounts → contacts and leads → opportunities. A pass is time-boxed:
it stops between pages when its budget is spent and reports ``more_work`` so the worker
enqueues its continuation; every cursor it saved is already durable.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
)

from sync_core import telemetry
from sync_core.clock import Clock
from sync_core.engine.clients import ConnectionOpener
from sync_core.engine.lease_keeper import LEASE_TTL_SECONDS, LeaseKeeper
from sync_core.engine.pass_order import ENGINE_ENTITIES, PASS_ORDER, run_entities
from sync_core.engine.pass_state import Checkpoint, Pass, PassCaches, TimeBox, no_checkpoint
from sync_core.engine.sink import DryRunSink, LiveSink, Sink
from sync_core.model.codes import Service
from sync_core.model.config import FREQUENCY_HOURS, ConnectionConfig
from sync_core.model.errors import AuthenticationError, FatalError
from sync_core.model.state import RunRecord, Side
from sync_core.store import LeaseHeldError, LeaseLostError, SyncStore

log = logging.getLogger("sync_core.engine")

__all__ = ["ENGINE_ENTITIES", "PASS_ORDER", "PassResult", "SyncEngine"]

Outcome = Literal["finished", "continued", "lease_held", "collapsed", "skipped", "failed", "missing"]

CRASHED = ("the pass stopped without finishing (its worker was killed or crashed); the next pass went on "
           "from the last checkpoint")


@dataclass
class PassResult:
    outcome: Outcome
    run: RunRecord | None = None
    message: str | None = None
    open_imports: int = 0
    """Bulk imports still to be confirmed: a later pass completes their links."""
    imports_due_in: float | None = None
    """Seconds until AC should have processed the newest open import: its sending plus the shortest
    processing time this pass saw; none seen, as long again as the oldest has been open (so a slow AC
    is asked at doubling intervals). ``None``: no open import."""
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    """Dry runs: a few examples of each planned action, by entity."""
    held_by: str | None = None
    held_until: datetime | None = None
    """``lease_held``: who holds the connection, and until when unless it renews."""
    retry: bool = False
    """``failed`` for a cause outside the connection (storage down): try the same request again later."""

    @property
    def more_work(self) -> bool:
        return self.outcome == "continued"


class SyncEngine:
    """Runs passes for connections kept in ``store``."""

    def __init__(self, store: SyncStore, clients: ConnectionOpener, *, clock: Clock, holder: str | None = None,
                 checkpoint: Checkpoint = no_checkpoint, lease_ttl: float = LEASE_TTL_SECONDS) -> None:
        self._store = store
        self._clients = clients
        self._clock = clock
        self.holder = holder or f"worker-{uuid.uuid4().hex[:8]}"
        """This engine's name; each pass holds the lease as ``<holder>/<pass>``."""
        self._checkpoint = checkpoint
        self.lease_ttl = lease_ttl

    async def run_pass(self, connection_id: str, *, reason: str = "manual", requested_at: datetime | None = None,
                       time_budget: float | None = None, dry_run: bool = False) -> PassResult:
        try:
            return await self._run_pass(connection_id, reason=reason, requested_at=requested_at,
                                        time_budget=time_budget, dry_run=dry_run)
        except ClientAuthenticationError as e:
            # azure-identity could not get a token for Dynamics: a person must fix the sign-in.
            log.error("pass of %s: Dynamics sign-in failed: %s", connection_id, type(e).__name__)
            return PassResult("failed", message=f"Dynamics sign-in failed: {e.message}")
        except (ServiceRequestError, ServiceResponseError, HttpResponseError) as e:
            # The state store (or Key Vault) is unreachable: nothing was checkpointed past durable work,
            # so the same request is simply tried again later.
            log.error("pass of %s stopped: Azure storage unavailable (%s)", connection_id, type(e).__name__)
            return PassResult("failed", message=f"Azure storage unavailable ({type(e).__name__}); retried later",
                              retry=True)

    async def _run_pass(self, connection_id: str, *, reason: str, requested_at: datetime | None,
                        time_budget: float | None, dry_run: bool) -> PassResult:
        config = await self._store.get_config(connection_id)
        if config is None:
            return PassResult("missing", message=f"no connection {connection_id}")
        if not config.sync.global_enabled and not dry_run:
            return PassResult("skipped", message="global sync is off")
        budget = time_budget if time_budget is not None else config.sync.time_budget_seconds
        holder = f"{self.holder}/{uuid.uuid4().hex[:8]}"
        try:
            lease = await self._store.acquire_lease(connection_id, holder, ttl=self.lease_ttl)
        except LeaseHeldError as e:
            return PassResult("lease_held", message="another pass holds this connection", held_by=e.holder,
                              held_until=e.expires_at)
        keeper = LeaseKeeper(self._store, lease, clock=self._clock, ttl=self.lease_ttl)
        try:
            store = self._store
            if not dry_run:
                if requested_at is not None:
                    runs = await self._store.list_runs(connection_id, limit=1)
                    if runs and runs[0].started_at > requested_at and runs[0].status == "finished":
                        # A pass that started after this request was made and finished covers it; one that
                        # failed (or was killed, or stopped) may have written nothing of what was asked.
                        return PassResult("collapsed", run=runs[0])
                await self._mark_crashed(connection_id)
                store = self._store.fenced(await self._store.claim_fence(lease))
            return await self._pass(config, store, keeper, reason=reason, budget=budget, dry_run=dry_run)
        except LeaseLostError as e:
            log.warning("pass of %s stopped: %s", connection_id, e)
            return PassResult("lease_held", message=str(e))
        finally:
            await self._store.release_lease(keeper.lease)

    async def _mark_crashed(self, cid: str) -> None:
        """Runs still ``running`` when we hold the lease belong to passes that died."""
        for run in await self._store.list_runs(cid, limit=10):
            if run.status == "running":
                run.status, run.message = "failed", CRASHED
                run.finished_at = run.finished_at or self._clock.now()
                await self._store.save_run(cid, run)

    async def _pass(self, config: ConnectionConfig, store: SyncStore, keeper: LeaseKeeper, *, reason: str,
                    budget: float, dry_run: bool) -> PassResult:
        connection_id = config.connection_id
        run = RunRecord(run_id=self._run_id(), started_at=self._clock.now(), reason=reason,
                        status="dry_run" if dry_run else "running")
        if not dry_run:
            await self._store.save_run(connection_id, run)
        caches = PassCaches()
        sink: Sink = DryRunSink(run) if dry_run else LiveSink(store, cid=connection_id, clock=self._clock, run=run,
                                                              caches=caches)
        async with self._clients.open(config, guard=None if dry_run else keeper) as clients:
            p = Pass(connection=config, store=self._store, ac=clients.ac, dv=clients.dv, clock=self._clock, run=run,
                     time=TimeBox(self._clock, self._clock.monotonic() + budget), sink=sink,
                     checkpoint=self._checkpoint, caches=caches)
            ac_calls, dv_calls = clients.ac.calls.snapshot(), clients.dv.calls.snapshot()
            try:
                await run_entities(p)
                run.status = "dry_run" if dry_run else ("continued" if p.time.more_work else "finished")
                if p.outcome.failed and not dry_run:
                    run.status = "failed"
                if p.outcome.notes:
                    run.message = "; ".join(p.outcome.notes)
            except FatalError as e:
                run.status, run.message = "failed", f"{type(e).__name__}: {e.message}"
                log.error("pass of %s failed: %s", connection_id, run.message)
                if isinstance(e, AuthenticationError) and e.service is not None:
                    side: Side = "activecampaign" if e.service == Service.ACTIVECAMPAIGN else "dynamics"
                    telemetry.credentials_rejected(connection_id, side)
            except LeaseLostError as e:
                run.status, run.message = "failed", f"stopped: {e}"
                raise
            finally:
                run.api_calls = {"activecampaign": clients.ac.calls.since(ac_calls),
                                 "dynamics": clients.dv.calls.since(dv_calls)}
                run.finished_at = self._clock.now()
                if not dry_run:
                    await self._store.save_run(connection_id, run)
                    _emit_telemetry(config.connection_id, run, config.sync.frequency)
        outcome: Outcome = "continued" if run.status == "continued" else (
            "failed" if run.status == "failed" else "finished")
        open_imports, due_in = (0, None) if dry_run else await self._open_imports(connection_id, p.imports.lag_seconds)
        return PassResult(outcome, run=run, message=run.message, open_imports=open_imports, imports_due_in=due_in,
                          samples=sink.samples)

    async def _open_imports(self, cid: str, lag: float | None) -> tuple[int, float | None]:
        submitted = await self._store.list_imports(cid, status="submitted")
        completed = await self._store.list_imports(cid, status="completed")
        if not submitted:
            return len(completed), 0.0 if completed else None  # processed: their ids can be read now
        now = self._clock.now()
        if lag is None:
            return len(submitted) + len(completed), (now - min(b.submitted_at for b in submitted)).total_seconds()
        newest = max(b.submitted_at for b in submitted)
        return len(submitted) + len(completed), max(0.0, (newest - now).total_seconds() + lag)

    def _run_id(self) -> str:
        # Inverted time sorts newest first; the suffix keeps two runs of one second apart.
        return f"{self._clock.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _emit_telemetry(cid: str, run: RunRecord, frequency: str) -> None:
    duration = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    for entity, counts in run.counts.items():
        telemetry.pass_finished(cid, entity, "push", counts, duration)
        telemetry.errors_recorded(cid, entity, counts.get("errors", 0))
    if run.status == "finished":
        telemetry.connection_synced(cid, FREQUENCY_HOURS[frequency])
