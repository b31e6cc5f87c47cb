"""One entity in one pass, Dynamics → ActiveCampaign: due retries first, then the table's read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.engine import dynamics_reads, import_overlap
from sync_core.engine.dynamics_reader import read_table
from sync_core.engine.handler import EntityHandler
from sync_core.engine.page import process_page
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.pull_write import reactivated
from sync_core.model.codes import ErrorCode

RETRY_CHUNK = 25


async def push_entity(p: Pass, handler: EntityHandler) -> None:
    """Run (or continue) this entity's read and push; sets ``p.time.more_work`` if cut short."""
    entity = handler.entity
    select = await handler.prepare(p)
    errors = await p.store.list_errors(p.cid, entity=entity)
    handler.open_errors.update(e.record_id for e in errors)
    inactive = {e.record_id: e for e in errors if e.side == "dynamics" and e.code == ErrorCode.RECORD_INACTIVE}
    await retry_due(p, handler, select)

    async def on_page(records: Sequence[Mapping[str, Any]], full_read: bool) -> None:
        if inactive:  # a pull waits for one of these to be active again
            await reactivated(p, entity, records, inactive)
        await process_page(p, handler, select, records, full_read=full_read)

    between = (lambda: import_overlap.read_while_importing(p)) if entity in ("contact", "lead") else None
    await read_table(p, entity, select, on_page, between)


async def retry_due(p: Pass, handler: EntityHandler, select: list[str]) -> None:
    """Records whose retry is due are read again from Dynamics and pushed with their current values."""
    entity = handler.entity
    due = await p.store.list_errors(p.cid, entity=entity, due_at=p.clock.now())
    ids = [e.record_id for e in due if e.side == "activecampaign" and e.retriable]
    id_col = PRIMARY_ID[entity]
    for start in range(0, len(ids), RETRY_CHUNK):
        chunk = ids[start:start + RETRY_CHUNK]
        records = await dynamics_reads.read_by_ids(p, entity, select, chunk)
        found = {str(r[id_col]) for r in records}
        for gone in set(chunk) - found:
            await p.sink.clear(entity, gone)
            handler.open_errors.discard(gone)
        p.count(entity, "retried", len(records))
        await process_page(p, handler, select, records, full_read=False)
