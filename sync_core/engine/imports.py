"""Bulk imports after they were sent: whether AC processed them, and which rows it failed.

Bulk import answers only a batch id. ``import/info`` tells which rows failed inside AC (recorded
as errors, their columns made unsent again so they go once more); the links of the rest are
completed by the AC read (``ac_reader``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from sync_core.engine.fanout import AC_CALLS_IN_FLIGHT, fan_out
from sync_core.engine.pass_state import Pass
from sync_core.engine.pending_links import row_failed
from sync_core.model.state import ImportBatch


async def check_imports(p: Pass, *, until_pending: bool = False, width: int = 1) -> list[ImportBatch]:
    """Ask AC about every open bulk import (oldest first); record rows that failed inside AC.

    ``until_pending`` (a look during or after a push): stop at the first still processing, as the
    later ones will be too; the next look asks again. There ``width`` > 1 (after the push, where the
    5/s is what limits) keeps up to that many asks in flight, one more for each import found
    processed, so a look that meets a processing import first spends one call, and one past the
    processed ones spends at most ``width`` - 1 more. Each completion teaches ``p.imports.lag_seconds``."""
    batches = await p.store.list_imports(p.cid, status="submitted")
    done: dict[int, ImportBatch] = {}

    async def ask(i: int) -> bool:
        batch = batches[i]
        status = await p.ac.import_info(batch.batch_id)
        if str(status.status).lower() not in ("completed", "complete", "done", "finished"):
            return False  # still processing: the follow-up pass for open imports comes back later
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
        return True

    if until_pending:
        # The first still processing ends the look: asking past it would spend the budget on answers
        # known in advance, so asks widen only as imports are found processed.
        await _until_pending(len(batches), ask, width)
    else:  # the follow-up pass asks about all of them, several in flight
        async def ask_all(i: int) -> None:
            await ask(i)

        await fan_out(range(len(batches)), ask_all, width=AC_CALLS_IN_FLIGHT)
    return [done[i] for i in sorted(done)]


async def _until_pending(n: int, ask: Callable[[int], Coroutine[Any, Any, bool]], width: int) -> None:
    """``ask(0)``, ``ask(1)``, ... in order until one answers False (nothing more starts; what is in flight
    finishes). In flight: one, plus one for each True answer, up to ``width``. The first error cancels the
    rest and is raised."""
    flying: set[asyncio.Task[bool]] = set()
    started = processed = 0
    stop = False
    try:
        while True:
            while not stop and started < n and len(flying) < min(max(1, width), 1 + processed):
                flying.add(asyncio.create_task(ask(started)))
                started += 1
            if not flying:
                return
            finished, flying = await asyncio.wait(flying, return_when=asyncio.FIRST_COMPLETED)
            for t in finished:
                if t.result():
                    processed += 1
                else:
                    stop = True
    except BaseException:
        for t in flying:
            t.cancel()
        await asyncio.gather(*flying, return_exceptions=True)
        raise


async def open_imports(p: Pass) -> bool:
    """Some bulk import still waits for its outcome or its links."""
    for status in ("submitted", "completed"):
        if await p.store.list_imports(p.cid, status=status):
            return True
    return False
