"""ActiveCampaign contacts: import outcomes, the delta read, and pending links completed.

Bulk import answers only a batch id; its contacts' ids arrive later. ``import/info`` tells
which rows failed (recorded as errors and resent later); the AC delta read
(``filters[updated_after]`` with an overlap window, de-duplicated at the boundary) sees the
imported contacts, because an import moves their ``udate``, and completes their pending links
by email. Rows that did not move (a register reading) are looked up by ``?email=``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync_core.engine.associations import LIST_ALL_THRESHOLD, Association, ensure_associations, preload_account_contacts
from sync_core.engine.context import PassContext
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.people import push_fields, title_on_association
from sync_core.model.errors import NotFoundError, RetriableError, SkippableError
from sync_core.model.state import Cursor, ImportBatch, ImportRow, RecordError, RecordLink

log = logging.getLogger("sync_core.engine")

OVERLAP = timedelta(minutes=10)
"""Re-read this much before the watermark: AC's clock, commit order and rounding."""
UNKNOWN_TZ_MARGIN = timedelta(hours=14)
"""How far the ``updated_after`` reading may be off when the account's zone is unknown."""
BOUNDARY_KEYS_MAX = 500


async def check_imports(ctx: PassContext) -> list[ImportBatch]:
    """Ask AC about every open bulk import; record rows that failed inside AC."""
    completed: list[ImportBatch] = []
    for batch in await ctx.store.list_imports(ctx.cid, status="submitted"):
        status = await ctx.ac.import_info(batch.batch_id)
        if str(status.status).lower() not in ("completed", "complete", "done", "finished"):
            continue  # still processing: the follow-up pass for open imports comes back later
        failed = {str(x).strip().lower() for x in status.failure}
        for row in batch.rows:
            if row.email.lower() in failed or row.dynamics_id in failed:
                await _row_failed(ctx, row)
        batch.rows = [r for r in batch.rows if r.email.lower() not in failed and r.dynamics_id not in failed]
        batch.status = "completed"
        batch.checked_at = ctx.clock.now()
        await ctx.store.save_import(ctx.cid, batch)
        completed.append(batch)
    return completed


async def _row_failed(ctx: PassContext, row: ImportRow) -> None:
    """A row AC accepted but failed while importing: make its columns count as unsent again."""
    link = await ctx.store.get_link(ctx.cid, row.entity, row.dynamics_id)
    if link is not None:
        if link.ac_id is None:
            await ctx.store.delete_link(ctx.cid, link)
        else:
            for col in row.columns:
                link.dynamics_values.pop(col, None)
            await ctx.store.save_links(ctx.cid, [link])
    ctx.run.count(row.entity, "errors")
    now = ctx.clock.now()
    await ctx.store.record_error(ctx.cid, RecordError(
        entity=row.entity, side="activecampaign", record_id=row.dynamics_id,
        cause=f"bulk import failed for {row.email} inside ActiveCampaign", code="import_row_failed",
        first_seen=now, last_seen=now, detail={"batch": "failed-row"},
    ))


async def read_contacts(ctx: PassContext) -> None:
    """The AC contact read that completes pending links.

    New contacts are read by id (``id_greater`` from the highest id seen: ids only grow, so
    each is read once and the cost follows the creations, not the account's size). Imported
    rows that updated contacts AC already had are not new: when many of them remain, one
    ``filters[updated_after]`` read (overlap window, de-duplicated at the boundary) finds them;
    a few are looked up by email afterwards (:func:`resolve_completed`).
    """
    cursor = await ctx.store.get_cursor(ctx.cid, "contact", "activecampaign")
    if cursor is None:
        cursor = Cursor(entity="contact", side="activecampaign", phase="delta", watermark=ctx.run.started_at)
    pending = await _pending_rows(ctx)
    ctx.import_links_accounts = cursor.import_links_accounts
    if cursor.position is None:
        # The first pass: contacts that exist now are not ours to complete; start after them.
        cursor.position = await ctx.ac.latest_contact_id() or "0"
    elif pending:
        # Listing every association pays when many need reading (not once the reading is learnt).
        to_verify = sum(1 for rows in pending.values() for p in rows
                        if p.row.associate and p.row.account_named and ctx.import_links_accounts is None)
        if to_verify > LIST_ALL_THRESHOLD:
            await preload_account_contacts(ctx)
        await _read_new(ctx, cursor, pending)
    completed_left = sum(len(rows) for email, rows in pending.items() if any(r.completed for r in rows))
    # A read cut by the pass budget leaves the rest to the continuation; rows it did not reach are
    # not "left over" for the updated_after read yet.
    if completed_left > EMAIL_LOOKUP_LIMIT and not ctx.more_work:
        await _read_updated(ctx, cursor, pending)
    cursor.run_started_at = ctx.run.started_at
    cursor.import_links_accounts = _learnt(cursor.import_links_accounts, ctx.import_link_seen)
    await ctx.store.save_cursor(ctx.cid, cursor)
    await _prune_batches(ctx)


