"""The one place API clients are made, for the worker's passes and the HTTP API's requests alike.

Every AC client spends the account's shared budget (5 requests/s, kept in the store and keyed by the
account's host, so the worker and the API share it) and a connection's calls share one bound on
calls in flight. Before any stored secret is read, the connection is checked against the host policy
and the secrets' names are derived from the configuration as it is now (``model.secrets``): a secret
stored for another host has another name, so it is never found, let alone sent. Two patiences: a
pass retries long (``WORKER``); a person waiting on the API does not (``INTERACTIVE``).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from azure.core.credentials_async import AsyncTokenCredential

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import Clock
from sync_core.dynamics import DataverseClient, SignIn, StaticTokenCredential, credential_from_settings
from sync_core.model.budget import RequestBudget
from sync_core.model.config import ConnectionConfig, DynamicsAuth
from sync_core.model.errors import ConfigurationError, TransientError
from sync_core.model.guard import CallGuard
from sync_core.model.hosts import HostPolicy, HostRefused
from sync_core.model.secrets import IDENTITY_KINDS, SecretStore, secret_names
from sync_core.store import SyncStore

AC_REQUESTS_PER_SECOND = 5
PEOPLE_RESERVE = 2
"""Of the account's 5 requests a second, what passes leave free for people's sales actions while someone is
at work (a sales action in the last minute: store.budget.PEOPLE_SESSION_WINDOWS), so a seller's clicks do not
queue behind a bulk pass; with no one at work a pass spends all 5 (the bulk path's bound)."""
IN_FLIGHT_PER_CONNECTION: int | None = 8
"""Calls of one connection in flight at once, both services together (None: no bound). The AC budget still
caps AC at 5/s; this bounds the sockets and the waiters: a pass keeps ``fanout.AC_CALLS_IN_FLIGHT`` (4)
per-record AC calls going, plus its Dataverse read and the odd list or import call."""

IdentityFactory = Callable[[DynamicsAuth], AsyncTokenCredential]


@dataclass(frozen=True)
class Patience:
    max_retries: int
    max_retry_wait: float
    ac_timeout: float
    dv_timeout: float


WORKER = Patience(max_retries=8, max_retry_wait=300.0, ac_timeout=30.0, dv_timeout=60.0)
INTERACTIVE = Patience(max_retries=2, max_retry_wait=20.0, ac_timeout=30.0, dv_timeout=30.0)
SALES = Patience(max_retries=1, max_retry_wait=1.0, ac_timeout=10.0, dv_timeout=10.0)
"""A seller's click: one retry within a second (a 429 at the edge of AC's window), then a throttled or failing
service is a 503 with Retry-After, not a wait."""


@dataclass
class ConnectionClients:
    ac: ActiveCampaignClient
    dv: DataverseClient


class ConnectionOpener(Protocol):
    """What a pass needs: both clients of a saved connection, every call asking ``guard`` first."""

    def open(self, config: ConnectionConfig, *, guard: CallGuard | None = None
             ) -> AbstractAsyncContextManager[ConnectionClients]: ...


def ac_budget_key(api_url: str) -> str:
    """Every integration of one AC account shares its limit: the budget is the account host's."""
    return f"ac-{urlsplit(api_url).netloc}"


async def guard_connection(config: ConnectionConfig, policy: HostPolicy) -> None:
    """Refuse a connection whose secrets cannot be trusted or whose hosts the policy does not allow."""
    if config.reconnect_required:
        raise ConfigurationError(f"connection {config.connection_id} must be connected again: its secrets predate "
                                 "server-derived names (PUT …/connection, or config apply with --secrets)",
                                 details={"field": "reconnect_required"})
    if config.dynamics.auth.kind == "static_token" and not policy.local:
        raise ConfigurationError("dynamics.auth.kind: static_token works only in local mode",
                                 details={"field": "dynamics.auth.kind"})
    for url, service, field in ((config.activecampaign.api_url, "activecampaign", "activecampaign.api_url"),
                                (config.dynamics.environment_url, "dynamics", "dynamics.environment_url")):
        try:
            await policy.check(url, service, field)  # type: ignore[arg-type]
        except HostRefused as e:
            raise ConfigurationError(f"{e.field}: {e.message}", details={"field": e.field}) from None
        except OSError:
            raise TransientError(f"{field}: the host cannot be resolved") from None


class ClientFactory:
    """Makes AC and Dataverse clients. Tests inject the transports (the sandboxes) and the app's identity."""

    def __init__(self, *, clock: Clock, host_policy: HostPolicy | None = None,
                 ac_transport: httpx.AsyncBaseTransport | None = None,
                 dv_transport: httpx.AsyncBaseTransport | None = None,
                 ac_options: dict[str, Any] | None = None, dv_options: dict[str, Any] | None = None,
                 app_identity: IdentityFactory | None = None, ac_requests_per_second: int = AC_REQUESTS_PER_SECOND,
                 patience: Patience = WORKER, in_flight: int | None = IN_FLIGHT_PER_CONNECTION,
                 people_reserve: int = PEOPLE_RESERVE) -> None:
        self.clock = clock
        self.host_policy = host_policy or HostPolicy()  # deployed rules unless told otherwise
        self.ac_transport = ac_transport
        self.dv_transport = dv_transport
        self.ac_options = dict(ac_options or {})
        self.dv_options = dict(dv_options or {})
        self._app_identity = app_identity
        self.ac_requests_per_second = ac_requests_per_second
        """The account's shared budget; only a stand-in with its limit off may raise it."""
        self.patience = patience
        self.in_flight = in_flight
        self.people_reserve = max(0, min(people_reserve, ac_requests_per_second - 1))
        self.for_people_now = False
        """Clients for people's sales actions: they may spend the share passes leave free."""

    def interactive(self) -> ClientFactory:
        """The same factory for a person waiting: few retries, short waits."""
        other = copy.copy(self)
        other.patience = INTERACTIVE
        return other

    def for_people(self) -> ClientFactory:
        """The same factory for sales actions: the account's whole budget, the reserved share included."""
        other = copy.copy(self)
        other.patience = SALES
        other.for_people_now = True
        return other

    def ac_budget(self, store: SyncStore, api_url: str) -> RequestBudget:
        reserve = 0 if self.for_people_now else self.people_reserve
        return store.request_budget(ac_budget_key(api_url), limit=self.ac_requests_per_second, window=1.0,
                                    reserve=reserve)

    @asynccontextmanager
    async def activecampaign(self, store: SyncStore, api_url: str, key: str, *, guard: CallGuard | None = None,
                             in_flight: asyncio.Semaphore | None = None) -> AsyncIterator[ActiveCampaignClient]:
        """``api_url`` has passed the host policy (the caller or :meth:`guard` checked it)."""
        options: dict[str, Any] = {"max_retries": self.patience.max_retries,
                                   "max_retry_wait": self.patience.max_retry_wait, "timeout": self.patience.ac_timeout,
                                   **self.ac_options}
        client = ActiveCampaignClient(api_url, key, budget=self.ac_budget(store, api_url), clock=self.clock,
                                      transport=self.ac_transport, guard=guard, in_flight=in_flight, **options)
        try:
            yield client
        finally:
            await client.aclose()

    def credential(self, auth: DynamicsAuth, secret: str | None) -> SignIn:
        """The Dataverse credential for a sign-in kind; ``secret`` was read under its derived name or supplied."""
        if auth.kind in IDENTITY_KINDS and self._app_identity is not None:
            return SignIn(self._app_identity(auth))
        if auth.kind == "static_token":
            # Local and demo mode (the sandbox): a fixed bearer token kept in the secret store.
            if not self.host_policy.local:
                raise ConfigurationError("dynamics.auth.kind: static_token works only in local mode")
            if not secret:
                raise ConfigurationError("dynamics.auth: static_token needs its token in the secret store")
            return SignIn(StaticTokenCredential(secret))
        try:
            return SignIn(credential_from_settings(auth.kind, tenant_id=auth.tenant_id, client_id=auth.client_id,
                                                   secret=secret))
        except ValueError as e:
            raise ConfigurationError(f"dynamics.auth: {e}") from None

    @asynccontextmanager
    async def dynamics(self, environment_url: str, credential: AsyncTokenCredential, *,
                       guard: CallGuard | None = None, in_flight: asyncio.Semaphore | None = None
                       ) -> AsyncIterator[DataverseClient]:
        """A client of ``environment_url`` (already checked) signing in with ``credential`` (closed after)."""
        options: dict[str, Any] = {"max_retries": self.patience.max_retries, "timeout": self.patience.dv_timeout,
                                   **self.dv_options}
        client = DataverseClient(environment_url, credential, clock=self.clock, transport=self.dv_transport,
                                 guard=guard, in_flight=in_flight, **options)
        try:
            yield client
        finally:
            await client.aclose()
            await credential.close()

    async def guard(self, config: ConnectionConfig) -> None:
        await guard_connection(config, self.host_policy)

    @asynccontextmanager
    async def stored_dynamics(self, secrets: SecretStore, config: ConnectionConfig, *,
                              guard: CallGuard | None = None, in_flight: asyncio.Semaphore | None = None
                              ) -> AsyncIterator[DataverseClient]:
        """The saved connection's environment with its stored credential."""
        await self.guard(config)
        name = secret_names(config).get("dynamics_secret")
        secret = await secrets.get_secret(name) if name else None
        async with self.dynamics(config.dynamics.environment_url, self.credential(config.dynamics.auth, secret),
                                 guard=guard, in_flight=in_flight) as dv:
            yield dv

    @asynccontextmanager
    async def as_user(self, environment_url: str, token: str) -> AsyncIterator[DataverseClient]:
        """The caller's own Dataverse token: never stored, never logged."""
        async with self.dynamics(environment_url, SignIn(StaticTokenCredential(token))) as dv:
            yield dv

    @asynccontextmanager
    async def open(self, store: SyncStore, secrets: SecretStore, config: ConnectionConfig, *,
                   guard: CallGuard | None = None) -> AsyncIterator[ConnectionClients]:
        """Both clients of a saved connection; with ``guard`` (a live pass's lease), every call asks it first."""
        await self.guard(config)
        key = await secrets.get_secret(secret_names(config)["activecampaign_api_key"])
        if not key:
            raise ConfigurationError("the connection has no ActiveCampaign API key for its API URL: connect it "
                                     "(again) with the key")
        in_flight = asyncio.Semaphore(self.in_flight) if self.in_flight else None
        async with self.stored_dynamics(secrets, config, guard=guard, in_flight=in_flight) as dv, \
                self.activecampaign(store, config.activecampaign.api_url, key, guard=guard,
                                    in_flight=in_flight) as ac:
            yield ConnectionClients(ac=ac, dv=dv)

    def bound(self, store: SyncStore, secrets: SecretStore) -> BoundClients:
        return BoundClients(self, store, secrets)


@dataclass
class BoundClients:
    """The factory with a store and a secret store: the engine's :class:`ConnectionOpener`."""

    factory: ClientFactory
    store: SyncStore
    secrets: SecretStore

    def open(self, config: ConnectionConfig, *, guard: CallGuard | None = None
             ) -> AbstractAsyncContextManager[ConnectionClients]:
        return self.factory.open(self.store, self.secrets, config, guard=guard)
