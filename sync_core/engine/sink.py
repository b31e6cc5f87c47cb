"""Where a pass's decisions go: written (:class:`LiveSink`) or only recorded (:class:`DryRunSink`).

Handlers plan a page (reads only) into a :class:`Plan`: the actions it would take, the record errors
it found, the errors that clear. The sink applies it: the live sink records the errors and lets the
handler's writer carry out the actions (AC and Dynamics writes, links through the fenced store); the
dry-run sink counts ``would_<action>`` and keeps a few samples. Readers advance their cursors through
the sink too, so no handler or reader ever asks whether this is a dry run.

Only the live sink's store is fenced: once a newer pass holds the connection, its next link, cursor,
import or request-row write fails whole (:class:`sync_core.store.LeaseLostError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sync_core.clock import Clock
from sync_core.model.codes import ErrorCode
from sync_core.model.state import (
    AcCursor,
    ConflictRecord,
    CreateRequest,
    DynamicsCursor,
    EntityName,
    ImportBatch,
    RecordError,
    RecordLink,
    RunRecord,
    Side,
)

if TYPE_CHECKING:
    from sync_core.engine.pass_state import Pass, PassCaches
    from sync_core.store import SyncStore

SAMPLES_PER_ACTION = 5
C = TypeVar("C", DynamicsCursor, AcCursor)


@dataclass(slots=True)
class Action:
    """One planned write: ``kind`` names it (``create``, ``update``, ``link``, ``move``, …)."""

    kind: str
    record_id: str
    label: str = ""
    reason: str = ""
    item: Any = None
    """The handler's own planned item, for its writer."""


@dataclass(slots=True)
class Failure:
    """A record error: recorded (retried with backoff) and counted; never blocks its batch."""

    entity: EntityName
    record_id: str
    code: ErrorCode
    cause: str
    retriable: bool = True
    side: Side = "activecampaign"
    detail: dict[str, Any] = field(default_factory=dict)
    counted_as: str = "errors"
    sample: tuple[str, str] | None = None
    """Dry runs: show it as ``(action, label)`` with the code as the reason."""


class Writer(Protocol):
    async def write(self, p: Pass, plan: Plan) -> None:
        """Carry out ``plan.actions`` (the live sink only)."""
        ...


@dataclass
class Plan:
    entity: EntityName
    actions: list[Action] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)
    """Records in step again whose open error clears."""
    writer: Writer | None = None
    """Carries out ``actions`` (the live sink only)."""
    conflicts: list[ConflictRecord] = field(default_factory=list)
    """Decisions of a conflict rule this plan carries out (the writer records them once written)."""


class Sink(Protocol):
    samples: dict[str, list[dict[str, str]]]

    async def apply(self, p: Pass, plan: Plan) -> None: ...
    async def fail(self, failure: Failure) -> None: ...
    async def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None: ...
    async def clear(self, entity: EntityName, record_id: str, side: Side = "activecampaign") -> None: ...
    async def retry_now(self, errors: Sequence[RecordError]) -> None: ...
    async def save_cursor(self, cursor: C) -> C: ...
    async def save_links(self, links: Sequence[RecordLink]) -> None: ...
    async def delete_link(self, link: RecordLink) -> None: ...
    async def save_import(self, batch: ImportBatch) -> None: ...
    async def delete_import(self, batch_id: str) -> None: ...
    async def save_request(self, request: CreateRequest) -> None: ...
    async def forget_requested_links(self) -> None: ...


