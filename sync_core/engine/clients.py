"""How a pass gets its two API clients for a connection.

The default factory takes the AC key from the secret store, shares the account's request
budget through the store, and builds the Dataverse credential from the connection's auth
settings. Tests and the demo inject transports (the sandboxes, in-process or on loopback).

Before any secret is read, the factory checks the connection against the host policy and derives
the secrets' names from the configuration as it is now (``model.secrets``): a secret stored for
another host has another name, so it is never found, let alone sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from sync_core.clock import Clock
from sync_core.model.config import ConnectionConfig, DynamicsAuth
from sync_core.model.errors import ConfigurationError, TransientError
from sync_core.model.guard import CallGuard
from sync_core.model.hosts import HostPolicy, HostRefused
from sync_core.model.secrets import SecretStore, secret_names

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient
    from sync_core.store import SyncStore

AC_REQUESTS_PER_SECOND = 5


@dataclass
class ConnectionClients:
    ac: ActiveCampaignClient
    dv: DataverseClient


class ClientFactory(Protocol):
    def open(self, config: ConnectionConfig, *, guard: CallGuard | None = None
             ) -> AbstractAsyncContextManager[ConnectionClients]: ...


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


def dynamics_credential(auth: DynamicsAuth, secret: str | None, policy: HostPolicy) -> Any:
    """The Dataverse credential for a sign-in kind; ``secret`` was read under the derived name or supplied."""
    from sync_core.dynamics import StaticTokenCredential, credential_from_settings

    if auth.kind == "static_token":
        # Local and demo mode (the sandbox): a fixed bearer token kept in the secret store.
        if not policy.local:
            raise ConfigurationError("dynamics.auth.kind: static_token works only in local mode")
        if not secret:
            raise ConfigurationError("dynamics.auth: static_token needs its token in the secret store")
        return StaticTokenCredential(secret)
    try:
        return credential_from_settings(auth.kind, tenant_id=auth.tenant_id, client_id=auth.client_id, secret=secret)
    except ValueError as e:
        raise ConfigurationError(f"dynamics.auth: {e}") from None


async def stored_dynamics_secret(config: ConnectionConfig, secrets: SecretStore) -> str | None:
    name = secret_names(config).get("dynamics_secret")
    return await secrets.get_secret(name) if name else None


class DefaultClientFactory:
    """Clients from the connection's settings and the secret store."""

    def __init__(self, *, store: SyncStore, secrets: SecretStore, clock: Clock,
                 ac_transport: httpx.AsyncBaseTransport | None = None,
                 dv_transport: httpx.AsyncBaseTransport | None = None,
                 ac_options: dict[str, object] | None = None,
                 dv_options: dict[str, object] | None = None, host_policy: HostPolicy | None = None) -> None:
        self._store = store
        self._policy = host_policy or HostPolicy()  # deployed rules unless told otherwise
        self._secrets = secrets
        self._clock = clock
        self._ac_transport = ac_transport
        self._dv_transport = dv_transport
        self._ac_options = ac_options or {}
        self._dv_options = dv_options or {}

    @asynccontextmanager
    async def open(self, config: ConnectionConfig, *, guard: CallGuard | None = None
                   ) -> AsyncIterator[ConnectionClients]:
        """Both clients; with ``guard`` (a live pass's lease), every call asks it first."""
        from sync_core.activecampaign import ActiveCampaignClient
        from sync_core.dynamics import DataverseClient

        await guard_connection(config, self._policy)
        key = await self._secrets.get_secret(secret_names(config)["activecampaign_api_key"])
        if not key:
            raise ConfigurationError("the connection has no ActiveCampaign API key for its API URL: connect it "
                                     "(again) with the key")
        credential = dynamics_credential(config.dynamics.auth, await stored_dynamics_secret(config, self._secrets),
                                         self._policy)
        # Every integration of one AC account shares its 5 requests/s: the budget is keyed by
        # the account's host and kept in the store, so the worker and the HTTP API share it.
        host = urlsplit(config.activecampaign.api_url).netloc
        budget = self._store.request_budget(f"ac-{host}", limit=AC_REQUESTS_PER_SECOND, window=1.0)
        ac = ActiveCampaignClient(config.activecampaign.api_url, key, budget=budget, clock=self._clock,
                                  transport=self._ac_transport, guard=guard, **self._ac_options)  # type: ignore[arg-type]
        dv = DataverseClient(config.dynamics.environment_url, credential, clock=self._clock,
                             transport=self._dv_transport, guard=guard, **self._dv_options)  # type: ignore[arg-type]
        try:
            yield ConnectionClients(ac=ac, dv=dv)
        finally:
            await ac.aclose()
            await dv.aclose()
            close = getattr(credential, "close", None)
            if close is not None:
                await close()
