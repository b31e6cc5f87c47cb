"""Dynamics contacts and leads → ActiveCampaign contacts: the writes of a planned page.

Bulk import for more than ``BULK_THRESHOLD`` rows (its ids arrive later, so those links are
*pending*), ``contact/sync`` for a few, ``PUT contacts/{id}`` when the email itself changed (an
upsert by the new email would create a second contact). Rows carry only the changed fields. Links
and last values are saved after the AC write succeeded, and only then does the reader advance.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_core.engine import consent, deletes, history
from sync_core.engine.ac_recheck import hold_back_edited
from sync_core.engine.associations import ensure_associations
from sync_core.engine.fanout import fan_out
from sync_core.engine.mapping import ac_values_for, contact_payload, import_row, parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.engine.people_rows import EMAIL, Planned, association_for, titled
from sync_core.engine.sink import Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.errors import ConflictError, NotFoundError, RetriableError, SkippableError
from sync_core.model.state import EntityName, ImportBatch, ImportRow, RecordLink

log = logging.getLogger("sync_core.engine")

BULK_THRESHOLD = 10
"""More rows than this go through bulk import (AC: "for 10 or fewer, use the normal API")."""
BULK_MAX_ROWS = 250


@dataclass
class PeopleWriter:
    entity: EntityName
    fields: list[FieldMapping]
    open_errors: set[str]

    async def write(self, p: Pass, plan: Plan) -> None:
        await write(p, self, [a.item for a in plan.actions])


People = PeopleWriter


async def write(p: Pass, h: People, plans: Sequence[Planned]) -> None:
    plans = await hold_back_edited(p, h.entity, h.fields, plans)
    email_changes = [x for x in plans if x.move is not None]
    consent_only = [x for x in plans if x.kind == "consent"]
    # A re-subscribe needs the AC id (a bulk import cannot re-subscribe anyone): one by one.
    upserts = [x for x in plans if x.move is None and x.kind != "consent"]
    saved: list[RecordLink] = [link for x in consent_only if (link := await _consent_only(p, h, x))]
    for x in email_changes:
        assert x.move is not None
        if x.move.action == "update":
            link = await _update_by_id(p, h, x)
        else:
            x.shared_ac_id = x.move.joined_ac_id
            x.changed = sorted(x.values)  # the AC contact it moves to has none of this record's values yet
            link = await _sync_one(p, h, x, moved=True)
        if link:
            saved.append(link)
    singles = [x for x in upserts if x.consent == "resubscribe"]
    bulk = [x for x in upserts if x.consent != "resubscribe"]
    if len(bulk) > BULK_THRESHOLD:
        saved.extend(await _bulk(p, h, bulk))
    else:
        singles = bulk + singles
    for x in singles:
        # A linked contact is written by its id: a 404 says it was deleted in AC, where an upsert by email
        # would make a new contact holding only the changed fields.
        by_id = x.link is not None and x.link.ac_id is not None and x.shared_ac_id is None
        if link := await (_update_by_id(p, h, x) if by_id else _sync_one(p, h, x)):
            saved.append(link)
    await p.checkpoint("after_ac_write", {"entity": h.entity, "count": len(saved)})
    await p.sink.save_links(saved)
    for link in saved:
        if link.dynamics_id in h.open_errors:
            await p.sink.clear(h.entity, link.dynamics_id)
            h.open_errors.discard(link.dynamics_id)
    await p.checkpoint("after_links_saved", {"entity": h.entity, "count": len(saved)})


async def _fail(p: Pass, h: People, x: Planned, cause: str, code: ErrorCode) -> None:
    await p.sink.fail(Failure(h.entity, x.dynamics_id, code, cause))


def _row_values(h: People, x: Planned) -> dict[str, Any]:
    """AC key → value for the columns that changed (all non-empty ones for a new contact)."""
    return ac_values_for(h.fields, x.values, set(x.changed) | {EMAIL})


def tags_for(p: Pass, entity: EntityName) -> list[str]:
    push = p.connection.push
    return [push.tag_lead if entity == "lead" else push.tag_contact, push.tag_pushed]


def next_link(
    p: Pass,
    entity: EntityName,
    x: Planned,
    *,
    ac_id: str | None,
    sent: Mapping[str, Any],
    ac_contact: Mapping[str, Any] | None,
    batch: str | None,
) -> RecordLink:
    link = x.link or RecordLink(entity=entity, dynamics_id=x.dynamics_id, ac_id=None)
    before = dict(link.dynamics_values)
    link.ac_id = ac_id if ac_id is not None else link.ac_id
    link.email = x.email
    link.dynamics_values = dict(x.values)
    history.pushed(
        link, before, at=p.clock.now(), run_id=p.run.run_id, why="email move" if x.move is not None else "pushed"
    )
    etag = x.record.get("@odata.etag")
    link.dynamics_etag = str(etag) if etag else link.dynamics_etag
    link.ac_values = {**link.ac_values, **dict(sent)}
    modified = x.record.get("modifiedon")
    link.dynamics_modified = parse_ac_time(modified) if isinstance(modified, str) else link.dynamics_modified
    if ac_contact is not None:
        link.ac_modified = parse_ac_time(ac_contact.get("udate")) or link.ac_modified
    link.pending_batch = batch if link.ac_id is None else None
    link.synced_at = p.clock.now()
    consent.note(p, link, x.opt_out, x.consent)
    return link


async def _consent_only(p: Pass, h: People, x: Planned) -> RecordLink | None:
    """No mapped field changed, but the record's consent did: only the list statuses (or nothing) in AC."""
    assert x.link is not None
    if x.consent is not None and x.link.ac_id is None:
        await _fail(p, h, x, "the opt-out waits for the AC contact's import", ErrorCode.PENDING)
        return None
    try:
        if x.link.ac_id is not None:
            await consent.carry_out(p, h.entity, x.link.ac_id, x.consent)
    except (SkippableError, RetriableError) as e:
        await _fail(p, h, x, str(e), e.error_code)
        return None
    link = x.link
    etag = x.record.get("@odata.etag")
    link.dynamics_etag = str(etag) if etag else link.dynamics_etag
    consent.note(p, link, x.opt_out, x.consent)
    return link