def _learnt(before: bool | None, seen: dict[bool, int]) -> bool | None:
    """This pass's observations, when they agree (after a sample contradicted the learnt reading the
    pass read every one); seen both ways: unknown, so every such association is read."""
    if seen.get(True) and seen.get(False):
        return None
    if seen.get(True):
        return True
    if seen.get(False):
        return False
    return before


async def _prune_batches(ctx: PassContext) -> None:
    """Rows whose links are complete leave their batch (a completed, empty batch is done)."""
    if not ctx.completed_rows:
        return
    for status in ("submitted", "completed"):
        for batch in await ctx.store.list_imports(ctx.cid, status=status):
            rows = [r for r in batch.rows if (r.entity, r.dynamics_id) not in ctx.completed_rows]
            if len(rows) == len(batch.rows):
                continue
            if not rows and status == "completed":
                await ctx.store.delete_import(ctx.cid, batch.batch_id)
            else:
                batch.rows = rows
                await ctx.store.save_import(ctx.cid, batch)


async def _complete(ctx: PassContext, contact: dict[str, Any], pending: dict[str, list[_Pending]],
                    out: list[_Found], *, by_id: bool = False) -> None:
    email = str(contact.get("email") or "").lower()
    created = parse_ac_time(contact.get("cdate"))
    for item in pending.pop(email, []):
        # Read by id and created after its import was sent: AC made this contact for the row.
        new = by_id and created is not None and created >= item.submitted_at - OVERLAP
        out.append(_Found(contact, item, new))


@dataclass(slots=True)
class _Found:
    contact: dict[str, Any]
    pending: _Pending
    new: bool


@dataclass(slots=True)
class Completion:
    """A pending link whose AC id is now known, and what is known of its AC contact."""

    link: RecordLink
    row: ImportRow
    new: bool = False
    """AC created the contact for this row: it has no association the import did not make."""
    listed: bool = True
    """Its import was processed before this pass listed the associations."""


async def _link_found(ctx: PassContext, found: list[_Found]) -> None:
    """Give the pending links of these rows their AC ids (links read in bulk, not one by one)."""
    done: list[Completion] = []
    by_entity: dict[str, list[_Found]] = {}
    for f in found:
        by_entity.setdefault(f.pending.row.entity, []).append(f)
    for entity, items in by_entity.items():
        links = await ctx.store.get_links(ctx.cid, items[0].pending.row.entity,
                                          [f.pending.row.dynamics_id for f in items])
        for f in items:
            row = f.pending.row
            link = links.get(row.dynamics_id)
            if link is not None and link.ac_id is None:
                link.ac_id = str(f.contact["id"])
                link.ac_modified = parse_ac_time(f.contact.get("udate"))
                link.pending_batch = None
                done.append(Completion(link, row, new=f.new, listed=f.pending.completed))
            ctx.completed_rows.add((entity, row.dynamics_id))
    await complete_links(ctx, done)


async def _read_new(ctx: PassContext, cursor: Cursor, pending: dict[str, list[_Pending]]) -> None:
    done: list[_Found] = []
    top = int(cursor.position or 0)
    async for contact in ctx.ac.iter_contacts(after_id=cursor.position):
        ctx.run.count("contact", "ac_read")
        top = max(top, int(contact["id"]))
        _learn_offset(cursor, contact)
        await _complete(ctx, contact, pending, done, by_id=True)
        if len(done) >= COMPLETE_CHUNK:
            await _link_found(ctx, done)
            done = []
            cursor.position = str(top)
            cursor.etag = (await ctx.store.save_cursor(ctx.cid, cursor)).etag
            if ctx.out_of_time():
                # Completing links costs calls (account associations): stop at a chunk the
                # cursor covers; the continuation reads on from there.
                ctx.more_work = True
                return
    if done:
        await _link_found(ctx, done)
    cursor.position = str(top)


async def _read_updated(ctx: PassContext, cursor: Cursor, pending: dict[str, list[_Pending]]) -> None:
    oldest = min((p.submitted_at for rows in pending.values() for p in rows if p.completed), default=None)
    since = updated_after_value(oldest or ctx.run.started_at, cursor.tz_offset_minutes)
    seen = set(cursor.boundary_keys)
    done: list[_Found] = []
    async for contact in ctx.ac.iter_contacts(updated_after=since):
        key = f"{contact.get('id')}@{contact.get('udate')}"
        if key in seen:
            continue
        ctx.run.count("contact", "ac_read")
        _learn_offset(cursor, contact)
        await _complete(ctx, contact, pending, done)
        if len(done) >= COMPLETE_CHUNK:
            await _link_found(ctx, done)
            done = []
            if ctx.out_of_time():
                # Completed rows left the batches' pending set: the continuation reads again from
                # the same watermark and finds only the rest.
                ctx.more_work = True
                return
    if done:
        await _link_found(ctx, done)


