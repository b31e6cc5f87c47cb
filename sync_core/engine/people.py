"""Dynamics contacts and leads → ActiveCampaign contacts (one AC contact per email).

A page of Dynamics records becomes a plan (create, update, unchanged, skipped with a
reason), then AC writes: bulk import for more than ``BULK_THRESHOLD`` rows (its ids arrive
later, so those links are *pending*), ``contact/sync`` for a few, ``PUT contacts/{id}`` when
the email itself changed (an upsert by the new email would create a second contact). Rows
carry only the fields that changed on the Dynamics side since the last synced values, so an
AC edit to another field survives. Links and last values are saved after the AC write
succeeded, and only then does the caller advance its cursor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sync_core.engine.associations import ACCOUNT as ASSOC_ACCOUNT
from sync_core.engine.associations import Association, ensure_associations
from sync_core.engine.context import PRIMARY_ID, LinkIndex, PassContext
from sync_core.engine.criteria import matches
from sync_core.engine.mapping import (
    ac_values_for,
    changed_columns,
    contact_payload,
    dynamics_values,
    import_row,
    parse_ac_time,
)
from sync_core.engine.merges import merged_into
from sync_core.engine.qualification import qualified_lead
from sync_core.model.config import FieldMapping
from sync_core.model.errors import ConflictError, RetriableError, SkippableError
from sync_core.model.state import EntityName, ImportBatch, ImportRow, RecordError, RecordLink

log = logging.getLogger("sync_core.engine")

BULK_THRESHOLD = 10
"""More rows than this go through bulk import (AC: "for 10 or fewer, use the normal API")."""
BULK_MAX_ROWS = 250
EMAIL = "emailaddress1"
ACCOUNT_COLUMN = "parentcustomerid"
TITLE_COLUMN = "jobtitle"


@dataclass(slots=True)
class Planned:
    record: Mapping[str, Any]
    dynamics_id: str
    values: dict[str, Any]
    link: RecordLink | None
    changed: list[str]
    shared_ac_id: str | None = None  # an AC contact already linked to the other table (lead ↔ contact)
    ac_account_id: str | None = None
    ac_account_name: str | None = None

    @property
    def account_changed(self) -> bool:
        return ACCOUNT_COLUMN in self.changed or TITLE_COLUMN in self.changed

    @property
    def email(self) -> str:
        return str(self.values[EMAIL])

    @property
    def is_new(self) -> bool:
        return self.link is None


def push_fields(ctx: PassContext, entity: EntityName) -> list[FieldMapping]:
    from sync_core.model.config import mapped_fields

    mapping = ctx.connection.entities.of(entity)
    return [f for f in mapped_fields(entity, mapping) if f.direction != "pull"]


async def process_page(
    ctx: PassContext,
    entity: EntityName,
    fields: Sequence[FieldMapping],
    records: Sequence[Mapping[str, Any]],
    *,
    open_errors: set[str],
    full_read: bool = False,
) -> None:
    """Plan and write one page of Dynamics records; durable when it returns."""
    id_col = PRIMARY_ID[entity]
    mapping = ctx.connection.entities.of(entity)
    ids = [str(r[id_col]) for r in records]
    if full_read:
        index = await link_index(ctx)
        ids = [i for i in ids if i in index.ids.get(entity, ())]
    links = await ctx.store.get_links(ctx.cid, entity, ids) if ids else {}
    ctx.run.count(entity, "read", len(records))
    plans: list[Planned] = []
    for r in records:
        did = str(r[id_col])
        if merged_into(r) is not None:  # merged away: its link went to the winner (merges.py)
            ctx.run.count(entity, "skipped_merged")
            continue
        if entity == "lead" and qualified_lead(r) and did not in links:
            ctx.run.count(entity, "skipped_qualified")  # it syncs as the contact it became (qualification.py)
            continue
        if mapping.scope == "criteria" and not matches(r, mapping.criteria):
            ctx.run.count(entity, "skipped_criteria")
            continue
        values = dynamics_values(r, fields)
        if not values.get(EMAIL):
            ctx.run.count(entity, "skipped_no_email")
            continue
        link = links.get(did)
        changed = changed_columns(values, link.dynamics_values if link else None)
        if link is not None and not changed:
            ctx.run.count(entity, "unchanged")
            if did in open_errors:
                await ctx.store.clear_error(ctx.cid, entity, "activecampaign", did)
                open_errors.discard(did)
            continue
        plans.append(Planned(r, did, values, link, changed))
    plans = await _resolve_identity(ctx, entity, plans)
    if not plans:
        return
    await _resolve_accounts(ctx, fields, plans)
    if ctx.dry_run:
        for p in plans:
            action = "create" if p.is_new and p.shared_ac_id is None else ("link" if p.is_new else "update")
            if p.link is not None and EMAIL in p.changed:
                move = await _email_move(ctx, entity, p)
                if move.action == "duplicate":
                    await _report_duplicate_email(ctx, entity, p, move.twin)  # counted, not stored
                    ctx.sample(entity, "skip", p.dynamics_id, p.email, "duplicate_email")
                    continue
                action = move.action
            ctx.run.count(entity, f"would_{action}")
            ctx.sample(entity, action, p.dynamics_id, p.email)
        return
    await _write(ctx, entity, fields, plans, open_errors)


async def link_index(ctx: PassContext) -> LinkIndex:
    """The people tables' links, scanned once per pass (see :class:`LinkIndex`)."""
    if ctx.link_index is None:
        index = LinkIndex()
        people: tuple[EntityName, ...] = ("contact", "lead")
        for entity in people:
            async for link in ctx.store.iter_links(ctx.cid, entity):
                index.add(link.entity, link.dynamics_id, link.email, link.ac_id)
        ctx.link_index = index
    return ctx.link_index


