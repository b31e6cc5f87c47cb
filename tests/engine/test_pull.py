"""ActiveCampaign → Dynamics (issue 16): AC edits reach the linked Dynamics records; directions, echoes,
conflicts with their log and history, a 412, a deleted record, a refused record in a batch."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sync_core.model.config import ConnectionConfig, FieldMapping
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config


def two_way(**contacts: Any) -> ConnectionConfig:
    cfg = base_config()
    doc = cfg.model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": "bidirectional", **contacts}
    return ConnectionConfig.model_validate(doc)


async def edit_ac_contact(h: Harness, ac_id: str, **fields: Any) -> None:
    await ac_request(h, "PUT", f"contacts/{ac_id}", json={"contact": fields})


async def synced(h: Harness) -> dict[str, Any]:
    """Initial push until idle; the first linked contact's link."""
    await h.until_idle()
    links = await h.links("contact")
    assert links and all(lk.ac_id for lk in links)
    return {"links": links}


async def dv_contact(h: Harness, did: str) -> dict[str, Any]:
    r = await h.dv_request("GET", f"contacts({did})?$select=firstname,lastname,telephone1,emailaddress1")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_an_ac_edit_reaches_dynamics_and_does_not_come_back(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=5, config=two_way())
    link = (await synced(h))["links"][0]
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="Pulled-From-AC")
    h.clock.advance(60)
    results = await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "Pulled-From-AC"
    counts = results[0].run.counts["contact"] if results[0].run else {}
    assert counts.get("pulled") == 1, counts
    # The write does not come back: the next passes push nothing and pull nothing.
    h.clock.advance(3600)
    again = await h.until_idle()
    writes = sum(h.ac_writes(r) for r in again)
    pulled = sum((r.run.counts.get("contact", {}).get("pulled", 0) if r.run else 0) for r in again)
    assert (writes, pulled) == (0, 0)
    # Echoes on both sides cost nothing and are counted: the 4 unedited contacts the initial push wrote
    # come back from AC, and Dynamics change tracking returns the record the pull wrote (its etag is ours).
    assert counts.get("skipped_echo") == 5 and "unchanged" not in counts, counts
    stored = await h.store.get_link(h.cid, "contact", link.dynamics_id)
    assert stored is not None and stored.history[-1]["direction"] == "pull"
    assert stored.history[-1]["changes"][0]["to"] == "Pulled-From-AC"


async def test_an_ac_edit_in_the_second_of_the_sync_s_write_is_not_taken_for_an_echo(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=2, config=two_way())
    link = (await synced(h))["links"][0]
    contact = h.ac.contacts[int(link.ac_id)]
    written = contact.udate  # what the sync's own write left; AC shows udate in whole seconds
    await edit_ac_contact(h, str(link.ac_id), lastName="Same-Second")
    contact.udate = written  # the person's edit landed in the same second
    h.clock.advance(60)
    await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "Same-Second"


async def test_the_sync_s_own_tag_writes_moving_udate_are_echoes(harness: HarnessFactory) -> None:
    """Register reading udate_on_tag_change=true: the push's tags move udate after the one it recorded; those
    contacts come back from the AC read with every mapped value as last synced — echoes, not changes."""
    h = await harness(seed_contacts=5, config=two_way(), ac_switches={"udate_on_tag_change": True})
    link = (await synced(h))["links"][0]
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="Pulled-Under-Tag-Reading")
    h.clock.advance(60)
    results = await h.until_idle()
    counts = results[0].run.counts["contact"] if results[0].run else {}
    assert counts.get("pulled") == 1 and counts.get("skipped_echo") == 5, counts  # 4 tagged + 1 Dynamics echo
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "Pulled-Under-Tag-Reading"


async def ac_json(h: Harness, method: str, path: str, **kwargs: Any) -> Any:
    return (await ac_request(h, method, path, **kwargs)).json()


def config_with(**entities: Any) -> ConnectionConfig:
    doc = base_config().model_dump(mode="json")
    doc["entities"].update(entities)
    return ConnectionConfig.model_validate(doc)


