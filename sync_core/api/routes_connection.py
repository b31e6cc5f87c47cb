"""Connect, read and disconnect: the AC API URL and key, the Dynamics environment.

Secrets are stored under names the server derives (``model.secrets``), never under a name from
the request; the checks before anything is stored are in :mod:`sync_core.api.connect`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter

from sync_core.api import audit_log
from sync_core.api.auth import Caller
from sync_core.api.connect import (
    check_activecampaign,
    check_app_identity,
    check_caller_in_environment,
    check_user_token,
    checked_settings,
)
from sync_core.api.context import CONNECTION_ID, AdminDep, ApiContext, CallerDep, Ctx
from sync_core.api.errors import STANDARD, WITH_CONFLICT, ApiError, documented
from sync_core.api.schemas import ConnectionView, ConnectRequest
from sync_core.model.config import ActiveCampaignSettings, ConnectionConfig, DynamicsSettings, to_document
from sync_core.model.secrets import IDENTITY_KINDS, mask, origin, secret_names
from sync_core.store.errors import StaleConfigError

if TYPE_CHECKING:
    from sync_core.runtime import Runtime

log = logging.getLogger("sync_core.api")
router = APIRouter(tags=["connection"])


async def view(ctx: ApiContext, config: ConnectionConfig) -> ConnectionView:
    rt = await ctx.runtime()
    key = None if config.reconnect_required else await rt.secrets.get_secret(
        secret_names(config)["activecampaign_api_key"])
    return ConnectionView(
        connection_id=config.connection_id, display_name=config.display_name, connected=bool(key),
        activecampaign_api_url=config.activecampaign.api_url, activecampaign_api_key=mask(key),
        dynamics_environment_url=config.dynamics.environment_url, dynamics_auth_kind=config.dynamics.auth.kind,
        tenant_id=config.tenant_id, global_sync_enabled=config.sync.global_enabled,
        reconnect_required=config.reconnect_required)


async def _known_admin(ctx: ApiContext, caller: Caller, current: ConnectionConfig | None, connection_id: str) -> None:
    """For a connection in use: the caller's role, with the stored credential, at the stored host."""
    if current is None:
        return
    roles = await ctx.caller_roles(current, caller)
    if roles.user_id is None:
        raise ApiError(404, "connection_not_found", f"no connection {connection_id}")
    if not roles.is_admin:
        raise ApiError(403, "forbidden", "reconnecting needs the System Administrator or ActiveCampaign Admin "
                                         "security role")


async def _dynamics_secret(rt: Runtime, body: ConnectRequest, candidate: ConnectionConfig) -> str | None:
    """The secret the candidate signs in with: the one sent, else the one stored for exactly this sign-in."""
    name = secret_names(candidate).get("dynamics_secret")
    if name is None or body.dynamics_secret is not None:
        return body.dynamics_secret
    stored = await rt.secrets.get_secret(name)
    if stored is None:
        raise ApiError(422, "secret_required", "no secret is stored for this Dynamics sign-in (its host, kind or "
                       "client changed): send it in dynamics_secret", field="dynamics_secret")
    return stored


def _candidate(connection_id: str, body: ConnectRequest, caller: Caller, existing: ConnectionConfig | None,
               ac: ActiveCampaignSettings, dv: DynamicsSettings) -> ConnectionConfig:
    if existing is None:
        return ConnectionConfig(connection_id=connection_id, display_name=body.display_name,
                                tenant_id=caller.tenant_id, activecampaign=ac, dynamics=dv)
    config = existing.model_copy(deep=True)
    config.display_name = body.display_name or config.display_name
    config.activecampaign, config.dynamics, config.reconnect_required = ac, dv, False
    return config


@router.put("/api/connections/{connection_id}/connection", response_model=ConnectionView,
            responses=documented(*WITH_CONFLICT),
            summary="Connect (or reconnect) ActiveCampaign and Dynamics")
