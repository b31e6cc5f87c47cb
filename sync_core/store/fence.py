"""The fence: what makes a pass that lost its lease unable to write links, cursors, imports or requests.

Table Storage has no cross-table transactions, so the lease row alone cannot stop a writer that
lost it (it would have to check first and write after: a race). Instead every guarded table holds
fence rows in the connection's partition (``~fence|<slot>``) carrying the lease's fencing token.
A pass that takes the lease raises the token in every fence row; each of its writes carries a
conditional replace of one fence row (If-Match on the ETag it holds) inside the same entity-group
transaction as the rows it guards. Once a newer pass has raised the token, the old pass's next
transaction fails whole and nothing of it is written.

Several slots per table keep the link writes concurrent: each slot's ETag changes with every
transaction, so one slot serialises its writers; the writes of a pass spread over the slots.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.data.tables import TableTransactionError, TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import Lease
from sync_core.store._batch import Operation, submit_transaction
from sync_core.store._keys import key
from sync_core.store.errors import LeaseLostError

GuardedTable = Literal["links", "cursors", "imports", "requests"]
SLOTS: dict[GuardedTable, int] = {"links": 8, "cursors": 1, "imports": 1, "requests": 1}
TRANSPORT_RETRIES = 3
FENCE_PREFIX = "~fence"
"""Sorts after every link, cursor, import and request key (all start with a letter or digit)."""


def fence_key(slot: int) -> str:
    return key(FENCE_PREFIX, str(slot))


def is_fence_row(row_key: str) -> bool:
    return row_key.startswith(FENCE_PREFIX)


@dataclass
class _Slot:
    etag: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Fence:
    """One pass's claim on a connection's writes: its token and the fence rows' ETags it holds."""

    connection_id: str
    token: int
    holder: str
    _tables: dict[GuardedTable, TableClient]
    _slots: dict[GuardedTable, list[_Slot]]
    _next: dict[GuardedTable, itertools.cycle[int]] = field(default_factory=dict)
    lost: bool = False

    def _op(self, table: GuardedTable, slot: int) -> Operation:
        entity = {"PartitionKey": self.connection_id, "RowKey": fence_key(slot), "fence": self.token,
                  "holder": self.holder}
        return (TransactionOperation.UPDATE, entity,
                {"mode": UpdateMode.REPLACE, "etag": self._slots[table][slot].etag,
                 "match_condition": MatchConditions.IfNotModified})

    async def submit(self, table: GuardedTable, ops: Sequence[Operation]) -> list[Mapping[str, Any]]:
        """Commit ``ops`` with this fence in one transaction; results for ``ops`` only.

        Raises :class:`LeaseLostError` when a newer pass holds the fence (nothing was written); any
        other failure of the transaction is raised as the service reported it.
        """
        if self.lost:
            raise LeaseLostError(f"the lease of {self.connection_id} was lost: this pass writes nothing more")
        cycle = self._next.setdefault(table, itertools.cycle(range(len(self._slots[table]))))
        slot = next(cycle)
        state = self._slots[table][slot]
        async with state.lock:
            for attempt in range(TRANSPORT_RETRIES + 1):
                try:
                    results = await submit_transaction(self._tables[table], [*ops, self._op(table, slot)])
                except TableTransactionError as e:
                    if getattr(e, "status_code", None) == 412 and await self._fence_row(table, slot) is None:
                        raise self._lose() from None
                    raise
                except (ServiceRequestError, ServiceResponseError, ConnectionError, OSError):
                    # The connection broke: the transaction happened whole or not at all. The fence
                    # row's ETag tells which (only our transactions move it while the token is ours).
                    etag = await self._fence_row(table, slot)
                    if etag is None:
                        raise self._lose() from None
                    if etag != state.etag:
                        state.etag = etag
                        return await self._written(table, ops)
                    if attempt == TRANSPORT_RETRIES:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                state.etag = str(results[-1]["etag"])
                return results[:-1]
        raise AssertionError("unreachable")

    def _lose(self) -> LeaseLostError:
        self.lost = True
        return LeaseLostError(f"the lease of {self.connection_id} was taken over by a newer pass: nothing of "
                              "this write was stored")

    async def _fence_row(self, table: GuardedTable, slot: int) -> str | None:
        """The fence row's ETag while it carries our token; ``None`` once a newer pass took it."""
        try:
            row = await self._tables[table].get_entity(self.connection_id, fence_key(slot))
        except ResourceNotFoundError:
            return None
        if int(row.get("fence", 0)) != self.token or row.get("holder") != self.holder:
            return None
        return str(row.metadata["etag"])

    async def _written(self, table: GuardedTable, ops: Sequence[Operation]) -> list[Mapping[str, Any]]:
        """A transaction that committed although its reply was lost: the ETags of what it wrote."""
        async def etag_of(op: Operation) -> Mapping[str, Any]:
            if str(getattr(op[0], "value", op[0])).lower() == "delete":
                return {}
            row = await self._tables[table].get_entity(op[1]["PartitionKey"], op[1]["RowKey"])
            return {"etag": str(row.metadata["etag"])}

        return list(await asyncio.gather(*(etag_of(op) for op in ops)))


class FenceRepository:
    """Claims the fence rows of the guarded tables for a lease's token."""

    def __init__(self, tables: Mapping[GuardedTable, TableClient]) -> None:
        self._tables = dict(tables)

    async def claim(self, lease: Lease) -> Fence:
        """Raise every fence row to ``lease.fence``; :class:`LeaseLostError` if a newer token is there."""
        slots: dict[GuardedTable, list[_Slot]] = {}
        for table, count in SLOTS.items():
            slots[table] = list(await asyncio.gather(
                *(self._claim_row(table, lease, slot) for slot in range(count))))
        return Fence(lease.connection_id, lease.fence, lease.holder, self._tables, slots)

    async def _claim_row(self, table: GuardedTable, lease: Lease, slot: int) -> _Slot:
        client = self._tables[table]
        entity = {"PartitionKey": lease.connection_id, "RowKey": fence_key(slot), "fence": lease.fence,
                  "holder": lease.holder}
        for _ in range(5):  # a concurrent claimer may change the row between our read and write
            try:
                row = await client.get_entity(lease.connection_id, fence_key(slot))
            except ResourceNotFoundError:
                try:
                    meta = await client.create_entity(entity)
                except ResourceExistsError:
                    continue
                return _Slot(str(meta["etag"]))
            stored = int(row.get("fence", 0))
            if stored > lease.fence or (stored == lease.fence and row.get("holder") != lease.holder):
                raise LeaseLostError(f"the lease of {lease.connection_id} was taken over by a newer pass")
            try:
                meta = await client.update_entity(entity, mode=UpdateMode.REPLACE, etag=row.metadata["etag"],
                                                  match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                continue
            return _Slot(str(meta["etag"]))
        raise LeaseLostError(f"the fence of {lease.connection_id} keeps changing: another pass is claiming it")