async def test_per_field_directions_are_honoured_both_ways(harness: HarnessFactory) -> None:
    """firstName push-only, lastName pull-only: an AC edit of the first name is not pulled; a Dynamics edit
    of the last name stays until AC changes it."""
    cfg = two_way(standard={"firstName": False, "lastName": False}, custom=[
        {"dynamics": "firstname", "activecampaign": "firstName", "direction": "push"},
        {"dynamics": "lastname", "activecampaign": "lastName", "direction": "pull"}])
    h = await harness(seed_contacts=3, config=cfg)
    link = (await synced(h))["links"][0]
    before = await dv_contact(h, link.dynamics_id)
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), firstName="AC-First")
    await h.dv_patch("contacts", link.dynamics_id, {"lastname": "Dyn-Last"})
    h.clock.advance(60)
    await h.until_idle()
    now = await dv_contact(h, link.dynamics_id)
    ac = h.ac.contacts[int(str(link.ac_id))]
    assert now["firstname"] == before["firstname"] and ac.first_name == "AC-First"  # not pulled
    assert now["lastname"] == "Dyn-Last" and ac.last_name != "Dyn-Last"  # not pushed
    # Once AC changes the last name, it travels (the pull-only field's Dynamics edit loses).
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="AC-Last")
    h.clock.advance(60)
    await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == "AC-Last"


async def test_a_reformatted_phone_does_not_ping_pong(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, config=two_way())
    link = (await synced(h))["links"][0]
    await h.dv_patch("contacts", link.dynamics_id, {"telephone1": "555-0100"})
    h.clock.advance(3600)
    await h.until_idle()
    assert h.ac.contacts[int(str(link.ac_id))].phone == "555-0100"
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), phone="(555) 0100")  # the same number, as AC might store it
    h.clock.advance(60)
    results = await h.until_idle()
    assert (await dv_contact(h, link.dynamics_id))["telephone1"] == "555-0100"
    assert sum(h.ac_writes(r) for r in results) == 0
    assert not any((r.run.counts.get("contact", {}).get("pulled") if r.run else 0) for r in results)


async def test_a_record_deleted_in_dynamics_is_not_recreated_by_a_pull(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=4, config=two_way())
    link = (await synced(h))["links"][0]
    before = len(h.dv.rows["contact"])
    r = await h.dv_request("DELETE", f"contacts({link.dynamics_id})")
    assert r.status_code == 204
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="Edited-After-Delete")
    h.clock.advance(60)
    await h.until_idle()
    assert len(h.dv.rows["contact"]) == before - 1 and link.dynamics_id not in h.dv.rows["contact"]
    assert await h.store.get_link(h.cid, "contact", link.dynamics_id) is None


async def test_a_pull_only_entity_links_existing_records_by_email_and_writes_nothing_to_ac(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=6, config=config_with(contacts={"enabled": True, "direction": "pull"}))
    # The AC account already has some of the people (as a marketer's list would).
    rows = [r for r in h.dv.rows["contact"].values() if r.get("emailaddress1")][:4]
    for r in rows:
        await ac_request(h, "POST", "contacts", json={"contact": {"email": str(r["emailaddress1"]).upper(),
                                                                 "lastName": "From AC"}})
    h.clock.advance(60)
    writes_before = h.ac.count_requests(method="POST") + h.ac.count_requests(method="PUT")
    results = await h.until_idle()
    links = await h.links("contact")
    assert sorted(lk.dynamics_id for lk in links) == sorted(str(r["contactid"]) for r in rows)
    assert sum(h.ac_writes(r) for r in results) == 0
    assert h.ac.count_requests(method="POST") + h.ac.count_requests(method="PUT") == writes_before
    # From then on, AC's edits travel.
    target = links[0]
    h.clock.advance(600)
    await edit_ac_contact(h, str(target.ac_id), lastName="Pulled-Only")
    h.clock.advance(60)
    await h.until_idle()
    assert (await dv_contact(h, target.dynamics_id))["lastname"] == "Pulled-Only"


@pytest.mark.parametrize(("rule", "ac_later", "winner"), [
    ("newest_wins", True, "activecampaign"), ("newest_wins", False, "dynamics"),
    ("dynamics_wins", True, "dynamics"), ("activecampaign_wins", False, "activecampaign")])
