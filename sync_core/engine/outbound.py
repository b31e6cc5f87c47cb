"""Dynamics → ActiveCampaign for one entity: read changes by cursor, push page by page.

The read is one change-tracking read per table (DESIGN.md §5): the initial sync (or a
backfill) reads everything, saving the ``nextLink`` after every page so a pass cut by its
time budget, or a process killed, resumes there; the last page brings the delta link, and
later passes read only the changes through it. A cursor is saved only after the page's AC
writes and links are durable.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sync_core.dynamics import ChangeTrackingDisabledError
from sync_core.engine import accounts, merges, opportunities, people, qualification
from sync_core.engine.context import ENTITY_SET, PRIMARY_ID, PassContext
from sync_core.engine.criteria import to_odata_filter
from sync_core.engine.mapping import parse_ac_time, read_column, select_columns, select_signature
from sync_core.engine.odata import parse_filter
from sync_core.model.config import FieldMapping
from sync_core.model.errors import DeltaLinkExpiredError, NotFoundError, ValidationError
from sync_core.model.state import Cursor, EntityName

log = logging.getLogger("sync_core.engine")

RETRY_CHUNK = 25


def _select(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping]) -> list[str]:
    """The mapped columns, plus what identifies and dates a row, plus what its criteria read
    (change tracking forbids ``$filter``, so criteria are evaluated on the rows read)."""
    extra = [PRIMARY_ID[entity], "modifiedon", "createdon"]
    if entity in merges.MERGEABLE:
        extra += merges.MERGE_COLUMNS
    if entity == "contact":
        extra.append(qualification.ORIGIN)
    if entity == "lead":
        extra.append(qualification.LEAD_STATE)
    if entity == "opportunity":
        extra += [f"_{c}_value" for c in opportunities.RELATION_COLUMNS]
    mapping = ctx.connection.entities.of(entity)
    if mapping.scope == "criteria":
        extra += [read_column(c.field) for c in mapping.criteria]
    elif mapping.scope == "custom" and mapping.custom_filter:
        extra += sorted(parse_filter(mapping.custom_filter).columns())
    return select_columns(fields, extra)


async def load_cursor(ctx: PassContext, entity: EntityName, signature: str) -> Cursor:
    cursor = await ctx.store.get_cursor(ctx.cid, entity, "dynamics")
    if cursor is None:
        cursor = Cursor(entity=entity, side="dynamics", phase="initial", select_signature=signature)
    elif cursor.select_signature != signature:
        # The delta link embeds $select: a mapping change needs a new baseline (a backfill);
        # records already synced are skipped by their stored values.
        cursor.phase = "backfill"
        cursor.delta_link = None
        cursor.next_link = None
        cursor.done = 0
        cursor.total = None
        cursor.started_at = None
        cursor.select_signature = signature
    return cursor


def _signature(ctx: PassContext, entity: EntityName, select: list[str]) -> str:
    """What the stored read depends on: ``$select`` and the criteria. Widened criteria or a new
    mapped field need the whole table read again (a backfill)."""
    m = ctx.connection.entities.of(entity)
    scope = [f"scope={m.scope}", json.dumps([c.model_dump(mode="json") for c in m.criteria], sort_keys=True),
             m.custom_filter or ""]
    return select_signature([*select, *scope])


async def process(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                  records: Sequence[Mapping[str, Any]], open_errors: set[str], *, full_read: bool) -> None:
    winners = await merges.follow_merges(ctx, entity, records, open_errors)
    if entity == "contact":
        await qualification.take_over_leads(ctx, records)
    await _process_page(ctx, entity, fields, records, open_errors, full_read=full_read)
    in_page = {str(r[PRIMARY_ID[entity]]) for r in records}
    rest = [w for w in winners if w not in in_page]
    if rest:  # the winners that took a link, pushed now with their own values
        await _process_page(ctx, entity, fields, await _read_by_ids(ctx, entity, _select(ctx, entity, fields), rest),
                            open_errors, full_read=False)


async def _process_page(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                        records: Sequence[Mapping[str, Any]], open_errors: set[str], *, full_read: bool) -> None:
    if entity == "account":
        await accounts.process_page(ctx, fields, records, open_errors=open_errors, full_read=full_read)
    elif entity == "opportunity":
        await opportunities.process_page(ctx, fields, records, open_errors=open_errors)
    else:
        await people.process_page(ctx, entity, fields, records, open_errors=open_errors, full_read=full_read)


async def push_entity(ctx: PassContext, entity: EntityName) -> None:
    """Run (or continue) this entity's Dynamics read and push; sets ``ctx.more_work`` if cut short."""
    fields = people.push_fields(ctx, entity)
    select = _select(ctx, entity, fields)
    cursor = await load_cursor(ctx, entity, _signature(ctx, entity, select))
    open_errors = {e.record_id for e in await ctx.store.list_errors(ctx.cid, entity=entity)}
    await retry_due(ctx, entity, fields, select, open_errors)
    if cursor.phase != "delta" and cursor.started_at is None:
        cursor.started_at = ctx.clock.now()
        cursor.done = 0
        cursor.total = await _estimate_total(ctx, entity)
    cursor.run_started_at = ctx.run.started_at
    if cursor.mode == "modifiedon":
        await _read_by_watermark(ctx, entity, fields, select, cursor, open_errors)
        return
    try:
        await _read_and_push(ctx, entity, fields, select, cursor, open_errors)
    except ChangeTrackingDisabledError:
        log.warning("change tracking is off for %s: reading by modifiedon", entity)
        ctx.run.count(entity, "watermark_mode")
        cursor = await ctx.store.get_cursor(ctx.cid, entity, "dynamics") or cursor
        cursor.mode, cursor.delta_link, cursor.next_link, cursor.watermark = "modifiedon", None, None, None
        await _read_by_watermark(ctx, entity, fields, select, cursor, open_errors)
    except DeltaLinkExpiredError:
        log.warning("delta link of %s expired: re-baselining", entity)
        ctx.run.count(entity, "rebaselined")
        cursor = await ctx.store.get_cursor(ctx.cid, entity, "dynamics") or cursor
        cursor.phase, cursor.delta_link, cursor.next_link = "backfill", None, None
        cursor.started_at, cursor.done = ctx.clock.now(), 0
        await _read_and_push(ctx, entity, fields, select, cursor, open_errors)


