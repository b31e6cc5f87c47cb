"""Validation against both systems' metadata and the dry-run preview of an unsaved configuration."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sync_core.api.errors import ApiError, upstream_error
from sync_core.api.schemas import ConfigIssueOut
from sync_core.engine import ConnectionClients, SyncEngine
from sync_core.model import errors as model
from sync_core.model.config import ConnectionConfig

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.api.context import ApiContext
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime
    from sync_core.store import SyncStore


@asynccontextmanager
async def both_clients(ctx: ApiContext, config: ConnectionConfig
                       ) -> AsyncIterator[tuple[ActiveCampaignClient, DataverseClient]]:
    rt = await ctx.runtime()
    key = await rt.secrets.get_secret(config.activecampaign.api_key_secret)
    if not key:
        raise ApiError(409, "not_connected", "the connection has no ActiveCampaign key: connect it first")
    async with ctx.clients.activecampaign(rt, config.activecampaign.api_url, key) as ac, \
            ctx.dynamics(config.dynamics) as dv:
        yield ac, dv


async def metadata_issues(ctx: ApiContext, config: ConnectionConfig) -> list[ConfigIssueOut]:
    """The engine's metadata validation when it is there (pydantic has already checked the shape)."""
    try:
        from sync_core.engine.validation import validate_connection_config
    except ImportError:
        return []
    try:
        async with both_clients(ctx, config) as (ac, dv):
            found = await validate_connection_config(config, dv=dv, ac=ac)
    except model.SyncError as e:
        raise upstream_error(e, _service(e)) from None
    return [ConfigIssueOut(field=i.field, message=i.message, candidates=getattr(i, "candidates", None))
            for i in found]


def _service(e: Exception) -> str:
    return "activecampaign" if type(e).__module__.startswith("sync_core.activecampaign") else "dynamics"


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

    def open(self, config: ConnectionConfig) -> Any:
        return self._open(config)

    @asynccontextmanager
    async def _open(self, config: ConnectionConfig) -> AsyncIterator[ConnectionClients]:
        async with both_clients(self._ctx, config) as (ac, dv):
            yield ConnectionClients(ac=ac, dv=dv)


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
