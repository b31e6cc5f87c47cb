"""Bulk imports after they were sent: their outcome, and the pending links they leave completed.

Bulk import answers only a batch id; its contacts' ids arrive later. ``import/info`` tells which
rows failed (recorded as errors and resent later); the AC read (``ac_reader``) sees the imported
contacts and completes their links; rows it did not see are looked up by ``?email=`` here. A
completed link gets its account association first, then the link is saved, so a kill in between
leaves it pending and the next pass does both again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sync_core.engine.associations import Association, ensure_associations
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.engine.people_rows import title_on_association
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.errors import RetriableError, SkippableError
from sync_core.model.state import EntityName, ImportBatch, ImportRow, RecordLink

log = logging.getLogger("sync_core.engine")

EMAIL_LOOKUP_LIMIT = 100
"""Up to this many unresolved rows are looked up one by one; more are found by one delta read."""


VERIFY_EVERY = 50
"""With the import's reading learnt, still read one association in this many: a change shows."""


async def check_imports(p: Pass) -> list[ImportBatch]:
    """Ask AC about every open bulk import; record rows that failed inside AC."""
    completed: list[ImportBatch] = []
    for batch in await p.store.list_imports(p.cid, status="submitted"):
        status = await p.ac.import_info(batch.batch_id)
        if str(status.status).lower() not in ("completed", "complete", "done", "finished"):
            continue  # still processing: the follow-up pass for open imports comes back later
        failed = {str(x).strip().lower() for x in status.failure}
        for row in batch.rows:
            if row.email.lower() in failed or row.dynamics_id in failed:
                await _row_failed(p, row)
        batch.rows = [r for r in batch.rows if r.email.lower() not in failed and r.dynamics_id not in failed]
        batch.status = "completed"
        batch.checked_at = p.clock.now()
        await p.sink.save_import(batch)
        completed.append(batch)
    return completed


async def _row_failed(p: Pass, row: ImportRow) -> None:
    """A row AC accepted but failed while importing: make its columns count as unsent again."""
    link = await p.store.get_link(p.cid, row.entity, row.dynamics_id)
    if link is not None:
        if link.ac_id is None:
            await p.sink.delete_link(link)
        else:
            for col in row.columns:
                link.dynamics_values.pop(col, None)
            await p.sink.save_links([link])
    await p.sink.fail(Failure(row.entity, row.dynamics_id, ErrorCode.IMPORT_ROW_FAILED,
                              f"bulk import failed for {row.email} inside ActiveCampaign",
                              detail={"batch": "failed-row"}))


async def prune_batches(p: Pass) -> None:
    """Rows whose links are complete leave their batch (a completed, empty batch is done)."""
    if not p.imports.completed_rows:
        return
    for status in ("submitted", "completed"):
        for batch in await p.store.list_imports(p.cid, status=status):
            rows = [r for r in batch.rows if (r.entity, r.dynamics_id) not in p.imports.completed_rows]
            if len(rows) == len(batch.rows):
                continue
            if not rows and status == "completed":
                await p.sink.delete_import(batch.batch_id)
            else:
                batch.rows = rows
                await p.sink.save_import(batch)


@dataclass(slots=True)
class Completion:
    """A pending link whose AC id is now known, and what is known of its AC contact."""

    link: RecordLink
    row: ImportRow
    new: bool = False
    """AC created the contact for this row: it has no association the import did not make."""
    listed: bool = True
    """Its import was processed before this pass listed the associations."""


async def apply_completions(p: Pass, entity: EntityName, done: list[Completion]) -> None:
    """Pending links whose AC ids are now known, completed through the sink (a dry run counts them)."""
    plan = Plan(entity, actions=[Action("complete_link", c.link.dynamics_id, c.row.email, item=c) for c in done])
    await p.sink.apply(p, plan, _Completer())


class _Completer:
    async def write(self, p: Pass, plan: Plan) -> None:
        await complete_links(p, [a.item for a in plan.actions])


