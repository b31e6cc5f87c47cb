"""Validation against both systems' metadata and the dry-run preview of an unsaved configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sync_core.api.errors import ApiError, upstream_error
from sync_core.api.schemas import ConfigIssueOut
from sync_core.dynamics import compile_criteria
from sync_core.engine import ConnectionClients, SyncEngine
from sync_core.engine.pass_order import ENGINE_ENTITIES
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID
from sync_core.engine.validation import validate_connection_config
from sync_core.model import errors as model
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.api.context import ApiContext
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime
    from sync_core.store import SyncStore


@asynccontextmanager
async def both_clients(ctx: ApiContext, config: ConnectionConfig, *, people: bool = False
                       ) -> AsyncIterator[tuple[ActiveCampaignClient, DataverseClient]]:
    rt = await ctx.runtime()
    async with ctx.dynamics(config, people=people) as dv:  # checks the connection against the host policy first
        key = await rt.secrets.get_secret(secret_names(config)["activecampaign_api_key"])
        if not key:
            raise ApiError(409, "not_connected", "the connection has no ActiveCampaign key: connect it first")
        async with ctx.activecampaign(config.activecampaign.api_url, key, people=people) as ac:
            yield ac, dv


async def metadata_issues(ctx: ApiContext, config: ConnectionConfig) -> list[ConfigIssueOut]:
    """The metadata validation (pydantic has already checked the shape)."""
    try:
        async with both_clients(ctx, config) as (ac, dv):
            found = await validate_connection_config(config, dv=dv, ac=ac)
    except model.SyncError as e:
        raise upstream_error(e, _service(e)) from None
    return [ConfigIssueOut(field=i.field, message=i.message, candidates=getattr(i, "candidates", None))
            for i in found]


def _service(e: model.SyncError) -> str:
    return e.service or "upstream"


class _CandidateStore:
    """The real store, except that the connection's configuration is the candidate one."""

    def __init__(self, store: SyncStore, config: ConnectionConfig) -> None:
        self._store = store
        self._config = config

    async def get_config(self, connection_id: str) -> ConnectionConfig | None:
        return self._config if connection_id == self._config.connection_id else None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class _ApiClientFactory:
    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def open(self, config: ConnectionConfig, *, guard: object = None) -> Any:
        return self._open(config)  # previews are dry runs: no lease to guard

    @asynccontextmanager
    async def _open(self, config: ConnectionConfig) -> AsyncIterator[ConnectionClients]:
        async with both_clients(self._ctx, config) as (ac, dv):
            yield ConnectionClients(ac=ac, dv=dv)


SAMPLES_PER_KIND = 5
_NAME = {"account": "name", "contact": "fullname", "lead": "fullname"}


async def samples(ctx: ApiContext, rt: Runtime, config: ConnectionConfig) -> list[dict[str, Any]]:
    """A few records per outcome, read with the criteria compiled to ``$filter`` (the engine's own
    compiler, which agrees with its in-memory evaluation): skipped by the criteria, already linked
    (updated when changed), matching an AC contact by email (linked), or new (created)."""
    out: list[dict[str, Any]] = []
    async with both_clients(ctx, config) as (ac, dv):
        for entity in ("contact", "lead"):
            mapping = config.entities.of(entity)
            if entity not in ENGINE_ENTITIES or not mapping.enabled or mapping.direction == "pull":
                continue
            meta = await dv.entity_metadata(entity)
            types = {a.logical_name: a.type_name for a in meta.attributes.values()}
            flt = compile_criteria(mapping.criteria, column_types=types) if mapping.scope == "criteria" else None
            id_col, name_col = PRIMARY_ID[entity], _NAME[entity]
            select = [id_col, name_col, "emailaddress1"]

            def row(r: dict[str, Any], outcome: str, ent: str = entity, idc: str = id_col,
                    namec: str = name_col) -> dict[str, Any]:
                return {"entity": ent, "outcome": outcome, "dynamics_id": str(r.get(idc)), "name": r.get(namec),
                        "email": r.get("emailaddress1")}

            if flt:
                for r in (await _first(dv, ENTITY_SET[entity], select, f"not ({flt})")):
                    out.append(row(r, "skipped_criteria"))
            for r in await _first(dv, ENTITY_SET[entity], select, flt, n=SAMPLES_PER_KIND * 3):
                link = await rt.store.get_link(config.connection_id, entity, str(r[id_col]))
                if link is not None:
                    out.append(row(r, "linked_update_if_changed"))
                elif not r.get("emailaddress1"):
                    out.append(row(r, "skipped_no_email"))
                elif await ac.find_contact_by_email(str(r["emailaddress1"])) is not None:
                    out.append(row(r, "would_link_by_email"))
                else:
                    out.append(row(r, "would_create"))
    per: dict[tuple[str, str], int] = {}
    kept = []
    for s in out:
        k = (s["entity"], s["outcome"])
        per[k] = per.get(k, 0) + 1
        if per[k] <= SAMPLES_PER_KIND:
            kept.append(s)
    return kept


async def _first(dv: DataverseClient, entity_set: str, select: list[str], flt: str | None, *,
                 n: int = SAMPLES_PER_KIND) -> list[dict[str, Any]]:
    async for page in dv.query(entity_set, select=select, filter=flt, top=n):
        return page.records
    return []


async def dry_run(ctx: ApiContext, rt: Runtime, config: ConnectionConfig, time_budget: float) -> dict[str, Any]:
    """What a pass with ``config`` would do: counts per entity, nothing written."""
    engine = SyncEngine(_CandidateStore(rt.store, config), _ApiClientFactory(ctx),  # type: ignore[arg-type]
                        clock=rt.clock, holder=f"preview-{config.connection_id}")
    result = await engine.run_pass(config.connection_id, reason="preview", dry_run=True, time_budget=time_budget)
    if result.outcome == "lease_held":
        raise ApiError(409, "sync_running", "a sync of this connection is running; preview again when it is done")
    run = result.run
    return {"counts": dict(run.counts) if run else {}, "api_calls": dict(run.api_calls) if run else {},
            "message": result.message, "outcome": result.outcome}