class LiveSink:
    """Writes: errors to the errors table, links/cursors/imports/request rows through the fenced store."""

    def __init__(self, store: SyncStore, *, cid: str, clock: Clock, run: RunRecord, caches: PassCaches) -> None:
        self._store = store
        self._cid = cid
        self._clock = clock
        self._run = run
        self._caches = caches
        self.samples: dict[str, list[dict[str, str]]] = {}

    async def apply(self, p: Pass, plan: Plan) -> None:
        for f in plan.failures:
            await self.fail(f)
        for record_id in plan.cleared:
            await self.clear(plan.entity, record_id)
        if plan.actions:
            assert plan.writer is not None, "a plan with actions names its writer"
            await plan.writer.write(p, plan)

    async def fail(self, failure: Failure) -> None:
        if failure.counted_as:
            self._run.count(failure.entity, failure.counted_as)
        now = self._clock.now()
        await self._store.record_error(self._cid, RecordError(
            entity=failure.entity, side=failure.side, record_id=failure.record_id, cause=failure.cause,
            code=failure.code.value, retriable=failure.retriable, first_seen=now, last_seen=now,
            detail=failure.detail))

    async def clear(self, entity: EntityName, record_id: str, side: Side = "activecampaign") -> None:
        await self._store.clear_error(self._cid, entity, side, record_id)

    async def retry_now(self, errors: Sequence[RecordError]) -> None:
        await self._store.retry_errors(self._cid, errors)

    async def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None:
        for c in conflicts:
            self._run.count(c.entity, "conflicts")
        if conflicts:
            await self._store.record_conflicts(self._cid, conflicts)

    async def save_cursor(self, cursor: C) -> C:
        return await self._store.save_cursor(self._cid, cursor)

    async def save_links(self, links: Sequence[RecordLink]) -> None:
        if not links:
            return
        await self._store.save_links(self._cid, links)
        if self._caches.links is not None:
            for link in links:
                self._caches.links.saved(link)

    async def delete_link(self, link: RecordLink) -> None:
        await self._store.delete_link(self._cid, link)
        if self._caches.links is not None:
            self._caches.links.deleted(link)

    async def save_import(self, batch: ImportBatch) -> None:
        await self._store.save_import(self._cid, batch)

    async def delete_import(self, batch_id: str) -> None:
        await self._store.delete_import(self._cid, batch_id)

    async def save_request(self, request: CreateRequest) -> None:
        await self._store.save_request(self._cid, request)

    async def forget_requested_links(self) -> None:
        """At a pass's start: the links written on request before it are in any link index it builds, so their
        rows go (``store/requested.py``)."""
        if rows := await self._store.list_requested_links(self._cid):
            await self._store.forget_requested_links(self._cid, rows)


class DryRunSink:
    """Writes nothing: counts what would be done and keeps up to five samples of each action."""

    def __init__(self, run: RunRecord) -> None:
        self._run = run
        self.samples: dict[str, list[dict[str, str]]] = {}

    def sample(self, entity: str, action: str, record_id: str, label: str, reason: str = "") -> None:
        bucket = self.samples.setdefault(entity, [])
        if sum(1 for s in bucket if s["action"] == action) < SAMPLES_PER_ACTION:
            bucket.append({"action": action, "id": record_id, "label": label, "reason": reason})

    async def apply(self, p: Pass, plan: Plan) -> None:
        for f in plan.failures:
            await self.fail(f)
        for a in plan.actions:
            self._run.count(plan.entity, f"would_{a.kind}")
            self.sample(plan.entity, a.kind, a.record_id, a.label, a.reason)
        await self.record_conflicts(plan.conflicts)

    async def record_conflicts(self, conflicts: Sequence[ConflictRecord]) -> None:
        for c in conflicts:
            self._run.count(c.entity, "conflicts")
            self.sample(c.entity, "conflict", c.dynamics_id, c.field, f"{c.rule}: {c.winner} wins")

    async def fail(self, failure: Failure) -> None:
        if failure.counted_as:
            self._run.count(failure.entity, failure.counted_as)
        if failure.sample is not None:
            action, label = failure.sample
            self.sample(failure.entity, action, failure.record_id, label, failure.code.value)

    async def clear(self, entity: EntityName, record_id: str, side: Side = "activecampaign") -> None:
        return None

    async def retry_now(self, errors: Sequence[RecordError]) -> None:
        return None

    async def save_cursor(self, cursor: C) -> C:
        return cursor

    async def save_links(self, links: Sequence[RecordLink]) -> None:
        return None

    async def delete_link(self, link: RecordLink) -> None:
        return None

    async def save_import(self, batch: ImportBatch) -> None:
        return None

    async def delete_import(self, batch_id: str) -> None:
        return None

    async def save_request(self, request: CreateRequest) -> None:
        return None

    async def forget_requested_links(self) -> None:
        return None