async def test_a_field_changed_on_both_sides_is_decided_by_the_rule_and_logged(
        harness: HarnessFactory, rule: str, ac_later: bool, winner: str) -> None:
    h = await harness(seed_contacts=3, config=two_way(conflict=rule))
    link = (await synced(h))["links"][0]
    h.clock.advance(600)
    edits = [lambda: h.dv_patch("contacts", link.dynamics_id, {"lastname": "Dyn-Edit"}),
             lambda: edit_ac_contact(h, str(link.ac_id), lastName="AC-Edit")]
    for edit in (edits if ac_later else edits[::-1]):
        await edit()
        h.clock.advance(120)
    results = await h.until_idle()
    expected = "AC-Edit" if winner == "activecampaign" else "Dyn-Edit"
    assert (await dv_contact(h, link.dynamics_id))["lastname"] == expected
    assert h.ac.contacts[int(str(link.ac_id))].last_name == expected
    (conflict,) = await h.store.list_conflicts(h.cid)
    assert (conflict.field, conflict.rule, conflict.winner) == ("lastname", rule, winner)
    assert (conflict.dynamics_value, conflict.ac_value) == ("Dyn-Edit", "AC-Edit")
    assert conflict.run_id == results[0].run.run_id if results[0].run else False
    stored = await h.store.get_link(h.cid, "contact", link.dynamics_id)
    assert stored is not None
    last = stored.history[-1]
    assert last["direction"] == ("pull" if winner == "activecampaign" else "push")
    if winner == "activecampaign":
        assert last["why"] == f"conflict:{rule}"
    # Settled: nothing more travels either way.
    h.clock.advance(3600)
    quiet = await h.until_idle()
    assert sum(h.ac_writes(r) for r in quiet) == 0 and len(await h.store.list_conflicts(h.cid)) == 1


class EditBeforeBatch(httpx.AsyncBaseTransport):
    """Dataverse behind a network where, just before the first ``$batch`` arrives, someone edits a record."""

    def __init__(self, h: Harness, record_id: str, changes: dict[str, Any]) -> None:
        self._inner = httpx.ASGITransport(app=h.dv_app)
        self._h, self._id, self._changes = h, record_id, changes
        self.fired = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("$batch") and not self.fired:
            self.fired = True
            self._h.dv.update("contact", self._id, self._changes)
        return await self._inner.handle_async_request(request)


async def test_a_record_changed_between_the_read_and_the_write_is_read_and_decided_again(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, config=two_way())
    link = (await synced(h))["links"][0]
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="AC-Last")
    h.clock.advance(60)
    edit = EditBeforeBatch(h, link.dynamics_id, {"firstname": "Dyn-First-Meanwhile"})
    engine = h.engine()
    engine_clients = engine._clients  # the harness's bound factory: swap the Dataverse transport
    engine_clients.factory.dv_transport = edit  # type: ignore[attr-defined]
    result = await engine.run_pass(h.cid)
    assert edit.fired and result.outcome in ("finished", "continued"), result.message
    now = await dv_contact(h, link.dynamics_id)
    assert (now["lastname"], now["firstname"]) == ("AC-Last", "Dyn-First-Meanwhile")  # both edits kept
    await h.until_idle()
    assert h.ac.contacts[int(str(link.ac_id))].first_name == "Dyn-First-Meanwhile"  # and pushed on


async def test_one_refused_record_in_a_batch_of_a_thousand_is_recorded_and_the_rest_land(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=1000, config=two_way(), dv_switches={"inactive_update": "refuse"},
                      enforce_rate_limit=False)
    links = (await synced(h))["links"]
    assert len(links) >= 1000 - 5
    inactive = links[0]
    await h.dv_patch("contacts", inactive.dynamics_id, {"statecode": 1, "statuscode": 2})
    h.clock.advance(600)
    for i, lk in enumerate(links):
        await edit_ac_contact(h, str(lk.ac_id), lastName=f"Bulk-{i}")
    h.clock.advance(60)
    results = await h.until_idle()
    pulled = sum((r.run.counts.get("contact", {}).get("pulled", 0) if r.run else 0) for r in results)
    assert pulled == len(links) - 1
    (err,) = [e for e in await h.store.list_errors(h.cid) if e.side == "dynamics"]
    assert (err.record_id, err.code, err.retriable) == (inactive.dynamics_id, "record_inactive", False)
    assert "inactive" in err.cause
    for i, lk in enumerate(links[1:], start=1):
        assert h.dv.rows["contact"][lk.dynamics_id]["lastname"] == f"Bulk-{i}"
    # Reactivated, the record is retried once a read sees it active, and its error clears.
    await h.dv_patch("contacts", inactive.dynamics_id, {"statecode": 0, "statuscode": 1})
    h.clock.advance(3 * 3600)
    await h.until_idle()
    assert h.dv.rows["contact"][inactive.dynamics_id]["lastname"] == "Bulk-0"
    assert not [e for e in await h.store.list_errors(h.cid) if e.side == "dynamics"]


SOURCES = {1: "Advertisement", 2: "Employee Referral", 3: "External Referral", 4: "Partner", 5: "Public Relations",
           6: "Seminar", 7: "Trade Show", 8: "Web", 9: "Word of Mouth", 10: "Other"}


