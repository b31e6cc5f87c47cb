"""What every route gets: the runtime, the clients, and the caller checked against its connection.

Order of the checks: a bearer token that validates (else 401); a connection of the caller's
tenant (else 404) that is not waiting to be connected again (else 409); the caller an enabled
user of its Dynamics environment (else 404, so another tenant's or environment's connection is
never visible); System Administrator or ActiveCampaign Admin in that environment, directly or
through a team (else 403). The role lookup is the one call made with the stored credential before
the caller's role is known, and it goes to the stored host.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.api.auth import Caller, SigningKeysUnavailable, TokenValidator, Unauthenticated, validator_from_env
from sync_core.api.errors import ApiError, upstream_error
from sync_core.api.jobs import JobRegistry
from sync_core.api.roles import CallerRoles, RecordAccessCache, RoleCache, product_roots, roles_of
from sync_core.dynamics import DataverseClient
from sync_core.engine import ClientFactory
from sync_core.engine.sales_actions import SalesCache
from sync_core.model.config import ConnectionConfig, DynamicsSettings
from sync_core.model.errors import ConfigurationError, SyncError

if TYPE_CHECKING:
    from sync_core.runtime import Runtime

CONNECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
RuntimeFactory = Callable[[], Awaitable["Runtime"]]


class ApiContext:
    def __init__(self, runtime_factory: RuntimeFactory, *, auth: TokenValidator | None,
                 clients: ClientFactory, preview_wait_seconds: float) -> None:
        self._runtime_factory = runtime_factory
        self._runtime: Runtime | None = None
        self._auth = auth
        self._lock = asyncio.Lock()
        self.clients = clients
        self.people = clients.for_people()
        self.sales_cache = SalesCache(clients.clock)
        """Clients for sales actions: the AC share passes leave free, and no waiting on a throttled service."""
        self.preview_wait_seconds = preview_wait_seconds
        self.jobs = JobRegistry()
        self._roles: RoleCache | None = None
        self._access: RecordAccessCache | None = None

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

    async def can_read(self, config: ConnectionConfig, user_id: str, entity_set: str, record_id: str) -> bool:
        """Whether that user (not the app's identity) may read the record in Dynamics; cached briefly."""
        if self._access is None:
            self._access = RecordAccessCache((await self.runtime()).clock)
        env = config.dynamics.environment_url
        hit = self._access.get(env, user_id, entity_set, record_id)
        if hit is not None:
            return hit
        try:
            async with self.dynamics(config) as dv:
                rights = await dv.principal_access(user_id, entity_set, record_id)
        except SyncError as e:
            raise upstream_error(e, "dynamics") from None
        readable = rights is not None and "ReadAccess" in rights
        self._access.put(env, user_id, entity_set, record_id, readable)
        return readable

    @asynccontextmanager
    async def dynamics(self, config: ConnectionConfig, *, people: bool = False) -> AsyncIterator[DataverseClient]:
        """The saved connection's Dynamics with its stored credential, to its stored host only."""
        factory = self.people if people else self.clients
        async with AsyncExitStack() as stack:
            try:
                rt = await self.runtime()
                dv = await stack.enter_async_context(factory.stored_dynamics(rt.secrets, config))
            except ConfigurationError as e:
                raise unusable(config, e) from None
            yield dv  # a sign-in failure inside is a SyncError (dynamics.SignIn), mapped by the caller

    @asynccontextmanager
    async def activecampaign(self, api_url: str, key: str, *, people: bool = False
                             ) -> AsyncIterator[ActiveCampaignClient]:
        """An AC client spending the account's shared budget, as the worker does (``people``: a sales action's)."""
        factory = self.people if people else self.clients
        async with factory.activecampaign((await self.runtime()).store, api_url, key) as ac:
            yield ac

    def supplied_dynamics(self, settings: DynamicsSettings, secret: str | None
                          ) -> AbstractAsyncContextManager[DataverseClient]:
        """A candidate environment (checked by the route) with the caller's secret or the app's identity."""
        return self.clients.dynamics(settings.environment_url, self.clients.credential(settings.auth, secret))

    async def caller_roles(self, config: ConnectionConfig, caller: Caller) -> CallerRoles:
        cache = await self.role_cache()
        env = config.dynamics.environment_url
        hit = cache.get(env, caller.object_id)
        if hit is not None:
            return hit
        try:
            async with self.dynamics(config) as dv:
                roots = cache.roots(env)
                if roots is None:
                    roots = await product_roots(dv)
                    cache.put_roots(env, roots)
                found = await roles_of(dv, caller.object_id, roots)
        except SyncError as e:
            raise upstream_error(e, "dynamics") from None
        cache.put(env, caller.object_id, found)
        return found


def unusable(config: ConnectionConfig, err: ConfigurationError) -> ApiError:
    """A saved connection the clients refuse: it has to be connected again (409 naming why)."""
    field = (err.details or {}).get("field") if isinstance(err.details, dict) else None
    if field == "reconnect_required":
        return ApiError(409, "reconnect_required", f"connection {config.connection_id} must be connected again "
                        "(PUT …/connection with its keys): its secrets predate server-derived names",
                        field="connection_id")
    return ApiError(409, "connection_unusable", f"the saved connection cannot be used: {err.message}; connect it "
                    "again", field=str(field) if field else None)


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


async def member(ctx: ApiContext, caller: Caller, connection_id: str) -> tuple[ConnectionConfig, str, CallerRoles]:
    """The connection and the caller's roles, if the caller is a user of its Dynamics environment."""
    found = await visible_config(ctx, caller, connection_id)
    if found is None:
        raise not_found(connection_id)
    config, etag = found
    if config.reconnect_required:
        raise unusable(config, ConfigurationError("", details={"field": "reconnect_required"}))
    roles = await ctx.caller_roles(config, caller)
    if roles.user_id is None:
        raise not_found(connection_id)  # not a user of that environment: its connections are not visible
    return config, etag, roles


async def admin(ctx: Ctx, caller: CallerDep, connection_id: str) -> Admin:
    config, etag, roles = await member(ctx, caller, connection_id)
    if not roles.is_admin:
        raise ApiError(403, "forbidden", "this needs the System Administrator or ActiveCampaign Admin security role "
                                         "in the connection's Dynamics environment")
    return Admin(caller=caller, config=config, etag=etag, runtime=await ctx.runtime(), ctx=ctx,
                 user_id=roles.user_id)


AdminDep = Annotated[Admin, Depends(admin)]
