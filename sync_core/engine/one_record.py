"""One lead or contact synced on request, outside any pass (a seller acts on a record not yet in AC).

It neither waits for nor touches a pass's lease: it upserts the one AC contact by email (``contact/sync``,
so the one-AC-contact-per-email rule holds whoever gets there first), then writes the link with a
conditional insert. When a pass wrote the record's link meanwhile, the insert is refused and that link is
adopted; a pass that reaches the record afterwards finds the link — a whole-table read, which plans from the
link index it scanned at its start, learns it from the row the insert writes beside it (``store/requested.py``),
so the record is not pushed again — or, having planned the record's page before the link existed, upserts the
same AC contact by the same email and replaces the link with its own: one contact, one link.
The record is synced with its entity's mapping whatever the entity's criteria say — a person chose it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import Clock
from sync_core.dynamics import DataverseClient, parse_filter
from sync_core.engine import history
from sync_core.engine.handler import criteria_columns
from sync_core.engine.mapping import ac_values_for, contact_payload, dynamics_values, parse_ac_time, select_columns
from sync_core.engine.pass_state import PRIMARY_ID
from sync_core.model.config import ConnectionConfig, FieldMapping
from sync_core.model.state import EntityName, RecordLink
from sync_core.store import SyncStore

EMAIL = "emailaddress1"
ON_REQUEST_RUN = "on-request"
ENTITY_SET: dict[EntityName, str] = {"lead": "leads", "contact": "contacts"}


@dataclass
class PersonRecord:
    """A lead or contact as the sync sees it."""

    entity: EntityName
    dynamics_id: str
    row: dict[str, Any]
    values: dict[str, Any]
    in_scope: bool

    @property
    def email(self) -> str | None:
        v = self.values.get(EMAIL)
        return str(v) if v else None


class NoEmail(Exception):
    """The record has no email address, so it has no AC contact."""


def push_fields(config: ConnectionConfig, entity: EntityName) -> list[FieldMapping]:
    """The fields a Dynamics value travels in to AC, whether or not the entity is enabled."""
    mapping = config.entities.of(entity)
    return [f for f in mapping.fields() if f.direction in ("both", "push")]


async def read_person(dv: DataverseClient, config: ConnectionConfig, entity: EntityName,
                      dynamics_id: str) -> PersonRecord | None:
    """The record with its mapped values (read with the app's identity: the caller's access was checked)."""
    mapping = config.entities.of(entity)
    fields = push_fields(config, entity)
    select = select_columns(fields, [PRIMARY_ID[entity], "modifiedon", EMAIL, *criteria_columns(mapping)])
    row = await dv.get(ENTITY_SET[entity], dynamics_id, select=select)
    if row is None:
        return None
    custom = parse_filter(mapping.custom_filter).matches if mapping.scope == "custom" and mapping.custom_filter \
        else None
    in_scope = mapping.enabled and mapping.pushes and mapping.in_scope(row, custom=custom)
    return PersonRecord(entity, dynamics_id, row, dynamics_values(row, fields), in_scope)


TagId = Callable[[ActiveCampaignClient, str], Awaitable[str]]


async def sync_person(ac: ActiveCampaignClient, store: SyncStore, config: ConnectionConfig, person: PersonRecord,
                      *, clock: Clock, tag_id: TagId | None = None) -> tuple[RecordLink, bool]:
    """The record's link with its AC contact, syncing it first if it has none; ``True``: synced now."""
    cid = config.connection_id
    link = await store.get_link(cid, person.entity, person.dynamics_id)
    if link is not None and link.ac_id:
        return link, False
    if not person.email:
        raise NoEmail(f"the {person.entity} has no email address")
    shared = [lk for lk in await store.find_links_by_email(cid, person.email) if lk.ac_id]
    fields = push_fields(config, person.entity)
    sent = ac_values_for(fields, person.values, {c for c, v in person.values.items() if v is not None} | {EMAIL})
    contact = await ac.sync_contact(contact_payload(sent))
    ac_id = str(contact["id"])
    await _tag_and_subscribe(ac, config, person.entity, ac_id, new_person=not shared,
                             tag_id=tag_id or (lambda client, name: client.ensure_tag(name)))
    new = _link_for(person, ac_id, sent, contact, clock)
    if await store.insert_link(cid, new):
        return new, True
    adopted = await store.get_link(cid, person.entity, person.dynamics_id)
    return (adopted if adopted is not None and adopted.ac_id else new), True


def _link_for(person: PersonRecord, ac_id: str, sent: Mapping[str, Any], contact: Mapping[str, Any],
              clock: Clock) -> RecordLink:
    etag = person.row.get("@odata.etag")
    modified = person.row.get("modifiedon")
    link = RecordLink(entity=person.entity, dynamics_id=person.dynamics_id, ac_id=ac_id, email=person.email,
                      dynamics_values=dict(person.values), ac_values=dict(sent),
                      dynamics_modified=parse_ac_time(modified) if isinstance(modified, str) else None,
                      ac_modified=parse_ac_time(contact.get("udate")), synced_at=clock.now(),
                      dynamics_etag=str(etag) if etag else None)
    history.pushed(link, {}, at=clock.now(), run_id=ON_REQUEST_RUN, why="synced on request")
    return link


async def _tag_and_subscribe(ac: ActiveCampaignClient, config: ConnectionConfig, entity: EntityName, ac_id: str,
                             *, new_person: bool, tag_id: TagId) -> None:
    """What a pass gives a contact it creates (the entity's tag only, when another record shares it)."""
    push = config.push
    tags = [push.tag_lead if entity == "lead" else push.tag_contact]
    if new_person:
        tags.append(push.tag_pushed)
    for name in tags:
        await ac.add_contact_tag(ac_id, await tag_id(ac, name))
    if new_person:
        for list_id in push.list_ids:
            await ac.set_contact_list_status(ac_id, str(list_id), 1 if push.subscribe else 2)