async def _dropdown(h: Harness, title: str) -> str:
    field = (await ac_json(h, "POST", "fields", json={"field": {"title": title, "type": "dropdown"}}))["field"]
    await ac_request(h, "POST", "fieldOption/bulk", json={"fieldOptions": [
        {"field": str(field["id"]), "label": label, "value": label, "orderid": i} for i, label in SOURCES.items()]})
    return str(field["id"])


async def _text_field(h: Harness, title: str) -> str:
    return str((await ac_json(h, "POST", "fields", json={"field": {"title": title, "type": "text"}}))["field"]["id"])


async def _set_field(h: Harness, ac_id: str, field_id: str, value: str) -> None:
    await ac_request(h, "PUT", f"contacts/{ac_id}", json={"contact": {"fieldValues": [
        {"field": field_id, "value": value}]}})


@pytest.mark.parametrize("include", ["ignored", "honoured"])
@pytest.mark.parametrize("fmt", ["plain", "pipes"])
async def test_a_lead_s_custom_text_and_option_set_fields_are_pulled(harness: HarnessFactory, include: str,
                                                                   fmt: str) -> None:
    h = await harness(seed_contacts=20, config=config_with(leads={"enabled": True, "direction": "bidirectional"}),
                      ac_switches={"contacts_list_include": include, "dropdown_value_format": fmt})
    source, topic = await _dropdown(h, "Lead source"), await _text_field(h, "Topic")
    cfg = h.config.model_copy(deep=True)
    cfg.entities.leads.custom = [
        FieldMapping(dynamics="leadsourcecode", activecampaign=f"field:{source}",
                     option_map={str(k): v for k, v in SOURCES.items()}),
        FieldMapping(dynamics="subject", activecampaign=f"field:{topic}")]
    await h.store.save_config(cfg)
    await h.until_idle()
    links = await h.links("lead")
    target = links[0]
    h.clock.advance(600)
    await _set_field(h, str(target.ac_id), source, "||Trade Show||" if fmt == "pipes" else "Trade Show")
    await _set_field(h, str(target.ac_id), topic, "Pulled topic")
    h.clock.advance(60)
    results = await h.until_idle()
    row = h.dv.rows["lead"][target.dynamics_id]
    assert (row.get("leadsourcecode"), row.get("subject")) == (7, "Pulled topic")
    calls = sum((r.run.api_calls.get("activecampaign", {}).get("contact.fieldValues", 0) if r.run else 0)
                for r in results)
    assert calls == (0 if include == "honoured" else 1), calls  # side-loaded, else one read of the one contact
    quiet = await h.until_idle()
    assert sum(h.ac_writes(r) for r in quiet) == 0


async def test_many_changed_contacts_read_their_custom_fields_by_field_not_one_by_one(harness: HarnessFactory) -> None:
    # Pinned: when the list side-loads the values (contacts_list_include=honoured) no read is needed at all.
    h = await harness(seed_contacts=400, config=two_way(), enforce_rate_limit=False,
                      ac_switches={"contacts_list_include": "ignored"})
    topic = await _text_field(h, "Topic")
    cfg = h.config.model_copy(deep=True)
    cfg.entities.contacts.custom = [FieldMapping(dynamics="mobilephone", activecampaign=f"field:{topic}")]
    await h.store.save_config(cfg)
    links = (await synced(h))["links"]
    h.clock.advance(600)
    for lk in links[:300]:
        await _set_field(h, str(lk.ac_id), topic, f"topic {lk.dynamics_id[:8]}")
    h.clock.advance(60)
    results = await h.until_idle()
    calls: dict[str, int] = {}
    for r in results:
        for k, v in (r.run.api_calls.get("activecampaign", {}) if r.run else {}).items():
            calls[k] = calls.get(k, 0) + v
    assert calls.get("contact.fieldValues", 0) == 0 and 0 < calls.get("fieldValues.list", 0) <= 6, calls
    for lk in links[:300]:
        assert h.dv.rows["contact"][lk.dynamics_id]["mobilephone"] == f"topic {lk.dynamics_id[:8]}"


