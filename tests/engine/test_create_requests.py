"""Creates on request (issue 18): an AC contact tagged ``D365: Create Lead`` / ``D365: Create Contact`` becomes
one owned Dynamics record with the mapped values and the constants; an existing email is linked, not
duplicated; repeats and a crash between the create and the link write give one record; the AC tags change."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.dynamics._records import RecordsApi
from sync_core.engine.create_requests import record_id
from sync_core.model.config import ConnectionConfig
from sync_core.model.state import CreateRequest, EntityName
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config

CREATE_LEAD, CREATE_CONTACT = "D365: Create Lead", "D365: Create Contact"
PULLED = "D365: Pulled from ActiveCampaign"


def seller(h: Harness) -> str:
    return next(str(u["systemuserid"]) for u in h.dv.rows["systemuser"].values() if u.get("firstname") == "Sam")


def request_config(owner: str, **create_requests: Any) -> ConnectionConfig:
    doc = base_config().model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": "bidirectional",
                                   "constants": {"lastname": "(no last name)"}}
    doc["entities"]["leads"] = {"enabled": True, "direction": "bidirectional",
                                "constants": {"subject": "Asked for in ActiveCampaign", "lastname": "(no last name)"}}
    doc["create_requests"] = {"enabled": True, "owner": {"kind": "systemuser", "id": owner}, **create_requests}
    return ConnectionConfig.model_validate(doc)


async def requesting(harness: HarnessFactory, *, ac_switches: dict[str, Any] | None = None,
                     dv_switches: dict[str, Any] | None = None, **create_requests: Any) -> Harness:
    """A connection synced once, then switched to creates on request (the owner is the seeded seller)."""
    h = await harness(seed_contacts=3, ac_switches=ac_switches, dv_switches=dv_switches)
    h.config = request_config(seller(h), **create_requests)
    await h.store.save_config(h.config)
    await h.until_idle()
    return h


async def new_ac_contact(h: Harness, email: str, tag: str | None, **fields: Any) -> str:
    body = (await ac_request(h, "POST", "contacts", json={"contact": {"email": email, **fields}})).json()
    ac_id = str(body["contact"]["id"])
    if tag:
        await tag_contact(h, ac_id, tag)
    return ac_id


async def tag_id(h: Harness, name: str) -> str:
    for t in (await ac_request(h, "GET", "tags", params={"search": name})).json()["tags"]:
        if t["tag"] == name:
            return str(t["id"])
    body = await ac_request(h, "POST", "tags", json={"tag": {"tag": name, "tagType": "contact", "description": ""}})
    return str(body.json()["tag"]["id"])


async def tag_contact(h: Harness, ac_id: str, name: str) -> None:
    await ac_request(h, "POST", "contactTags", json={"contactTag": {"contact": ac_id, "tag": await tag_id(h, name)}})


async def tags_of(h: Harness, ac_id: str) -> set[str]:
    names = {str(t["id"]): t["tag"] for t in (await ac_request(h, "GET", "tags")).json()["tags"]}
    rows = (await ac_request(h, "GET", f"contacts/{ac_id}/contactTags")).json()["contactTags"]
    return {names[str(r["tag"])] for r in rows}


def records(h: Harness, logical: str, email: str) -> list[dict[str, Any]]:
    return [r for r in h.dv.rows[logical].values() if str(r.get("emailaddress1") or "").lower() == email.lower()]


@pytest.mark.parametrize("udate_moves", [False, True])
async def test_a_create_lead_tag_and_a_create_contact_tag_each_make_one_owned_record(
        harness: HarnessFactory, udate_moves: bool) -> None:
    h = await requesting(harness, ac_switches={"udate_on_tag_change": udate_moves})
    lead_ac = await new_ac_contact(h, "Lena.Lead@example.com", CREATE_LEAD, firstName="Lena", lastName="Lead",
                                   phone="555-0101")
    contact_ac = await new_ac_contact(h, "carl.contact@example.com", CREATE_CONTACT, firstName="Carl")
    h.clock.advance(60)
    results = await h.until_idle()
    (lead,) = records(h, "lead", "lena.lead@example.com")
    assert (lead["firstname"], lead["lastname"], lead["subject"]) == ("Lena", "Lead", "Asked for in ActiveCampaign")
    assert lead["_ownerid_value"] == seller(h)
    (contact,) = records(h, "contact", "carl.contact@example.com")
    assert contact["lastname"] == "(no last name)" and contact["_ownerid_value"] == seller(h)
    assert records(h, "lead", "carl.contact@example.com") == []
    assert await tags_of(h, lead_ac) == {"D365: Lead", PULLED}
    assert await tags_of(h, contact_ac) == {"D365: Contact", PULLED}
    counts = [r.run.counts for r in results if r.run]
    assert sum(c.get("lead", {}).get("requests_created", 0) for c in counts) == 1
    assert sum(c.get("contact", {}).get("requests_created", 0) for c in counts) == 1
    # Linked: the next passes create nothing more, and the person syncs both ways from now on.
    await h.dv_patch("leads", str(lead["leadid"]), {"jobtitle": "CTO", "firstname": "Lena-Dyn"})
    h.clock.advance(3600)
    await h.until_idle()
    assert len(records(h, "lead", "lena.lead@example.com")) == 1
    assert h.ac.contacts[int(lead_ac)].first_name == "Lena-Dyn"
    request = await h.store.get_request(h.cid, "lead", lead_ac)
    assert request is not None and (request.status, request.outcome) == ("done", "created")


async def test_an_email_already_in_dynamics_is_linked_not_duplicated(harness: HarnessFactory) -> None:
    h = await requesting(harness)
    older = await h.dv_create("leads", {"emailaddress1": "Twice@Example.com", "lastname": "Old", "subject": "x"})
    h.clock.advance(5)
    newer = await h.dv_create("leads", {"emailaddress1": "twice@example.com", "lastname": "New", "subject": "y"})
    h.clock.advance(60)
    await h.until_idle()  # the two leads were pushed: AC has one contact for the email
    ac_id = str(h.ac_by_email()["twice@example.com"].id)
    await tag_contact(h, ac_id, CREATE_LEAD)
    h.clock.advance(60)
    await h.until_idle()
    assert len(records(h, "lead", "twice@example.com")) == 2  # nothing created
    links = [lk for lk in await h.links("lead") if lk.ac_id == ac_id]
    assert [lk.dynamics_id for lk in links] == [older]
    errors = await h.store.list_errors(h.cid, entity="lead")
    assert any(e.record_id == newer and e.code == "duplicate_email" for e in errors)
    tags = await tags_of(h, ac_id)
    assert {"D365: Lead", PULLED} <= tags and CREATE_LEAD not in tags


async def test_the_same_request_twice_makes_one_record(harness: HarnessFactory) -> None:
    h = await requesting(harness)
    ac_id = await new_ac_contact(h, "again@example.com", CREATE_CONTACT, lastName="Again")
    h.clock.advance(60)
    await h.until_idle()
    await tag_contact(h, ac_id, CREATE_CONTACT)  # the automation runs again
    h.clock.advance(60)
    await h.until_idle()
    assert len(records(h, "contact", "again@example.com")) == 1
    assert CREATE_CONTACT not in await tags_of(h, ac_id)


class Crash(Exception):
    pass


async def test_a_crash_between_the_create_and_the_link_write_gives_one_record(harness: HarnessFactory) -> None:
    h = await requesting(harness)
    ac_id = await new_ac_contact(h, "crash@example.com", CREATE_LEAD, lastName="Crash")
    h.clock.advance(60)

    async def crash(name: str, info: dict[str, Any]) -> None:
        if name == "after_request_create":
            raise Crash(name)

    with pytest.raises(Crash):
        await h.engine(checkpoint=crash).run_pass(h.cid)
    assert len(records(h, "lead", "crash@example.com")) == 1
    assert [lk for lk in await h.links("lead") if lk.ac_id == ac_id] == []
    h.clock.advance(120)  # the killed pass's lease runs out
    await h.until_idle()
    (lead,) = records(h, "lead", "crash@example.com")
    assert [lk.dynamics_id for lk in await h.links("lead") if lk.ac_id == ac_id] == [lead["leadid"]]
    assert await tags_of(h, ac_id) == {"D365: Lead", PULLED}


async def test_the_dry_run_shows_what_would_be_created(harness: HarnessFactory) -> None:
    h = await requesting(harness)
    await new_ac_contact(h, "maybe@example.com", CREATE_LEAD, lastName="Maybe")
    h.clock.advance(60)
    result = await h.run(dry_run=True)
    assert result.run is not None and result.run.counts["lead"].get("would_request_create") == 1
    assert any(s["action"] == "request_create" and s["label"] == "maybe@example.com" for s in result.samples["lead"])
    assert records(h, "lead", "maybe@example.com") == []


async def queue_webhook(h: Harness, entity: str, ac_id: str) -> None:
    """What ``POST /api/hooks/…`` stores (tests/api/test_hooks.py): a pending request, nothing else."""
    table: EntityName = "lead" if entity == "lead" else "contact"
    await h.store.save_request(h.cid, CreateRequest(entity=table, ac_id=ac_id, source="webhook",
                                                    dynamics_id=record_id(h.cid, table, ac_id),
                                                    requested_at=h.clock.now()))


async def test_a_webhook_request_reads_the_contact_again_and_a_tag_for_the_same_person_adds_nothing(
        harness: HarnessFactory) -> None:
    h = await requesting(harness)
    ac_id = await new_ac_contact(h, "hook@example.com", None, firstName="Hook", lastName="Step")
    only_hook = await new_ac_contact(h, "only.hook@example.com", None, lastName="Only")
    await queue_webhook(h, "lead", only_hook)
    await queue_webhook(h, "lead", ac_id)
    await tag_contact(h, ac_id, CREATE_LEAD)  # the same automation asks both ways
    await ac_request(h, "PUT", f"contacts/{ac_id}", json={"contact": {"firstName": "Hooked"}})  # AC's value now
    h.clock.advance(60)
    await h.until_idle()
    (lead,) = records(h, "lead", "hook@example.com")
    assert lead["firstname"] == "Hooked" and lead["_ownerid_value"] == seller(h)
    assert [r["lastname"] for r in records(h, "lead", "only.hook@example.com")] == ["Only"]
    await queue_webhook(h, "lead", ac_id)  # the webhook again, later
    h.clock.advance(60)
    await h.until_idle()
    assert len(records(h, "lead", "hook@example.com")) == 1
    request = await h.store.get_request(h.cid, "lead", ac_id)
    assert request is not None and request.status == "done"
    assert await tags_of(h, ac_id) == {"D365: Lead", PULLED}


async def test_a_contact_request_for_a_lead_follows_the_other_kind_rule(harness: HarnessFactory) -> None:
    h = await requesting(harness, other_kind="refuse")
    await h.dv_create("leads", {"emailaddress1": "both@example.com", "lastname": "Lead", "subject": "x"})
    h.clock.advance(60)
    await h.until_idle()
    ac_id = str(h.ac_by_email()["both@example.com"].id)
    await tag_contact(h, ac_id, CREATE_CONTACT)
    h.clock.advance(60)
    results = await h.until_idle()
    assert records(h, "contact", "both@example.com") == []
    still = await h.store.list_errors(h.cid, entity="contact")
    assert [e.code for e in still if e.record_id == ac_id] == ["exists_as_other_kind"]  # still shown
    errors = await h.store.list_errors(h.cid, entity="contact")
    assert [e.code for e in errors if e.record_id == ac_id] == ["exists_as_other_kind"]
    assert sum((r.run.counts.get("contact", {}).get("requests_failed", 0) if r.run else 0) for r in results) == 1
    request = await h.store.get_request(h.cid, "contact", ac_id)
    assert request is not None and request.status == "failed"
    assert CREATE_CONTACT in await tags_of(h, ac_id)  # kept: asked again once the rule or the lead changes
    # Tried again later (the request's own backoff), and the error never disturbs the contacts' push retries.
    h.clock.advance(7200)
    again = await h.until_idle()
    assert not any((r.run.counts.get("contact", {}).get("failed") if r.run else 0) for r in again)
    assert sum((r.run.counts.get("contact", {}).get("requests_failed", 0) if r.run else 0) for r in again) == 1
    assert records(h, "contact", "both@example.com") == []
    still = await h.store.list_errors(h.cid, entity="contact")
    assert [e.code for e in still if e.record_id == ac_id] == ["exists_as_other_kind"]  # still shown


async def test_the_email_match_and_the_own_record_read_are_batched_not_one_query_per_request(
        harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 requests in a pass: their emails are matched in 2 Dataverse queries of at most 25 emails (an ``or``
    filter, a short URL), not 30, and whether an earlier attempt created their records is read the same way
    (by the ids the requests give them), not by one read by id a request; an existing email among them is
    still linked, not duplicated."""
    h = await requesting(harness, other_kind="refuse")
    existing = await h.dv_create("leads", {"emailaddress1": "Batch.07@Example.com", "lastname": "Old", "subject": "x"})
    ac_ids = [await new_ac_contact(h, f"batch.{i:02d}@example.com", CREATE_LEAD, lastName=f"B{i}") for i in range(30)]
    filters: list[tuple[str, str]] = []
    reads_by_id: list[str] = []
    query, get = RecordsApi.query, RecordsApi.get

    def counting(self: RecordsApi, entity_set: str, **kw: Any) -> Any:
        if "emailaddress1 eq" in str(kw.get("filter") or ""):
            filters.append((entity_set, str(kw["filter"])))
        return query(self, entity_set, **kw)

    async def counting_get(self: RecordsApi, entity_set: str, record_id: str, **kw: Any) -> Any:
        reads_by_id.append(entity_set)
        return await get(self, entity_set, record_id, **kw)

    monkeypatch.setattr(RecordsApi, "query", counting)
    monkeypatch.setattr(RecordsApi, "get", counting_get)
    h.clock.advance(60)
    await h.until_idle()
    assert sorted(s for s, _ in filters) == ["contacts", "contacts", "leads", "leads"]  # refuse: the other table too
    assert max(f.count(" or ") + 1 for _, f in filters) == 25
    assert reads_by_id.count("leads") == 1  # the linked lead's values, not one read a request
    links = {lk.ac_id: lk.dynamics_id for lk in await h.links("lead")}
    assert links[ac_ids[7]] == existing and len({links[a] for a in ac_ids}) == 30
    assert all(len(records(h, "lead", f"batch.{i:02d}@example.com")) == 1 for i in range(30))
