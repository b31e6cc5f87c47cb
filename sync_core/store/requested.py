"""Links written on request that a running pass may not know yet (rows ``r|<entity>|<dynamics id>`` of the links
table).

A pass that reads a whole table (initial sync, backfill) plans from the link index it scanned once
(``engine/link_index.py``); a record synced on request after that scan (``LinkRepository.insert``) would look new to
it and be upserted again. So the insert writes, in the link's own transaction, a row naming the link; a pass adds
the rows it finds to its index on every page it plans, and at its start deletes those written before it began
(their links are in any index it builds), so a row lives for at most one pass after its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import EntityName, RecordLink
from sync_core.store._batch import Operation
from sync_core.store._keys import enc, key, prefix_range

PREFIX = "r"


@dataclass(frozen=True)
class RequestedLink:
    entity: EntityName
    dynamics_id: str
    email: str | None
    ac_id: str | None
    etag: str | None = None


def requested_op(cid: str, link: RecordLink) -> Operation:
    """The row naming ``link`` (an upsert: a record unlinked and synced on request again has one)."""
    row = {"PartitionKey": cid, "RowKey": key(PREFIX, link.entity, enc(link.dynamics_id)), "kind": "requested",
           "entity": link.entity, "dynamics_id": link.dynamics_id, "email": link.email or "",
           "ac_id": link.ac_id or ""}
    return TransactionOperation.UPSERT, row, {"mode": UpdateMode.REPLACE}


class RequestedLinks:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def list(self, cid: str) -> list[RequestedLink]:
        low, high = prefix_range(key(PREFIX, ""))
        return [RequestedLink(cast(EntityName, e["entity"]), str(e["dynamics_id"]), e.get("email") or None,
                              e.get("ac_id") or None, e.metadata.get("etag"))
                async for e in self._t.query_entities("PartitionKey eq @pk and RowKey ge @lo and RowKey lt @hi",
                                                      parameters={"pk": cid, "lo": low, "hi": high})]

    async def forget(self, cid: str, rows: Sequence[RequestedLink]) -> None:
        """Deletes the rows as listed (one written again since is kept)."""

        async def one(r: RequestedLink) -> None:
            with contextlib.suppress(ResourceNotFoundError, ResourceModifiedError):
                await self._t.delete_entity(cid, key(PREFIX, r.entity, enc(r.dynamics_id)), etag=r.etag,
                                            match_condition=MatchConditions.IfNotModified)

        await asyncio.gather(*(one(r) for r in rows))