def accounts_on(ctx: PassContext, fields: Sequence[FieldMapping]) -> bool:
    """Contacts carry their account only when accounts sync to AC and the plan has them."""
    acc = ctx.connection.entities.accounts
    return (acc.enabled and acc.direction != "pull" and "account" not in ctx.unavailable
            and any(f.dynamics == ACCOUNT_COLUMN for f in fields))


def title_on_association(fields: Sequence[FieldMapping]) -> bool:
    return any(f.dynamics == TITLE_COLUMN and f.activecampaign == "accountContact.jobTitle" for f in fields)


async def _resolve_accounts(ctx: PassContext, fields: Sequence[FieldMapping], plans: list[Planned]) -> None:
    if not accounts_on(ctx, fields):
        return
    guids = {str(p.values[ACCOUNT_COLUMN]) for p in plans if p.values.get(ACCOUNT_COLUMN)}
    if not guids:
        return
    # The customer lookup may point at a contact: only linked accounts count.
    links = await ctx.store.get_links(ctx.cid, "account", sorted(guids))
    for p in plans:
        link = links.get(str(p.values.get(ACCOUNT_COLUMN) or ""))
        if link is not None and link.ac_id:
            p.ac_account_id = link.ac_id
            name = link.ac_values.get("name") or link.dynamics_values.get("name")
            p.ac_account_name = str(name) if name else None


def _titled(fields: Sequence[FieldMapping], p: Planned) -> bool:
    return title_on_association(fields) and bool(p.values.get(TITLE_COLUMN))


def association_for(ctx: PassContext, fields: Sequence[FieldMapping], p: Planned,
                    link: RecordLink) -> Association | None:
    if not accounts_on(ctx, fields) or not (p.is_new or p.account_changed):
        return None
    if p.ac_account_id is None and not link.ac_values.get(ASSOC_ACCOUNT):
        return None
    title = p.values.get(TITLE_COLUMN)
    return Association(link, p.ac_account_id, str(title) if title else None, title_on_association(fields))


async def _resolve_identity(ctx: PassContext, entity: EntityName, plans: list[Planned]) -> list[Planned]:
    """One AC contact per email: duplicates of one table report all but the oldest; leads and
    contacts with one email share the AC contact."""
    by_email: dict[str, list[Planned]] = {}
    for p in plans:
        # A linked record whose email changed competes too: a new record of its new email in the
        # same page would otherwise upsert into the AC contact the change just renamed.
        if p.is_new or EMAIL in p.changed:
            by_email.setdefault(p.email.lower(), []).append(p)
    drop: set[str] = set()
    for group in by_email.values():
        if len(group) > 1:
            group.sort(key=lambda p: (str(p.record.get("createdon") or ""), p.dynamics_id))
            for loser in group[1:]:
                drop.add(loser.dynamics_id)
                await _fail(ctx, entity, loser.dynamics_id, f"another {entity} has the email {loser.email} "
                            f"({group[0].dynamics_id}); only the oldest is linked", code="duplicate_email",
                            retriable=False)
    sem = asyncio.Semaphore(16)

    async def existing(p: Planned) -> None:
        async with sem:
            found = await _linked_with_email(ctx, p.email)
        for other_entity, other_id, other_ac in found:
            if other_entity == entity and other_id != p.dynamics_id:
                drop.add(p.dynamics_id)
                await _fail(ctx, entity, p.dynamics_id, f"another {entity} ({other_id}) already syncs "
                            f"the email {p.email}", code="duplicate_email", retriable=False)
                return
            if other_entity != entity and other_ac:
                p.shared_ac_id = other_ac

    await asyncio.gather(*(existing(p) for p in plans if p.is_new))
    return [p for p in plans if p.dynamics_id not in drop]


