"""The conflicts table: one row per decision of a conflict rule, newest first.

RowKey ``<inverted time>|<random>``: a listing reads newest first and continues after the last key it
returned; ``since`` bounds the keys, so no row older than it is read. Conflicts are written in batches
(one pass may decide many), up to 100 per transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from azure.data.tables import TransactionOperation
from azure.data.tables.aio import TableClient

from sync_core.model.state import ConflictRecord, EntityName, Side
from sync_core.store import _codec as codec
from sync_core.store._batch import submit_transaction
from sync_core.store._keys import key, newest_first
from sync_core.store._tables import MAX_BATCH_OPS


def _to_entity(cid: str, c: ConflictRecord) -> dict[str, Any]:
    e: dict[str, Any] = {
        "PartitionKey": cid, "RowKey": c.key or key(newest_first(c.at), uuid.uuid4().hex[:12]),
        "run_id": c.run_id, "entity": c.entity, "dynamics_id": c.dynamics_id, "field": c.field,
        "rule": c.rule, "winner": c.winner,
    }
    if c.ac_id is not None:
        e["ac_id"] = c.ac_id
    codec.put_dt(e, "at", c.at)
    codec.put_dt(e, "dynamics_time", c.dynamics_time)
    codec.put_dt(e, "ac_time", c.ac_time)
    codec.put_json(e, "dynamics_value", c.dynamics_value)
    codec.put_json(e, "ac_value", c.ac_value)
    codec.check_size(e, f"conflict of {c.entity} {c.dynamics_id}")
    return e


def _from_entity(e: Mapping[str, Any]) -> ConflictRecord:
    at = codec.get_dt(e, "at")
    assert at is not None
    return ConflictRecord(
        at=at, run_id=str(e.get("run_id", "")), entity=cast(EntityName, e["entity"]),
        dynamics_id=str(e["dynamics_id"]), ac_id=e.get("ac_id"), field=str(e["field"]),
        dynamics_value=codec.get_json(e, "dynamics_value"), ac_value=codec.get_json(e, "ac_value"),
        dynamics_time=codec.get_dt(e, "dynamics_time"), ac_time=codec.get_dt(e, "ac_time"),
        rule=str(e.get("rule", "")), winner=cast(Side, e.get("winner", "dynamics")), key=str(e["RowKey"]))


class ConflictRepository:
    def __init__(self, table: TableClient) -> None:
        self._t = table

    async def record(self, cid: str, conflicts: Sequence[ConflictRecord]) -> None:
        entities = [_to_entity(cid, c) for c in conflicts]
        for start in range(0, len(entities), MAX_BATCH_OPS):
            await submit_transaction(self._t, [(TransactionOperation.CREATE, e)
                                               for e in entities[start:start + MAX_BATCH_OPS]])

    async def list(self, cid: str, *, entity: EntityName | None = None, field: str | None = None,
                   since: datetime | None = None, after: str | None = None, limit: int = 50,
                   dynamics_id: str | None = None) -> list[ConflictRecord]:
        clauses, params = ["PartitionKey eq @pk"], {"pk": cid}
        if after is not None:
            clauses.append("RowKey gt @after")
            params["after"] = after
        if since is not None:
            clauses.append("RowKey le @since")
            params["since"] = key(newest_first(since), "~")
        for name, value in (("entity", entity), ("field", field), ("dynamics_id", dynamics_id)):
            if value is not None:
                clauses.append(f"{name} eq @{name}")
                params[name] = value
        out: list[ConflictRecord] = []
        async for e in self._t.query_entities(" and ".join(clauses), parameters=params,
                                              results_per_page=min(max(limit, 1), 1000)):
            out.append(_from_entity(e))
            if len(out) >= limit:
                break
        return out
