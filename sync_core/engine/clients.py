"""How a pass gets its two API clients for a connection.

The default factory takes the AC key from the secret store, shares the account's request
budget through the store, and builds the Dataverse credential from the connection's auth
settings. Tests and the demo inject transports (the sandboxes, in-process or on loopback).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import httpx

from sync_core.clock import Clock
from sync_core.model.config import ConnectionConfig
from sync_core.model.errors import ConfigurationError
from sync_core.model.guard import CallGuard
from sync_core.model.secrets import SecretStore

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


class DefaultClientFactory:
    """Clients from the connection's settings and the secret store."""

    def __init__(self, *, store: SyncStore, secrets: SecretStore, clock: Clock,
                 ac_transport: httpx.AsyncBaseTransport | None = None,
                 dv_transport: httpx.AsyncBaseTransport | None = None,
                 ac_options: dict[str, object] | None = None,
                 dv_options: dict[str, object] | None = None) -> None:
        self._store = store
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
        from sync_core.dynamics import DataverseClient, StaticTokenCredential, credential_from_settings

        key = await self._secrets.get_secret(config.activecampaign.api_key_secret)
        if not key:
            raise ConfigurationError("the connection has no ActiveCampaign API key: connect it first")
        auth = config.dynamics.auth
        secret = await self._secrets.get_secret(auth.secret_name) if auth.secret_name else None
        if auth.kind == "static_token":
            # Local and demo mode (the sandbox): a fixed bearer token kept in the secret store.
            if not secret:
                raise ConfigurationError("dynamics.auth: static_token needs its token in the secret store")
            credential: Any = StaticTokenCredential(secret)
        else:
            credential = credential_from_settings(auth.kind, tenant_id=auth.tenant_id, client_id=auth.client_id,
                                                  secret=secret)
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
