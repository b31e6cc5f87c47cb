"""Connect, read and disconnect: the AC API URL and key, the Dynamics environment."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter
from pydantic import ValidationError as PydanticValidationError

from sync_core.api import audit_log
from sync_core.api.auth import Caller
from sync_core.api.context import CONNECTION_ID, AdminDep, ApiContext, CallerDep, Ctx
from sync_core.api.errors import STANDARD, WITH_CONFLICT, ApiError, documented, upstream_error
from sync_core.api.schemas import ConnectionView, ConnectRequest
from sync_core.model import errors as model
from sync_core.model.config import (
    ActiveCampaignSettings,
    ConnectionConfig,
    DynamicsAuth,
    DynamicsSettings,
    to_document,
)
from sync_core.model.secrets import mask
from sync_core.store.errors import StaleConfigError

if TYPE_CHECKING:
    from sync_core.runtime import Runtime

log = logging.getLogger("sync_core.api")
router = APIRouter(tags=["connection"])


async def view(ctx: ApiContext, config: ConnectionConfig) -> ConnectionView:
    rt = await ctx.runtime()
    key = await rt.secrets.get_secret(config.activecampaign.api_key_secret)
    return ConnectionView(
        connection_id=config.connection_id, display_name=config.display_name, connected=bool(key),
        activecampaign_api_url=config.activecampaign.api_url, activecampaign_api_key=mask(key),
        dynamics_environment_url=config.dynamics.environment_url, dynamics_auth_kind=config.dynamics.auth.kind,
        tenant_id=config.tenant_id, global_sync_enabled=config.sync.global_enabled)


def _parse_urls(body: ConnectRequest) -> tuple[ActiveCampaignSettings, DynamicsSettings]:
    try:
        ac = ActiveCampaignSettings(api_url=body.activecampaign_api_url)
    except PydanticValidationError:
        raise ApiError(422, "malformed_url", "the ActiveCampaign API URL is not a URL like "
                       "https://youraccount.api-us1.com", field="activecampaign_api_url") from None
    try:
        dv = DynamicsSettings(environment_url=body.dynamics_environment_url,
                              auth=body.dynamics_auth or DynamicsAuth(kind="default"))
    except PydanticValidationError:
        raise ApiError(422, "malformed_url", "the Dynamics environment URL is not a URL like "
                       "https://yourorg.crm.dynamics.com", field="dynamics_environment_url") from None
    return ac, dv


def _unreachable(err: model.SyncError) -> bool:
    return isinstance(err, model.TransientError) and err.status is None


async def _check_dynamics(ctx: ApiContext, settings: DynamicsSettings, caller: Caller, secret: str | None) -> None:
    """WhoAmI with the app's identity, then the caller's roles in that environment."""
    try:
        async with ctx.dynamics(settings, secret=secret) as dv:
            await dv.who_am_i()
    except ApiError as e:
        raise ApiError(422, "dynamics_credentials_missing", e.message, field="dynamics_auth") from None
    except model.SyncError as e:
        if _unreachable(e):
            raise ApiError(422, "dynamics_unreachable", "the Dynamics environment cannot be reached: check the URL",
                           field="dynamics_environment_url") from None
        if isinstance(e, model.AuthenticationError | model.PermissionDeniedError):
            raise ApiError(422, "dynamics_auth_failed", "Dynamics refused the app's sign-in: check that the app "
                           "user exists in this environment", field="dynamics_auth") from None
        if isinstance(e, model.NotFoundError):
            raise ApiError(422, "dynamics_not_found", "no Dataverse Web API at this URL: check the environment URL",
                           field="dynamics_environment_url") from None
        raise upstream_error(e, "dynamics") from None
    roles = await ctx.caller_roles(settings, caller, secret=secret)
    if not roles.is_admin:
        raise ApiError(403, "forbidden", "connecting needs the System Administrator or ActiveCampaign Admin security "
                                         "role in that Dynamics environment")


async def _check_activecampaign(ctx: ApiContext, settings: ActiveCampaignSettings, key: str) -> None:
    rt = await ctx.runtime()
    try:
        async with ctx.clients.activecampaign(rt, settings.api_url, key) as ac:
            await ac.get_me()
    except model.SyncError as e:
        if _unreachable(e):
            raise ApiError(422, "activecampaign_unreachable", "the ActiveCampaign API URL cannot be reached: check it",
                           field="activecampaign_api_url") from None
        if isinstance(e, model.AuthenticationError | model.PermissionDeniedError):
            raise ApiError(422, "activecampaign_key_rejected", "ActiveCampaign refused the API key",
                           field="activecampaign_api_key") from None
        if isinstance(e, model.NotFoundError):
            raise ApiError(422, "activecampaign_not_found", "no ActiveCampaign API at this URL: check the API URL",
                           field="activecampaign_api_url") from None
        raise upstream_error(e, "activecampaign") from None


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
    ac_settings, dv_settings = _parse_urls(body)
    if existing is not None:
        roles = await ctx.caller_roles(existing[0].dynamics, caller)
        if roles.user_id is None:
            raise ApiError(404, "connection_not_found", f"no connection {connection_id}")
        if not roles.is_admin:
            raise ApiError(403, "forbidden", "reconnecting needs the System Administrator or ActiveCampaign Admin "
                                             "security role")
    if body.dynamics_secret is not None:
        dv_settings.auth.secret_name = f"dynamics-secret-{connection_id}"
    # Both sides are tried with the candidate secrets; nothing is stored unless both answer.
    await _check_dynamics(ctx, dv_settings, caller, body.dynamics_secret)
    await _check_activecampaign(ctx, ac_settings, body.activecampaign_api_key)
    if body.dynamics_secret is not None and dv_settings.auth.secret_name:
        await rt.secrets.set_secret(dv_settings.auth.secret_name, body.dynamics_secret)
    before = to_document(existing[0]) if existing else None
    if existing is not None:
        config = existing[0].model_copy(deep=True)
        config.activecampaign.api_url = ac_settings.api_url
        config.dynamics = dv_settings
        config.display_name = body.display_name or config.display_name
    else:
        config = ConnectionConfig(connection_id=connection_id, display_name=body.display_name,
                                  tenant_id=caller.tenant_id, activecampaign=ac_settings, dynamics=dv_settings)
    await rt.secrets.set_secret(config.activecampaign.api_key_secret, body.activecampaign_api_key)
    await save_config(rt, config, existing[1] if existing else None, only_if_new=existing is None)
    await audit_log.record(rt, connection_id, caller, "connect", before=before, after=to_document(config))
    log.info("connection %s connected by %s", connection_id, caller.object_id)
    return await view(ctx, config)


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
    await rt.secrets.delete_secret(config.activecampaign.api_key_secret)
    await audit_log.record(rt, config.connection_id, a.caller, "disconnect", before=before, after=to_document(config))
    return await view(a.ctx, config)


async def save_config(rt: Runtime, config: ConnectionConfig, etag: str | None, *, only_if_new: bool = False) -> str:
    """Save over the version read; a concurrent change is a 409."""
    try:
        return await rt.store.save_config(config, etag=etag, only_if_new=only_if_new)
    except StaleConfigError:
        raise ApiError(409, "conflict", "the configuration changed since it was read; read it again") from None
