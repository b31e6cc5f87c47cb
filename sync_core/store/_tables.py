"""The store's tables: names under a prefix, creation, transactions and partition scans."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from typing import Literal

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TransactionOperation
from azure.data.tables.aio import TableClient, TableServiceClient

from sync_core.store._batch import Operation, submit_transaction

TableName = Literal["connections", "links", "cursors", "runs", "errors", "audit", "leases", "imports", "budgets",
                    "conflicts", "suppressions"]
TABLES: tuple[TableName, ...] = (
    "connections", "links", "cursors", "runs", "errors", "audit", "leases", "imports", "budgets", "conflicts",
    "suppressions",
)
PARTITIONED_BY_CONNECTION: tuple[TableName, ...] = (
    "connections", "links", "cursors", "runs", "errors", "audit", "leases", "imports", "conflicts", "suppressions",
)
MAX_BATCH_OPS = 100
"""Azure's limit per entity-group transaction (Azurite answers 101 with a malformed reply)."""



class Tables:
    """Table clients for one prefix, sharing the service client's connection pool."""

    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self.service = service
        self.prefix = prefix
        self._clients = {name: service.get_table_client(prefix + name) for name in TABLES}

    def __getitem__(self, name: TableName) -> TableClient:
        return self._clients[name]

    def full_names(self) -> list[str]:
        return [self.prefix + name for name in TABLES]

    async def create_all(self) -> None:
        async def create(name: str) -> None:
            with contextlib.suppress(ResourceExistsError):
                await self.service.create_table(name)

        await asyncio.gather(*(create(n) for n in self.full_names()))

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()
        await self.service.close()


def chunk_ops(groups: Iterable[Sequence[Operation]], limit: int = MAX_BATCH_OPS) -> list[list[Operation]]:
    """Pack groups of operations into transactions of at most ``limit`` operations.

    A group (all the rows of one link) is never split across transactions, so it stays atomic.
    """
    batches: list[list[Operation]] = []
    current: list[Operation] = []
    for group in groups:
        if len(group) > limit:
            raise ValueError(f"a group of {len(group)} operations cannot fit one transaction")
        if len(current) + len(group) > limit:
            batches.append(current)
            current = []
        current.extend(group)
    if current:
        batches.append(current)
    return batches


async def scan_keys(table: TableClient, partition: str) -> AsyncIterator[str]:
    async for e in table.query_entities(
        "PartitionKey eq @pk", parameters={"pk": partition}, select=["RowKey"], results_per_page=1000
    ):
        yield str(e["RowKey"])


async def delete_partition(table: TableClient, partition: str) -> int:
    """Delete every row of ``partition``, 100 per transaction; returns how many."""
    keys = [k async for k in scan_keys(table, partition)]
    ops: list[list[Operation]] = [
        [(TransactionOperation.DELETE, {"PartitionKey": partition, "RowKey": k})] for k in keys
    ]
    for batch in chunk_ops(ops):
        await submit_transaction(table, batch)
    return len(keys)
