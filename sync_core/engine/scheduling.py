"""Timers, the pass queue and the worker's handling of one message (DESIGN.md §3).

Seven timers, one per frequency, enqueue the connections due at that frequency. The queue
worker takes the lease and runs a time-boxed pass; a held lease re-enqueues the message
with a visibility delay (not an exception, which would count toward poisoning); a pass
cut short enqueues its continuation. Messages for one connection collapse: a pass that
started after a message was enqueued already covers it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, Field

from sync_core import telemetry
from sync_core.clock import Clock
from sync_core.model.config import FREQUENCY_HOURS, Frequency

if TYPE_CHECKING:
    from sync_core.engine.runner import PassResult, SyncEngine
    from sync_core.store import SyncStore

log = logging.getLogger("sync_core.scheduling")

TIMER_SCHEDULES: dict[Frequency, str] = {
    "1h": "0 0 * * * *",
    "2h": "0 5 */2 * * *",
    "4h": "0 10 */4 * * *",
    "6h": "0 15 */6 * * *",
    "8h": "0 20 */8 * * *",
    "12h": "0 25 */12 * * *",
    "daily": "0 30 2 * * *",
}
"""6-field NCRONTAB, UTC (Flex Consumption has no WEBSITE_TIME_ZONE); minutes staggered so
frequencies that coincide do not all fire in the same second."""

LEASE_HELD_DELAY = 60
LEASE_RETRY_MIN_DELAY = 5
STORAGE_RETRY_DELAY = 60
CONTINUATION_DELAY = 0
IMPORTS_PENDING_DELAY = 120
"""Bulk imports finish asynchronously: look again in a couple of minutes to complete links, unless
the pass knows when AC should have processed them (``PassResult.imports_due_in``)."""
IMPORTS_MIN_DELAY = 5
"""The soonest the follow-up pass of open imports comes back, whatever the estimate."""

Reason = Literal["timer", "sync_now", "continuation", "lease_retry", "imports", "initial", "create_request"]


class PassRequest(BaseModel):
    """The body of one queue message."""

    connection_id: str = Field(min_length=1, max_length=63)
    reason: Reason
    requested_at: datetime

    def to_message(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_message(cls, body: str | bytes) -> PassRequest:
        return cls.model_validate(json.loads(body))


class PassQueue(Protocol):
    async def send(self, request: PassRequest, *, delay_seconds: int = 0) -> None: ...


class StorageQueue:
    """The pass queue on Azure Queue Storage (Azurite locally).

    Messages are base64 text, as the Functions queue trigger reads them by default.
    """

    def __init__(self, queue_client: object) -> None:
        self._q = queue_client

    @classmethod
    def from_connection_string(cls, conn_str: str, queue_name: str) -> StorageQueue:
        from azure.storage.queue import TextBase64EncodePolicy
        from azure.storage.queue.aio import QueueClient

        return cls(QueueClient.from_connection_string(conn_str, queue_name,
                                                      message_encode_policy=TextBase64EncodePolicy()))

    @classmethod
    def from_account_url(cls, account_url: str, queue_name: str, credential: object) -> StorageQueue:
        from azure.storage.queue import TextBase64EncodePolicy
        from azure.storage.queue.aio import QueueClient

        return cls(QueueClient(account_url, queue_name, credential=credential,  # type: ignore[arg-type]
                               message_encode_policy=TextBase64EncodePolicy()))

    async def create(self) -> None:
        from azure.core.exceptions import ResourceExistsError

        with contextlib.suppress(ResourceExistsError):
            await self._q.create_queue()  # type: ignore[attr-defined]

    async def send(self, request: PassRequest, *, delay_seconds: int = 0) -> None:
        await self._q.send_message(request.to_message(),  # type: ignore[attr-defined]
                                   visibility_timeout=delay_seconds or None)

    async def close(self) -> None:
        await self._q.close()  # type: ignore[attr-defined]


async def due_connections(store: SyncStore, frequency: Frequency) -> list[str]:
    """Connections with global sync on whose frequency is ``frequency``."""
    return [c.connection_id for c in await store.list_configs()
            if c.sync.global_enabled and c.sync.frequency == frequency]


async def enqueue_due(store: SyncStore, queue: PassQueue, frequency: Frequency, *, clock: Clock) -> list[str]:
    ids = await due_connections(store, frequency)
    hours = FREQUENCY_HOURS[frequency]
    for cid in ids:
        await queue.send(PassRequest(connection_id=cid, reason="timer", requested_at=clock.now()))
        last = next((r for r in await store.list_runs(cid, limit=20) if r.status == "finished"), None)
        if last is not None and last.finished_at is not None:
            since = (clock.now() - last.finished_at).total_seconds() / 3600
            if since > 2 * hours:
                telemetry.connection_overdue(cid, hours, since)
    log.info("timer %s enqueued %d connection(s)", frequency, len(ids))
    return ids


@dataclass
class Handled:
    result: PassResult
    requeued: PassRequest | None = None
    delay_seconds: int = 0


async def handle_request(engine: SyncEngine, queue: PassQueue, request: PassRequest, *, clock: Clock,
                         time_budget: float | None = None) -> Handled:
    """What the queue worker does with one message."""
    result = await engine.run_pass(request.connection_id, reason=request.reason,
                                   requested_at=request.requested_at, time_budget=time_budget)
    follow: PassRequest | None = None
    delay = 0
    if result.outcome == "lease_held":
        # Keep the original request time: it collapses once the holder's pass covers it. Come back
        # when the lease would expire unless renewed (a dead holder's lease lasts a minute at most).
        follow = PassRequest(connection_id=request.connection_id, reason="lease_retry",
                             requested_at=request.requested_at)
        delay = LEASE_HELD_DELAY
        if result.held_until is not None:
            until = (result.held_until - clock.now()).total_seconds() + 1
            delay = int(min(LEASE_HELD_DELAY, max(LEASE_RETRY_MIN_DELAY, until)))
    elif result.outcome == "failed" and result.retry:
        # Storage was unavailable: the same request again once it may be back. If even the queue
        # cannot take it, the exception makes the Functions host retry the message itself.
        follow = PassRequest(connection_id=request.connection_id, reason=request.reason,
                             requested_at=request.requested_at)
        delay = STORAGE_RETRY_DELAY
    elif result.more_work:
        follow = PassRequest(connection_id=request.connection_id, reason="continuation", requested_at=clock.now())
        delay = CONTINUATION_DELAY
    elif result.open_imports and result.outcome == "finished":
        follow = PassRequest(connection_id=request.connection_id, reason="imports", requested_at=clock.now())
        delay = imports_delay(result.imports_due_in)
    if follow is not None:
        await queue.send(follow, delay_seconds=delay)
    log.info("pass request for %s (%s): %s", request.connection_id, request.reason, result.outcome)
    return Handled(result=result, requeued=follow, delay_seconds=delay)


def imports_delay(due_in: float | None) -> int:
    """When the follow-up pass of open imports comes: when AC should have processed them, within
    [IMPORTS_MIN_DELAY, IMPORTS_PENDING_DELAY]; no estimate: IMPORTS_PENDING_DELAY."""
    if due_in is None:
        return IMPORTS_PENDING_DELAY
    return int(min(IMPORTS_PENDING_DELAY, max(IMPORTS_MIN_DELAY, math.ceil(due_in))))


def frequency_hours(frequency: Frequency) -> int:
    return FREQUENCY_HOURS[frequency]
