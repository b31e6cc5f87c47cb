"""The links table: record pairs with their last synced values, indexed both ways.

Rows of one link, all in the connection's partition:

``f|<entity>|<dynamics id>``                      the link itself (values, modified times, pending batch)
``a|<ac type>|<ac id>|<entity>|<dynamics id>``    reverse index (absent while the link is pending)
``e|<email, lower case>|<entity>|<dynamics id>``  email index (absent without an email)
``r|<entity>|<dynamics id>``                      written on request, until the next pass (``requested.py``)

Index keys end with the Dynamics id, so no two links ever share an index row and an index row
never needs rewriting: a save writes the forward row, creates the index rows that are new and
deletes the ones that went stale, all in one transaction. The index rows a link has are kept on
the object (``RecordLink.index_keys``) so saving needs no reads; a link the store has not seen
(``index_keys is None``) is created optimistically and, if its row turns out to exist, the store
reads what is stored and tries that transaction once more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.data.tables import TableTransactionError, TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import AC_TYPE_OF, EntityName, RecordLink
from sync_core.store import _codec as codec
from sync_core.store._batch import submit_transaction
from sync_core.store._keys import enc, key, prefix_range
from sync_core.store._tables import MAX_BATCH_OPS, Operation, chunk_ops
from sync_core.store.fence import Fence
from sync_core.store.requested import requested_op

_RETRY_CODES = {"EntityAlreadyExists", "ResourceNotFound"}
KEYS_PER_QUERY = 14
"""Links read by one query: Table Storage permits at most 15 discrete comparisons in a ``$filter``
("Querying tables and entities", REST reference); one is the PartitionKey."""


def forward_key(entity: str, dynamics_id: str) -> str:
    return key("f", entity, enc(dynamics_id))


def normal_email(email: str) -> str:
    return email.strip().lower()


def index_keys_of(link: RecordLink) -> frozenset[str]:
    """The index rows a link in this state has."""
    keys = set()
    tail = (link.entity, enc(link.dynamics_id))
    if link.ac_id is not None:
        keys.add(key("a", AC_TYPE_OF[link.entity], enc(link.ac_id), *tail))
    if link.email:
        keys.add(key("e", enc(normal_email(link.email)), *tail))
    return frozenset(keys)


def _forward_entity(cid: str, link: RecordLink) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": forward_key(link.entity, link.dynamics_id),
        "kind": "link",
        "entity": link.entity,
        "dynamics_id": link.dynamics_id,
        "ac_type": AC_TYPE_OF[link.entity],
    }
    if link.ac_id is not None:
        e["ac_id"] = link.ac_id
    if link.email is not None:
        e["email"] = link.email
    if link.pending_batch is not None:
        e["pending_batch"] = link.pending_batch
    codec.put_json(e, "dv", link.dynamics_values)
    codec.put_json(e, "av", link.ac_values)
    codec.put_dt(e, "dynamics_modified", link.dynamics_modified)
    codec.put_dt(e, "ac_modified", link.ac_modified)
    codec.put_dt(e, "synced_at", link.synced_at)
    if link.dynamics_etag is not None:
        e["dynamics_etag"] = link.dynamics_etag
    if link.history:
        codec.put_json(e, "history", link.history)
    if link.opted_out:
        e["opted_out"] = True
    if link.dynamics_opt_out is not None:
        e["dynamics_opt_out"] = link.dynamics_opt_out
    codec.check_size(e, f"link {link.entity} {link.dynamics_id}")
    return e


def link_from_entity(e: Mapping[str, Any]) -> RecordLink:
    link = RecordLink(
        entity=cast(EntityName, e["entity"]),
        dynamics_id=str(e["dynamics_id"]),
        ac_id=e.get("ac_id"),
        email=e.get("email"),
        dynamics_values=codec.get_json(e, "dv", {}),
        ac_values=codec.get_json(e, "av", {}),
        dynamics_modified=codec.get_dt(e, "dynamics_modified"),
        ac_modified=codec.get_dt(e, "ac_modified"),
        pending_batch=e.get("pending_batch"),
        synced_at=codec.get_dt(e, "synced_at"),
        dynamics_etag=e.get("dynamics_etag"),
        history=codec.get_json(e, "history", []),
        opted_out=bool(e.get("opted_out", False)),
        dynamics_opt_out=e.get("dynamics_opt_out"),
        etag=getattr(e, "metadata", {}).get("etag"),
    )
    link.index_keys = tuple(sorted(index_keys_of(link)))
    return link


def link_ops(cid: str, link: RecordLink) -> list[Operation]:
    """One link's whole write: forward row, new index rows, removal of stale ones."""
    forward = _forward_entity(cid, link)
    new = index_keys_of(link)
    if link.index_keys is None:
        ops: list[Operation] = [(TransactionOperation.CREATE, forward)]
        old: frozenset[str] = frozenset()
    else:
        ops = [(TransactionOperation.UPSERT, forward, {"mode": UpdateMode.REPLACE})]
        old = frozenset(link.index_keys)
    for k in sorted(new - old):
        row = {"PartitionKey": cid, "RowKey": k, "kind": "index", "entity": link.entity,
               "dynamics_id": link.dynamics_id}
        ops.append((TransactionOperation.UPSERT, row, {"mode": UpdateMode.REPLACE}))
    for k in sorted(old - new):
        ops.append((TransactionOperation.DELETE, {"PartitionKey": cid, "RowKey": k}))
    return ops