async def _linked_with_email(ctx: PassContext, email: str) -> list[tuple[str, str, str | None]]:
    """(entity, Dynamics id, AC id) of the people records linked under ``email``."""
    if ctx.link_index is not None:
        return list(ctx.link_index.by_email.get(email.lower(), []))
    rows = await ctx.store.find_links_by_email(ctx.cid, email)
    return [(o.entity, o.dynamics_id, o.ac_id) for o in rows]


async def _fail(ctx: PassContext, entity: EntityName, record_id: str, cause: str, *, code: str,
                retriable: bool = True, detail: dict[str, Any] | None = None) -> None:
    ctx.run.count(entity, "errors")
    if ctx.dry_run:
        return
    await ctx.store.record_error(ctx.cid, RecordError(
        entity=entity, side="activecampaign", record_id=record_id, cause=cause, code=code,
        retriable=retriable, first_seen=ctx.clock.now(), last_seen=ctx.clock.now(), detail=detail or {},
    ))


def _row_values(ctx: PassContext, p: Planned, fields: Sequence[FieldMapping]) -> dict[str, Any]:
    """AC key → value for the columns that changed (all non-empty ones for a new contact)."""
    cols = set(p.changed) | {EMAIL}
    return ac_values_for(fields, p.values, cols)


async def _write(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping], plans: list[Planned],
                 open_errors: set[str]) -> None:
    email_changes = [p for p in plans if p.link is not None and EMAIL in p.changed]
    upserts = [p for p in plans if p not in email_changes]
    saved: list[RecordLink] = []
    for p in email_changes:
        link = await _change_email(ctx, entity, fields, p)
        if link:
            saved.append(link)
    if len(upserts) > BULK_THRESHOLD:
        saved.extend(await _bulk(ctx, entity, fields, upserts))
    else:
        for p in upserts:
            link = await _sync_one(ctx, entity, fields, p)
            if link:
                saved.append(link)
    await ctx.checkpoint("after_ac_write", {"entity": entity, "count": len(saved)})
    if saved:
        await ctx.store.save_links(ctx.cid, saved)
        if ctx.link_index is not None:
            for link in saved:
                ctx.link_index.add(link.entity, link.dynamics_id, link.email, link.ac_id)
    for link in saved:
        if link.dynamics_id in open_errors:
            await ctx.store.clear_error(ctx.cid, entity, "activecampaign", link.dynamics_id)
            open_errors.discard(link.dynamics_id)
    await ctx.checkpoint("after_links_saved", {"entity": entity, "count": len(saved)})


def _tags(ctx: PassContext, entity: EntityName) -> list[str]:
    push = ctx.connection.push
    return [push.tag_lead if entity == "lead" else push.tag_contact, push.tag_pushed]


def _next_link(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping], p: Planned,
               *, ac_id: str | None, sent: Mapping[str, Any], ac_contact: Mapping[str, Any] | None,
               batch: str | None) -> RecordLink:
    link = p.link or RecordLink(entity=entity, dynamics_id=p.dynamics_id, ac_id=None)
    link.ac_id = ac_id if ac_id is not None else link.ac_id
    link.email = p.email
    link.dynamics_values = dict(p.values)
    link.ac_values = {**link.ac_values, **{k: v for k, v in sent.items()}}
    modified = p.record.get("modifiedon")
    link.dynamics_modified = parse_ac_time(modified) if isinstance(modified, str) else link.dynamics_modified
    if ac_contact is not None:
        link.ac_modified = parse_ac_time(ac_contact.get("udate")) or link.ac_modified
    link.pending_batch = batch if link.ac_id is None else None
    link.synced_at = ctx.clock.now()
    return link


