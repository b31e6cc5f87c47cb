"""ActiveCampaign contacts: import outcomes, the delta read, and pending links completed.

Bulk import answers only a batch id; its contacts' ids arrive later. ``import/info`` tells
which rows failed (recorded as errors and resent later); the AC delta read
(``filters[updated_after]`` with an overlap window, de-duplicated at the boundary) sees the
imported contacts, because an import moves their ``udate``, and completes their pending links
by email. Rows that did not move (a register reading) are looked up by ``?email=``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sync_core.engine.associations import Association, ensure_associations
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
            ctx.more_work = True
            continue
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
    """The AC contact delta read: completes pending links (and, later, feeds inbound changes)."""
    cursor = await ctx.store.get_cursor(ctx.cid, "contact", "activecampaign")
    if cursor is None:
        # First pass: nothing before now concerns links we have not made yet.
        cursor = Cursor(entity="contact", side="activecampaign", phase="delta", watermark=ctx.run.started_at)
        cursor = await ctx.store.save_cursor(ctx.cid, cursor)
    pending = await _pending_rows(ctx)
    since = updated_after_value(cursor.watermark or ctx.run.started_at, cursor.tz_offset_minutes)
    seen_boundary = set(cursor.boundary_keys)
    high: datetime | None = cursor.watermark
    at_high: list[str] = list(cursor.boundary_keys)
    to_save: list[tuple[RecordLink, ImportRow]] = []
    async for contact in ctx.ac.iter_contacts(updated_after=since):
        udate = parse_ac_time(contact.get("udate"))
        if udate is not None and udate.utcoffset() is not None:
            cursor.tz_offset_minutes = int(udate.utcoffset().total_seconds() // 60)  # type: ignore[union-attr]
        key = f"{contact.get('id')}@{contact.get('udate')}"
        if key in seen_boundary:
            continue
        ctx.run.count("contact", "ac_read")
        if udate is not None:
            if high is None or udate > high:
                high, at_high = udate, [key]
            elif udate == high:
                at_high.append(key)
        email = str(contact.get("email") or "").lower()
        for row in pending.pop(email, []):
            link = await ctx.store.get_link(ctx.cid, row.entity, row.dynamics_id)
            if link is not None and link.ac_id is None:
                link.ac_id = str(contact["id"])
                link.ac_modified = udate
                link.pending_batch = None
                to_save.append((link, row))
        if len(to_save) >= COMPLETE_CHUNK:
            await complete_links(ctx, to_save)
            to_save = []
    if to_save:
        await complete_links(ctx, to_save)
    # The signpost: never past the start of this run, so changes made during it are read again.
    if high is not None and high > ctx.run.started_at:
        high, at_high = ctx.run.started_at, []
    cursor.watermark = high
    cursor.boundary_keys = at_high[-BOUNDARY_KEYS_MAX:]
    cursor.run_started_at = ctx.run.started_at
    await ctx.store.save_cursor(ctx.cid, cursor)


COMPLETE_CHUNK = 500


async def complete_links(ctx: PassContext, done: list[tuple[RecordLink, ImportRow]]) -> None:
    """Pending links whose AC ids are now known: their account associations first, then the
    links, so a kill in between leaves them pending and the next pass does both again."""
    assocs = [Association(link, row.ac_account_id, row.job_title,
                          title_on_association(push_fields(ctx, row.entity)))
              for link, row in done if row.associate]
    await ensure_associations(ctx, assocs)
    await ctx.store.save_links(ctx.cid, [link for link, _ in done])


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


async def _pending_rows(ctx: PassContext) -> dict[str, list[ImportRow]]:
    out: dict[str, list[ImportRow]] = {}
    for status in ("submitted", "completed"):
        for batch in await ctx.store.list_imports(ctx.cid, status=status):
            for row in batch.rows:
                out.setdefault(row.email.lower(), []).append(row)
    return out


async def resolve_completed(ctx: PassContext) -> None:
    """Completed imports whose rows are still pending after the delta read: look them up by email."""
    for batch in await ctx.store.list_imports(ctx.cid, status="completed"):
        remaining: list[ImportRow] = []
        for row in batch.rows:
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
            await complete_links(ctx, [(link, row)])
            ctx.run.count(row.entity, "resolved_by_email")
        if remaining:
            batch.rows = remaining
            await ctx.store.save_import(ctx.cid, batch)
            ctx.more_work = True
        else:
            await ctx.store.delete_import(ctx.cid, batch.batch_id)


__all__ = ["NotFoundError", "check_imports", "read_contacts", "resolve_completed"]
