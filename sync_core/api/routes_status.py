"""Status and sync health: progress, runs, budget, errors and their retry; audit."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from sync_core.api import audit_log
from sync_core.api.context import AdminDep
from sync_core.api.errors import STANDARD, ApiError, documented
from sync_core.api.progress import progress
from sync_core.api.schemas import AuditView, ErrorView, RetryRequest, RetryResult, RunView, StatusView
from sync_core.model.codes import code_of
from sync_core.model.secrets import secret_names
from sync_core.model.state import EntityName, RecordError, RunRecord, Side

router = APIRouter(tags=["status"])
ERRORS = documented(*STANDARD)


def run_view(r: RunRecord) -> RunView:
    return RunView(run_id=r.run_id, reason=r.reason, status=r.status, started_at=r.started_at,
                   finished_at=r.finished_at, counts=r.counts, api_calls=r.api_calls, message=r.message)


def error_view(e: RecordError) -> ErrorView:
    return ErrorView(entity=e.entity, side=e.side, record_id=e.record_id, code=code_of(e.code), cause=e.cause[:2000],
                     attempts=e.attempts, retriable=e.retriable, first_seen=e.first_seen, last_seen=e.last_seen,
                     next_retry=e.next_retry)


@router.get("/api/connections/{connection_id}/status", response_model=StatusView, responses=ERRORS,
            summary="Progress, last runs, API calls per side, last successful sync per entity")
async def status(a: AdminDep, runs: Annotated[int, Query(ge=1, le=100)] = 10) -> StatusView:
    rt, cid = a.runtime, a.config.connection_id
    now = rt.clock.now()
    recent = await rt.store.list_runs(cid, limit=max(runs, 50))
    calls: dict[str, int] = {"activecampaign": 0, "dynamics": 0}
    last_success: dict[str, Any] = {}
    for r in recent:
        if r.started_at >= now - timedelta(hours=24):
            for side, per_kind in r.api_calls.items():
                calls[side] = calls.get(side, 0) + sum(per_kind.values())
        if r.status in ("finished", "continued"):
            for entity in r.counts:
                if last_success.get(entity) is None:
                    last_success[entity] = r.finished_at or r.started_at
    for key in ("account", "contact", "lead", "opportunity"):
        if a.config.entities.of(key).enabled:
            last_success.setdefault(key, None)
    key_set = await rt.secrets.has_secret(secret_names(a.config)["activecampaign_api_key"])
    directions = {e: a.config.entities.of(e).direction for e in ("account", "contact", "lead", "opportunity")
                  if a.config.entities.of(e).enabled}
    return StatusView(connection_id=cid, connected=key_set, global_enabled=a.config.sync.global_enabled,
                      directions=directions,
                      frequency=a.config.sync.frequency, progress=await progress(rt.store, a.config, now),
                      last_success=last_success, last_runs=[run_view(r) for r in recent[:runs]],
                      api_calls_24h=calls, open_errors=len(await rt.store.list_errors(cid, limit=1000)),
                      awaiting_import=await rt.store.count_awaiting_import(cid),
                      create_requests=await rt.store.count_requests(cid))


@router.get("/api/connections/{connection_id}/runs", response_model=list[RunView], responses=ERRORS,
            summary="The last passes, newest first, with counts per entity and API calls per side")
async def list_runs(a: AdminDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[RunView]:
    return [run_view(r) for r in await a.runtime.store.list_runs(a.config.connection_id, limit=limit)]


@router.get("/api/connections/{connection_id}/errors", response_model=list[ErrorView], responses=ERRORS,
            summary="Records that failed to sync, with filters")
async def list_errors(a: AdminDep, entity: EntityName | None = None, side: Side | None = None,
                      code: Annotated[str | None, Query(max_length=100)] = None, retriable: bool | None = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[ErrorView]:
    found = await a.runtime.store.list_errors(a.config.connection_id, entity=entity)
    out = [e for e in found if (side is None or e.side == side) and (code is None or e.code == code)
           and (retriable is None or e.retriable == retriable)]
    return [error_view(e) for e in out[:limit]]


@router.post("/api/connections/{connection_id}/errors/retry", response_model=RetryResult, responses=ERRORS,
             summary="Retry one record (entity, side, record_id) or all that match: their retry is due now")
async def retry_errors(a: AdminDep, body: RetryRequest) -> RetryResult:
    rt, cid = a.runtime, a.config.connection_id
    found = await rt.store.list_errors(cid, entity=body.entity)
    chosen = [e for e in found if (body.side is None or e.side == body.side)
              and (body.record_id is None or e.record_id == body.record_id)]
    if body.record_id is not None and not chosen:
        raise ApiError(404, "error_not_found", "no open error for this record", field="record_id")
    n = await rt.store.retry_errors(cid, chosen)
    await audit_log.record(rt, cid, a.caller, "retry_errors", detail={"count": n, **body.model_dump(mode="json")})
    return RetryResult(scheduled=n)


@router.get("/api/connections/{connection_id}/audit", response_model=list[AuditView], responses=ERRORS,
            summary="Configuration changes and actions: who, when, before and after")
async def list_audit(a: AdminDep, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[AuditView]:
    entries = await a.runtime.store.list_audit(a.config.connection_id, limit=limit)
    return [AuditView(at=e.at, actor=e.actor, action=e.action, target=e.target, before=e.before, after=e.after)
            for e in entries]
