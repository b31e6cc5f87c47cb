"""A SyncStore on real Azurite with fresh tables per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from sync_core.clock import FakeClock
from sync_core.model.config import ConnectionConfig
from sync_core.store import SyncStore

StoreFactory = Callable[[], Awaitable[SyncStore]]


@pytest.fixture
async def make_store(storage_connection_string: str, table_prefix: str, clock: FakeClock
                     ) -> AsyncIterator[StoreFactory]:
    """Opens more SyncStore objects on the same tables (stand-ins for other processes)."""
    opened: list[SyncStore] = []

    async def make() -> SyncStore:
        s = SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix, clock=clock)
        opened.append(s)
        await s.create_tables()
        return s

    yield make
    for s in opened:
        await s.close()


@pytest.fixture
async def store(make_store: StoreFactory) -> SyncStore:
    return await make_store()


def make_config(connection_id: str = "conn-1", **extra: object) -> ConnectionConfig:
    return ConnectionConfig.model_validate({
        "connection_id": connection_id,
        "activecampaign": {"api_url": "https://acme.api-us1.com"},
        "dynamics": {"environment_url": "https://acme.crm.dynamics.com"},
        **extra,
    })
