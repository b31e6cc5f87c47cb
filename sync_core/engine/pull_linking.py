"""A pull-only entity's first read: existing records linked by email (accounts: by name), writing nothing.

The AC contacts (accounts) are read in AC's order (100 a call, at most :data:`PAGES_PER_PASS` pages a
pass, resumed from the cursor); for each page the Dynamics records of those emails (names) are read —
case-insensitively, as Dataverse compares — the oldest of several is linked and the others are reported
(``duplicate_email`` / ``duplicate_name``). A link starts from both sides' values as they are: from then
on AC's changes travel to Dynamics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.dynamics import quote_string
from sync_core.engine.ac_changes import pulled_fields
from sync_core.engine.ac_values import account_ac_values, contact_ac_values
from sync_core.engine.mapping import dynamics_values, parse_ac_time, select_columns
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.state import AcCursor, EntityName, RecordLink

STREAM = "link"
KEY: dict[EntityName, tuple[str, str]] = {"contact": ("emailaddress1", "email"), "lead": ("emailaddress1", "email"),
                                          "account": ("name", "name")}
"""The Dynamics column and the AC field a record is matched by."""
PAGES_PER_PASS = 50
EMAILS_PER_QUERY = 25


async def link_by_email(p: Pass, entity: EntityName) -> None:
    cursor = await p.store.get_ac_cursor(p.cid, entity, stream=STREAM) or AcCursor(
        entity=entity, stream=STREAM, phase="initial", started_at=p.clock.now())
    if cursor.phase == "delta":
        return  # linked once; later AC contacts are people AC creates, not Dynamics records to find
    fields = pulled_fields(p, entity)
    select = select_columns(fields, [PRIMARY_ID[entity], "createdon", KEY[entity][0]])
    page: list[dict[str, Any]] = []
    pages = 0
    source = p.ac.iter_accounts(offset=cursor.done) if entity == "account" else p.ac.iter_contacts(
        after_id=cursor.position)
    async for contact in source:
        page.append(contact)
        if len(page) == 100:
            await _link_page(p, entity, page, select)
            cursor.position, cursor.done, page = str(page[-1]["id"]), cursor.done + len(page), []
            cursor = await p.sink.save_cursor(cursor)
            pages += 1
            if pages >= PAGES_PER_PASS or p.time.out():
                p.time.more_work = True
                return
    if page:
        await _link_page(p, entity, page, select)
        cursor.position, cursor.done = str(page[-1]["id"]), cursor.done + len(page)
    cursor.phase, cursor.finished_at = "delta", p.clock.now()
    await p.sink.save_cursor(cursor)


async def records_by_key(p: Pass, entity: EntityName, values: Sequence[str], select: list[str]
                         ) -> list[Mapping[str, Any]]:
    """The records whose match column (:data:`KEY`) is one of ``values`` (Dataverse compares ignoring case),
    oldest first within each query: :data:`EMAILS_PER_QUERY` values an ``or`` filter, so the URL stays short."""
    column = KEY[entity][0]
    records: list[Mapping[str, Any]] = []
    for start in range(0, len(values), EMAILS_PER_QUERY):
        flt = " or ".join(f"{column} eq {quote_string(v)}" for v in values[start:start + EMAILS_PER_QUERY])
        async for rows in p.dv.query(ENTITY_SET[entity], select=select, filter=flt, orderby="createdon asc"):
            records.extend(rows.records)
    return records


async def _link_page(p: Pass, entity: EntityName, contacts: Sequence[Mapping[str, Any]], select: list[str]) -> None:
    column, ac_key = KEY[entity]
    by_email = {str(c.get(ac_key) or "").strip().lower(): c for c in contacts if c.get(ac_key)}
    records = await records_by_key(p, entity, sorted(by_email), select)
    linked = await p.store.get_links(p.cid, entity, [str(r[PRIMARY_ID[entity]]) for r in records])
    plan = Plan(entity, writer=_Linker())
    taken: set[str] = set()
    fields = pulled_fields(p, entity)
    for r in records:
        did, email = str(r[PRIMARY_ID[entity]]), str(r.get(column) or "").strip().lower()
        contact = by_email.get(email)
        if contact is None or did in linked:
            continue
        if email in taken:
            code = ErrorCode.DUPLICATE_NAME if entity == "account" else ErrorCode.DUPLICATE_EMAIL
            plan.failures.append(Failure(entity, did, code, retriable=False,
                                         cause=f"another {entity} has the {ac_key} {email}; only the oldest is linked"))
            continue
        taken.add(email)
        ac_values = account_ac_values(contact, None, fields) if entity == "account" else contact_ac_values(
            contact, None, fields)
        stamp = contact.get("updatedTimestamp") if entity == "account" else contact.get("udate")
        link = RecordLink(entity=entity, dynamics_id=did, ac_id=str(contact["id"]),
                          email=None if entity == "account" else email, dynamics_values=dynamics_values(r, fields),
                          ac_values=ac_values, ac_modified=parse_ac_time(stamp), synced_at=p.clock.now(),
                          dynamics_etag=str(r.get("@odata.etag") or "") or None)
        plan.actions.append(Action("link", did, email, item=link))
    await p.sink.apply(p, plan)


class _Linker:
    async def write(self, p: Pass, plan: Plan) -> None:
        p.count(plan.entity, "linked_by_email", len(plan.actions))
        await p.sink.save_links([a.item for a in plan.actions])
