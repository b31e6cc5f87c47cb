"""What every route gets: the runtime, the clients, and the caller checked against its connection.

Order of the checks: a bearer token that validates (else 401); a connection of the caller's
tenant whose Dynamics environment has the caller as an enabled user (else 404, so another
tenant's or environment's connection is never visible); System Administrator or
ActiveCampaign Admin in that connection's Dynamics environment, directly or through a team
(else 403).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync_core.api.auth import Caller, SigningKeysUnavailable, TokenValidator, Unauthenticated, validator_from_env
from sync_core.api.clients import ApiClients, DynamicsCredentialsMissing
from sync_core.api.errors import ApiError, upstream_error
from sync_core.api.jobs import JobRegistry
from sync_core.api.roles import CallerRoles, RoleCache, roles_of
from sync_core.model.config import ConnectionConfig, DynamicsSettings
from sync_core.model.errors import SyncError

if TYPE_CHECKING:
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime

CONNECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RuntimeFactory = Callable[[], Awaitable["Runtime"]]


class ApiContext:
    def __init__(self, runtime_factory: RuntimeFactory, *, auth: TokenValidator | None,
                 clients: ApiClients, preview_wait_seconds: float) -> None:
        self._runtime_factory = runtime_factory
        self._runtime: Runtime | None = None
        self._auth = auth
        self._lock = asyncio.Lock()
        self.clients = clients
        self.preview_wait_seconds = preview_wait_seconds
        self.jobs = JobRegistry()
        self._roles: RoleCache | None = None

    async def runtime(self) -> Runtime:
        if self._runtime is None:
            async with self._lock:
                if self._runtime is None:
                    self._runtime = await self._runtime_factory()
        return self._runtime

    async def validator(self) -> TokenValidator:
        if self._auth is None:
            rt = await self.runtime()
            try:
                self._auth = validator_from_env(clock=rt.clock)
            except RuntimeError as e:
                raise ApiError(503, "auth_not_configured", str(e)) from None
        return self._auth

    def auth_mode(self) -> str:
        return self._auth.mode if self._auth is not None else "unconfigured"

    async def role_cache(self) -> RoleCache:
        if self._roles is None:
            self._roles = RoleCache((await self.runtime()).clock)
        return self._roles

    @asynccontextmanager
    async def dynamics(self, settings: DynamicsSettings, *, secret: str | None = None
                       ) -> AsyncIterator[DataverseClient]:
        try:
            async with self.clients.dynamics(await self.runtime(), settings, secret=secret) as dv:
                yield dv
        except DynamicsCredentialsMissing as e:
            raise ApiError(502, "dynamics_credentials_missing",
                           f"the connection's Dynamics sign-in is incomplete: {e}") from None

    async def caller_roles(self, dynamics: DynamicsSettings, caller: Caller, *, secret: str | None = None
                           ) -> CallerRoles:
        cache = await self.role_cache()
        hit = cache.get(dynamics.environment_url, caller.object_id)
        if hit is not None:
            return hit
        try:
            async with self.dynamics(dynamics, secret=secret) as dv:
                found = await roles_of(dv, caller.object_id)
        except SyncError as e:
            raise upstream_error(e, "dynamics") from None
        cache.put(dynamics.environment_url, caller.object_id, found)
        return found


def api_context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.api
    return ctx


Ctx = Annotated[ApiContext, Depends(api_context)]


BEARER = HTTPBearer(auto_error=False, bearerFormat="JWT",
                    description="Entra ID access token for the API (local mode: a token signed by the local key)")


async def authenticated(ctx: Ctx, request: Request,
                        _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None) -> Caller:
    validator = await ctx.validator()
    try:
        return await validator.caller(request.headers.get("authorization"))
    except Unauthenticated as e:
        raise ApiError(401, "unauthenticated", str(e), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
                       ) from None
    except SigningKeysUnavailable as e:
        raise ApiError(503, "auth_unavailable", str(e)) from None


CallerDep = Annotated[Caller, Depends(authenticated)]


@dataclass
class Admin:
    """An admin of one existing connection, with the configuration as read (and its etag)."""

    caller: Caller
    config: ConnectionConfig
    etag: str
    runtime: Runtime
    ctx: ApiContext
    user_id: str | None


def not_found(connection_id: str) -> ApiError:
    return ApiError(404, "connection_not_found", f"no connection {connection_id}")


async def visible_config(ctx: ApiContext, caller: Caller, connection_id: str
                         ) -> tuple[ConnectionConfig, str] | None:
    """The connection if it exists and belongs to the caller's tenant; ``None`` otherwise."""
    if not CONNECTION_ID.match(connection_id):
        return None
    rt = await ctx.runtime()
    found = await rt.store.get_config_with_etag(connection_id)
    if found is None or (found[0].tenant_id or "").lower() != caller.tenant_id:
        return None
    return found


async def admin(ctx: Ctx, caller: CallerDep, connection_id: str) -> Admin:
    found = await visible_config(ctx, caller, connection_id)
    if found is None:
        raise not_found(connection_id)
    config, etag = found
    roles = await ctx.caller_roles(config.dynamics, caller)
    if roles.user_id is None:
        raise not_found(connection_id)  # not a user of that environment: its connections are not visible
    if not roles.is_admin:
        raise ApiError(403, "forbidden", "this needs the System Administrator or ActiveCampaign Admin security role "
                                         "in the connection's Dynamics environment")
    return Admin(caller=caller, config=config, etag=etag, runtime=await ctx.runtime(), ctx=ctx,
                 user_id=roles.user_id)


AdminDep = Annotated[Admin, Depends(admin)]