async def _sync_one(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                    p: Planned, *, moved: bool = False) -> RecordLink | None:
    """Upsert by email; ``moved``: a linked record taken to the AC contact of its new email."""
    values = _row_values(ctx, p, fields)
    try:
        resp = await ctx.ac.sync_contact(contact_payload(values))
        contact = resp.get("contact", resp)
        ac_id = str(contact["id"])
        if (p.is_new or moved) and p.shared_ac_id is None:
            await _tag_and_subscribe(ctx, entity, ac_id)
        elif p.is_new or moved:
            await ctx.ac.add_contact_tag(ac_id, await ctx.ac.ensure_tag(_tags(ctx, entity)[0]))
    except (SkippableError, RetriableError) as e:
        # Retried with a capped backoff even when AC refused the data: cheap, and it also
        # covers refusals that pass (a race on a unique value, a field fixed on the AC side).
        await _fail(ctx, entity, p.dynamics_id, str(e), code=type(e).__name__)
        return None
    ctx.run.count(entity, "created" if p.is_new else "updated")
    link = _next_link(ctx, entity, fields, p, ac_id=ac_id, sent=values, ac_contact=contact, batch=None)
    assoc = association_for(ctx, fields, p, link)
    if assoc is not None:
        await ensure_associations(ctx, [assoc])
    return link


async def _tag_and_subscribe(ctx: PassContext, entity: EntityName, ac_id: str) -> None:
    for name in _tags(ctx, entity):
        await ctx.ac.add_contact_tag(ac_id, await ctx.ac.ensure_tag(name))
    push = ctx.connection.push
    for list_id in push.list_ids:
        await ctx.ac.set_contact_list_status(ac_id, str(list_id), 1 if push.subscribe else 2)


@dataclass(slots=True)
class EmailMove:
    """Where a linked record whose email changed goes (see :func:`_email_move`)."""

    action: Literal["update", "move", "duplicate"]
    """update: the AC contact takes the email; move: the record goes to the AC contact of its new email."""
    joined_ac_id: str | None = None
    twin: str | None = None


async def _email_move(ctx: PassContext, entity: EntityName, p: Planned) -> EmailMove:
    """An email change keeps one AC contact per email and never makes a second one for a record.

    Usually the linked AC contact takes the new email. Not when another record of the table
    already syncs that email (reported, as for a new record; the link stays as it was), and not
    when the AC contact is shared with the other table's record of the old email, or the other
    table already has an AC contact for the new one: then the record moves, with all its values,
    to the AC contact of its new email, and the other record keeps its own.
    """
    assert p.link is not None
    holders = [h for h in await _linked_with_email(ctx, p.email) if h[1] != p.dynamics_id]
    twin = next((h for h in holders if h[0] == entity), None)
    if twin is not None:
        return EmailMove("duplicate", twin=twin[1])
    joined = next((h[2] for h in holders if h[2]), None)
    old_email = p.link.email or ""
    shared_old = bool(old_email) and p.link.ac_id is not None and any(
        h[0] != entity and h[2] == p.link.ac_id for h in await _linked_with_email(ctx, old_email))
    return EmailMove("move" if joined is not None or shared_old else "update", joined_ac_id=joined)


async def _report_duplicate_email(ctx: PassContext, entity: EntityName, p: Planned, twin: str | None) -> None:
    assert p.link is not None
    await _fail(ctx, entity, p.dynamics_id, f"the email changed to {p.email}, which another {entity} ({twin}) "
                f"already syncs; this record stays linked to the AC contact of {p.link.email} until one of the "
                "two changes", code="duplicate_email", retriable=False)


async def _change_email(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                        p: Planned) -> RecordLink | None:
    move = await _email_move(ctx, entity, p)
    if move.action == "duplicate":
        await _report_duplicate_email(ctx, entity, p, move.twin)
        return None
    if move.action == "update":
        return await _update_by_id(ctx, entity, fields, p)
    p.shared_ac_id = move.joined_ac_id
    p.changed = sorted(p.values)  # the AC contact it moves to has none of this record's values yet
    return await _sync_one(ctx, entity, fields, p, moved=True)


