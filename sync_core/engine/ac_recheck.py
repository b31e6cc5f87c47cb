"""Linked AC contacts edited while the pass ran are left for the next pass, not written over.

The pull reads AC before the push writes it, and AC has no conditional write (no etag, no
If-Match). So a person's edit made after that read and before the push writes the same contact
would be overwritten with no conflict logged. Just before a page's writes, one list call per 100
linked contacts (``ids[]`` with ``filters[updated_after]`` at the pass's start, AC's zone and
granularity covered as the change read does) finds the contacts AC changed since. A contact is
held back when its ``udate`` is newer than the pass's start and not the one the link knows (the
sync's own writes and the pull's reads set it), and a field the push would write there flows both
ways and holds, on AC, a value other than the one last synced (a custom field, which the list does
not carry, counts as changed). It is recorded as ``changed_in_activecampaign`` (retried); the next
pass's pull reads the edit and settles both sides by the field's conflict rule, with its log row.
An edit of the account association (job title) in that window is not seen: it is not on the contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sync_core.engine.ac_reader import updated_after_value
from sync_core.engine.ac_values import contact_ac_values, same_ac
from sync_core.engine.mapping import parse_ac_time
from sync_core.engine.pass_state import Pass
from sync_core.engine.people_rows import Planned
from sync_core.engine.sink import Failure
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.state import EntityName

IDS_PER_CALL = 100
"""AC's page limit: one call answers for up to this many contacts."""
CLOCK_SKEW = timedelta(seconds=2)
"""AC's clock against ours: a ``udate`` this close before the pass's start still counts as during it."""
ASSOCIATION_KEYS = ("account", "accountContact.jobTitle")


def _two_way_written(p: Pass, entity: EntityName, fields: Sequence[FieldMapping], x: Planned) -> list[FieldMapping]:
    """The fields this write would set on AC that AC may also change (they flow both ways)."""
    mapping = p.connection.entities.of(entity)
    changed = set(x.changed)
    return [f for f in fields if f.dynamics in changed and f.activecampaign not in ASSOCIATION_KEYS
            and all(mapping.flows(f))]


def _edited(contact: dict[str, Any], x: Planned, fields: list[FieldMapping], p: Pass) -> bool:
    udate = parse_ac_time(contact.get("udate"))
    started = p.run.started_at
    assert x.link is not None
    if udate is None or started is None or udate < started - CLOCK_SKEW or udate == x.link.ac_modified:
        return False
    listed = contact_ac_values(contact, None, fields)
    if any(f.activecampaign not in listed for f in fields):
        return True  # a custom field: its value is not on the list, so it may have changed
    return any(not same_ac(k, v, x.link.ac_values.get(k)) for k, v in listed.items())


async def hold_back_edited(p: Pass, entity: EntityName, fields: Sequence[FieldMapping],
                           plans: Sequence[Planned]) -> list[Planned]:
    """``plans`` without the linked contacts AC changed since this pass began; those are recorded."""
    at_risk = {x.link.ac_id: (x, two_way) for x in plans
               if x.link is not None and x.link.ac_id is not None and x.move is None
               and (two_way := _two_way_written(p, entity, fields, x))}
    if not at_risk or p.run.started_at is None:
        return list(plans)
    cursor = await p.store.get_ac_cursor(p.cid, "contact")
    since = updated_after_value(p.run.started_at, cursor.tz_offset_minutes if cursor else None)
    held: set[str] = set()
    ids = sorted(at_risk)
    for start in range(0, len(ids), IDS_PER_CALL):
        chunk = ids[start:start + IDS_PER_CALL]
        async for contact in p.ac.iter_contacts(updated_after=since, ids=chunk, page_size=IDS_PER_CALL):
            entry = at_risk.get(str(contact.get("id")))
            if entry is not None and _edited(contact, entry[0], entry[1], p):
                held.add(entry[0].dynamics_id)
    for x in plans:
        if x.dynamics_id in held:
            await p.sink.fail(Failure(
                entity, x.dynamics_id, ErrorCode.CHANGED_IN_ACTIVECAMPAIGN,
                "the ActiveCampaign contact changed while this pass ran; the next pass reconciles both sides",
                counted_as="held_back"))
    return [x for x in plans if x.dynamics_id not in held]
