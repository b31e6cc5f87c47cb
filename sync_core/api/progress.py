"""Initial sync and backfill progress from the cursors: done, total, percent, ETA."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sync_core.api.schemas import EntityProgress
from sync_core.engine.pass_order import ENGINE_ENTITIES
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import Cursor, EntityName, Side
from sync_core.store import SyncStore

ENTITIES: tuple[EntityName, ...] = get_args(EntityName)
SIDES: tuple[Side, ...] = get_args(Side)


def entity_progress(c: Cursor, now: datetime) -> EntityProgress:
    done, total = c.done, c.total
    if c.phase == "delta":
        percent: float | None = 100.0
        eta: float | None = 0.0
    elif total:
        percent = round(min(100.0, 100.0 * done / total), 1)
        eta = None
        if c.started_at is not None and done > 0:
            elapsed = max(0.0, (now - c.started_at).total_seconds())
            eta = round(elapsed / done * max(0, total - done), 1)
    else:
        percent, eta = (None, None)
    return EntityProgress(entity=c.entity, side=c.side, phase=c.phase, done=done, total=total, percent=percent,
                          eta_seconds=eta, started_at=c.started_at, finished_at=c.finished_at)


async def progress(store: SyncStore, config: ConnectionConfig, now: datetime) -> list[EntityProgress]:
    out: list[EntityProgress] = []
    for entity in ENTITIES:
        if not config.entities.of(entity).enabled:
            continue
        for side in SIDES:
            c = await store.get_cursor(config.connection_id, entity, side)
            if c is not None:
                out.append(entity_progress(c, now))
    return out


def initial_state(config: ConnectionConfig, items: list[EntityProgress]) -> str:
    """``done`` once every enabled entity the engine reads from Dynamics has finished its first read."""
    wanted = [e for e in ENTITIES if e in ENGINE_ENTITIES and config.entities.of(e).pushes]
    dyn = {p.entity: p for p in items if p.side == "dynamics"}
    if not any(e in dyn for e in wanted):
        return "not_started"
    return "done" if all(e in dyn and dyn[e].phase == "delta" for e in wanted) else "running"
