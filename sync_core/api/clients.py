"""The API's own clients of ActiveCampaign and Dynamics: for a candidate configuration too.

The engine's client factory opens clients for a saved connection with its stored key; the API
also has to try a key and an environment before anything is saved (connect), so it builds its
clients here, from settings. Tests inject the transports (the sandboxes, in-process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from sync_core.engine.clients import AC_REQUESTS_PER_SECOND
from sync_core.model.config import DynamicsSettings

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient
    from sync_core.runtime import Runtime


class DynamicsCredentialsMissing(Exception):
    """The connection's Dynamics authentication settings are incomplete."""


class ApiClients:
    """Opens clients for the API's requests (few calls each, so few retries: a person is waiting)."""

    def __init__(self, *, ac_transport: httpx.AsyncBaseTransport | None = None,
                 dv_transport: httpx.AsyncBaseTransport | None = None, max_retries: int = 2,
                 ac_options: dict[str, Any] | None = None,
                 ac_requests_per_second: int = AC_REQUESTS_PER_SECOND) -> None:
        self.ac_transport = ac_transport
        self.dv_transport = dv_transport
        self.max_retries = max_retries
        self.ac_options = ac_options or {}
        self.ac_requests_per_second = ac_requests_per_second
        """The account's shared budget; only a stand-in with its limit off may raise it."""

    @asynccontextmanager
    async def activecampaign(self, rt: Runtime, api_url: str, key: str) -> AsyncIterator[ActiveCampaignClient]:
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

    @asynccontextmanager
    async def dynamics(self, rt: Runtime, settings: DynamicsSettings, *, secret: str | None = None
                       ) -> AsyncIterator[DataverseClient]:
        """``secret``: a candidate (being validated) instead of the stored one."""
        from sync_core.dynamics import DataverseClient, StaticTokenCredential, credential_from_settings

        auth = settings.auth
        if secret is None and auth.secret_name:
            secret = await rt.secrets.get_secret(auth.secret_name)
        try:
            if auth.kind == "static_token":
                if not secret:
                    raise ValueError("static_token needs its token in the secret store")
                credential: Any = StaticTokenCredential(secret)
            else:
                credential = credential_from_settings(auth.kind, tenant_id=auth.tenant_id,
                                                      client_id=auth.client_id, secret=secret)
        except ValueError as e:
            raise DynamicsCredentialsMissing(str(e)) from None
        client = DataverseClient(settings.environment_url, credential, clock=rt.clock, transport=self.dv_transport,
                                 max_retries=self.max_retries, timeout=30.0)
        try:
            yield client
        finally:
            await client.aclose()
            close = getattr(credential, "close", None)
            if close is not None:
                await close()
