"""The secret store in Azure: Key Vault, reached with the app's managed identity."""

from __future__ import annotations

import re

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ResourceNotFoundError


def _vault_name(name: str) -> str:
    # Key Vault secret names allow only letters, digits and '-'.
    return re.sub(r"[^A-Za-z0-9-]", "-", name)[:127]


class KeyVaultSecretStore:
    """:class:`sync_core.model.SecretStore` on Azure Key Vault (azure-keyvault-secrets)."""

    def __init__(self, vault_uri: str, credential: AsyncTokenCredential) -> None:
        from azure.keyvault.secrets.aio import SecretClient

        self._client = SecretClient(vault_url=vault_uri, credential=credential)

    async def get_secret(self, name: str) -> str | None:
        try:
            secret = await self._client.get_secret(_vault_name(name))
        except ResourceNotFoundError:
            return None
        return secret.value

    async def set_secret(self, name: str, value: str) -> None:
        await self._client.set_secret(_vault_name(name), value, content_type="text/plain")

    async def delete_secret(self, name: str) -> None:
        try:
            await self._client.delete_secret(_vault_name(name))
        except ResourceNotFoundError:
            return