async def _sync_one(p: Pass, h: People, x: Planned, *, moved: bool = False) -> RecordLink | None:
    """Upsert by email; ``moved``: a linked record taken to the AC contact of its new email."""
    values = _row_values(h, x)
    try:
        resp = await p.ac.sync_contact(contact_payload(values))
        contact = resp.get("contact", resp)
        ac_id = str(contact["id"])
        if (x.is_new or moved) and x.shared_ac_id is None:
            await _tag_and_subscribe(p, h.entity, ac_id, x)
        else:
            if x.is_new or moved:
                await p.ac.add_contact_tag(ac_id, await p.ac.ensure_tag(tags_for(p, h.entity)[0]))
            await consent.carry_out(p, h.entity, ac_id, x.consent)
    except (SkippableError, RetriableError) as e:
        # Retried with a capped backoff even when AC refused the data: cheap, and it also
        # covers refusals that pass (a race on a unique value, a field fixed on the AC side).
        await _fail(p, h, x, str(e), e.error_code)
        return None
    p.count(h.entity, "created" if x.is_new else "updated")
    link = next_link(p, h.entity, x, ac_id=ac_id, sent=values, ac_contact=contact, batch=None)
    if (assoc := association_for(p, h.fields, x, link)) is not None:
        await ensure_associations(p, [assoc])
    return link


async def _tag_and_subscribe(p: Pass, entity: EntityName, ac_id: str, x: Planned) -> None:
    for name in tags_for(p, entity):
        await p.ac.add_contact_tag(ac_id, await p.ac.ensure_tag(name))
    if await consent.subscribe_new(p, ac_id, opted_out=x.opt_out):
        x.opt_out, x.consent = True, "unsubscribe"  # they had left a list in AC: the link knows they opted out
    elif x.consent == "unsubscribe":
        p.count(entity, "opted_out")


class _Unresolved(Exception):
    pass


async def _update_by_id(p: Pass, h: People, x: Planned) -> RecordLink | None:
    """``PUT contacts/{id}``: a linked AC contact takes the changed fields, a new email among them (an upsert
    by it would make a second contact); a 404 is an AC delete."""
    assert x.link is not None
    values = _row_values(h, x)
    try:
        ac_id = x.link.ac_id
        if ac_id is None:
            old = x.link.email or ""
            found = await p.ac.find_contact_by_email(old) if old else None
            if found is None:
                raise _Unresolved(f"pending AC contact for {old} not found yet")
            ac_id = str(found["id"])
        resp = await p.ac.update_contact(ac_id, contact_payload(values))
        contact = resp.get("contact", resp)
        await consent.carry_out(p, h.entity, ac_id, x.consent)
    except _Unresolved as e:
        await _fail(p, h, x, str(e), ErrorCode.PENDING)
        return None
    except NotFoundError:  # deleted in AC: unlinked, never made again by an upsert of the new email
        await deletes.ac_deleted(p, x.link, x.email)
        return None
    except ConflictError as e:
        if x.move is None:  # not an email change: AC refused a duplicate of some other value
            await _fail(p, h, x, str(e), e.error_code)
            return None
        await _fail(
            p,
            h,
            x,
            f"the email changed to {x.email}, which an ActiveCampaign contact no Dynamics record "
            "syncs already has; merge the two contacts in ActiveCampaign (the record's is "
            f"{x.link.ac_id}), or change the email in Dynamics ({e})",
            ErrorCode.EMAIL_TAKEN,
        )
        return None
    except (SkippableError, RetriableError) as e:
        await _fail(p, h, x, str(e), e.error_code)
        return None
    p.count(h.entity, "updated")
    link = next_link(p, h.entity, x, ac_id=ac_id, sent=values, ac_contact=contact, batch=None)
    if (assoc := association_for(p, h.fields, x, link)) is not None:
        await ensure_associations(p, [assoc])
    return link


