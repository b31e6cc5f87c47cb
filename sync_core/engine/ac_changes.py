"""The ActiveCampaign changes a pass pulls into Dynamics: contacts updated since the cursor, linked ones only.

Read with ``filters[updated_after]`` from the watermark minus the overlap window (the zone and the
granularity AC reads it in are register entries: ``ac_reader.updated_after_value`` sends a value right
under every reading), in id order (``id_greater``), de-duplicated at the boundary by ``id@udate``, at most
:data:`MAX_CHANGES` a pass. A contact whose ``udate`` is the one the sync recorded after its own write is
an echo and costs nothing more. The list carries no custom-field values: they cost a read, the cheapest of
``include=fieldValues`` (when AC honours it: register ``contacts_list_include``), one read per changed
contact, or one scan per mapped field — whichever is fewest calls. The cursor moves only in
:func:`commit`, after the changes were written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync_core.activecampaign import ContactPage
from sync_core.engine.ac_reader import BOUNDARY_KEYS_MAX, learn_offset, updated_after_value
from sync_core.engine.ac_values import contact_ac_values, same_ac
from sync_core.engine.associations import LIST_ALL_THRESHOLD, preload_account_contacts
from sync_core.engine.mapping import ASSOCIATION_KEYS, parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.model.config import FieldMapping
from sync_core.model.state import AcCursor, EntityName, RecordLink

STREAM = "changes"
MAX_CHANGES = 20_000
"""Changed contacts one pass reads (and pulls); the rest wait for the continuation."""
FIELD_SCAN_PAGE = 100
POINT_LOOKUP_MAX = 200
"""Up to this many changed contacts find their links one by one; more scan the links once."""


@dataclass(slots=True)
class AcChange:
    link: RecordLink
    ac_values: dict[str, Any]
    udate: datetime | None
    person_contact: str | None = None
    """A lead's change only: the Dynamics contact linked to the same AC contact (the lead qualified into it,
    or the same person). An inactive lead is not pulled into while that contact is active (``pull``)."""


@dataclass
class Inbound:
    """What the AC read found for this pass, by entity, and where the read stands."""

    changes: dict[EntityName, list[AcChange]] = field(default_factory=dict)
    cursor: AcCursor | None = None
    finished: bool = False
    high: datetime | None = None
    high_keys: list[str] = field(default_factory=list)
    last_id: str | None = None


def pulled_fields(p: Pass, entity: EntityName) -> list[FieldMapping]:
    """The fields that travel AC → Dynamics; a contact's account and job title only while accounts sync
    (AC keeps them on the account association, which exists only then)."""
    fields = p.connection.entities.of(entity).fields_for("pull")
    accounts = p.connection.entities.of("account")
    if not (accounts.enabled and "account" not in p.outcome.unavailable):
        fields = [f for f in fields if f.activecampaign not in ASSOCIATION_KEYS]
    return fields


def _own_write(contact: dict[str, Any], values: dict[str, Any] | None, link: RecordLink,
               fields: list[FieldMapping]) -> bool:
    """The sync's own write: ``udate`` is the one recorded after it and every value the list carries is as
    synced. AC keeps ``udate`` in whole seconds, so a person's edit in the same second as the sync's write
    has the same ``udate``; the values tell it apart. Custom fields are compared when the page side-loaded
    their ``values`` (free); otherwise telling them apart would cost a read per echo, so a custom-field-only
    edit in that second is taken for the echo and travels with the contact's next change (README, limits)."""
    if link.ac_modified is None or link.ac_modified != parse_ac_time(contact.get("udate")):
        return False
    listed = contact_ac_values(contact, values, fields)
    return all(same_ac(k, v, link.ac_values.get(k)) for k, v in listed.items() if k in link.ac_values)


