"""Dynamics contacts and leads → ActiveCampaign contacts (one AC contact per email): the plan.

A page of in-scope records becomes a plan: ``create`` (a person new to AC), ``link`` (new here, but
the other table's record already has the AC contact), ``update`` (only the fields that changed on
the Dynamics side since the last synced values, so an AC edit to another field survives), ``move``
(a linked record whose new email belongs to another AC contact), and record errors (two records of
one email: the oldest keeps it). ``people_write`` carries it out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sync_core.engine import consent, deletes, people_write
from sync_core.engine.handler import Record, select_for
from sync_core.engine.link_index import PEOPLE, LinkIndex
from sync_core.engine.mapping import changed_columns, dynamics_values, own_write
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.people_rows import ACCOUNT_COLUMN, EMAIL, EmailMove, Planned, accounts_on
from sync_core.engine.qualification import LEAD_STATE, ORIGIN, qualified_lead
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.state import EntityName


class PeopleHandler:
    def __init__(self, p: Pass, entity: EntityName) -> None:
        self.entity = entity
        self.fields = p.connection.entities.of(entity).fields_for("push")
        self.open_errors: set[str] = set()

    async def prepare(self, p: Pass) -> list[str]:
        opt_outs = await consent.readable_columns(p, self.entity)
        return select_for(p, self.entity, self.fields, ORIGIN if self.entity == "contact" else LEAD_STATE, *opt_outs)

    async def plan(self, p: Pass, records: Sequence[Record], *, full_read: bool) -> Plan:
        entity = self.entity
        plan = Plan(entity, writer=people_write.PeopleWriter(entity, self.fields, self.open_errors))
        ids = [str(r[PRIMARY_ID[entity]]) for r in records]
        if full_read:
            index = await link_index(p)
            ids = [i for i in ids if i in index.ids.get(entity, ())]
        links = await p.store.get_links(p.cid, entity, ids) if ids else {}
        planned: list[Planned] = []
        for r in records:
            did = str(r[PRIMARY_ID[entity]])
            if entity == "lead" and qualified_lead(r) and did not in links:
                p.count(entity, "skipped_qualified")  # it syncs as the contact it became (qualification.py)
                continue
            values = dynamics_values(r, self.fields)
            if not values.get(EMAIL):
                p.count(entity, "skipped_no_email")
                continue
            link = links.get(did)
            if link is None and await deletes.suppressed(p, str(values[EMAIL]), entity, did):
                p.count(entity, "skipped_suppressed")  # erased, or deleted in AC: not pushed back
                continue
            changed = changed_columns(values, link.dynamics_values if link else None)
            out_now = consent.opted_out_in_dynamics(p, r)
            decision = consent.decide(p, link, out_now)
            if link is not None and not changed and consent.pending(p, link, out_now, decision):
                planned.append(Planned(r, did, values, link, [], opt_out=out_now, consent=decision))
                continue
            if link is not None and not changed:
                p.count(entity, "skipped_echo" if own_write(r, link) else "unchanged")
                if did in self.open_errors:
                    plan.cleared.append(did)
                    self.open_errors.discard(did)
                continue
            planned.append(Planned(r, did, values, link, changed, opt_out=out_now, consent=decision))
        planned = await _resolve_identity(p, entity, planned, plan)
        await _resolve_accounts(p, self.fields, planned)
        for item in planned:
            if item.link is not None and EMAIL in item.changed:
                item.move = await email_move(p, entity, item)
                if item.move.action == "duplicate":
                    plan.failures.append(_duplicate_move(entity, item))
                    continue
            plan.actions.append(Action(item.kind, item.dynamics_id, item.email, item=item))
        return plan


async def link_index(p: Pass) -> LinkIndex:
    """The people tables' links, scanned once per pass (see :class:`LinkIndex`), and those written on request
    since (one query a page: ``store/requested.py``), so a record synced on request is not pushed again."""
    if p.caches.links is None:
        index = LinkIndex()
        for entity in PEOPLE:
            async for link in p.store.iter_links(p.cid, entity):  # type: ignore[arg-type]
                index.add(link.entity, link.dynamics_id, link.email, link.ac_id)
        p.caches.links = index
    await p.caches.links.learn_requested(p.store, p.cid)
    return p.caches.links


async def _resolve_accounts(p: Pass, fields: Sequence[FieldMapping], plans: list[Planned]) -> None:
    if not accounts_on(p, fields):
        return
    guids = {str(x.values[ACCOUNT_COLUMN]) for x in plans if x.values.get(ACCOUNT_COLUMN)}
    if not guids:
        return
    # The customer lookup may point at a contact: only linked accounts count.
    links = await p.store.get_links(p.cid, "account", sorted(guids))
    for x in plans:
        link = links.get(str(x.values.get(ACCOUNT_COLUMN) or ""))
        if link is not None and link.ac_id:
            x.ac_account_id = link.ac_id
            name = link.ac_values.get("name") or link.dynamics_values.get("name")
            x.ac_account_name = str(name) if name else None


async def _resolve_identity(p: Pass, entity: EntityName, plans: list[Planned], plan: Plan) -> list[Planned]:
    """One AC contact per email: duplicates of one table report all but the oldest; leads and
    contacts with one email share the AC contact."""
    by_email: dict[str, list[Planned]] = {}
    for x in plans:
        # A linked record whose email changed competes too: a new record of its new email in the
        # same page would otherwise upsert into the AC contact the change just renamed.
        if x.is_new or EMAIL in x.changed:
            by_email.setdefault(x.email.lower(), []).append(x)
    drop: set[str] = set()
    for group in by_email.values():
        group.sort(key=lambda x: (str(x.record.get("createdon") or ""), x.dynamics_id))
        for loser in group[1:]:
            drop.add(loser.dynamics_id)
            plan.failures.append(
                Failure(
                    entity,
                    loser.dynamics_id,
                    ErrorCode.DUPLICATE_EMAIL,
                    retriable=False,
                    cause=f"another {entity} has the email {loser.email} "
                    f"({group[0].dynamics_id}); only the oldest is linked",
                )
            )
    sem = asyncio.Semaphore(16)

    async def existing(x: Planned) -> None:
        async with sem:
            found = await linked_with_email(p, x.email)
        for other_entity, other_id, other_ac in found:
            if other_entity == entity and other_id != x.dynamics_id:
                drop.add(x.dynamics_id)
                plan.failures.append(
                    Failure(
                        entity,
                        x.dynamics_id,
                        ErrorCode.DUPLICATE_EMAIL,
                        retriable=False,
                        cause=f"another {entity} ({other_id}) already syncs the email {x.email}",
                    )
                )
                return
            if other_entity != entity and other_ac:
                x.shared_ac_id = other_ac

    await asyncio.gather(*(existing(x) for x in plans if x.is_new))
    return [x for x in plans if x.dynamics_id not in drop]


async def linked_with_email(p: Pass, email: str) -> list[tuple[str, str, str | None]]:
    """(entity, Dynamics id, AC id) of the people records linked under ``email``."""
    if p.caches.links is not None:
        return list(p.caches.links.by_email.get(email.lower(), []))
    rows = await p.store.find_links_by_email(p.cid, email)
    return [(o.entity, o.dynamics_id, o.ac_id) for o in rows]


async def email_move(p: Pass, entity: EntityName, x: Planned) -> EmailMove:
    """An email change keeps one AC contact per email and never makes a second one for a record.

    Usually the linked AC contact takes the new email. Not when another record of the table
    already syncs that email (reported, as for a new record; the link stays as it was), and not
    when the AC contact is shared with the other table's record of the old email, or the other
    table already has an AC contact for the new one: then the record moves, with all its values,
    to the AC contact of its new email, and the other record keeps its own.
    """
    assert x.link is not None
    holders = [h for h in await linked_with_email(p, x.email) if h[1] != x.dynamics_id]
    twin = next((h for h in holders if h[0] == entity), None)
    if twin is not None:
        return EmailMove("duplicate", twin=twin[1])
    joined = next((h[2] for h in holders if h[2]), None)
    old_email = x.link.email or ""
    shared_old = (
        bool(old_email)
        and x.link.ac_id is not None
        and any(h[0] != entity and h[2] == x.link.ac_id for h in await linked_with_email(p, old_email))
    )
    return EmailMove("move" if joined is not None or shared_old else "update", joined_ac_id=joined)


def _duplicate_move(entity: EntityName, x: Planned) -> Failure:
    assert x.link is not None and x.move is not None
    return Failure(
        entity,
        x.dynamics_id,
        ErrorCode.DUPLICATE_EMAIL,
        retriable=False,
        sample=("skip", x.email),
        cause=f"the email changed to {x.email}, which another {entity} ({x.move.twin}) already syncs; "
        f"this record stays linked to the AC contact of {x.link.email} until one of the two changes",
    )
