"""Bulk imports after they were sent: whether AC processed them, and which rows it failed.

Bulk import answers only a batch id. ``import/info`` tells which rows failed inside AC (recorded
as errors, their columns made unsent again so they go once more); the links of the rest are
completed by the AC read (``ac_reader``).
"""

from __future__ import annotations

from sync_core.engine.fanout import AC_CALLS_IN_FLIGHT, fan_out
from sync_core.engine.pass_state import Pass
from sync_core.engine.pending_links import row_failed
from sync_core.model.state import ImportBatch


async def check_imports(p: Pass, *, until_pending: bool = False) -> list[ImportBatch]:
    """Ask AC about every open bulk import (oldest first); record rows that failed inside AC.

    ``until_pending`` (between pages of a push): stop at the first still processing, as the later
    ones will be too; the next look asks again. Each completion teaches ``p.imports.lag_seconds``."""
    batches = await p.store.list_imports(p.cid, status="submitted")
    done: dict[int, ImportBatch] = {}
    pending: list[bool] = []

    async def ask(i: int) -> None:
        batch = batches[i]
        status = await p.ac.import_info(batch.batch_id)
        if str(status.status).lower() not in ("completed", "complete", "done", "finished"):
            pending.append(True)
            return  # still processing: the follow-up pass for open imports comes back later
        lag = (p.clock.now() - batch.submitted_at).total_seconds()
        p.imports.lag_seconds = lag if p.imports.lag_seconds is None else min(p.imports.lag_seconds, lag)
        failed = {str(x).strip().lower() for x in status.failure}
        for row in batch.rows:
            if row.email.lower() in failed or row.dynamics_id in failed:
                await row_failed(p, row)
        batch.rows = [r for r in batch.rows if r.email.lower() not in failed and r.dynamics_id not in failed]
        batch.status = "completed"
        batch.checked_at = p.clock.now()
        await p.sink.save_import(batch)
        done[i] = batch

    # Between pages one at a time (the first still processing ends the look; asking past it would spend
    # the budget on answers known in advance); the follow-up pass asks about all of them, several in flight.
    await fan_out(range(len(batches)), ask, width=1 if until_pending else AC_CALLS_IN_FLIGHT,
                  stop=lambda: until_pending and bool(pending))
    return [done[i] for i in sorted(done)]


async def open_imports(p: Pass) -> bool:
    """Some bulk import still waits for its outcome or its links."""
    for status in ("submitted", "completed"):
        if await p.store.list_imports(p.cid, status=status):
            return True
    return False