async def _estimate_total(ctx: PassContext, entity: EntityName) -> int | None:
    """The number of rows the read will see. ``$count`` stops at 5,000, so past that the ids
    are counted page by page (5,000 a call: 20 calls for 100,000 rows)."""
    try:
        result = await ctx.dv.count(ENTITY_SET[entity])
        if not result.limit_exceeded:
            return result.count
        total = 0
        async for page in ctx.dv.query(ENTITY_SET[entity], select=[PRIMARY_ID[entity]], page_size=5000):
            total += len(page.records)
        return total
    except (ValidationError, NotFoundError):
        return None


async def _read_and_push(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                         select: list[str], cursor: Cursor, open_errors: set[str]) -> None:
    resume = cursor.next_link or cursor.delta_link
    try:
        pages = ctx.dv.read_changes(ENTITY_SET[entity], select=select, resume_link=resume)
        async for page in pages:
            await process(ctx, entity, fields, page.records, open_errors, full_read=cursor.phase != "delta")
            if ctx.page_cut:
                ctx.page_cut = False
                ctx.more_work = True
                return
            if page.deleted_ids:
                await _deleted(ctx, entity, page.deleted_ids)
            if ctx.dry_run:
                continue
            if cursor.phase != "delta":
                cursor.done += len(page.records)
            if page.delta_link:
                cursor.delta_link, cursor.next_link = page.delta_link, None
                if cursor.phase != "delta":
                    cursor.finished_at = ctx.clock.now()
                cursor.phase = "delta"
            else:
                cursor.next_link = page.next_link
            cursor = await ctx.store.save_cursor(ctx.cid, cursor)
            await ctx.checkpoint("after_cursor_saved", {"entity": entity, "done": cursor.done})
            if page.next_link and ctx.out_of_time():
                ctx.more_work = True
                return
    except (ValidationError, NotFoundError) as e:
        if cursor.next_link is None:
            raise
        # A saved nextLink that no longer works: restart the read; synced records are
        # recognised by their stored values and skipped.
        log.warning("saved nextLink of %s refused (%s): restarting the read", entity, e.status)
        cursor.next_link = None
        if cursor.phase == "delta" and cursor.delta_link is None:
            cursor.phase = "backfill"
        await _read_and_push(ctx, entity, fields, select, cursor, open_errors)


