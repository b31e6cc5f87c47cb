"""Sync health beyond errors: the conflict log and a record's history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from sync_core.api.context import AdminDep
from sync_core.api.errors import STANDARD, ApiError, documented
from sync_core.api.schemas import ConflictPage, ConflictView, FieldChange, HistoryEntry, RecordHistory
from sync_core.dynamics import is_guid
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import ConflictRecord, EntityName
from sync_core.store import SyncStore

router = APIRouter(tags=["health"])
ERRORS = documented(*STANDARD)
_CURSOR = re.compile(r"^[0-9]{19}\|[0-9a-f]{12}$")
EntityParam = Annotated[EntityName, "account | contact | lead | opportunity"]


def _ac_field(config: ConnectionConfig, c: ConflictRecord) -> str | None:
    m = config.entities.of(c.entity)
    return next((f.activecampaign for f in m.fields() if f.dynamics == c.field), None)


@router.get("/api/connections/{connection_id}/conflicts", response_model=ConflictPage, responses=ERRORS,
            summary="The conflict log: each decision of a conflict rule, newest first")
async def conflicts(a: AdminDep, entity: EntityName | None = None,
                    field: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
                    since: datetime | None = None,
                    cursor: Annotated[str | None, Query(max_length=40)] = None,
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ConflictPage:
    if cursor is not None and not _CURSOR.match(cursor):
        raise ApiError(422, "invalid_cursor", "cursor is the next_cursor of a previous page", field="cursor")
    rows = await a.runtime.store.list_conflicts(a.config.connection_id, entity=entity, field=field, since=since,
                                                after=cursor, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [ConflictView(at=c.at, run_id=c.run_id, entity=c.entity, dynamics_id=c.dynamics_id, ac_id=c.ac_id,
                          field=c.field, ac_field=_ac_field(a.config, c), dynamics_value=c.dynamics_value,
                          ac_value=c.ac_value, dynamics_time=c.dynamics_time, ac_time=c.ac_time,
                          rule=c.rule, winner=c.winner)
             for c in rows]
    return ConflictPage(items=items, next_cursor=rows[-1].key if more and rows else None)


@router.get("/api/connections/{connection_id}/records/{entity}/{dynamics_id}/history", response_model=RecordHistory,
            responses=ERRORS, summary="What changed on this linked record, on which side, when and why")
async def history(a: AdminDep, entity: EntityName, dynamics_id: str) -> RecordHistory:
    if not is_guid(dynamics_id):
        raise ApiError(422, "invalid_record_id", "dynamics_id is the record's GUID", field="dynamics_id")
    found = await record_history(a.runtime.store, a.config.connection_id, entity, dynamics_id)
    if found is None:
        raise ApiError(404, "record_not_linked", f"no linked {entity} {dynamics_id}: it has not synced",
                       field="dynamics_id")
    return found


async def record_history(store: SyncStore, cid: str, entity: EntityName, dynamics_id: str) -> RecordHistory | None:
    """A linked record's history, newest first (``None``: not linked); the API and ``record history`` show it."""
    link = await store.get_link(cid, entity, dynamics_id.strip("{}").lower())
    if link is None:
        return None
    items = [HistoryEntry(at=h["at"], run_id=str(h.get("run", "")), direction=h.get("direction", "push"),
                          why=str(h.get("why", "")), changes=[FieldChange(field=str(c.get("field")),
                                                                          from_=_plain(c.get("from")),
                                                                          to=_plain(c.get("to")))
                                                              for c in h.get("changes", [])])
             for h in reversed(link.history)]
    return RecordHistory(entity=entity, dynamics_id=link.dynamics_id, ac_id=link.ac_id, email=link.email, items=items)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)
