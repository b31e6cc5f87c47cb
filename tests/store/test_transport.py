"""The store's connections are not kept idle longer than Azurite (Node) keeps them."""

from __future__ import annotations

from typing import Any

from sync_core.store import SyncStore
from sync_core.store._transport import KEEPALIVE_SECONDS, ShortKeepAliveTransport


async def test_idle_connections_close_before_the_server_closes_them(storage_connection_string: str,
                                                                    table_prefix: str) -> None:
    store = SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix)
    try:
        await store.create_tables()
        assert await store.get_cursor("c", "contact", "dynamics") is None  # a request was sent
        transport: Any = store.tables.service._client._client._pipeline._transport
        assert isinstance(transport, ShortKeepAliveTransport)
        connector: Any = transport.session.connector
        assert connector._keepalive_timeout == KEEPALIVE_SECONDS < 5
    finally:
        await store.close()