def _watermark_filter(ctx: PassContext, entity: EntityName, since: datetime | None) -> str | None:
    """``modifiedon ge <watermark>`` and the entity's criteria: reads that allow ``$filter`` use it."""
    m = ctx.connection.entities.of(entity)
    parts: list[str] = []
    if since is not None:
        parts.append(f"modifiedon ge {since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if m.scope == "criteria" and m.criteria:
        compiled = to_odata_filter(m.criteria)
        if compiled:
            parts.append(f"({compiled})")
    elif m.scope == "custom" and m.custom_filter:
        parts.append(f"({m.custom_filter})")
    return " and ".join(parts) or None


async def _read_by_watermark(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                             select: list[str], cursor: Cursor, open_errors: set[str]) -> None:
    """Tables without change tracking: rows with ``modifiedon`` at or after the watermark, oldest
    first. Rows at the boundary are read again and recognised by their stored values; the
    watermark never passes the start of this run (rows changed during it are read next time).
    Deletes are not visible this way (a reconcile scan finds them)."""
    flt = _watermark_filter(ctx, entity, cursor.watermark)
    order = f"modifiedon asc,{PRIMARY_ID[entity]} asc"
    full = cursor.phase != "delta"
    pages = ctx.dv.query(ENTITY_SET[entity], select=select, filter=flt, orderby=order, resume_link=cursor.next_link)
    async for page in pages:
        await process(ctx, entity, fields, page.records, open_errors, full_read=full)
        if ctx.page_cut:
            ctx.page_cut = False
            ctx.more_work = True
            return
        if ctx.dry_run:
            continue
        if full:
            cursor.done += len(page.records)
        last = parse_ac_time(page.records[-1].get("modifiedon")) if page.records else None
        if last is not None:
            cursor.watermark = min(last, ctx.run.started_at)
        cursor.next_link = page.next_link
        if page.next_link is None and full:
            cursor.phase, cursor.finished_at = "delta", ctx.clock.now()
        cursor = await ctx.store.save_cursor(ctx.cid, cursor)
        await ctx.checkpoint("after_cursor_saved", {"entity": entity, "done": cursor.done})
        if page.next_link and ctx.out_of_time():
            ctx.more_work = True
            return
    if not ctx.dry_run and cursor.phase != "delta":
        cursor.phase, cursor.finished_at = "delta", ctx.clock.now()
        await ctx.store.save_cursor(ctx.cid, cursor)


async def _deleted(ctx: PassContext, entity: EntityName, ids: Sequence[str]) -> None:
    """Deleted in Dynamics: the default policy keeps the AC record and drops the link."""
    links = await ctx.store.get_links(ctx.cid, entity, ids)
    for link in links.values():
        ctx.run.count(entity, "deleted_in_dynamics")
        if not ctx.dry_run:
            await ctx.store.delete_link(ctx.cid, link)


async def retry_due(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping], select: list[str],
                    open_errors: set[str]) -> None:
    """Records whose retry is due are read again from Dynamics and pushed with their current values."""
    due = await ctx.store.list_errors(ctx.cid, entity=entity, due_at=ctx.clock.now())
    ids = [e.record_id for e in due if e.side == "activecampaign" and e.retriable]
    id_col = PRIMARY_ID[entity]
    for start in range(0, len(ids), RETRY_CHUNK):
        chunk = ids[start:start + RETRY_CHUNK]
        records = await _read_by_ids(ctx, entity, select, chunk)
        found = {str(r[id_col]) for r in records}
        for gone in set(chunk) - found:
            await ctx.store.clear_error(ctx.cid, entity, "activecampaign", gone)
            open_errors.discard(gone)
        ctx.run.count(entity, "retried", len(records))
        await process(ctx, entity, fields, records, open_errors, full_read=False)


async def _read_by_ids(ctx: PassContext, entity: EntityName, select: list[str],
                       ids: Sequence[str]) -> list[Mapping[str, Any]]:
    id_col = PRIMARY_ID[entity]
    records: list[Mapping[str, Any]] = []
    for start in range(0, len(ids), RETRY_CHUNK):
        flt = " or ".join(f"{id_col} eq {i}" for i in ids[start:start + RETRY_CHUNK])
        async for page in ctx.dv.query(ENTITY_SET[entity], select=select, filter=flt):
            records.extend(page.records)
    return records
