"""A lead qualified into a contact keeps one AC contact: the link moves, the tag changes (DESIGN.md §4)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Harness, HarnessFactory, base_config

LEADS_ON: dict[str, Any] = {"leads": {"enabled": True, "direction": "push"}}


class Killed(BaseException):
    """Stands for the process dying at a checkpoint."""


async def _qualify(h: Harness, lead_id: str) -> str:
    r = await h.dv_request("POST", f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead", json={
        "CreateAccount": False, "CreateContact": True, "CreateOpportunity": False, "Status": 3})
    assert r.status_code == 200, r.text
    (created,) = [x for x in r.json()["value"] if "contactid" in x]
    return str(created["contactid"])


def _tag_names(h: Harness, ac_id: str) -> set[str]:
    names = {str(tid): str(t.get("tag") if isinstance(t, dict) else t.tag) for tid, t in h.ac.tags.items()}
    out = set()
    for ct in h.ac.contact_tags.values():
        contact = ct.get("contact") if isinstance(ct, dict) else ct.contact
        tag = ct.get("tag") if isinstance(ct, dict) else ct.tag
        if str(contact) == ac_id:
            out.add(names[str(tag)])
    return out


async def _open_lead_of_its_own(h: Harness) -> Any:
    """A synced, open lead whose email no contact has."""
    contacts = {x.email for x in await h.links("contact")}
    for link in sorted(await h.links("lead"), key=lambda x: x.dynamics_id):
        if link.email not in contacts and h.dv.rows["lead"][link.dynamics_id].get("statecode") == 0:
            return link
    raise AssertionError("the seed has open leads of their own")


async def test_a_qualified_lead_hands_its_ac_contact_to_the_new_contact(harness: HarnessFactory) -> None:
    # Pinned to inactive_update=allow: the test edits the qualified (inactive) lead, which the refuse
    # reading forbids (400 0x80040230) — there it cannot change, so nothing is left to test.
    h = await harness(seed_contacts=40, config=base_config(**LEADS_ON), dv_switches={"inactive_update": "allow"})
    await h.until_idle()
    lead = await _open_lead_of_its_own(h)
    assert "D365: Lead" in _tag_names(h, str(lead.ac_id))
    ac_count = len(h.ac.contacts)
    contact_id = await _qualify(h, lead.dynamics_id)
    result = (await h.until_idle())[0]
    assert result.run is not None and result.run.counts["contact"].get("took_over_lead") == 1
    link = await h.store.get_link(h.cid, "contact", contact_id)
    assert link is not None and link.ac_id == lead.ac_id
    assert await h.store.get_link(h.cid, "lead", lead.dynamics_id) is None
    assert len(h.ac.contacts) == ac_count, "the person is still one AC contact"
    tags = _tag_names(h, str(lead.ac_id))
    assert "D365: Contact" in tags and "D365: Lead" not in tags and "D365: Pushed from Dynamics" in tags
    assert await h.store.list_errors(h.cid) == []
    # The qualified lead does not come back, even when it changes.
    await h.dv_patch("leads", lead.dynamics_id, {"firstname": "StillLead"})
    later = await h.run()
    assert later.run is not None and later.run.counts["lead"].get("skipped_qualified") == 1
    assert await h.store.get_link(h.cid, "lead", lead.dynamics_id) is None
    assert "D365: Lead" not in _tag_names(h, str(lead.ac_id))


async def test_a_qualified_lead_whose_contact_got_another_email_stays_one_ac_contact(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=40, config=base_config(**LEADS_ON))
    await h.until_idle()
    lead = await _open_lead_of_its_own(h)
    ac_count = len(h.ac.contacts)
    contact_id = await _qualify(h, lead.dynamics_id)
    await h.dv_patch("contacts", contact_id, {"emailaddress1": "customer.now@example.com", "telephone1": "+44 1"})
    await h.until_idle()
    assert len(h.ac.contacts) == ac_count
    contact = h.ac_by_email()["customer.now@example.com"]
    assert str(contact.id) == lead.ac_id and contact.phone == "+44 1"
    assert (lead.email or "") not in h.ac_by_email()


async def test_leads_qualified_before_the_first_sync_sync_as_their_contacts(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=10, config=base_config(**LEADS_ON))
    lead_id = next(lid for lid, r in sorted(h.dv.rows["lead"].items())
                   if r.get("statecode") == 0 and "@prospects." in str(r.get("emailaddress1")))
    email = str(h.dv.rows["lead"][lead_id]["emailaddress1"]).lower()
    contact_id = await _qualify(h, lead_id)
    result = (await h.until_idle())[0]
    assert result.run is not None and result.run.counts["lead"].get("skipped_qualified") == 1
    assert await h.store.get_link(h.cid, "lead", lead_id) is None
    link = await h.store.get_link(h.cid, "contact", contact_id)
    assert link is not None and str(h.ac_by_email()[email].id) == link.ac_id
    assert _tag_names(h, str(link.ac_id)) >= {"D365: Contact"}
    assert "D365: Lead" not in _tag_names(h, str(link.ac_id))


async def test_a_dry_run_shows_the_take_over_and_changes_nothing(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=40, config=base_config(**LEADS_ON))
    await h.until_idle()
    lead = await _open_lead_of_its_own(h)
    contact_id = await _qualify(h, lead.dynamics_id)
    tags_before = _tag_names(h, str(lead.ac_id))
    preview = await h.run(dry_run=True)
    assert preview.run is not None and preview.run.counts["contact"].get("would_take_over_lead") == 1
    assert ("take_over_lead", contact_id) in {(s["action"], s["id"]) for s in preview.samples["contact"]}
    assert await h.store.get_link(h.cid, "lead", lead.dynamics_id) is not None
    assert await h.store.get_link(h.cid, "contact", contact_id) is None
    assert _tag_names(h, str(lead.ac_id)) == tags_before


@pytest.mark.parametrize("kill_at", ["after_lead_taken_over", "after_cursor_saved"])
async def test_a_pass_killed_during_the_take_over_resumes_cleanly(harness: HarnessFactory, kill_at: str) -> None:
    async def die(name: str, info: dict[str, Any]) -> None:
        if name == kill_at:
            raise Killed(name)

    h = await harness(seed_contacts=40, config=base_config(**LEADS_ON))
    await h.until_idle()
    lead = await _open_lead_of_its_own(h)
    ac_count = len(h.ac.contacts)
    contact_id = await _qualify(h, lead.dynamics_id)
    with pytest.raises(Killed):
        await h.engine(checkpoint=die).run_pass(h.cid)
    h.clock.advance(3600)
    await h.until_idle()
    link = await h.store.get_link(h.cid, "contact", contact_id)
    assert link is not None and link.ac_id == lead.ac_id
    assert await h.store.get_link(h.cid, "lead", lead.dynamics_id) is None
    assert len(h.ac.contacts) == ac_count
    assert "D365: Lead" not in _tag_names(h, str(lead.ac_id))
    assert await h.store.list_errors(h.cid) == []
