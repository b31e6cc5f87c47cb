"""The ActiveCampaign contact read that completes pending links (DESIGN.md §5, budget arithmetic).

New contacts are read by id (above the highest id seen: ids only grow, so each is read once and the
cost follows the creations, not the account's size), several pages in flight: the span is cut into id
ranges (``ActiveCampaignClient.iter_new_contacts``), since one ``id_greater`` page after another tops out
at 1/latency calls a second, under AC's 5/s. Imported rows that updated
contacts AC already had are not new: when many of them remain, one ``filters[updated_after]`` read
(overlap window, de-duplicated at the boundary) finds them; a few are looked up by email afterwards
(``imports.resolve_completed``). The cursor is an :class:`~sync_core.model.state.AcCursor`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sync_core.engine.associations import LIST_ALL_THRESHOLD, preload_account_contacts
from sync_core.engine.fanout import AC_CALLS_IN_FLIGHT
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.engine.pending_links import Completion, apply_completions, row_failed
from sync_core.model.errors import RetriableError, SkippableError
from sync_core.model.state import AcCursor, EntityName, ImportRow

OVERLAP = timedelta(minutes=10)
"""Re-read this much before the watermark: AC's clock, commit order and rounding."""
UNKNOWN_TZ_MARGIN = timedelta(hours=14)
"""How far the ``updated_after`` reading may be off when the account's zone is unknown."""
BOUNDARY_KEYS_MAX = 500


async def read(p: Pass) -> None:
    """The AC read of a pass: new and updated contacts, then the email look-ups of what it did not see."""
    await read_contacts(p)
    if not p.time.more_work:  # a read cut by the budget goes on before any email lookup
        await resolve_by_email(p)


async def read_contacts(p: Pass, *, updated: bool = True) -> None:
    """The AC contact read that completes pending links.

    New contacts are read by id (``id_greater`` from the highest id seen: ids only grow, so
    each is read once and the cost follows the creations, not the account's size). Imported
    rows that updated contacts AC already had are not new: when many of them remain, one
    ``filters[updated_after]`` read (overlap window, de-duplicated at the boundary) finds them;
    a few are looked up by email afterwards (:func:`resolve_completed`). ``updated=False`` (between
    pages of a push) reads only the new contacts; the pass after the push reads the rest.
    """
    cursor = await p.store.get_ac_cursor(p.cid, "contact")
    if cursor is None:
        cursor = AcCursor(entity="contact", phase="delta", watermark=p.run.started_at)
    pending = await pending_rows(p)
    p.imports.learnt = cursor.import_links_accounts
    if cursor.position is None:
        # The first pass: contacts that exist now are not ours to complete; start after them.
        cursor.position = await p.ac.latest_contact_id() or "0"
    elif pending:
        # Listing every association pays when many need reading (not once the reading is learnt).
        to_verify = sum(1 for rows in pending.values() for x in rows
                        if x.row.associate and x.row.account_named and p.imports.learnt is None)
        if to_verify > LIST_ALL_THRESHOLD:
            await preload_account_contacts(p)
        await _read_new(p, cursor, pending)
    completed_left = sum(len(rows) for email, rows in pending.items() if any(r.completed for r in rows))
    # A read cut by the pass budget leaves the rest to the continuation; rows it did not reach are
    # not "left over" for the updated_after read yet.
    if updated and completed_left > EMAIL_LOOKUP_LIMIT and not p.time.more_work:
        await _read_updated(p, cursor, pending)
    cursor.run_started_at = p.run.started_at
    cursor.import_links_accounts = _learnt(cursor.import_links_accounts, p.imports.seen)
    await p.sink.save_cursor(cursor)
    await prune_batches(p)


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