async def read(p: Pass) -> Inbound:
    inbound = Inbound()
    people: tuple[EntityName, ...] = ("contact", "lead")
    entities = [e for e in people if p.connection.entities.of(e).pulls]
    if not entities:
        return inbound
    cursor = await p.store.get_ac_cursor(p.cid, "contact", stream=STREAM) or AcCursor(
        entity="contact", stream=STREAM, phase="delta", watermark=p.run.started_at)
    if cursor.tz_offset_minutes is None:  # the completion read may have learnt the account's zone already
        other = await p.store.get_ac_cursor(p.cid, "contact")
        cursor.tz_offset_minutes = other.tz_offset_minutes if other is not None else None
    inbound.cursor = cursor
    fields = {e: pulled_fields(p, e) for e in entities}
    custom = any(f.activecampaign.startswith("field:") for fs in fields.values() for f in fs)
    assert cursor.watermark is not None
    since = updated_after_value(cursor.watermark, cursor.tz_offset_minutes)
    seen = set(cursor.boundary_keys)
    contacts: dict[str, dict[str, Any]] = {}
    field_values: dict[str, dict[str, Any]] | None = {} if custom else None
    inbound.finished = True
    async for page in p.ac.contact_pages(updated_after=since, after_id=cursor.position, include_field_values=custom):
        _take(inbound, page, seen, contacts)
        for c in page.contacts:
            learn_offset(cursor, c)
        if field_values is not None:
            field_values = _side_loaded(page, field_values)
        if len(contacts) >= MAX_CHANGES or p.time.out():
            inbound.finished = False
            break
    links = await _links_of(p, list(contacts))
    echo = [cid for cid, c in contacts.items()
            if all(_own_write(c, (field_values or {}).get(cid), lk, fields.get(lk.entity, []))
                   for lk in links.get(cid, []))]
    for cid in echo:
        if cid in links:
            p.count(links[cid][0].entity, "skipped_echo")
        contacts.pop(cid)
    changed = [cid for cid in contacts if cid in links]
    if custom and field_values is None:
        field_values = await _field_values(p, changed, fields)
    wants_account = any(f.activecampaign in ASSOCIATION_KEYS for fs in fields.values() for f in fs)
    associations = await _associations(p, changed) if wants_account else {}
    for cid in changed:
        c = contacts[cid]
        person = next((lk.dynamics_id for lk in links[cid] if lk.entity == "contact"), None)
        for link in links[cid]:
            if link.entity not in fields:
                continue
            values = contact_ac_values(c, (field_values or {}).get(cid) if custom else None,
                                       fields[link.entity])
            if wants_account:
                account_id, title = associations.get(cid, (None, None))
                values.update({k: v for k, v in (("account", account_id), ("accountContact.jobTitle", title))
                               if any(f.activecampaign == k for f in fields[link.entity])})
            inbound.changes.setdefault(link.entity, []).append(AcChange(
                link, values, parse_ac_time(c.get("udate")), person if link.entity == "lead" else None))
            p.count(link.entity, "ac_changed")
    return inbound


def _take(inbound: Inbound, page: ContactPage, seen: set[str], contacts: dict[str, dict[str, Any]]) -> None:
    for c in page.contacts:
        key = f"{c.get('id')}@{c.get('udate')}"
        inbound.last_id = str(c.get("id"))
        udate = parse_ac_time(c.get("udate"))
        if udate is not None:
            if inbound.high is None or udate > inbound.high:
                inbound.high, inbound.high_keys = udate, [key]
            elif udate == inbound.high:
                inbound.high_keys.append(key)
        if key not in seen:
            contacts[str(c.get("id"))] = c


def _side_loaded(page: ContactPage, values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]] | None:
    """The page's field values when AC side-loaded them; ``None`` once a page came without."""
    if page.field_values is None:
        return None
    for v in page.field_values:
        values.setdefault(str(v.get("contact")), {})[str(v.get("field"))] = v.get("value")
    return values


async def _links_of(p: Pass, contact_ids: list[str]) -> dict[str, list[RecordLink]]:
    """The people links of these AC contacts: point look-ups for a few, one scan of the links for many."""
    out: dict[str, list[RecordLink]] = {}
    if not contact_ids:
        return out
    if len(contact_ids) <= POINT_LOOKUP_MAX:
        sem = asyncio.Semaphore(16)

        async def one(cid: str) -> None:
            async with sem:
                found = [lk for lk in await p.store.get_links_by_ac(p.cid, "contact", cid)
                         if lk.entity in ("contact", "lead")]
            if found:
                out[cid] = found

        await asyncio.gather(*(one(c) for c in contact_ids))
        return out
    wanted = set(contact_ids)
    people: tuple[EntityName, ...] = ("contact", "lead")
    for entity in people:
        async for link in p.store.iter_links(p.cid, entity):
            if link.ac_id in wanted:
                out.setdefault(link.ac_id, []).append(link)
    return out


