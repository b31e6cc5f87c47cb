"""Sync settings (global on/off, frequency, initial sync) and sync now."""

from __future__ import annotations

from fastapi import APIRouter, Response

from sync_core.api import audit_log
from sync_core.api.context import AdminDep
from sync_core.api.errors import WITH_CONFLICT, ApiError, documented
from sync_core.api.progress import initial_state, progress
from sync_core.api.routes_connection import save_config
from sync_core.api.schemas import SyncNowResult, SyncSettingsUpdate, SyncSettingsView
from sync_core.engine.scheduling import PassRequest
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names

router = APIRouter(tags=["sync"])
ERRORS = documented(*WITH_CONFLICT)


async def settings_view(a: AdminDep, config: ConnectionConfig) -> SyncSettingsView:
    items = await progress(a.runtime.store, config, a.runtime.clock.now())
    return SyncSettingsView(global_enabled=config.sync.global_enabled, frequency=config.sync.frequency,
                            initial_sync=initial_state(config, items), progress=items)


@router.get("/api/connections/{connection_id}/sync", response_model=SyncSettingsView, responses=ERRORS,
            summary="Global sync, job frequency and the initial sync's state")
async def get_sync(a: AdminDep) -> SyncSettingsView:
    return await settings_view(a, a.config)


@router.put("/api/connections/{connection_id}/sync", response_model=SyncSettingsView, responses=ERRORS,
            summary="Turn global sync on or off, set the frequency (turning it on starts the initial sync)")
async def put_sync(a: AdminDep, body: SyncSettingsUpdate) -> SyncSettingsView:
    config = a.config.model_copy(deep=True)
    if body.global_enabled is not None:
        config.sync.global_enabled = body.global_enabled
    if body.frequency is not None:
        config.sync.frequency = body.frequency
    turned_on = config.sync.global_enabled and not a.config.sync.global_enabled
    if turned_on and not await a.runtime.secrets.has_secret(secret_names(config)["activecampaign_api_key"]):
        raise ApiError(409, "not_connected", "connect ActiveCampaign before turning sync on", field="global_enabled")
    await save_config(a.runtime, config, a.etag)
    await audit_log.record(a.runtime, config.connection_id, a.caller, "update_sync",
                           before=a.config.sync.model_dump(mode="json"), after=config.sync.model_dump(mode="json"))
    view = await settings_view(a, config)
    if turned_on:
        reason = "initial" if view.initial_sync != "done" else "sync_now"
        await a.runtime.queue.send(PassRequest(connection_id=config.connection_id, reason=reason,
                                               requested_at=a.runtime.clock.now()))
    return view


@router.post("/api/connections/{connection_id}/sync/now", response_model=SyncNowResult, status_code=202,
             responses=ERRORS, summary="Queue a pass now (collapses with a pass already pending)")
async def sync_now(a: AdminDep, response: Response) -> SyncNowResult:
    if not a.config.sync.global_enabled:
        raise ApiError(409, "sync_off", "global sync is off: turn it on first", field="global_enabled")
    now = a.runtime.clock.now()
    await a.runtime.queue.send(PassRequest(connection_id=a.config.connection_id, reason="sync_now", requested_at=now))
    await audit_log.record(a.runtime, a.config.connection_id, a.caller, "sync_now")
    return SyncNowResult(queued=True, requested_at=now)
