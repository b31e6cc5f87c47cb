"""The secret store in Azure: Key Vault, reached with the app's managed identity."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

RECOVER_WAIT_SECONDS = (1.0, 2.0, 4.0, 8.0)
"""A deletion or recovery in progress answers 409 for a few seconds: waited out this often."""


def _vault_name(name: str) -> str:
    # Key Vault secret names allow only letters, digits and '-'.
    return re.sub(r"[^A-Za-z0-9-]", "-", name)[:127]


def _code(e: HttpResponseError) -> str:
    error = getattr(e, "error", None)
    return str(getattr(error, "code", "") or "")


class KeyVaultSecretStore:
    """:class:`sync_core.model.SecretStore` on Azure Key Vault (azure-keyvault-secrets).

    The vault has soft delete (and purge protection): a disconnected connection's secret is *deleted but
    recoverable* for the retention period, and setting it again answers 409 until it is recovered. Its
    name is the same on reconnect (names are derived, ``model/secrets.py``), so a set that meets a
    deleted secret recovers it and writes the new value as a new version (the app identity's custom role
    has ``secrets/recover/action`` for this). Presence is read from metadata only, never by reading the
    value (a value read is what the vault's diagnostics alert on)."""

    def __init__(self, vault_uri: str, credential: AsyncTokenCredential, *, client: Any = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._sleep = sleep
        if client is None:
            from azure.keyvault.secrets.aio import SecretClient

            client = SecretClient(vault_url=vault_uri, credential=credential)
        self._client = client

    async def get_secret(self, name: str) -> str | None:
        try:
            secret = await self._client.get_secret(_vault_name(name))
        except ResourceNotFoundError:
            return None
        return str(secret.value) if secret.value is not None else None

    async def has_secret(self, name: str) -> bool:
        try:
            async for version in self._client.list_properties_of_secret_versions(_vault_name(name)):
                if version.enabled:
                    return True
        except ResourceNotFoundError:
            return False
        return False

    async def set_secret(self, name: str, value: str) -> None:
        vault_name = _vault_name(name)
        waits = list(RECOVER_WAIT_SECONDS)
        while True:
            try:
                await self._client.set_secret(vault_name, value, content_type="text/plain")
                return
            except HttpResponseError as e:
                if e.status_code != 409 or not waits:
                    raise
                wait = waits.pop(0)
                if _code(e) == "ObjectIsDeletedButRecoverable":
                    await self._recover(vault_name)
                else:  # ObjectIsBeingDeleted / ObjectIsBeingRecovered: a moment
                    await self._sleep(wait)

    async def _recover(self, vault_name: str) -> None:
        try:
            await self._client.recover_deleted_secret(vault_name)
        except ResourceNotFoundError:
            return  # purged meanwhile: the next set creates it

    async def delete_secret(self, name: str) -> None:
        try:
            await self._client.delete_secret(_vault_name(name))
        except ResourceNotFoundError:
            return