async def connect(connection_id: str, body: ConnectRequest, ctx: Ctx, caller: CallerDep) -> ConnectionView:
    if not CONNECTION_ID.match(connection_id):
        raise ApiError(422, "invalid_connection_id", "lower-case letters, digits and '-', 2 to 63 characters",
                       field="connection_id")
    rt = await ctx.runtime()
    existing = await rt.store.get_config_with_etag(connection_id)
    if existing is not None and (existing[0].tenant_id or "").lower() != caller.tenant_id:
        # Another tenant's connection is never visible (and its id cannot be taken over).
        raise ApiError(404, "connection_not_found", f"no connection {connection_id}")
    ac_settings, dv_settings = await checked_settings(ctx, body)
    current = existing[0] if existing is not None and not existing[0].reconnect_required else None
    await _known_admin(ctx, caller, current, connection_id)
    candidate = _candidate(connection_id, body, caller, existing[0] if existing else None, ac_settings, dv_settings)
    same_environment = current is not None and \
        origin(current.dynamics.environment_url) == origin(candidate.dynamics.environment_url)
    # Both sides are tried before anything is stored; nothing stored goes to a host it was not stored for.
    if same_environment:
        if candidate.dynamics.auth.kind in IDENTITY_KINDS:
            await check_user_token(ctx, caller, candidate.dynamics, body, required=False)
        await check_app_identity(ctx, candidate.dynamics, await _dynamics_secret(rt, body, candidate))
    else:
        await check_caller_in_environment(ctx, caller, candidate.dynamics, body)
    await check_activecampaign(ctx, ac_settings, body.activecampaign_api_key)
    await _store_and_save(rt, candidate, body, existing)
    await audit_log.record(rt, connection_id, caller, "connect", before=to_document(existing[0]) if existing else None,
                           after=to_document(candidate))
    log.info("connection %s connected by %s", connection_id, caller.object_id)
    return await view(ctx, candidate)


async def _store_and_save(rt: Runtime, config: ConnectionConfig, body: ConnectRequest,
                          existing: tuple[ConnectionConfig, str] | None) -> None:
    names = secret_names(config)
    await rt.secrets.set_secret(names["activecampaign_api_key"], body.activecampaign_api_key)
    if body.dynamics_secret is not None and "dynamics_secret" in names:
        await rt.secrets.set_secret(names["dynamics_secret"], body.dynamics_secret)
    await save_config(rt, config, existing[1] if existing else None, only_if_new=existing is None)
    if existing is not None and not existing[0].reconnect_required:
        # A secret of the previous host or sign-in is not this connection's any more.
        for purpose, old in secret_names(existing[0]).items():
            if names.get(purpose) != old:
                await rt.secrets.delete_secret(old)


@router.get("/api/connections/{connection_id}/connection", response_model=ConnectionView,
            responses=documented(*STANDARD), summary="The connection, its key masked")
async def get_connection(a: AdminDep) -> ConnectionView:
    return await view(a.ctx, a.config)


@router.delete("/api/connections/{connection_id}/connection", response_model=ConnectionView,
               responses=documented(*WITH_CONFLICT),
               summary="Disconnect: remove the key and stop the syncs")
async def disconnect(a: AdminDep) -> ConnectionView:
    rt = a.runtime
    before = to_document(a.config)
    config = a.config.model_copy(deep=True)
    config.sync.global_enabled = False
    await save_config(rt, config, a.etag)
    await rt.secrets.delete_secret(secret_names(config)["activecampaign_api_key"])
    await audit_log.record(rt, config.connection_id, a.caller, "disconnect", before=before, after=to_document(config))
    return await view(a.ctx, config)


async def save_config(rt: Runtime, config: ConnectionConfig, etag: str | None, *, only_if_new: bool = False) -> str:
    """Save over the version read; a concurrent change is a 409."""
    try:
        return await rt.store.save_config(config, etag=etag, only_if_new=only_if_new)
    except StaleConfigError:
        raise ApiError(409, "conflict", "the configuration changed since it was read; read it again") from None