TRANSPORT_RETRIES = 3


def _max_ops(fence: Fence | None) -> int:
    """A fenced transaction carries the fence row too."""
    return MAX_BATCH_OPS - (fence is not None)


class LinkRepository:
    def __init__(self, table: TableClient, *, concurrency: int = 8, read_concurrency: int = 32) -> None:
        self._t = table
        self._write_slots = asyncio.Semaphore(concurrency)
        self._read_slots = asyncio.Semaphore(read_concurrency)
        self.transactions = 0
        """Transactions submitted (for tests and benchmarks)."""

    async def submit(self, ops: Sequence[Operation], fence: Fence | None = None) -> list[Mapping[str, Any]]:
        if len(ops) > _max_ops(fence):
            raise ValueError(f"{len(ops)} operations exceed the {_max_ops(fence)} one transaction may hold")
        async with self._write_slots:
            if fence is not None:
                self.transactions += 1
                return await fence.submit("links", ops)
            for attempt in range(TRANSPORT_RETRIES + 1):
                self.transactions += 1
                try:
                    return await submit_transaction(self._t, ops)
                except (ServiceRequestError, ServiceResponseError, ConnectionError, OSError):
                    # The connection broke (seen on Azurite under load): the transaction either did
                    # not happen or happened whole. Sending it again is safe: a create that already
                    # happened fails the transaction, and the caller then learns what is stored.
                    if attempt == TRANSPORT_RETRIES:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))
            raise AssertionError("unreachable")

    # --- reads -------------------------------------------------------------------------------

    async def get(self, cid: str, entity: EntityName, dynamics_id: str) -> RecordLink | None:
        async with self._read_slots:
            try:
                e = await self._t.get_entity(cid, forward_key(entity, dynamics_id))
            except ResourceNotFoundError:
                return None
        return link_from_entity(e)

    async def get_many(self, cid: str, pairs: Iterable[tuple[EntityName, str]]) -> list[RecordLink]:
        """The stored links of ``pairs``, in their order: one query per ``KEYS_PER_QUERY`` links, not a
        read each (a page of records costs ~1/14 of the round trips)."""
        wanted = list(dict.fromkeys(pairs))
        if len(wanted) <= 1:
            found = [await self.get(cid, ent, did) for ent, did in wanted]
            return [link for link in found if link is not None]
        keys = sorted(forward_key(ent, did) for ent, did in wanted)
        chunks = [keys[i:i + KEYS_PER_QUERY] for i in range(0, len(keys), KEYS_PER_QUERY)]
        by_key: dict[tuple[str, str], RecordLink] = {}
        for links in await asyncio.gather(*(self._by_keys(cid, chunk) for chunk in chunks)):
            by_key.update(((lk.entity, lk.dynamics_id), lk) for lk in links)
        return [by_key[p] for p in wanted if p in by_key]

    async def _by_keys(self, cid: str, row_keys: Sequence[str]) -> list[RecordLink]:
        # The SDK substitutes ``@name`` only in space-separated words, hence the spaces inside the parentheses.
        terms = " or ".join(f"RowKey eq @k{i}" for i in range(len(row_keys)))
        params = {"pk": cid, **{f"k{i}": k for i, k in enumerate(row_keys)}}
        async with self._read_slots:
            return [link_from_entity(e) async for e in self._t.query_entities(
                f"PartitionKey eq @pk and ( {terms} )", parameters=params, results_per_page=len(row_keys))]

    async def _index_targets(self, cid: str, prefix: str) -> list[tuple[EntityName, str]]:
        low, high = prefix_range(prefix)
        out: list[tuple[EntityName, str]] = []
        async for e in self._t.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": cid, "lo": low, "hi": high},
            select=["entity", "dynamics_id"],
        ):
            out.append((cast(EntityName, e["entity"]), str(e["dynamics_id"])))
        return out

    async def by_ac(self, cid: str, ac_type: str, ac_id: str) -> list[RecordLink]:
        targets = await self._index_targets(cid, key("a", ac_type, enc(ac_id), ""))
        return await self.get_many(cid, targets)

    async def by_email(self, cid: str, email: str, entity: EntityName | None) -> list[RecordLink]:
        parts = ["e", enc(normal_email(email))]
        parts += [entity, ""] if entity else [""]
        targets = await self._index_targets(cid, key(*parts))
        return await self.get_many(cid, targets)

    async def iterate(self, cid: str, entity: EntityName | None, *, after: str | None = None,
                      page_size: int = 1000) -> AsyncIterator[RecordLink]:
        """Links in Dynamics-id order; ``after``: only those after that Dynamics id (``entity`` needed)."""
        low, high = prefix_range(key("f", entity, "") if entity else key("f", ""))
        op = "ge"
        if after is not None and entity is not None:
            low, op = forward_key(entity, after), "gt"
        async for e in self._t.query_entities(
            f"PartitionKey eq @pk and RowKey {op} @lo and RowKey lt @hi",
            parameters={"pk": cid, "lo": low, "hi": high},
            results_per_page=page_size,
        ):
            yield link_from_entity(e)

    async def count(self, cid: str, entity: EntityName) -> int:
        low, high = prefix_range(key("f", entity, ""))
        n = 0
        async for _ in self._t.query_entities(
            "PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
            parameters={"pk": cid, "lo": low, "hi": high},
            select=["RowKey"],
            results_per_page=1000,
        ):
            n += 1
        return n

    # --- writes ------------------------------------------------------------------------------

    async def save(self, cid: str, links: Sequence[RecordLink], fence: Fence | None = None) -> int:
        """Save links, many per transaction, transactions concurrently; returns transactions used."""
        latest = {(link.entity, link.dynamics_id): link for link in links}  # one write per row
        unknown_with_etag = [lk for lk in latest.values() if lk.index_keys is None and lk.etag is not None]
        if unknown_with_etag:
            await self._learn_stored_keys(cid, unknown_with_etag)
        # Build every operation first: an oversized link fails the call before anything is written.
        groups = [(link, link_ops(cid, link)) for link in latest.values()]
        batches: list[list[tuple[RecordLink, list[Operation]]]] = []
        size = 0
        limit = _max_ops(fence)
        for link, ops in groups:
            if not batches or size + len(ops) > limit:
                batches.append([])
                size = 0
            batches[-1].append((link, ops))
            size += len(ops)
        await asyncio.gather(*(self._save_batch(cid, batch, fence) for batch in batches))
        return len(batches)

    async def _save_batch(self, cid: str, batch: list[tuple[RecordLink, list[Operation]]],
                          fence: Fence | None) -> None:
        try:
            results = await self.submit([op for _, ops in batch for op in ops], fence)
        except TableTransactionError as e:
            if getattr(e, "error_code", None) not in _RETRY_CODES:
                raise
            # Our idea of what is stored was wrong (a "new" link exists, or an index row is gone):
            # read what is there and write again.
            links = [link for link, _ in batch]
            await self._learn_stored_keys(cid, links)
            batch = [(link, link_ops(cid, link)) for link in links]
            results = await self.submit([op for _, ops in batch for op in ops], fence)
        i = 0
        for link, ops in batch:
            link.etag = results[i].get("etag")
            link.index_keys = tuple(sorted(index_keys_of(link)))
            i += len(ops)

    async def insert(self, cid: str, link: RecordLink) -> bool:
        """A new link, only if none exists for its record (a conditional insert, unfenced): ``False`` when
        one does (a pass wrote it first; the caller adopts that one). A running pass learns of it from the row
        ``requested.py`` writes in the same transaction."""
        fresh = replace(link, etag=None, index_keys=None)
        try:
            results = await self.submit([*link_ops(cid, fresh), requested_op(cid, fresh)])
        except TableTransactionError as e:
            if getattr(e, "error_code", None) == "EntityAlreadyExists":
                return False
            raise
        link.etag = results[0].get("etag")
        link.index_keys = tuple(sorted(index_keys_of(link)))
        return True

    async def _learn_stored_keys(self, cid: str, links: Sequence[RecordLink]) -> None:
        found = await self.get_many(cid, ((link.entity, link.dynamics_id) for link in links))
        stored = {(s.entity, s.dynamics_id): s.index_keys for s in found}
        for link in links:
            link.index_keys = stored.get((link.entity, link.dynamics_id)) or ()

    async def delete(self, cid: str, link: RecordLink, fence: Fence | None = None) -> None:
        stored = await self.get(cid, link.entity, link.dynamics_id)
        if stored is None:
            return
        keys = [forward_key(link.entity, link.dynamics_id), *(stored.index_keys or ())]
        ops: list[list[Operation]] = [
            [(TransactionOperation.DELETE, {"PartitionKey": cid, "RowKey": k}) for k in keys]
        ]
        for batch in chunk_ops(ops, _max_ops(fence)):
            await self.submit(batch, fence)
        link.etag = None
        link.index_keys = None