async def _complete(p: Pass, contact: dict[str, Any], pending: dict[str, list[Pending]],
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
    pending: Pending
    new: bool


async def _link_found(p: Pass, found: list[_Found]) -> None:
    """Give the pending links of these rows their AC ids (links read in bulk, not one by one)."""
    by_entity: dict[EntityName, list[_Found]] = {}
    for f in found:
        by_entity.setdefault(f.pending.row.entity, []).append(f)
    for entity, items in by_entity.items():
        links = await p.store.get_links(p.cid, entity, [f.pending.row.dynamics_id for f in items])
        done: list[Completion] = []
        for f in items:
            row = f.pending.row
            link = links.get(row.dynamics_id)
            if link is not None and link.ac_id is None:
                link.ac_id = str(f.contact["id"])
                link.ac_modified = parse_ac_time(f.contact.get("udate"))
                link.pending_batch = None
                done.append(Completion(link, row, new=f.new, listed=_listed(p, f.pending)))
            p.imports.completed_rows.add((entity, row.dynamics_id, f.pending.batch_id))
        await apply_completions(p, entity, done)


def _listed(p: Pass, item: Pending) -> bool:
    """Whether the pass's list of associations (if any) can hold what this row's import made: the import
    was confirmed processed before the listing began, or nothing is listed yet (a listing now would).
    Since the pass reads on after its push (``import_overlap``), imports processed after the listing at its
    start complete in it; their associations are read one by one, not taken as absent from that list."""
    at = p.caches.account_contacts_at
    if p.caches.account_contacts is None or at is None:
        return True
    return item.completed and item.checked_at is not None and item.checked_at <= at


async def _read_new(p: Pass, cursor: AcCursor, pending: dict[str, list[Pending]]) -> None:
    top = int(cursor.position or 0)
    # Several pages in flight (id ranges), answered in id order: the cursor still moves over a prefix.
    new = p.ac.iter_new_contacts(str(top), in_flight=AC_CALLS_IN_FLIGHT)
    async with aclosing(new):
        await _complete_new(p, cursor, new, pending)


async def _complete_new(p: Pass, cursor: AcCursor, new: AsyncIterator[dict[str, Any]],
                        pending: dict[str, list[Pending]]) -> None:
    done: list[_Found] = []
    top = int(cursor.position or 0)
    async for contact in new:
        p.count("contact", "ac_read")
        top = max(top, int(contact["id"]))
        learn_offset(cursor, contact)
        await _complete(p, contact, pending, done, by_id=True)
        if len(done) >= COMPLETE_CHUNK:
            await _link_found(p, done)
            done = []
            cursor.position = str(top)
            cursor.etag = (await p.sink.save_cursor(cursor)).etag
            if p.time.out():
                # Completing links costs calls (account associations): stop at a chunk the
                # cursor covers; the continuation reads on from there.
                p.time.more_work = True
                return
    if done:
        await _link_found(p, done)
    cursor.position = str(top)


async def _read_updated(p: Pass, cursor: AcCursor, pending: dict[str, list[Pending]]) -> None:
    oldest = min((p.submitted_at for rows in pending.values() for p in rows if p.completed), default=None)
    since = updated_after_value(oldest or p.run.started_at, cursor.tz_offset_minutes)
    seen = set(cursor.boundary_keys)
    done: list[_Found] = []
    async for contact in p.ac.iter_contacts(updated_after=since):
        key = f"{contact.get('id')}@{contact.get('udate')}"
        if key in seen:
            continue
        p.count("contact", "ac_read")
        learn_offset(cursor, contact)
        await _complete(p, contact, pending, done)
        if len(done) >= COMPLETE_CHUNK:
            await _link_found(p, done)
            done = []
            if p.time.out():
                # Completed rows left the batches' pending set: the continuation reads again from
                # the same watermark and finds only the rest.
                p.time.more_work = True
                return
    if done:
        await _link_found(p, done)


def learn_offset(cursor: AcCursor, contact: dict[str, Any]) -> None:
    udate = parse_ac_time(contact.get("udate"))
    offset = udate.utcoffset() if udate is not None else None
    if offset is not None:
        cursor.tz_offset_minutes = int(offset.total_seconds() // 60)


log = logging.getLogger("sync_core.engine")

COMPLETE_CHUNK = 100
EMAIL_LOOKUP_LIMIT = 100
"""Up to this many unresolved rows are looked up one by one; more are found by one delta read."""




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
class Pending:
    row: ImportRow
    submitted_at: datetime
    completed: bool
    batch_id: str
    checked_at: datetime | None = None
    """When ``import/info`` confirmed its import processed."""


async def pending_rows(p: Pass) -> dict[str, list[Pending]]:
    out: dict[str, list[Pending]] = {}
    for status in ("submitted", "completed"):
        for batch in await p.store.list_imports(p.cid, status=status):
            for row in batch.rows:
                if row.needs_id:
                    out.setdefault(row.email.lower(), []).append(
                        Pending(row, batch.submitted_at, completed=status == "completed", batch_id=batch.batch_id,
                                checked_at=batch.checked_at))
    return out


async def prune_batches(p: Pass) -> None:
    """Rows whose links are complete leave their batch (a completed, empty batch is done)."""
    if not p.imports.completed_rows:
        return
    for status in ("submitted", "completed"):
        for batch in await p.store.list_imports(p.cid, status=status):
            rows = [r for r in batch.rows if (r.entity, r.dynamics_id, batch.batch_id) not in p.imports.completed_rows]
            if len(rows) == len(batch.rows):
                continue
            if not rows and status == "completed":
                await p.sink.delete_import(batch.batch_id)
            else:
                batch.rows = rows
                await p.sink.save_import(batch)


async def resolve_by_email(p: Pass) -> None:
    """Completed imports whose rows are still pending after the delta read: look them up by email."""
    for batch in await p.store.list_imports(p.cid, status="completed"):
        remaining: list[ImportRow] = []
        for i, row in enumerate(batch.rows):
            if p.time.out():
                remaining.extend(batch.rows[i:])  # the continuation looks up the rest
                p.time.more_work = True
                break
            if (row.entity, row.dynamics_id, batch.batch_id) in p.imports.completed_rows or not row.needs_id:
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
                await row_failed(p, row)
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
