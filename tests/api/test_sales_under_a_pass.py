"""A record synced on request while a pass runs: one AC contact and one link per record, the pass's lease
untouched. A record synced on request before the pass reaches it keeps the request's link (the pass learns it,
``store/requested.py``); one the pass had already planned is upserted again by the same email (the same AC
contact) and its link replaced by the pass's: still one contact and one link."""

from __future__ import annotations

from typing import Any

from sync_core.engine.runner import SyncEngine
from sync_core.model.state import RecordLink
from tests.api.conftest import CID, Api
from tests.api.sales_helpers import P, catalogue, record_path


def _contacts_of(api: Api, email: str) -> int:
    return sum(1 for c in api.ac.contacts.values() if c.email.lower() == email.lower())


async def test_one_contact_one_link_when_a_seller_acts_during_a_pass(api: Api) -> None:
    await api.connect()
    catalogue(api)
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
    assert r.status_code == 200, r.text
    h = api.auth("Marie Müller")  # Global read on contacts: any record will do
    acted: dict[str, Any] = {}

    async def during_the_pass(name: str, info: dict[str, Any]) -> None:
        if name != "after_ac_write" or info.get("entity") != "contact" or acted:
            return
        linked = {lk.dynamics_id async for lk in api.rt.store.iter_links(CID, "contact")}
        in_ac = {c.email.lower() for c in api.ac.contacts.values()}
        rows = [r for r in api.dv.rows["contact"].values() if r.get("emailaddress1") and r["contactid"] not in linked]
        # written to AC by this page, its link not saved yet; and one the pass has not read yet
        acted["racing"] = next(r for r in rows if r["emailaddress1"].lower() in in_ac)
        acted["ahead"] = next(r for r in reversed(rows) if r["emailaddress1"].lower() not in in_ac)
        for key in ("racing", "ahead"):
            res = await api.client.post(f"{record_path('contact', acted[key]['contactid'])}/automations",
                                        json={"automation_id": "1"}, headers=h)
            assert res.status_code == 200, res.text
            acted[key + "_result"] = res.json()

    engine = SyncEngine(api.rt.store, api.rt.clients.bound(api.rt.store, api.rt.secrets), clock=api.clock,
                        checkpoint=during_the_pass)
    results = []
    for _ in range(20):
        result = await engine.run_pass(CID)
        assert result.outcome in ("finished", "continued"), (result.outcome, result.message)
        results.append(result)
        if not result.more_work and not result.open_imports:
            break
        api.clock.advance(30)
    assert acted, "the pass wrote no contact page"
    for key in ("racing", "ahead"):
        row = acted[key]
        email = row["emailaddress1"]
        assert _contacts_of(api, email) == 1, (key, email)
        link = await api.rt.store.get_link(CID, "contact", row["contactid"])
        assert link is not None and link.ac_id == acted[key + "_result"]["contact_id"], key
        assert len(await api.rt.store.find_links_by_email(CID, email)) == 1
    assert acted["ahead_result"]["synced_now"] is True
    ahead = await api.rt.store.get_link(CID, "contact", acted["ahead"]["contactid"])
    assert ahead is not None and [e.get("run") for e in ahead.history] == ["on-request"]  # not pushed again
    linked = await api.rt.store.count_links(CID, "contact")
    with_email = sum(1 for r in api.dv.rows["contact"].values() if r.get("emailaddress1"))
    emails = [c.email.lower() for c in api.ac.contacts.values()]
    assert linked == with_email and len(emails) == len(set(emails))  # one link per record, no email twice in AC
    assert results[-1].outcome == "finished"  # the pass kept its lease throughout (no lease_lost)


async def test_the_link_insert_is_conditional(api: Api) -> None:
    """What the one-record path relies on: a link written meanwhile (by a pass) is kept, not overwritten."""
    did = "5e1f0000-0000-4000-8000-0000000000aa"
    passes = RecordLink(entity="contact", dynamics_id=did, ac_id="17", email="x@example.com")
    assert await api.rt.store.insert_link(CID, passes) is True
    mine = RecordLink(entity="contact", dynamics_id=did, ac_id="99", email="x@example.com")
    assert await api.rt.store.insert_link(CID, mine) is False
    stored = await api.rt.store.get_link(CID, "contact", did)
    assert stored is not None and stored.ac_id == "17"
    assert [lk.ac_id for lk in await api.rt.store.find_links_by_email(CID, "x@example.com")] == ["17"]
