"""The imports table: bulk imports sent to ActiveCampaign whose outcome is not known yet."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from typing import Any, Literal, cast

from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableTransactionError, TransactionOperation, UpdateMode
from azure.data.tables.aio import TableClient

from sync_core.model.state import EntityName, ImportBatch, ImportRow
from sync_core.store import _codec as codec
from sync_core.store._keys import enc
from sync_core.store.fence import Fence, is_fence_row

ImportStatus = Literal["submitted", "completed", "failed"]
_ROW_FIELDS = tuple(f.name for f in dataclasses.fields(ImportRow))


def _to_entity(cid: str, batch: ImportBatch) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": enc(batch.batch_id),
        "batch_id": batch.batch_id,
        "status": batch.status,
    }
    codec.put_dt(e, "submitted_at", batch.submitted_at)
    codec.put_dt(e, "checked_at", batch.checked_at)
    # The rows' fields by name (what ``dataclasses.asdict`` gives, without its deep copy of each row).
    codec.put_json(e, "rows", [{name: getattr(r, name) for name in _ROW_FIELDS} for r in batch.rows])
    codec.check_size(e, f"import batch {batch.batch_id}")
    return e


def _row(r: Any) -> ImportRow:
    if isinstance(r, list):  # the first layout: [entity, dynamics_id, email]
        return ImportRow(cast(EntityName, r[0]), str(r[1]), str(r[2]))
    known = {f.name for f in dataclasses.fields(ImportRow)}
    return ImportRow(**{k: v for k, v in r.items() if k in known})


def _from_entity(e: Mapping[str, Any]) -> ImportBatch:
    submitted = codec.get_dt(e, "submitted_at")
    assert submitted is not None
    return ImportBatch(
        batch_id=str(e["batch_id"]),
        submitted_at=submitted,
        rows=[_row(r) for r in codec.get_json(e, "rows", [])],
        status=cast(ImportStatus, e.get("status", "submitted")),
        checked_at=codec.get_dt(e, "checked_at"),
        etag=getattr(e, "metadata", {}).get("etag"),
    )


class ImportRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def save(self, cid: str, batch: ImportBatch, fence: Fence | None = None) -> None:
        entity = _to_entity(cid, batch)
        if fence is None:
            meta = await self._t.upsert_entity(entity, mode=UpdateMode.REPLACE)
        else:
            meta = (await fence.submit("imports", [(TransactionOperation.UPSERT, entity,
                                                    {"mode": UpdateMode.REPLACE})]))[0]
        batch.etag = str(meta["etag"])

    async def list(self, cid: str, status: ImportStatus | None) -> list[ImportBatch]:
        query, params = "PartitionKey eq @pk", {"pk": cid}
        if status is not None:
            query += " and status eq @st"
            params["st"] = status
        out = [_from_entity(e) async for e in self._t.query_entities(query, parameters=params)
               if not is_fence_row(str(e["RowKey"]))]
        out.sort(key=lambda b: b.submitted_at)
        return out

    async def delete(self, cid: str, batch_id: str, fence: Fence | None = None) -> None:
        if fence is None:
            with contextlib.suppress(ResourceNotFoundError):
                await self._t.delete_entity(cid, enc(batch_id))
            return
        # Fenced: a row already gone fails the transaction (ResourceNotFound), which is what we wanted.
        row = {"PartitionKey": cid, "RowKey": enc(batch_id)}
        with contextlib.suppress(TableTransactionError):
            await fence.submit("imports", [(TransactionOperation.DELETE, row)])
