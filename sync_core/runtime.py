"""The composition root: store, secret store, queue and engine built from the settings.

Only the entry points (``function_app.py``, ``__main__.py``) and the API's app factory use
this; nothing in ``engine``/``store``/the clients imports it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from azure.identity.aio import DefaultAzureCredential, ManagedIdentityCredential

from sync_core.clock import SYSTEM_CLOCK, Clock
from sync_core.engine import ClientFactory, SyncEngine
from sync_core.engine.scheduling import StorageQueue
from sync_core.keyvault import KeyVaultSecretStore
from sync_core.model.secrets import SecretStore
from sync_core.settings import DEFAULT_QUEUE, STORAGE_REMEDY, SettingMissing, Settings
from sync_core.store import LocalSecretStore, SyncStore


@dataclass
class Runtime:
    settings: Settings
    store: SyncStore
    secrets: SecretStore
    queue: StorageQueue
    engine: SyncEngine
    clock: Clock
    clients: ClientFactory
    """The one client factory: the engine's passes use it, the API uses its interactive copy."""
    _ready: bool = field(default=False, repr=False)

    async def ready(self) -> Runtime:
        """Create tables and the queue once per process."""
        if not self._ready:
            await self.store.create_tables()
            await self.queue.create()
            self._ready = True
        return self

    async def close(self) -> None:
        await self.queue.close()
        await self.store.close()


def _credential(settings: Settings) -> DefaultAzureCredential | ManagedIdentityCredential:
    if settings.in_azure and settings.managed_identity_client_id:
        return ManagedIdentityCredential(client_id=settings.managed_identity_client_id)
    return DefaultAzureCredential()


def build_runtime(settings: Settings | None = None, *, clock: Clock = SYSTEM_CLOCK,
                  clients: ClientFactory | None = None, secrets: SecretStore | None = None) -> Runtime:
    s = settings or Settings.from_env()
    if s.storage_connection_string:
        try:
            store = SyncStore.from_connection_string(s.storage_connection_string, table_prefix=s.table_prefix,
                                                     clock=clock)
            queue = StorageQueue.from_connection_string(s.storage_connection_string, DEFAULT_QUEUE)
        except ValueError as e:  # the SDKs' parse of the connection string
            raise SettingMissing("SYNC_STORAGE_CONNECTION_STRING", f"{e} (an Azurite string names TableEndpoint "
                                 "and QueueEndpoint; `python -m sync_core local up` writes one)") from None
    elif s.storage_account_url and s.queue_account_url:
        cred = _credential(s)
        store = SyncStore.from_account_url(s.storage_account_url, cred, table_prefix=s.table_prefix,
                                           clock=clock)
        queue = StorageQueue.from_account_url(s.queue_account_url, DEFAULT_QUEUE, cred)
    else:
        raise s.storage_problem() or SettingMissing("SYNC_STORAGE_ACCOUNT_URL", STORAGE_REMEDY)
    if secrets is None:
        secrets = _secret_store(s)
    factory = clients or ClientFactory(clock=clock, host_policy=s.host_policy())
    engine = SyncEngine(store, factory.bound(store, secrets), clock=clock, lease_ttl=s.lease_seconds)
    return Runtime(settings=s, store=store, secrets=secrets, queue=queue, engine=engine, clock=clock,
                   clients=factory)


def _secret_store(s: Settings) -> SecretStore:
    if s.key_vault_uri:
        return KeyVaultSecretStore(s.key_vault_uri, _credential(s))
    if s.in_azure:
        raise SettingMissing("SYNC_KEY_VAULT_URI", "must be set in Azure: the local secret store is for development")
    return LocalSecretStore(s.local_secrets_path)


_RUNTIME: Runtime | None = None
_LOCK: asyncio.Lock | None = None


async def get_runtime() -> Runtime:
    """The process-wide runtime (function instances reuse it across invocations)."""
    global _RUNTIME, _LOCK
    if _LOCK is None:
        _LOCK = asyncio.Lock()
    async with _LOCK:
        if _RUNTIME is None:
            _RUNTIME = build_runtime()
        return await _RUNTIME.ready()


async def reset_runtime() -> None:
    """Forget the process-wide runtime (tests that change the settings between calls)."""
    global _RUNTIME, _LOCK
    if _RUNTIME is not None:
        await _RUNTIME.close()
    _RUNTIME, _LOCK = None, None
