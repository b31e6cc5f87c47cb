"""The API's own clients of ActiveCampaign and Dynamics: for a saved connection, and for a candidate one.

Three ways to sign in to Dynamics, and the API says which at every call:

- ``stored``: a saved connection with its stored secret (or the app's own identity), checked against
  the host policy and with the secret's name derived from the connection as it is — the same rule
  as the worker's factory (``engine.clients``);
- ``supplied``: a candidate environment with the secret the caller sent in the same request (nothing
  stored is read), or the app's own identity, which is a stored credential and so only used once the
  caller's role in that environment is known;
- ``as_user``: the caller's own Dataverse access token, to learn the caller's role in an environment
  before the app's identity is pointed at it.

Tests inject the transports (the sandboxes, in-process) and the app's identity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from sync_core.engine.clients import (
    AC_REQUESTS_PER_SECOND,
    dynamics_credential,
    guard_connection,
    stored_dynamics_secret,
)
from sync_core.model.config import ConnectionConfig, DynamicsAuth, DynamicsSettings
from sync_core.model.hosts import HostPolicy
from sync_core.model.secrets import IDENTITY_KINDS

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime

IdentityFactory = Callable[[DynamicsAuth], Any]


class SignIn:
    """A Dataverse credential whose failures are the Dynamics client's errors: Entra refusing the sign-in is
    an ``AuthenticationError``, Entra unreachable a ``TransientError`` — not an azure-core error, which in the
    API means the app's own storage."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.exceptions import AzureError, ClientAuthenticationError

        from sync_core.dynamics import AuthenticationError, TransientError

        try:
            return await self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError:
            raise AuthenticationError("Entra ID refused the app's sign-in to Dynamics") from None
        except AzureError as e:
            raise TransientError(f"signing in to Dynamics failed: {type(e).__name__}") from None

    async def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            await close()


class ApiClients:
    """Opens clients for the API's requests (few calls each, so few retries: a person is waiting)."""

    def __init__(self, *, ac_transport: httpx.AsyncBaseTransport | None = None,
                 dv_transport: httpx.AsyncBaseTransport | None = None, max_retries: int = 2,
                 ac_options: dict[str, Any] | None = None,
                 ac_requests_per_second: int = AC_REQUESTS_PER_SECOND,
                 host_policy: HostPolicy | None = None, app_identity: IdentityFactory | None = None) -> None:
        self.ac_transport = ac_transport
        self.dv_transport = dv_transport
        self.max_retries = max_retries
        self.ac_options = ac_options or {}
        self.ac_requests_per_second = ac_requests_per_second
        """The account's shared budget; only a stand-in with its limit off may raise it."""
        self.host_policy = host_policy or HostPolicy()
        self._app_identity = app_identity

    @asynccontextmanager
    async def activecampaign(self, rt: Runtime, api_url: str, key: str) -> AsyncIterator[ActiveCampaignClient]:
        """``api_url`` has passed the host policy (the route's or :meth:`guard` checked it)."""
        from sync_core.activecampaign import ActiveCampaignClient

        # The API spends the account's shared budget like the worker does.
        budget = rt.store.request_budget(f"ac-{urlsplit(api_url).netloc}", limit=self.ac_requests_per_second,
                                         window=1.0)
        options: dict[str, Any] = {"max_retries": self.max_retries, "max_retry_wait": 20.0, **self.ac_options}
        client = ActiveCampaignClient(api_url, key, budget=budget, clock=rt.clock, transport=self.ac_transport,
                                      **options)
        try:
            yield client
        finally:
            await client.aclose()

    async def guard(self, config: ConnectionConfig) -> None:
        """A saved connection may be used: trusted secrets, allowed hosts (ConfigurationError otherwise)."""
        await guard_connection(config, self.host_policy)

    def credential(self, auth: DynamicsAuth, secret: str | None) -> Any:
        if auth.kind in IDENTITY_KINDS and self._app_identity is not None:
            return SignIn(self._app_identity(auth))
        return SignIn(dynamics_credential(auth, secret, self.host_policy))

    @asynccontextmanager
    async def stored(self, rt: Runtime, config: ConnectionConfig) -> AsyncIterator[DataverseClient]:
        """The saved connection's environment with its stored credential."""
        await self.guard(config)
        secret = await stored_dynamics_secret(config, rt.secrets)
        async with self._open(rt, config.dynamics.environment_url,
                              self.credential(config.dynamics.auth, secret)) as dv:
            yield dv

    @asynccontextmanager
    async def supplied(self, rt: Runtime, settings: DynamicsSettings, secret: str | None
                       ) -> AsyncIterator[DataverseClient]:
        """A candidate environment (already checked by the route) with the caller's secret or the app's identity."""
        async with self._open(rt, settings.environment_url, self.credential(settings.auth, secret)) as dv:
            yield dv

    @asynccontextmanager
    async def as_user(self, rt: Runtime, environment_url: str, token: str) -> AsyncIterator[DataverseClient]:
        """The caller's own Dataverse token: never stored, never logged."""
        from sync_core.dynamics import StaticTokenCredential

        async with self._open(rt, environment_url, StaticTokenCredential(token)) as dv:
            yield dv

    @asynccontextmanager
    async def _open(self, rt: Runtime, environment_url: str, credential: Any) -> AsyncIterator[DataverseClient]:
        from sync_core.dynamics import DataverseClient

        client = DataverseClient(environment_url, credential, clock=rt.clock, transport=self.dv_transport,
                                 max_retries=self.max_retries, timeout=30.0)
        try:
            yield client
        finally:
            await client.aclose()
            close = getattr(credential, "close", None)
            if close is not None:
                await close()
