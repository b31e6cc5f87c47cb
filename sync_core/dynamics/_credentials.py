"""Credentials for the Web API: azure-identity's async credentials, or a fixed token for local mode.

The client asks the credential for ``<environment-url>/.default`` on every request; the
azure-identity credentials cache the token and refresh it before it expires (reference §1.1).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Literal

from azure.core.credentials import AccessToken
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity import aio

from sync_core.dynamics._errors import AuthenticationError, TransientError

CredentialKind = Literal["client_secret", "certificate", "managed_identity", "workload_identity", "default"]


class StaticTokenCredential:
    """Hands out one fixed bearer token (the sandbox and local runs). Never for production."""

    def __init__(self, token: str, *, lifetime: float = 3600.0) -> None:
        if not token:
            raise ValueError("a token is required")
        self._token = token
        self._lifetime = lifetime

    async def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                        enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time() + self._lifetime))

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> StaticTokenCredential:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None, exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        return None

    def __repr__(self) -> str:  # never show the token
        return "StaticTokenCredential(<hidden>)"


def credential_from_settings(kind: CredentialKind | str, *, tenant_id: str | None, client_id: str | None,
                             secret: str | None = None) -> AsyncTokenCredential:
    """An azure-identity async credential for the configured authentication kind.

    ``client_secret``: app registration + secret. ``certificate``: ``secret`` holds the PEM
    (private key and certificate). ``managed_identity``: ``client_id`` of a user-assigned
    identity, or ``None`` for the system-assigned one. ``workload_identity``: federated token file
    from the environment. ``default``: ``DefaultAzureCredential`` (developer machines).
    """
    if kind == "client_secret":
        if not (tenant_id and client_id and secret):
            raise ValueError("client_secret needs tenant_id, client_id and the secret")
        return aio.ClientSecretCredential(tenant_id, client_id, secret)
    if kind == "certificate":
        if not (tenant_id and client_id and secret):
            raise ValueError("certificate needs tenant_id, client_id and the PEM in the secret")
        return aio.CertificateCredential(tenant_id, client_id, certificate_data=secret.encode("utf-8"))
    if kind == "managed_identity":
        return aio.ManagedIdentityCredential(client_id=client_id) if client_id else aio.ManagedIdentityCredential()
    if kind == "workload_identity":
        return aio.WorkloadIdentityCredential(tenant_id=tenant_id, client_id=client_id)
    if kind == "default":
        if client_id:
            return aio.DefaultAzureCredential(managed_identity_client_id=client_id)
        return aio.DefaultAzureCredential()
    raise ValueError(f"unknown credential kind {kind!r}")


class SignIn:
    """A credential whose failures are the Dynamics client's errors: Entra refusing the sign-in is an
    :class:`AuthenticationError`, Entra unreachable a :class:`TransientError` — never an azure-core error,
    which everywhere else means the app's own storage."""

    def __init__(self, inner: AsyncTokenCredential | StaticTokenCredential) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            return await self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError:
            raise AuthenticationError("Entra ID refused the app's sign-in to Dynamics") from None
        except AzureError as e:
            raise TransientError(f"signing in to Dynamics failed: {type(e).__name__}") from None

    async def close(self) -> None:
        await self._inner.close()

    async def __aenter__(self) -> SignIn:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None = None, exc_value: BaseException | None = None,
                        traceback: TracebackType | None = None) -> None:
        await self.close()