async def test_an_account_edit_and_a_contact_s_new_account_reach_dynamics(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=30, config=config_with(
        accounts={"enabled": True, "direction": "bidirectional"},
        contacts={"enabled": True, "direction": "bidirectional"}))
    await h.until_idle()
    accounts = await h.links("account")
    assert len(accounts) >= 2
    first, second = accounts[0], accounts[1]
    h.clock.advance(600)
    await ac_request(h, "PUT", f"accounts/{first.ac_id}", json={"account": {"name": "Renamed In AC",
                                                                             "accountUrl": "https://ac.example"}})
    # A contact of the first account moves, in AC, to the second account.
    mover = next(lk for lk in await h.links("contact")
                 if h.dv.rows["contact"][lk.dynamics_id].get("_parentcustomerid_value") == first.dynamics_id)
    rows = (await ac_json(h, "GET", f"contacts/{mover.ac_id}/accountContacts"))["accountContacts"]
    for row in rows:
        await ac_request(h, "DELETE", f"accountContacts/{row['id']}")
    await ac_request(h, "POST", "accountContacts", json={"accountContact": {"contact": mover.ac_id,
                                                                            "account": second.ac_id}})
    await edit_ac_contact(h, str(mover.ac_id), lastName="Moved")  # the contact's udate moves too
    h.clock.advance(60)
    await h.until_idle()
    account = h.dv.rows["account"][first.dynamics_id]
    assert (account["name"], account.get("websiteurl")) == ("Renamed In AC", "https://ac.example")
    assert h.dv.rows["contact"][mover.dynamics_id]["_parentcustomerid_value"] == second.dynamics_id
    quiet = await h.until_idle()
    assert sum(h.ac_writes(r) for r in quiet) == 0


class Killed(BaseException):
    """Stands for the process dying at a checkpoint: nothing after it runs."""


async def test_a_pass_killed_between_writing_dynamics_and_saving_its_links_loses_no_edit(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=12, config=two_way())
    links = (await synced(h))["links"]
    h.clock.advance(600)
    for i, lk in enumerate(links):
        await edit_ac_contact(h, str(lk.ac_id), lastName=f"Killed-{i}")
    h.clock.advance(60)

    async def die(name: str, info: dict[str, Any]) -> None:
        if name == "after_dynamics_write":
            raise Killed

    with pytest.raises(Killed):
        await h.engine(checkpoint=die).run_pass(h.cid)
    h.clock.advance(120)
    resumed = await h.until_idle()
    assert sum(h.ac_writes(r) for r in resumed) == 0  # AC had the values already: nothing sent back
    for i, lk in enumerate(links):
        assert h.dv.rows["contact"][lk.dynamics_id]["lastname"] == f"Killed-{i}"
    assert len(h.dv.rows["contact"]) == 12 and len(h.ac_by_email()) == len(links)
    stored = [await h.store.get_link(h.cid, "contact", lk.dynamics_id) for lk in links]
    assert all(s is not None and s.ac_values.get("lastName") == f"Killed-{i}" for i, s in enumerate(stored))
    quiet = await h.until_idle()
    assert sum(h.ac_writes(r) for r in quiet) == 0


async def test_a_dry_run_shows_inbound_updates_and_conflicts_and_writes_nothing(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=4, config=two_way(conflict="activecampaign_wins"))
    links = (await synced(h))["links"]
    h.clock.advance(600)
    await edit_ac_contact(h, str(links[0].ac_id), lastName="Only-In-AC")
    await h.dv_patch("contacts", links[1].dynamics_id, {"lastname": "Both-Dyn"})
    h.clock.advance(60)
    await edit_ac_contact(h, str(links[1].ac_id), lastName="Both-AC")
    h.clock.advance(60)
    dv_before = {k: dict(v) for k, v in h.dv.rows["contact"].items()}
    stored_before = {lk.dynamics_id: lk for lk in await h.links("contact")}
    cursor_before = await h.store.get_ac_cursor(h.cid, "contact")
    preview = await h.run(dry_run=True)
    assert preview.run is not None
    counts = preview.run.counts["contact"]
    assert counts.get("would_pull") == 2 and counts.get("conflicts") == 1, counts
    samples = {(s["action"], s["id"]) for s in preview.samples["contact"]}
    assert ("pull", links[0].dynamics_id) in samples and ("conflict", links[1].dynamics_id) in samples
    conflict = next(s for s in preview.samples["contact"] if s["action"] == "conflict")
    assert conflict["label"] == "lastname" and "activecampaign wins" in conflict["reason"]
    # Nothing written anywhere: Dynamics, links, conflict log, cursors.
    assert {k: dict(v) for k, v in h.dv.rows["contact"].items()} == dv_before
    assert {lk.dynamics_id: lk for lk in await h.links("contact")} == stored_before
    assert await h.store.list_conflicts(h.cid) == []
    assert await h.store.get_ac_cursor(h.cid, "contact") == cursor_before
    # The live pass then does what the preview said.
    await h.until_idle()
    assert (await dv_contact(h, links[0].dynamics_id))["lastname"] == "Only-In-AC"
    assert (await dv_contact(h, links[1].dynamics_id))["lastname"] == "Both-AC"
    assert len(await h.store.list_conflicts(h.cid)) == 1
