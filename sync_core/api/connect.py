"""What ``PUT …/connection`` checks before anything is stored, and before any stored credential is used.

The order is the point. The request's URLs pass the host policy first. An environment the caller
is not yet known to administer — a new connection, one that must be connected again, or a changed
Dynamics host — is judged only with what the caller sends: their client secret / PEM (the role
lookup runs with it), or, for the app's own identity (a stored credential), their own Dataverse
access token: WhoAmI with it, that systemuser must be the caller (``azureactivedirectoryobjectid``),
its roles are read with it, and only an admin gets the app's identity pointed at that environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from pydantic import ValidationError as PydanticValidationError

from sync_core.api.auth import Caller
from sync_core.api.errors import ApiError, upstream_error
from sync_core.api.roles import CallerRoles, product_roots, roles_of
from sync_core.api.schemas import ConnectRequest
from sync_core.model import errors as model
from sync_core.model.config import ActiveCampaignSettings, DynamicsAuth, DynamicsSettings
from sync_core.model.hosts import HostRefused, Service
from sync_core.model.secrets import IDENTITY_KINDS, secret_problem

if TYPE_CHECKING:
    from sync_core.api.context import ApiContext
    from sync_core.dynamics import DataverseClient

_EXAMPLES = {"activecampaign_api_url": "https://youraccount.api-us1.com (Settings → Developer)",
             "dynamics_environment_url": "https://yourorg.crm.dynamics.com"}


async def _checked_url(ctx: ApiContext, url: str, service: Service, field: str) -> str:
    try:
        return await ctx.clients.host_policy.check(url, service, field)
    except HostRefused as e:
        raise ApiError(422, e.code, f"{e.message} (e.g. {_EXAMPLES[field]})", field=e.field) from None
    except OSError:
        raise ApiError(422, f"{service}_unreachable", f"the host of {field} cannot be resolved: check the URL",
                       field=field) from None


async def checked_settings(ctx: ApiContext, body: ConnectRequest) -> tuple[ActiveCampaignSettings, DynamicsSettings]:
    """The request's URLs and Dynamics sign-in, refused with a 422 naming the field."""
    ac_url = await _checked_url(ctx, body.activecampaign_api_url, "activecampaign", "activecampaign_api_url")
    dv_url = await _checked_url(ctx, body.dynamics_environment_url, "dynamics", "dynamics_environment_url")
    try:
        ac = ActiveCampaignSettings(api_url=ac_url)
    except PydanticValidationError:
        raise ApiError(422, "malformed_url", "the ActiveCampaign API URL is not a URL like "
                       f"{_EXAMPLES['activecampaign_api_url']}", field="activecampaign_api_url") from None
    auth = body.dynamics_auth or DynamicsAuth(kind="default")
    try:
        dv = DynamicsSettings(environment_url=dv_url, auth=auth)
    except PydanticValidationError:
        raise ApiError(422, "malformed_url", "the Dynamics environment URL is not a URL like "
                       f"{_EXAMPLES['dynamics_environment_url']}", field="dynamics_environment_url") from None
    _check_auth_inputs(ctx, body, auth)
    return ac, dv


def _check_auth_inputs(ctx: ApiContext, body: ConnectRequest, auth: DynamicsAuth) -> None:
    if auth.kind == "static_token" and not ctx.clients.host_policy.local:
        raise ApiError(422, "auth_kind_not_allowed", "static_token works only in local mode: use client_secret, "
                       "certificate or the app's identity", field="dynamics_auth.kind")
    identity = auth.kind in IDENTITY_KINDS
    if body.dynamics_secret is not None:
        if identity:
            raise ApiError(422, "secret_not_used", f"dynamics_auth.kind {auth.kind} signs in with the app's own "
                           "identity and takes no secret", field="dynamics_secret")
        problem = secret_problem("dynamics_secret", auth.kind, body.dynamics_secret)
        if problem:
            raise ApiError(422, "invalid_secret", f"dynamics_secret {problem}", field="dynamics_secret")
    if body.dynamics_access_token is not None and not identity:
        raise ApiError(422, "token_not_used", "dynamics_access_token is for the app's own identity kinds "
                       "(managed_identity, workload_identity, default); this sign-in checks your role with "
                       "dynamics_secret", field="dynamics_access_token")


def _unreachable(err: model.SyncError) -> bool:
    return isinstance(err, model.TransientError) and err.status is None


