"""Long requests as jobs: a preview that would outlast an HTTP response (Azure cuts at 230 s).

The route waits a little for the job; if it is not done, the caller gets 202 and polls the job.
Jobs live in the process that runs them (a poll that lands on another instance answers 404 and
the preview can be asked again); finished jobs are forgotten after an hour.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync_core.clock import Clock
from sync_core.model.errors import SyncError

log = logging.getLogger("sync_core.api.jobs")
KEEP_SECONDS = 3600.0


@dataclass
class Job:
    job_id: str
    connection_id: str
    kind: str
    started_at: datetime
    started_mono: float
    status: str = "running"
    progress: str = "starting"
    finished_at: datetime | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    error: Exception | None = field(default=None, repr=False)
    task: asyncio.Task[None] | None = field(default=None, repr=False)


JobBody = Callable[[Job], Awaitable[dict[str, Any]]]


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def start(self, connection_id: str, kind: str, body: JobBody, clock: Clock) -> Job:
        self._forget_old(clock)
        job = Job(job_id=uuid.uuid4().hex, connection_id=connection_id, kind=kind, started_at=clock.now(),
                  started_mono=clock.monotonic())

        async def run() -> None:
            try:
                job.result = await body(job)
                job.status = "done"
                job.progress = "done"
            except Exception as e:  # noqa: BLE001 - the job's failure is its result, not the server's
                job.status, job.message, job.error = "failed", _safe_message(e), e
                job.progress = "failed"
                log.warning("%s job %s failed: %s", kind, job.job_id, type(e).__name__)
            finally:
                job.finished_at = clock.now()

        job.task = asyncio.create_task(run())
        self._jobs[job.job_id] = job
        return job

    async def wait(self, job: Job, seconds: float) -> None:
        if job.task is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(job.task), timeout=seconds)

    def get(self, connection_id: str, job_id: str) -> Job | None:
        job = self._jobs.get(job_id)
        return job if job is not None and job.connection_id == connection_id else None

    def _forget_old(self, clock: Clock) -> None:
        now = clock.monotonic()
        for jid in [j.job_id for j in self._jobs.values()
                    if j.status != "running" and now - j.started_mono > KEEP_SECONDS]:
            del self._jobs[jid]


def _safe_message(e: Exception) -> str:
    if isinstance(e, SyncError):
        return f"{type(e).__name__}: {e.message}"[:500]
    return type(e).__name__
