"""A lead qualified into a contact keeps one AC contact (DESIGN.md §4).

Qualifying a lead in Dynamics creates a contact (``originatingleadid`` → the lead) and closes the
lead as qualified. The lead's link moves to the new contact, so the person stays one AC contact
even when the email was changed on the way, and the AC contact's ``D365: Lead`` tag becomes
``D365: Contact``. A qualified lead that has no link does not start syncing: its person syncs as
the contact it became.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sync_core.engine import history
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Plan
from sync_core.model.state import RecordLink

ORIGIN = "_originatingleadid_value"
"""Read with every contact: the lead it was qualified from."""
LEAD_STATE = "statecode"
"""Read with every lead."""
QUALIFIED = 1


def qualified_lead(record: Mapping[str, Any]) -> bool:
    return record.get(LEAD_STATE) == QUALIFIED


async def take_over_leads(p: Pass, records: Sequence[Mapping[str, Any]]) -> None:
    """Give the contacts of this page that were qualified from a linked lead that lead's AC contact.

    Runs before the page is planned, on records already in scope and not merged away: the contact
    then counts as linked, and only what differs from the lead's last synced values is sent.
    """
    id_col = PRIMARY_ID["contact"]
    origins = {str(r[id_col]): str(r[ORIGIN]) for r in records if r.get(ORIGIN) and r.get("emailaddress1")}
    if not origins:
        return
    lead_links = await p.store.get_links(p.cid, "lead", sorted(set(origins.values())))
    if not lead_links:
        return
    contact_links = await p.store.get_links(p.cid, "contact", sorted(origins))
    plan = Plan("contact", writer=_TakeOver())
    for contact_id, lead_id in sorted(origins.items()):
        lead_link = lead_links.get(lead_id)
        if lead_link is None or lead_link.ac_id is None:
            continue  # not synced, or its import still pending: the contact syncs by email as any other
        mine = contact_links.get(contact_id)
        if mine is not None and mine.ac_id != lead_link.ac_id:
            continue  # the contact already has an AC contact of its own
        others = [x for x in await p.store.get_links_by_ac(p.cid, "contact", lead_link.ac_id)
                  if x.entity == "contact" and x.dynamics_id != contact_id]
        if others:
            continue  # the person is already another contact: the usual duplicate rule applies
        plan.actions.append(Action("take_over_lead", contact_id, lead_link.email or "", f"qualified from {lead_id}",
                                   item=(lead_link, mine, lead_id)))
    await p.sink.apply(p, plan)


class _TakeOver:
    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            lead_link, mine, lead_id = action.item
            contact_id = action.record_id
            await _retag(p, lead_link.ac_id)
            if mine is None:
                mine = RecordLink(entity="contact", dynamics_id=contact_id, ac_id=lead_link.ac_id,
                                  email=lead_link.email, dynamics_values=dict(lead_link.dynamics_values),
                                  ac_values=dict(lead_link.ac_values), ac_modified=lead_link.ac_modified,
                                  synced_at=p.clock.now(), history=list(lead_link.history))
                history.add(mine, at=p.clock.now(), run_id=p.run.run_id, direction="push", why="qualified",
                            changes={"record": (f"lead {lead_id}", f"contact {contact_id}")})
                await p.sink.save_links([mine])
            await p.checkpoint("after_lead_taken_over", {"contact": contact_id, "lead": lead_id})
            await p.sink.delete_link(lead_link)
            p.count("contact", "took_over_lead")


async def _retag(p: Pass, ac_id: str) -> None:
    """``D365: Lead`` → ``D365: Contact`` on the AC contact (safe to repeat)."""
    push = p.connection.push
    lead_tag = await p.ac.ensure_tag(push.tag_lead)
    contact_tag = await p.ac.ensure_tag(push.tag_contact)
    on = {str(ct.get("tag")): str(ct.get("id")) for ct in await p.ac.list_contact_tags(ac_id)}
    if contact_tag not in on:
        await p.ac.add_contact_tag(ac_id, contact_tag)
    if lead_tag in on:
        await p.ac.remove_contact_tag(on[lead_tag])