def sign_in_error(err: model.SyncError, field: str) -> ApiError:
    """A failed call to a candidate environment, as the input it concerns."""
    if _unreachable(err):
        return ApiError(422, "dynamics_unreachable", "the Dynamics environment cannot be reached: check the URL",
                        field="dynamics_environment_url")
    if isinstance(err, model.AuthenticationError | model.PermissionDeniedError):
        return ApiError(422, "dynamics_auth_failed", "Dynamics refused the sign-in: check it (and that the app "
                        "user exists in this environment)", field=field)
    if isinstance(err, model.NotFoundError | model.ValidationError):
        return ApiError(422, "dynamics_not_found", "no Dataverse Web API at this URL: check the environment URL",
                        field="dynamics_environment_url")
    if isinstance(err, model.ConfigurationError):
        return ApiError(422, "dynamics_credentials_missing", err.message, field="dynamics_auth")
    return upstream_error(err, "dynamics")


@asynccontextmanager
async def judged(field: str) -> AsyncIterator[None]:
    """Failures of the calls inside, as 4xx naming ``field`` (the credential the caller supplied)."""
    try:
        yield
    except model.SyncError as e:
        raise sign_in_error(e, field) from None
    except (KeyError, TypeError):  # an answer that is no WhoAmI (a redirect, another service)
        raise ApiError(422, "dynamics_not_found", "no Dataverse Web API at this URL: check the environment URL",
                       field="dynamics_environment_url") from None


def require_admin(roles: CallerRoles) -> None:
    if roles.user_id is None:
        raise ApiError(403, "forbidden", "you are not an enabled user of that Dynamics environment")
    if not roles.is_admin:
        raise ApiError(403, "forbidden", "connecting needs the System Administrator or ActiveCampaign Admin security "
                                         "role in that Dynamics environment")


async def _roles_with(dv: DataverseClient, caller: Caller) -> CallerRoles:
    return await roles_of(dv, caller.object_id, await product_roots(dv))


async def check_caller_in_environment(ctx: ApiContext, caller: Caller, settings: DynamicsSettings,
                                      body: ConnectRequest) -> None:
    """An environment the caller's role in is not known yet: established with what the caller sends."""
    await ctx.runtime()
    if settings.auth.kind not in IDENTITY_KINDS:
        if body.dynamics_secret is None:
            raise ApiError(422, "secret_required", "this environment (or sign-in) is new to the connection: send "
                           "its secret in dynamics_secret", field="dynamics_secret")
        async with judged("dynamics_secret"), ctx.supplied_dynamics(settings, body.dynamics_secret) as dv:
            await dv.who_am_i()
            roles = await _roles_with(dv, caller)
        require_admin(roles)
        return
    await check_user_token(ctx, caller, settings, body, required=True)
    await check_app_identity(ctx, settings)


async def check_user_token(ctx: ApiContext, caller: Caller, settings: DynamicsSettings, body: ConnectRequest,
                           *, required: bool) -> None:
    """The caller's own Dataverse token: it must be the caller's, and the caller an admin there."""
    token = body.dynamics_access_token
    if token is None:
        if required:
            raise ApiError(422, "user_token_required", "the app's own identity is only pointed at an environment "
                           "once your role there is known: send your Dataverse access token for it in "
                           "dynamics_access_token", field="dynamics_access_token")
        return
    await ctx.runtime()
    async with judged("dynamics_access_token"), ctx.clients.as_user(settings.environment_url, token) as dv:
        me = await dv.who_am_i()
        user = await dv.get_user(me.user_id)
        oid = str((user or {}).get("azureactivedirectoryobjectid") or "").strip("{}").lower()
        if oid != caller.object_id:
            raise ApiError(403, "token_not_callers", "dynamics_access_token belongs to another user than the caller",
                           field="dynamics_access_token")
        roles = await _roles_with(dv, caller)
    require_admin(roles)


async def check_app_identity(ctx: ApiContext, settings: DynamicsSettings, secret: str | None = None) -> None:
    """WhoAmI with the app's sign-in: its identity, the caller's secret, or the stored secret of this host."""
    await ctx.runtime()
    field = "dynamics_auth" if settings.auth.kind in IDENTITY_KINDS else "dynamics_secret"
    async with judged(field), ctx.supplied_dynamics(settings, secret) as dv:
        await dv.who_am_i()


async def check_activecampaign(ctx: ApiContext, settings: ActiveCampaignSettings, key: str) -> None:
    await ctx.runtime()
    try:
        async with ctx.activecampaign(settings.api_url, key) as ac:
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