async def _update_by_id(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                        p: Planned) -> RecordLink | None:
    """The linked AC contact takes the new email (an upsert by it would make a second contact)."""
    assert p.link is not None
    values = _row_values(ctx, p, fields)
    try:
        ac_id = p.link.ac_id
        if ac_id is None:
            old = p.link.email or ""
            found = await ctx.ac.find_contact_by_email(old) if old else None
            if found is None:
                raise _Unresolved(f"pending AC contact for {old} not found yet")
            ac_id = str(found["id"])
        resp = await ctx.ac.update_contact(ac_id, contact_payload(values))
        contact = resp.get("contact", resp)
    except _Unresolved as e:
        await _fail(ctx, entity, p.dynamics_id, str(e), code="pending")
        return None
    except ConflictError as e:
        await _fail(ctx, entity, p.dynamics_id, f"the email changed to {p.email}, which an ActiveCampaign "
                    "contact no Dynamics record syncs already has; merge the two contacts in ActiveCampaign "
                    f"(the record's is {p.link.ac_id}), or change the email in Dynamics ({e})",
                    code="email_taken")
        return None
    except (SkippableError, RetriableError) as e:
        await _fail(ctx, entity, p.dynamics_id, str(e), code=type(e).__name__)
        return None
    ctx.run.count(entity, "updated")
    link = _next_link(ctx, entity, fields, p, ac_id=ac_id, sent=values, ac_contact=contact, batch=None)
    assoc = association_for(ctx, fields, p, link)
    if assoc is not None:
        await ensure_associations(ctx, [assoc])
    return link


class _Unresolved(Exception):
    pass


async def _bulk(ctx: PassContext, entity: EntityName, fields: Sequence[FieldMapping],
                plans: list[Planned]) -> list[RecordLink]:
    push = ctx.connection.push
    rows: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    for p in plans:
        values = _row_values(ctx, p, fields)
        sent.append(values)
        new = p.is_new and p.shared_ac_id is None
        row = import_row(values, tags=_tags(ctx, entity) if p.is_new else (),
                         list_ids=push.list_ids if new else (), subscribe=push.subscribe)
        if p.ac_account_name and (p.is_new or p.account_changed) and not _titled(fields, p):
            # Names the account for readings where the import links it (learnt, then spot-checked).
            # A titled contact is not named: AC keeps the title on the association, which costs a
            # call either way, and one create with the title needs no read of what the import did.
            row["customer_acct_name"] = p.ac_account_name
        rows.append(row)
    by_email = {p.email: (p, values) for p, values in zip(plans, sent, strict=True)}
    rows_by_email = {p.email: row for p, row in zip(plans, rows, strict=True)}
    out: list[RecordLink] = []
    for start in range(0, len(rows), BULK_MAX_ROWS):
        chunk = rows[start:start + BULK_MAX_ROWS]
        try:
            outcome = await ctx.ac.import_contacts(chunk, exclude_automations=push.exclude_automations)
        except RetriableError as e:
            for row in chunk:
                p, _ = by_email[str(row["email"]).lower()]
                await _fail(ctx, entity, p.dynamics_id, f"bulk import: {e}", code=type(e).__name__)
            continue
        except SkippableError as e:
            # AC refused the call without naming rows we can drop: the rows go one by one, so one
            # bad record costs its own call and never blocks the others.
            log.warning("bulk import refused a chunk (%s); sending its %d rows one by one", e.status, len(chunk))
            for row in chunk:
                p, _ = by_email[str(row["email"]).lower()]
                link = await _sync_one(ctx, entity, fields, p)
                if link:
                    out.append(link)
            continue
        for rejected in outcome.rejected:
            p, _ = by_email[str(rejected.row["email"]).lower()]
            await _fail(ctx, entity, p.dynamics_id, f"bulk import rejected the row: {rejected.reason}",
                        code="import_rejected")
        for batch_id, batch_rows in outcome.submitted:
            batch = ImportBatch(batch_id=batch_id, submitted_at=ctx.clock.now())
            for row in batch_rows:
                p, values = by_email[str(row["email"]).lower()]
                ac_id = p.link.ac_id if p.link else p.shared_ac_id
                link = _next_link(ctx, entity, fields, p, ac_id=ac_id, sent=values, ac_contact=None, batch=batch_id)
                assoc = association_for(ctx, fields, p, link)
                batch.rows.append(ImportRow(
                    entity=entity, dynamics_id=p.dynamics_id, email=p.email,
                    columns=sorted(set(p.changed) | {EMAIL}),
                    ac_account_id=assoc.ac_account_id if assoc else None,
                    job_title=assoc.job_title if assoc else None, associate=assoc is not None,
                    needs_id=ac_id is None, account_named="customer_acct_name" in rows_by_email[p.email]))
                out.append(link)
                ctx.run.count(entity, "created" if p.is_new else "updated")
            # The batch is recorded before its links: a kill in between re-imports the page (an
            # upsert by email), never leaves a pending link without its batch.
            await ctx.store.save_import(ctx.cid, batch)
    return out