async def complete_links(p: Pass, done: list[Completion]) -> None:
    """Pending links whose AC ids are now known: their account associations first, then the
    links, so a kill in between leaves them pending and the next pass does both again."""
    assocs: list[Association] = []
    for c in done:
        if not c.row.associate:
            continue
        title_mapped = title_on_association(p.connection.entities.of(c.row.entity).fields_for("push"))
        a = Association(c.link, c.row.ac_account_id, c.row.job_title, title_mapped)
        if c.new:
            _what_is_known(p, a, c)
        assocs.append(a)
    await ensure_associations(p, assocs)
    await p.checkpoint("after_associations", {"count": len(assocs)})
    await p.sink.save_links([c.link for c in done])
    if p.imports.assumed and p.imports.learnt is None:
        # A sample contradicted the learnt reading: what earlier chunks took from it is read again.
        again, p.imports.assumed = [a for a in p.imports.assumed if a.assumed], []
        for a in again:
            a.known, a.read_alone, a.learn, a.assumed = "read", True, True, False
        await ensure_associations(p, again)
        await p.sink.save_links([a.link for a in again])


def _what_is_known(p: Pass, a: Association, c: Completion) -> None:
    """A contact AC created for this row has only the association its import made, if any."""
    learnt = p.imports.learnt
    a.read_alone = not c.listed
    if a.ac_account_id is None or not c.row.account_named:
        a.known = "absent"
        return
    a.learn = True
    if learnt is None:
        return  # read it, and learn the reading from it
    p.imports.verify_count += 1
    if p.imports.verify_count % VERIFY_EVERY == 1:
        a.read_alone = True  # a sample (the pass's first, then one in VERIFY_EVERY) checks the reading
        return
    if learnt is False:
        a.known = "absent"
    elif not (a.title_mapped and a.job_title):
        a.known = "linked"
    else:
        return
    a.assumed = True
    p.imports.assumed.append(a)


@dataclass(slots=True)
class Pending:
    row: ImportRow
    submitted_at: datetime
    completed: bool


async def pending_rows(p: Pass) -> dict[str, list[Pending]]:
    out: dict[str, list[Pending]] = {}
    for status in ("submitted", "completed"):
        for batch in await p.store.list_imports(p.cid, status=status):
            for row in batch.rows:
                if row.needs_id:
                    out.setdefault(row.email.lower(), []).append(
                        Pending(row, batch.submitted_at, completed=status == "completed"))
    return out


async def resolve_completed(p: Pass) -> None:
    """Completed imports whose rows are still pending after the delta read: look them up by email."""
    for batch in await p.store.list_imports(p.cid, status="completed"):
        remaining: list[ImportRow] = []
        for i, row in enumerate(batch.rows):
            if p.time.out():
                remaining.extend(batch.rows[i:])  # the continuation looks up the rest
                p.time.more_work = True
                break
            if (row.entity, row.dynamics_id) in p.imports.completed_rows or not row.needs_id:
                continue
            link = await p.store.get_link(p.cid, row.entity, row.dynamics_id)
            if link is None or link.ac_id is not None:
                continue
            try:
                found = await p.ac.find_contact_by_email(row.email)
            except (RetriableError, SkippableError) as e:
                log.warning("email lookup failed: %s", type(e).__name__)
                remaining.append(row)
                continue
            if found is None:
                await _row_failed(p, row)
                continue
            link.ac_id = str(found["id"])
            link.ac_modified = parse_ac_time(found.get("udate"))
            link.pending_batch = None
            await apply_completions(p, row.entity, [Completion(link, row)])
            p.count(row.entity, "resolved_by_email")
        if remaining:
            batch.rows = remaining
            await p.sink.save_import(batch)
        else:
            await p.sink.delete_import(batch.batch_id)
        if p.time.more_work:
            return


async def open_imports(p: Pass) -> bool:
    """Some bulk import still waits for its outcome or its links."""
    for status in ("submitted", "completed"):
        if await p.store.list_imports(p.cid, status=status):
            return True
    return False