def _learn_offset(cursor: Cursor, contact: dict[str, Any]) -> None:
    udate = parse_ac_time(contact.get("udate"))
    offset = udate.utcoffset() if udate is not None else None
    if offset is not None:
        cursor.tz_offset_minutes = int(offset.total_seconds() // 60)


COMPLETE_CHUNK = 100
EMAIL_LOOKUP_LIMIT = 100
"""Up to this many unresolved rows are looked up one by one; more are found by one delta read."""


VERIFY_EVERY = 50
"""With the import's reading learnt, still read one association in this many: a change shows."""


async def complete_links(ctx: PassContext, done: list[Completion]) -> None:
    """Pending links whose AC ids are now known: their account associations first, then the
    links, so a kill in between leaves them pending and the next pass does both again."""
    assocs: list[Association] = []
    for c in done:
        if not c.row.associate:
            continue
        title_mapped = title_on_association(push_fields(ctx, c.row.entity))
        a = Association(c.link, c.row.ac_account_id, c.row.job_title, title_mapped)
        if c.new:
            _what_is_known(ctx, a, c)
        assocs.append(a)
    await ensure_associations(ctx, assocs)
    await ctx.checkpoint("after_associations", {"count": len(assocs)})
    await ctx.store.save_links(ctx.cid, [c.link for c in done])
    if ctx.assumed and ctx.import_links_accounts is None:
        # A sample contradicted the learnt reading: what earlier chunks took from it is read again.
        again, ctx.assumed = [a for a in ctx.assumed if a.assumed], []
        for a in again:
            a.known, a.read_alone, a.learn, a.assumed = "read", True, True, False
        await ensure_associations(ctx, again)
        await ctx.store.save_links(ctx.cid, [a.link for a in again])


def _what_is_known(ctx: PassContext, a: Association, c: Completion) -> None:
    """A contact AC created for this row has only the association its import made, if any."""
    learnt = ctx.import_links_accounts
    a.read_alone = not c.listed
    if a.ac_account_id is None or not c.row.account_named:
        a.known = "absent"
        return
    a.learn = True
    if learnt is None:
        return  # read it, and learn the reading from it
    ctx.verify_count += 1
    if ctx.verify_count % VERIFY_EVERY == 1:
        a.read_alone = True  # a sample (the pass's first, then one in VERIFY_EVERY) checks the reading
        return
    if learnt is False:
        a.known = "absent"
    elif not (a.title_mapped and a.job_title):
        a.known = "linked"
    else:
        return
    a.assumed = True
    ctx.assumed.append(a)


def updated_after_value(watermark: datetime, tz_offset_minutes: int | None) -> datetime:
    r"""The ``filters[updated_after]`` wall-clock time that misses nothing under either reading.

    AC does not document the zone it reads ``updated_after`` in (the register): the account's
    zone or UTC. Sending the earlier of the two wall-clock renderings of the instant reads at
    most \|offset\| hours again, never less; with the offset unknown, a 14-hour margin covers
    every zone. Returned naive: it is a wall-clock value, not an instant.
    """
    instant = watermark.astimezone(UTC) - OVERLAP
    if tz_offset_minutes is None:
        return (instant - UNKNOWN_TZ_MARGIN).replace(tzinfo=None)
    local = instant + timedelta(minutes=tz_offset_minutes)
    return min(local, instant).replace(tzinfo=None)


@dataclass(slots=True)
class _Pending:
    row: ImportRow
    submitted_at: datetime
    completed: bool


async def _pending_rows(ctx: PassContext) -> dict[str, list[_Pending]]:
    out: dict[str, list[_Pending]] = {}
    for status in ("submitted", "completed"):
        for batch in await ctx.store.list_imports(ctx.cid, status=status):
            for row in batch.rows:
                if row.needs_id:
                    out.setdefault(row.email.lower(), []).append(
                        _Pending(row, batch.submitted_at, completed=status == "completed"))
    return out


async def resolve_completed(ctx: PassContext) -> None:
    """Completed imports whose rows are still pending after the delta read: look them up by email."""
    for batch in await ctx.store.list_imports(ctx.cid, status="completed"):
        remaining: list[ImportRow] = []
        for i, row in enumerate(batch.rows):
            if ctx.out_of_time():
                remaining.extend(batch.rows[i:])  # the continuation looks up the rest
                ctx.more_work = True
                break
            if (row.entity, row.dynamics_id) in ctx.completed_rows or not row.needs_id:
                continue
            link = await ctx.store.get_link(ctx.cid, row.entity, row.dynamics_id)
            if link is None or link.ac_id is not None:
                continue
            try:
                found = await ctx.ac.find_contact_by_email(row.email)
            except (RetriableError, SkippableError) as e:
                log.warning("email lookup failed: %s", type(e).__name__)
                remaining.append(row)
                continue
            if found is None:
                await _row_failed(ctx, row)
                continue
            link.ac_id = str(found["id"])
            link.ac_modified = parse_ac_time(found.get("udate"))
            link.pending_batch = None
            await complete_links(ctx, [Completion(link, row)])
            ctx.run.count(row.entity, "resolved_by_email")
        if remaining:
            batch.rows = remaining
            await ctx.store.save_import(ctx.cid, batch)
        else:
            await ctx.store.delete_import(ctx.cid, batch.batch_id)
        if ctx.more_work:
            return


__all__ = ["NotFoundError", "check_imports", "read_contacts", "resolve_completed"]