def _import_rows(p: Pass, h: People, plans: list[Planned]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    push = p.connection.push
    rows: list[dict[str, Any]] = []
    sent: list[dict[str, Any]] = []
    for x in plans:
        values = _row_values(h, x)
        sent.append(values)
        new = x.is_new and x.shared_ac_id is None
        opting_out = x.consent == "unsubscribe"  # an import unsubscribes, and never re-subscribes anyone
        row = import_row(
            values,
            tags=tags_for(p, h.entity) if x.is_new else (),
            list_ids=push.list_ids if new or opting_out else (),
            subscribe=push.subscribe and not opting_out,
        )
        if opting_out:
            p.count(h.entity, "opted_out")
        if x.ac_account_name and (x.is_new or x.account_changed) and not titled(h.fields, x):
            # Names the account for readings where the import links it (learnt, then spot-checked).
            # A titled contact is not named: AC keeps the title on the association, which costs a
            # call either way, and one create with the title needs no read of what the import did.
            row["customer_acct_name"] = x.ac_account_name
        rows.append(row)
    return rows, sent


async def _bulk(p: Pass, h: People, plans: list[Planned]) -> list[RecordLink]:
    rows, sent = _import_rows(p, h, plans)
    by_email = {x.email: (x, values) for x, values in zip(plans, sent, strict=True)}
    named = {x.email for x, row in zip(plans, rows, strict=True) if "customer_acct_name" in row}
    out: list[RecordLink] = []

    async def send(chunk: list[dict[str, Any]]) -> None:
        try:
            outcome = await p.ac.import_contacts(chunk, exclude_automations=p.connection.push.exclude_automations)
        except RetriableError as e:
            for row in chunk:
                await _fail(p, h, by_email[str(row["email"]).lower()][0], f"bulk import: {e}", e.error_code)
            return
        except SkippableError as e:
            # AC refused the call without naming rows we can drop: the rows go one by one, so one
            # bad record costs its own call and never blocks the others.
            log.warning("bulk import refused a chunk (%s); sending its %d rows one by one", e.status, len(chunk))
            for row in chunk:
                if link := await _sync_one(p, h, by_email[str(row["email"]).lower()][0]):
                    out.append(link)
            return
        for rejected in outcome.rejected:
            await _fail(
                p,
                h,
                by_email[str(rejected.row["email"]).lower()][0],
                f"bulk import rejected the row: {rejected.reason}",
                ErrorCode.IMPORT_REJECTED,
            )
        for batch_id, batch_rows in outcome.submitted:
            out.extend(await _submitted(p, h, batch_id, batch_rows, by_email, named))

    # The page's imports in flight together (each spends the import window and, per the register, the 5/s).
    await fan_out([rows[i : i + BULK_MAX_ROWS] for i in range(0, len(rows), BULK_MAX_ROWS)], send)
    return out


async def _submitted(
    p: Pass,
    h: People,
    batch_id: str,
    batch_rows: Sequence[Mapping[str, Any]],
    by_email: Mapping[str, tuple[Planned, dict[str, Any]]],
    named: set[str],
) -> list[RecordLink]:
    """The batch is recorded before its links: a kill in between re-imports the page (an upsert by
    email), never leaves a pending link without its batch."""
    batch = ImportBatch(batch_id=batch_id, submitted_at=p.clock.now())
    out: list[RecordLink] = []
    for row in batch_rows:
        x, values = by_email[str(row["email"]).lower()]
        ac_id = x.link.ac_id if x.link else x.shared_ac_id
        link = next_link(p, h.entity, x, ac_id=ac_id, sent=values, ac_contact=None, batch=batch_id)
        assoc = association_for(p, h.fields, x, link)
        batch.rows.append(
            ImportRow(
                entity=h.entity,
                dynamics_id=x.dynamics_id,
                email=x.email,
                columns=sorted(set(x.changed) | {EMAIL}),
                ac_account_id=assoc.ac_account_id if assoc else None,
                job_title=assoc.job_title if assoc else None,
                associate=assoc is not None,
                needs_id=ac_id is None,
                account_named=x.email in named,
            )
        )
        out.append(link)
        p.count(h.entity, "created" if x.is_new else "updated")
    await p.sink.save_import(batch)
    return out
