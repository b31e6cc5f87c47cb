"""A Dynamics email change updates the linked AC contact; it never makes a second one (DESIGN.md §4).

Peers turn an email change into a duplicate (peers.md (b) 2); these scenarios pin the rule down:
alone, among a bulk-sized page of changes, into an email another synced record already has, and
on an AC contact a lead and a contact share.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.engine.conftest import Harness, HarnessFactory, base_config


def _ac_ids(h: Harness) -> dict[str, str]:
    return {email: str(c.id) for email, c in h.ac_by_email().items()}


async def test_an_email_change_updates_the_same_ac_contact(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=20)
    await h.until_idle()
    link = sorted(await h.links(), key=lambda x: x.dynamics_id)[0]
    before = _ac_ids(h)
    old = link.email or ""
    await h.dv_patch("contacts", link.dynamics_id, {"emailaddress1": "Moved.Person@Example.org",
                                                     "firstname": "Moved"})
    result = await h.run()
    assert result.outcome == "finished"
    after = _ac_ids(h)
    assert len(after) == len(before), "no AC contact was added"
    assert old not in after
    assert after["moved.person@example.org"] == before[old] == link.ac_id
    assert h.ac_by_email()["moved.person@example.org"].first_name == "Moved"
    stored = await h.store.get_link(h.cid, "contact", link.dynamics_id)
    assert stored is not None and stored.email == "moved.person@example.org" and stored.ac_id == link.ac_id
    assert [x.dynamics_id for x in await h.store.find_links_by_email(h.cid, "moved.person@example.org")] \
        == [link.dynamics_id]
    assert await h.store.find_links_by_email(h.cid, old) == []
    assert await h.store.list_errors(h.cid) == []
    # Quiet afterwards: the change is not sent again.
    quiet = await h.run()
    assert h.ac_writes(quiet) == 0


async def test_email_changes_among_a_bulk_sized_page_of_changes(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=60)
    await h.until_idle()
    links = sorted(await h.links(), key=lambda x: x.dynamics_id)
    before = _ac_ids(h)
    movers, editors = links[:3], links[3:30]
    for i, link in enumerate(movers):
        await h.dv_patch("contacts", link.dynamics_id, {"emailaddress1": f"mover.{i}@example.net"})
    for link in editors:
        await h.dv_patch("contacts", link.dynamics_id, {"firstname": "Edited"})
    result = await h.run()
    assert result.run is not None and result.run.api_calls["activecampaign"].get("bulk_import", 0) >= 1
    await h.until_idle()
    after = _ac_ids(h)
    assert len(after) == len(before)
    for i, link in enumerate(movers):
        assert after[f"mover.{i}@example.net"] == link.ac_id
        assert (link.email or "") not in after
    ac = h.ac_by_email()
    assert all(ac[link.email or ""].first_name == "Edited" for link in editors)
    assert await h.store.list_errors(h.cid) == []


async def test_an_email_change_into_a_synced_email_is_reported_and_the_page_goes_on(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=20)
    await h.until_idle()
    a, b, c = sorted(await h.links(), key=lambda x: x.dynamics_id)[:3]
    before = _ac_ids(h)
    await h.dv_patch("contacts", a.dynamics_id, {"emailaddress1": (b.email or "").upper()})
    await h.dv_patch("contacts", c.dynamics_id, {"firstname": "StillSynced"})
    await h.until_idle()
    assert _ac_ids(h) == before, "neither AC contact was changed or merged"
    assert h.ac_by_email()[c.email or ""].first_name == "StillSynced"
    errors = await h.store.list_errors(h.cid, entity="contact")
    assert [e.record_id for e in errors] == [a.dynamics_id]
    assert (b.email or "") in errors[0].cause.lower() and errors[0].code == "duplicate_email"
    stored = await h.store.get_link(h.cid, "contact", a.dynamics_id)
    assert stored is not None and stored.ac_id == a.ac_id and stored.email == a.email
    # Put right in Dynamics: the error clears and the AC contact takes the new email.
    await h.dv_patch("contacts", a.dynamics_id, {"emailaddress1": "a.fixed@example.com"})
    h.clock.advance(3600)
    await h.until_idle()
    assert await h.store.list_errors(h.cid, entity="contact") == []
    assert _ac_ids(h)["a.fixed@example.com"] == a.ac_id


async def test_a_contact_leaving_an_email_it_shares_with_a_lead_gets_its_own_ac_contact(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=80, config=base_config(leads={"enabled": True, "direction": "push"}))
    await h.until_idle()
    contacts = {x.email: x for x in await h.links("contact")}
    leads = {x.email: x for x in await h.links("lead")}
    email = sorted(set(contacts) & set(leads))[0] or ""
    contact, lead = contacts[email], leads[email]
    assert contact.ac_id == lead.ac_id
    await h.dv_patch("contacts", contact.dynamics_id, {"emailaddress1": "own.address@example.com"})
    await h.until_idle()
    ac = _ac_ids(h)
    assert ac[email] == lead.ac_id, "the lead keeps the AC contact of its email"
    assert ac["own.address@example.com"] != lead.ac_id
    stored = await h.store.get_link(h.cid, "contact", contact.dynamics_id)
    assert stored is not None and stored.ac_id == ac["own.address@example.com"]
    assert await h.store.list_errors(h.cid) == []


async def test_a_new_record_taking_the_email_another_just_changed_to_is_reported(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=20)
    await h.until_idle()
    a = sorted(await h.links(), key=lambda x: x.dynamics_id)[0]
    h.clock.advance(60)
    await h.dv_patch("contacts", a.dynamics_id, {"emailaddress1": "contested@example.com"})
    newcomer = await h.dv_create("contacts", {"lastname": "Newcomer", "emailaddress1": "Contested@Example.com"})
    await h.until_idle()
    ac = _ac_ids(h)
    assert ac["contested@example.com"] == a.ac_id and (a.email or "") not in ac
    links = await h.links()
    assert len({x.ac_id for x in links}) == len(links), "two contacts linked to one AC contact"
    assert newcomer not in {x.dynamics_id for x in links}
    assert [(e.record_id, e.code) for e in await h.store.list_errors(h.cid)] == [(newcomer, "duplicate_email")]


async def _ac_call(h: Harness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    from tests.engine.conftest import AC_KEY, AC_URL

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=h.ac_app), base_url=AC_URL,
                                 headers={"Api-Token": AC_KEY}) as c:
        while True:
            r = await c.request(method, path, **kwargs)
            if r.status_code not in (429, 503):  # over 5/s: 429 or 503 (register #21)
                return r
            h.clock.advance(float(r.headers.get("Retry-After", "1")))


async def test_an_email_change_into_an_unsynced_ac_contacts_email_is_reported(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=20)
    await h.until_idle()
    a, c = sorted(await h.links(), key=lambda x: x.dynamics_id)[:2]
    r = await _ac_call(h, "POST", "/api/3/contacts",
                       json={"contact": {"email": "already.in.ac@example.com", "lastName": "OnlyInAC"}})
    assert r.status_code == 201, r.text
    other = r.json()["contact"]["id"]
    before = _ac_ids(h)
    await h.dv_patch("contacts", a.dynamics_id, {"emailaddress1": "already.in.ac@example.com"})
    await h.dv_patch("contacts", c.dynamics_id, {"firstname": "StillSynced"})
    await h.until_idle()
    assert _ac_ids(h) == before
    assert h.ac_by_email()["already.in.ac@example.com"].last_name == "OnlyInAC"
    assert h.ac_by_email()[c.email or ""].first_name == "StillSynced"
    errors = await h.store.list_errors(h.cid, entity="contact")
    assert [(e.record_id, e.code) for e in errors] == [(a.dynamics_id, "email_taken")]
    assert "merge the two contacts in ActiveCampaign" in errors[0].cause and errors[0].next_retry is not None
    # Merged in AC (the unsynced contact deleted): the retry goes through.
    r = await _ac_call(h, "DELETE", f"/api/3/contacts/{other}")
    assert r.status_code == 200, r.text
    h.clock.advance(3600)
    await h.until_idle()
    assert await h.store.list_errors(h.cid, entity="contact") == []
    assert _ac_ids(h)["already.in.ac@example.com"] == a.ac_id


async def test_a_contact_taking_a_leads_email_joins_the_leads_ac_contact(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=80, config=base_config(leads={"enabled": True, "direction": "push"}))
    await h.until_idle()
    contacts = {x.email: x for x in await h.links("contact")}
    leads = {x.email: x for x in await h.links("lead")}
    lead = leads[sorted(set(leads) - set(contacts))[0]]
    contact = contacts[sorted(set(contacts) - set(leads))[0]]
    await h.dv_patch("contacts", contact.dynamics_id, {"emailaddress1": lead.email, "firstname": "Joined"})
    await h.until_idle()
    ac = h.ac_by_email()
    assert str(ac[lead.email or ""].id) == lead.ac_id
    assert ac[lead.email or ""].first_name == "Joined"
    assert str(ac[contact.email or ""].id) == contact.ac_id, "the old AC contact stays (no delete on a move)"
    stored = await h.store.get_link(h.cid, "contact", contact.dynamics_id)
    assert stored is not None and stored.ac_id == lead.ac_id
    assert await h.store.list_errors(h.cid) == []


def test_the_link_index_forgets_a_records_old_email() -> None:
    from sync_core.engine.link_index import LinkIndex

    index = LinkIndex()
    index.add("contact", "c1", "Old@Example.com", "7")
    index.add("lead", "l1", "old@example.com", "7")
    index.add("contact", "c1", "new@example.com", "8")
    assert index.by_email["old@example.com"] == [("lead", "l1", "7")]
    assert index.by_email["new@example.com"] == [("contact", "c1", "8")]


async def test_a_dry_run_shows_what_each_email_change_would_do(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=80, config=base_config(leads={"enabled": True, "direction": "push"}))
    await h.until_idle()
    contacts = {x.email: x for x in await h.links("contact")}
    leads = {x.email: x for x in await h.links("lead")}
    own = sorted(set(contacts) - set(leads))
    plain, twin_of, joiner, twin = (contacts[e] for e in own[:4])
    lead_email = sorted(set(leads) - set(contacts))[0]
    await h.dv_patch("contacts", plain.dynamics_id, {"emailaddress1": "plain.new@example.com"})
    await h.dv_patch("contacts", joiner.dynamics_id, {"emailaddress1": lead_email})
    await h.dv_patch("contacts", twin.dynamics_id, {"emailaddress1": twin_of.email})
    ac_before = {e: (c.id, c.first_name) for e, c in h.ac_by_email().items()}
    links_before = await h.links("contact")

    preview = await h.run(dry_run=True)
    assert preview.run is not None
    counts = preview.run.counts["contact"]
    assert (counts.get("would_update"), counts.get("would_move"), counts.get("errors")) == (1, 1, 1)
    actions = {s["id"]: (s["action"], s["reason"]) for s in preview.samples["contact"]}
    assert actions == {plain.dynamics_id: ("update", ""), joiner.dynamics_id: ("move", ""),
                       twin.dynamics_id: ("skip", "duplicate_email")}
    assert {e: (c.id, c.first_name) for e, c in h.ac_by_email().items()} == ac_before
    assert await h.links("contact") == links_before and await h.store.list_errors(h.cid) == []

    # The real pass does what the preview said.
    await h.until_idle()
    ac = _ac_ids(h)
    assert ac["plain.new@example.com"] == plain.ac_id
    moved = await h.store.get_link(h.cid, "contact", joiner.dynamics_id)
    assert moved is not None and moved.ac_id == ac[lead_email]
    assert [(e.record_id, e.code) for e in await h.store.list_errors(h.cid)] == [(twin.dynamics_id, "duplicate_email")]
