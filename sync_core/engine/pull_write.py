"""The writes of a pulled page: the PATCHes, then the links with both sides' new last values and history.

Each PATCH asks ``return=representation``, so the link learns the values as Dataverse stored them and
the record's new ``@odata.etag``: the Dynamics delta that reads the record back finds it unchanged
(the write does not come back as a change), and the next pull is conditional on the right version.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_core.dynamics import BatchOperation, BatchResult
from sync_core.engine import deletes, history
from sync_core.engine.ac_changes import AcChange
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.reconcile import Reconciled
from sync_core.engine.sink import Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.state import ConflictRecord, EntityName, RecordError, RecordLink

BatchRunner = Callable[[list[BatchOperation]], Awaitable[list[BatchResult]]]


@dataclass
class PullItem:
    change: AcChange
    record: Any
    reconciled: Reconciled
    conflicts: list[ConflictRecord]
    body: dict[str, Any]


@dataclass
class PullWriter:
    entity: EntityName
    batch_runner: BatchRunner
    open_errors: set[str] = field(default_factory=set)
    """Records with an open pull error: cleared once written."""
    stale: list[AcChange] = field(default_factory=list)
    """Changes whose record changed in Dynamics while we wrote (412): to read and reconcile again."""

    async def write(self, p: Pass, plan: Plan) -> None:
        saved: list[RecordLink] = []
        pulls = [a for a in plan.actions if a.kind == "pull"]
        results = await self.batch_runner([_operation(self.entity, a.item) for a in pulls])
        conflicts: list[ConflictRecord] = []
        for action, result in zip(pulls, results, strict=True):
            if result.ok:
                saved.append(_written(p, action.item, result))
                conflicts.extend(action.item.conflicts)
                p.count(self.entity, "pulled")
                if action.record_id in self.open_errors:
                    await p.sink.clear(self.entity, action.record_id, side="dynamics")
            elif result.status == 412:
                self.stale.append(action.item.change)
            elif result.status == 404:
                await self._deleted(p, action.item.change)
            else:
                await p.sink.fail(_refused(self.entity, action.record_id, result))
        for action in plan.actions:
            if action.kind == "catch_up":
                saved.append(_caught_up(p, action.item))
                conflicts.extend(action.item.conflicts)
            elif action.kind == "unlink_deleted":
                await self._deleted(p, action.item)
        await p.checkpoint("after_dynamics_write", {"entity": self.entity, "count": len(saved)})
        await p.sink.save_links(saved)
        await p.sink.record_conflicts(conflicts)

    async def _deleted(self, p: Pass, change: AcChange) -> None:
        """Deleted in Dynamics: the link goes (the AC contact per ``on_delete``); never recreated."""
        await deletes.dynamics_deleted(p, change.link)


INACTIVE_CODE = "0x80040230"
"""Dataverse's CannotUpdateObjectBecauseItIsInactive (register inactive_update: refused, or allowed)."""


def _refused(entity: EntityName, record_id: str, result: BatchResult) -> Failure:
    """A refused update: a record error. An inactive record's is not retried by backoff (the AC side would be
    read again each time for nothing); a read that sees the record active again makes it due (``reactivated``)."""
    error = result.error
    cause = f"Dynamics refused the update: {error or result.status}"
    if error is not None and error.dataverse_code.lower() == INACTIVE_CODE:
        return Failure(entity, record_id, ErrorCode.RECORD_INACTIVE, cause, retriable=False, side="dynamics")
    code = error.error_code if error is not None else ErrorCode.ERROR
    return Failure(entity, record_id, code, cause, side="dynamics")


async def reactivated(p: Pass, entity: EntityName, records: Sequence[Mapping[str, Any]],
                      waiting: dict[str, RecordError]) -> None:
    """Records read active again whose pull waits on ``record_inactive`` (``waiting``, by id): due now, so the
    next pass's pull reads their AC side once and writes it."""
    id_col = PRIMARY_ID[entity]
    due = [waiting.pop(str(r[id_col])) for r in records
           if str(r.get(id_col)) in waiting and r.get("statecode", 1) == 0]
    if due:
        await p.sink.retry_now(due)
        p.count(entity, "reactivated", len(due))
        p.time.more_work = True


def _operation(entity: EntityName, item: PullItem) -> BatchOperation:
    etag = item.record.get("@odata.etag")
    headers = {"Prefer": "return=representation"}
    if etag:
        headers["If-Match"] = str(etag)
    else:  # no version to be conditional on: never an upsert (a deleted record must not come back)
        headers["If-Match"] = "*"
    return BatchOperation("PATCH", f"{ENTITY_SET[entity]}({item.change.link.dynamics_id})", body=item.body,
                          headers=headers)


def _written(p: Pass, item: PullItem, result: BatchResult) -> RecordLink:
    link, r = item.change.link, item.reconciled
    stored = result.body or {}
    before = {c: link.dynamics_values.get(c) for c in r.pull}
    for col, value in r.pull.items():
        link.dynamics_values[col] = value
    link.ac_values.update(r.pulled_ac)
    link.ac_values.update(r.in_step)
    link.dynamics_values.update(r.in_step_dynamics)
    etag = stored.get("@odata.etag") or result.headers.get("ETag") or result.headers.get("etag")
    link.dynamics_etag = str(etag) if etag else None
    link.ac_modified = item.change.udate or link.ac_modified
    link.synced_at = p.clock.now()
    why = f"conflict:{item.conflicts[0].rule}" if item.conflicts else "pulled"
    history.add(link, at=p.clock.now(), run_id=p.run.run_id, direction="pull", why=why,
                changes={c: (before[c], v) for c, v in r.pull.items()})
    return link


def _caught_up(p: Pass, item: PullItem) -> RecordLink:
    """Nothing to write to Dynamics (AC changed what it may not pull, or both sides agree): the link learns
    AC's values and ``udate``, so the same change is not read as new again."""
    link, r = item.change.link, item.reconciled
    link.ac_values.update(r.in_step)
    link.dynamics_values.update(r.in_step_dynamics)
    link.ac_modified = item.change.udate or link.ac_modified
    etag = item.record.get("@odata.etag")
    link.dynamics_etag = str(etag) if etag else link.dynamics_etag
    return link