async def _associations(p: Pass, contact_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Each changed contact's AC account and job title (its ``accountContacts`` association)."""
    out: dict[str, tuple[str | None, str | None]] = {}
    if len(contact_ids) > LIST_ALL_THRESHOLD:
        await preload_account_contacts(p)
    for cid in contact_ids:
        rows: list[dict[str, Any]]
        if p.caches.account_contacts is not None:
            rows = [p.caches.account_contacts[cid]] if cid in p.caches.account_contacts else []
        else:
            rows = [r async for r in p.ac.iter_account_contacts(contact_id=cid)]
        row = rows[0] if rows else None
        out[cid] = (str(row["account"]) if row and row.get("account") else None,
                    str(row.get("jobTitle") or "") or None if row else None)
    return out


async def _field_values(p: Pass, contact_ids: list[str], fields: dict[Any, list[FieldMapping]]
                        ) -> dict[str, dict[str, Any]]:
    """The mapped custom-field values of these contacts, by the cheaper way: per contact or per field."""
    out: dict[str, dict[str, Any]] = {c: {} for c in contact_ids}
    if not contact_ids:
        return out
    field_ids = sorted({f.activecampaign.split(":", 1)[1] for fs in fields.values() for f in fs
                        if f.activecampaign.startswith("field:")})
    totals = [await p.ac.count_field_values(fid) for fid in field_ids]
    scan_cost = len(field_ids) + sum(-(-(t or 0) // FIELD_SCAN_PAGE) for t in totals)
    if scan_cost < len(contact_ids):
        wanted = set(contact_ids)
        for fid in field_ids:
            async for v in p.ac.iter_field_values(fid):
                if str(v.get("contact")) in wanted:
                    out[str(v.get("contact"))][fid] = v.get("value")
        return out
    sem = asyncio.Semaphore(4)

    async def one(cid: str) -> None:
        async with sem:
            for v in await p.ac.list_contact_field_values(cid):
                out[cid][str(v.get("field"))] = v.get("value")

    await asyncio.gather(*(one(c) for c in contact_ids))
    return out


async def commit(p: Pass, inbound: Inbound) -> None:
    """After the changes were written: the next read starts after them."""
    cursor = inbound.cursor
    if cursor is None:
        return
    if inbound.finished:
        if inbound.high is not None:
            # A watermark never passes the start of the run that produced it.
            watermark = min(inbound.high, p.run.started_at)
            if cursor.watermark is not None and watermark < cursor.watermark:
                watermark = cursor.watermark  # this read began mid-window: never move back
            keys = inbound.high_keys if watermark == inbound.high else []
            if cursor.watermark is not None and watermark == cursor.watermark:
                keys = [*cursor.boundary_keys, *keys]
            # The overlap reads the contacts at the watermark again: each key is kept once.
            cursor.watermark, cursor.boundary_keys = watermark, list(dict.fromkeys(keys))[-BOUNDARY_KEYS_MAX:]
        cursor.position = None
    else:
        cursor.position = inbound.last_id
    cursor.run_started_at = p.run.started_at
    inbound.cursor = await p.sink.save_cursor(cursor)


async def due_retries(p: Pass, entity: EntityName) -> list[AcChange]:
    """Records whose pull failed and is due again: their AC side read once more (by id), as a change."""
    due = [e for e in await p.store.list_errors(p.cid, entity=entity, due_at=p.clock.now())
           if e.side == "dynamics" and e.retriable]
    fields = pulled_fields(p, entity)
    custom = any(f.activecampaign.startswith("field:") for f in fields)
    out: list[AcChange] = []
    for err in due[:POINT_LOOKUP_MAX]:
        link = await p.store.get_link(p.cid, entity, err.record_id)
        if link is None or link.ac_id is None:
            await p.sink.clear(entity, err.record_id, side="dynamics")
            continue
        contact = await p.ac.get_contact(link.ac_id)
        values = None
        if custom:
            values = {str(v.get("field")): v.get("value") for v in await p.ac.list_contact_field_values(link.ac_id)}
        out.append(AcChange(link, contact_ac_values(contact, values, fields), parse_ac_time(contact.get("udate"))))
        p.count(entity, "pull_retried")
    return out
