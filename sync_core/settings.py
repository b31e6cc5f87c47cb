"""Every setting the app reads, in one place (the infra cross-check test reads SETTINGS)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from sync_core.model.hosts import DEFAULT_AC_HOSTS, HostPolicy, parse_host_patterns

SETTINGS: dict[str, str] = {
    "SYNC_STORAGE_ACCOUNT_URL": "Table endpoint of the state storage account (identity-based, in Azure)",
    "SYNC_QUEUE_ACCOUNT_URL": "Queue endpoint of the storage account holding the pass queue (identity-based)",
    "SYNC_STORAGE_CONNECTION_STRING": "Local only: Azurite connection string for tables and queues",
    "SYNC_TABLE_PREFIX": "Prefix of every table name (lets several deployments share an account)",
    "AZURE_CLIENT_ID": "Client id of the user-assigned managed identity the app runs as",
    "SYNC_KEY_VAULT_URI": "Key Vault holding the ActiveCampaign keys",
    "SYNC_LOCAL_SECRETS_PATH": "Local only: file of the local secret store",
    "SYNC_AUTH_TENANT_ID": "Entra tenant that issues the API's bearer tokens",
    "SYNC_AUTH_AUDIENCE": "Audience (application ID URI or client id) of the API's bearer tokens",
    "SYNC_AUTH_ALLOWED_TENANTS": "Comma-separated tenants whose tokens are accepted (default: the tenant)",
    "SYNC_AUTH_SCOPE": "Delegated scope every user token must carry in scp (default access_as_user)",
    "SYNC_AUTH_APP_ROLE": "App role every app-only token must carry in roles (default Sync.Access)",
    "SYNC_AC_ALLOWED_HOSTS": "Comma-separated ActiveCampaign API hosts or *.domain patterns a connection may use "
                             "(default *.api-us1.com,*.activehosted.com)",
    "SYNC_LOCAL_AUTH": "Local only: sign and accept tokens with a local key, allow http and loopback hosts "
                       "(refused in Azure)",
    "SYNC_LOCAL_SETTINGS": "Local only: the settings file `local up` writes and the command line reads "
                           "(default .local/settings.json; the environment wins over it)",
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "Application Insights ingestion endpoint (no key material)",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING": "Entra authentication of telemetry (ClientId=...;Authorization=AAD)",
    "SYNC_LEASE_SECONDS": "How long a pass's lease on its connection lasts unless renewed (default 60; a pass "
                          "renews it as it works, so this is how soon a killed worker's connection is free)",
    "WEBSITE_INSTANCE_ID": "Set by Azure: the app runs in Azure",
    "WEBSITE_SITE_NAME": "Set by Azure: the app's name",
}

LOCAL_TENANT = "00000000-0000-0000-0000-00000000100c"
"""The tenant of local mode: its tokens carry it, and connections applied locally belong to it."""

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
"""Azurite's fixed, publicly documented development key: not a secret."""
DEVELOPMENT_STORAGE = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + AZURITE_KEY + ";"
                       "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
                       "QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;"
                       "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;")
"""What ``UseDevelopmentStorage=true`` stands for: Azurite on its default ports (the SDKs reject the shortcut)."""

DEFAULT_QUEUE = "sync-passes"
"""The pass queue; fixed, because the queue trigger binding names it."""


class SettingMissing(Exception):
    """A setting the command needs is absent or unusable; ``setting`` names it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


STORAGE_REMEDY = ("set SYNC_STORAGE_ACCOUNT_URL and SYNC_QUEUE_ACCOUNT_URL (in Azure), or locally start Azurite "
                  "and the sandboxes with `python -m sync_core local up` (it writes the settings)")


@dataclass(frozen=True)
class Settings:
    storage_account_url: str | None
    queue_account_url: str | None
    storage_connection_string: str | None
    table_prefix: str
    managed_identity_client_id: str | None
    key_vault_uri: str | None
    local_secrets_path: str
    in_azure: bool
    local_mode: bool = False
    """``SYNC_LOCAL_AUTH`` outside Azure: local tokens, http and loopback hosts (the stand-ins)."""
    ac_allowed_hosts: tuple[str, ...] = DEFAULT_AC_HOSTS
    lease_seconds: float = 60.0
    auth_tenant_id: str | None = None
    """``SYNC_AUTH_TENANT_ID``: the tenant whose tokens the API accepts."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = dict(os.environ) if env is None else env
        in_azure = bool(e.get("WEBSITE_INSTANCE_ID") or e.get("WEBSITE_SITE_NAME"))
        local = (e.get("SYNC_LOCAL_AUTH") or "").strip().lower() in ("1", "true", "yes", "on")
        return cls(
            storage_account_url=e.get("SYNC_STORAGE_ACCOUNT_URL") or None,
            queue_account_url=e.get("SYNC_QUEUE_ACCOUNT_URL") or None,
            storage_connection_string=_storage_string(e.get("SYNC_STORAGE_CONNECTION_STRING")),
            table_prefix=e.get("SYNC_TABLE_PREFIX", ""),
            managed_identity_client_id=e.get("AZURE_CLIENT_ID") or None,
            key_vault_uri=e.get("SYNC_KEY_VAULT_URI") or None,
            local_secrets_path=e.get("SYNC_LOCAL_SECRETS_PATH") or ".local/secrets.json",
            in_azure=in_azure,
            local_mode=local and not in_azure,
            ac_allowed_hosts=parse_host_patterns(e.get("SYNC_AC_ALLOWED_HOSTS")),
            lease_seconds=_positive(e, "SYNC_LEASE_SECONDS", 60.0),
            auth_tenant_id=(e.get("SYNC_AUTH_TENANT_ID") or "").strip().lower() or None,
        )

    @property
    def connection_tenant(self) -> str | None:
        """The tenant a connection applied here belongs to: the one whose tokens the API accepts.

        ``config apply`` stamps it on a file that names none, so the API (which shows a caller only
        its own tenant's connections) sees what the command line applied.
        """
        return LOCAL_TENANT if self.local_mode else self.auth_tenant_id

    def storage_problem(self) -> SettingMissing | None:
        """Why no store can be built from these settings (``None``: it can)."""
        if self.storage_connection_string or (self.storage_account_url and self.queue_account_url):
            return None
        missing = "SYNC_QUEUE_ACCOUNT_URL" if self.storage_account_url else "SYNC_STORAGE_ACCOUNT_URL"
        return SettingMissing(missing, f"no storage is configured: {STORAGE_REMEDY}")

    def host_policy(self) -> HostPolicy:
        return HostPolicy(local=self.local_mode, activecampaign_hosts=self.ac_allowed_hosts)


def _positive(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not 0 < value < 86_400:
        raise ValueError(f"{name} must be between 0 and 86400 seconds")
    return value


def _storage_string(raw: str | None) -> str | None:
    if not raw:
        return None
    return DEVELOPMENT_STORAGE if raw.replace(" ", "").lower() == "usedevelopmentstorage=true" else raw
