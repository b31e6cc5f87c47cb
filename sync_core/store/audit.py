"""The audit table: who did what over HTTP, and conflict decisions; newest first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from azure.data.tables.aio import TableClient

from sync_core.model.state import AuditEntry
from sync_core.store import _codec as codec
from sync_core.store._keys import key, newest_first


def _to_entity(cid: str, entry: AuditEntry) -> dict[str, Any]:
    # The random tail keeps entries of one instant apart (and in no particular order among themselves).
    e: dict[str, Any] = {
        "PartitionKey": cid,
        "RowKey": key(newest_first(entry.at), uuid.uuid4().hex),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
    }
    codec.put_dt(e, "at", entry.at)
    codec.put_json(e, "before", entry.before)
    codec.put_json(e, "after", entry.after)
    codec.put_json(e, "detail", entry.detail)
    codec.check_size(e, f"audit entry {entry.action}")
    return e


def _from_entity(e: Mapping[str, Any]) -> AuditEntry:
    at = codec.get_dt(e, "at")
    assert at is not None
    return AuditEntry(
        at=at,
        actor=str(e.get("actor", "")),
        action=str(e.get("action", "")),
        target=str(e.get("target", "")),
        before=codec.get_json(e, "before"),
        after=codec.get_json(e, "after"),
        detail=codec.get_json(e, "detail", {}),
    )


class AuditRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def append(self, cid: str, entry: AuditEntry) -> None:
        await self._t.create_entity(_to_entity(cid, entry))

    async def list(self, cid: str, limit: int) -> list[AuditEntry]:
        out: list[AuditEntry] = []
        if limit <= 0:
            return out
        async for e in self._t.query_entities(
            "PartitionKey eq @pk", parameters={"pk": cid}, results_per_page=min(limit, 1000)
        ):
            out.append(_from_entity(e))
            if len(out) >= limit:
                break
        return out
