"""The audit table: who did what over HTTP, and conflict decisions; newest first."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from azure.data.tables.aio import TableClient

from sync_core.model.state import AuditEntry
from sync_core.store import _codec as codec
from sync_core.store._keys import key, newest_first

MAX_TARGETS = 13


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

    async def list(self, cid: str, limit: int, action: str | None = None, targets: Sequence[str] = ()
                   ) -> list[AuditEntry]:
        """Newest first; only ``action``'s rows and those of one of ``targets`` when given (filtered by Table
        Storage, at most :data:`MAX_TARGETS` targets: a filter holds 15 comparisons)."""
        out: list[AuditEntry] = []
        if limit <= 0:
            return out
        if len(targets) > MAX_TARGETS:
            raise ValueError(f"at most {MAX_TARGETS} targets a query")
        query, params = "PartitionKey eq @pk", {"pk": cid}
        if action is not None:
            query, params["a"] = query + " and action eq @a", action
        if targets:
            params |= {f"t{n}": t for n, t in enumerate(targets)}
            query += " and ( " + " or ".join(f"target eq @t{n}" for n in range(len(targets))) + " )"
        async for e in self._t.query_entities(query, parameters=params, results_per_page=min(limit, 1000)):
            out.append(_from_entity(e))
            if len(out) >= limit:
                break
        return out
