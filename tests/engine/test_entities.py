"""Accounts, contacts' accounts and job titles, leads, opportunities, criteria, backfills (issue 6)."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.model.config import ConnectionConfig, FieldMapping
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config


def _config(**entities: Any) -> ConnectionConfig:
    return base_config(**entities)


ACCOUNTS_ON = {"accounts": {"enabled": True, "direction": "push"}}


async def _accounts_by_name(h: Harness) -> dict[str, Any]:
    return {str(a["name"]).lower(): a for a in h.dv.rows["account"].values() if a.get("name")}


def _ac_account_names(h: Harness) -> dict[str, str]:
    return {str(a.name if hasattr(a, "name") else a["name"]).lower(): str(aid) for aid, a in h.ac.accounts.items()}


@pytest.mark.parametrize("reading", ["link_or_create", "link_only", "ignore"])
async def test_accounts_with_their_contacts_and_job_titles(harness: HarnessFactory, reading: str) -> None:
    h = await harness(seed_contacts=120, page_size=60, config=_config(**ACCOUNTS_ON),
                      ac_switches={"customer_acct_name": reading})
    await h.until_idle()
    names = await _accounts_by_name(h)
    ac_names = _ac_account_names(h)
    assert set(names) <= set(ac_names), "every Dynamics account has its AC account"
    assert len(ac_names) == len(names), "no AC account was created twice"
    account_links = {link.dynamics_id: link.ac_id for link in await h.links("account")}
    assert len(account_links) == len(names)
    # Each B2B contact's AC contact is associated with its account's AC account, with its job title.
    by_contact = {str(ac.contact): ac for ac in _account_contacts(h)}
    checked = 0
    for link in await h.links("contact"):
        row = h.dv.rows["contact"][link.dynamics_id]
        parent = row.get("_parentcustomerid_value")
        assoc = by_contact.get(str(link.ac_id))
        if parent is None:
            assert assoc is None
            continue
        assert assoc is not None, f"contact {link.email} has no account association"
        assert str(assoc.account) == account_links[parent]
        assert (assoc.job_title or None) == (row.get("jobtitle") or None)
        checked += 1
    assert checked > 50
    # Moving a contact to another account moves the association; a title change follows.
    link = next(link for link in await h.links("contact")
                if h.dv.rows["contact"][link.dynamics_id].get("_parentcustomerid_value"))
    other = next(aid for aid in account_links
                 if aid != h.dv.rows["contact"][link.dynamics_id]["_parentcustomerid_value"])
    await h.dv_patch("contacts", link.dynamics_id, {"parentcustomerid_account@odata.bind": f"/accounts({other})",
                                                    "jobtitle": "Chief Tester"})
    h.clock.advance(3600)
    await h.until_idle()
    assoc = {str(ac.contact): ac for ac in _account_contacts(h)}[str(link.ac_id)]
    assert str(assoc.account) == account_links[other]
    assert assoc.job_title == "Chief Tester"


def _account_contacts(h: Harness) -> list[Any]:
    out = []
    for ac in h.ac.account_contacts.values():
        out.append(_Obj(ac))
    return out


class _Obj:
    """Reads a sandbox row whether it is a dict or an object."""

    def __init__(self, row: Any) -> None:
        self._row = row

    def _get(self, *names: str) -> Any:
        for n in names:
            if isinstance(self._row, dict) and n in self._row:
                return self._row[n]
            if hasattr(self._row, n):
                return getattr(self._row, n)
        return None

    @property
    def contact(self) -> Any:
        return self._get("contact", "contact_id")

    @property
    def account(self) -> Any:
        return self._get("account", "account_id")

    @property
    def job_title(self) -> Any:
        return self._get("jobTitle", "job_title")


async def test_two_dynamics_accounts_with_one_name(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=0, config=_config(**ACCOUNTS_ON))
    first = await h.dv_create("accounts", {"name": "Twin Peaks Ltd", "websiteurl": "https://one.example"})
    h.clock.advance(60)
    second = await h.dv_create("accounts", {"name": "twin peaks ltd", "websiteurl": "https://two.example"})
    await h.until_idle()
    links = await h.links("account")
    assert [link.dynamics_id for link in links] == [first]
    errors = await h.store.list_errors(h.cid, entity="account")
    assert [(e.record_id, e.code) for e in errors] == [(second, "duplicate_name")]
    assert len(h.ac.accounts) == 1


async def test_a_lead_and_a_contact_with_one_email_share_one_ac_contact(harness: HarnessFactory) -> None:
    cfg = _config(leads={"enabled": True, "direction": "push"})
    h = await harness(seed_contacts=80, config=cfg)
    await h.until_idle()
    contact_links = {link.email: link for link in await h.links("contact")}
    lead_links = {link.email: link for link in await h.links("lead")}
    shared = set(contact_links) & set(lead_links)
    assert shared, "the seed has leads with a contact's email"
    for email in shared:
        assert contact_links[email].ac_id == lead_links[email].ac_id
    ac = h.ac_by_email()
    assert set(contact_links) | set(lead_links) <= set(ac)
    tags = {str(t.get("tag") if isinstance(t, dict) else t.tag): t for t in h.ac.tags.values()} \
        if isinstance(next(iter(h.ac.tags.values()), {}), dict) else {}
    assert tags is not None
    lead_tag = _tag_id(h, "D365: Lead")
    contact_tag = _tag_id(h, "D365: Contact")
    email = sorted(shared)[0]
    on = _contact_tag_ids(h, str(ac[email].id))
    assert {lead_tag, contact_tag} <= on


def _tag_id(h: Harness, name: str) -> str:
    for tid, t in h.ac.tags.items():
        tag = t.get("tag") if isinstance(t, dict) else getattr(t, "tag", getattr(t, "name", None))
        if tag == name:
            return str(tid)
    raise AssertionError(f"no tag {name}")


def _contact_tag_ids(h: Harness, contact_id: str) -> set[str]:
    out = set()
    for ct in h.ac.contact_tags.values():
        c = ct.get("contact") if isinstance(ct, dict) else getattr(ct, "contact", None)
        t = ct.get("tag") if isinstance(ct, dict) else getattr(ct, "tag", None)
        if str(c) == contact_id:
            out.add(str(t))
    return out


@pytest.mark.parametrize("switches", [{}, {"custom_object_date_fields": "rejected"},
                                      {"custom_object_update_status": 200}], ids=["default", "no-dates", "200"])
async def test_opportunities_follow_their_synced_contacts(harness: HarnessFactory, switches: dict[str, Any]) -> None:
    cfg = _config(contacts={"enabled": True, "direction": "push", "scope": "criteria",
                            "criteria": [{"field": "address1_country", "operator": "eq", "value": "Germany"}]},
                  opportunities={"enabled": True, "direction": "push"})
    h = await harness(seed_contacts=80, config=cfg, ac_switches=switches)
    await h.until_idle()
    (schema,) = [s for s in h.ac.co_schemas.values() if _get(s, "slug") == "d365-opportunity"]
    records = h.ac.co_records.get(str(_get(schema, "id")), {})
    synced_contacts = {link.dynamics_id: link.ac_id for link in await h.links("contact")}
    expected: set[str] = set()
    skipped: set[str] = set()
    for oid, opp in h.dv.rows["opportunity"].items():
        contact = opp.get("_parentcontactid_value") or (
            opp.get("_customerid_value") if opp.get("_customerid_value") in h.dv.rows["contact"] else None)
        (expected if contact in synced_contacts else skipped).add(oid)
    assert expected and skipped
    assert {str(_get(r, "externalId") or _get(r, "external_id")) for r in records.values()} == \
        {f"d365-{o}" for o in expected}
    errors = {e.record_id: e.code for e in await h.store.list_errors(h.cid, entity="opportunity")}
    assert errors == dict.fromkeys(skipped, "contact_not_synced")
    # An update in Dynamics updates the same record (upsert by externalId), never a second one.
    oid = sorted(expected)[0]
    await h.dv_patch("opportunities", oid, {"name": "Renamed deal"})
    h.clock.advance(3600)
    await h.until_idle()
    records = h.ac.co_records.get(str(_get(schema, "id")), {})
    mine = [r for r in records.values() if str(_get(r, "externalId")) == f"d365-{oid}"]
    assert len(mine) == 1 and len(records) == len(expected)
    fields = _get(mine[0], "fields")
    values = fields if isinstance(fields, dict) else {f["id"]: f["value"] for f in fields}
    assert values["name"] == "Renamed deal"


def _get(row: Any, name: str) -> Any:
    return row.get(name) if isinstance(row, dict) else getattr(row, name, None)


@pytest.mark.parametrize("status", [403, 404, 402])
async def test_without_enterprise_opportunities_are_unavailable_not_failed(harness: HarnessFactory,
                                                                          status: int) -> None:
    cfg = _config(opportunities={"enabled": True, "direction": "push"})
    h = await harness(seed_contacts=40, config=cfg, ac_switches={"plan_limit_status": status})
    h.ac.set_plan("professional")
    results = await h.until_idle()
    runs = [r.run for r in results if r.run is not None and "opportunity" in r.run.counts]
    # Deferred while the contacts' imports are open, then reported unavailable once per pass.
    assert {"unavailable": 1} in [r.counts["opportunity"] for r in runs]
    assert all(set(r.counts["opportunity"]) <= {"unavailable", "deferred"} for r in runs)
    assert any("unavailable" in (r.message or "") for r in runs)
    assert await h.store.list_errors(h.cid, entity="opportunity") == []
    assert len(h.ac_by_email()) == len([c for c in h.dv.rows["contact"].values() if c.get("emailaddress1")])


@pytest.mark.parametrize("status", [403, 404, 402])
async def test_without_the_accounts_api_contacts_sync_without_accounts(harness: HarnessFactory, status: int) -> None:
    h = await harness(seed_contacts=40, config=_config(**ACCOUNTS_ON), ac_switches={"plan_limit_status": status})
    h.ac.set_plan("plus")
    results = await h.until_idle()
    run = results[0].run
    assert run is not None and run.counts["account"] == {"unavailable": 1}
    assert await h.store.list_errors(h.cid) == []
    assert len(h.ac_by_email()) == 40


async def test_a_record_moves_into_and_out_of_the_criteria(harness: HarnessFactory) -> None:
    cfg = _config(contacts={"enabled": True, "direction": "push", "scope": "criteria", "criteria": [
        {"field": "address1_country", "operator": "eq", "value": "germany"},
        {"field": "lastname", "operator": "not_contains", "value": "'"}]})
    h = await harness(seed_contacts=60, config=cfg)
    await h.until_idle()
    rows = h.dv.rows["contact"]
    def inside(r: dict[str, Any]) -> bool:
        return r.get("address1_country") == "Germany" and "'" not in (r.get("lastname") or "")
    expected = {str(r["emailaddress1"]).lower() for r in rows.values() if inside(r)}
    assert set(h.ac_by_email()) == expected
    # One moves in, one moves out (and then changes: it no longer syncs).
    outsider = next(r for r in rows.values() if r.get("address1_country") == "France")
    insider = next(r for r in rows.values() if inside(r))
    await h.dv_patch("contacts", outsider["contactid"], {"address1_country": "Germany", "lastname": "Neu"})
    await h.dv_patch("contacts", insider["contactid"], {"address1_country": "Poland"})
    h.clock.advance(3600)
    await h.until_idle()
    assert str(outsider["emailaddress1"]).lower() in h.ac_by_email()
    await h.dv_patch("contacts", insider["contactid"], {"firstname": "Changed"})
    h.clock.advance(3600)
    await h.until_idle()
    assert h.ac_by_email()[str(insider["emailaddress1"]).lower()].first_name != "Changed"


async def test_accounts_switched_on_later_are_backfilled(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=50)
    await h.until_idle()
    assert not h.ac.accounts
    cfg = h.config.model_copy(deep=True)
    cfg.entities.accounts.enabled = True
    cfg.entities.accounts.direction = "push"
    await h.store.save_config(cfg)
    h.clock.advance(3600)
    await h.until_idle()
    assert len(h.ac.accounts) == len(h.dv.rows["account"])
    cursor = await h.store.get_dynamics_cursor(h.cid, "account")
    assert cursor is not None and cursor.phase == "delta" and cursor.done == cursor.total


async def test_widened_criteria_backfill_the_new_records(harness: HarnessFactory) -> None:
    cfg = _config(contacts={"enabled": True, "direction": "push", "scope": "criteria", "criteria": [
        {"field": "address1_country", "operator": "eq", "value": "France"}]})
    h = await harness(seed_contacts=50, config=cfg)
    await h.until_idle()
    before = set(h.ac_by_email())
    wider = h.config.model_copy(deep=True)
    wider.entities.contacts.criteria[0].operator = "in"
    wider.entities.contacts.criteria[0].value = ["France", "Germany"]
    await h.store.save_config(wider)
    h.clock.advance(3600)
    results = await h.until_idle()
    after = set(h.ac_by_email())
    assert before < after
    germans = {str(r["emailaddress1"]).lower() for r in h.dv.rows["contact"].values()
               if r.get("address1_country") == "Germany"}
    assert germans <= after
    run = results[0].run
    assert run is not None and run.counts["contact"]["read"] == 50  # the whole table read again
    assert run.counts["contact"].get("unchanged", 0) == len(before)


async def test_a_dry_run_changes_nothing_anywhere(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=30, config=_config(**ACCOUNTS_ON))
    dv_versions = {k: dict(v) for k, v in h.dv.rows["contact"].items()}
    result = await h.run(dry_run=True)
    assert result.run is not None and result.run.counts["contact"]["would_create"] == 30
    assert [s["action"] for s in result.samples["contact"]] == ["create"] * 5
    assert all("@" in s["label"] for s in result.samples["contact"])
    assert result.run.counts["account"]["would_create"] == len(h.dv.rows["account"])
    assert not h.ac.contacts and not h.ac.accounts
    assert {k: dict(v) for k, v in h.dv.rows["contact"].items()} == dv_versions
    assert await h.links("contact") == [] and await h.store.list_runs(h.cid) == []
    assert await h.store.get_dynamics_cursor(h.cid, "contact") is None
    assert await h.store.list_errors(h.cid) == []


async def test_custom_criteria_on_opportunities(harness: HarnessFactory) -> None:
    cfg = _config(opportunities={"enabled": True, "direction": "push", "scope": "custom",
                                 "custom_filter": "estimatedvalue gt 1500 and statecode eq 0"})
    h = await harness(seed_contacts=80, config=cfg)
    await h.until_idle()
    (schema,) = [s for s in h.ac.co_schemas.values() if _get(s, "slug") == "d365-opportunity"]
    records = h.ac.co_records.get(str(_get(schema, "id")), {})
    synced = {str(_get(r, "externalId")) for r in records.values()}
    wanted = {f"d365-{oid}" for oid, o in h.dv.rows["opportunity"].items()
              if (o.get("estimatedvalue") or 0) > 1500 and o.get("statecode") == 0}
    other = {f"d365-{oid}" for oid in h.dv.rows["opportunity"]} - wanted
    assert synced and synced <= wanted
    assert not synced & other


SOURCES = {1: "Advertisement", 2: "Employee Referral", 3: "External Referral", 4: "Partner", 5: "Public Relations",
           6: "Seminar", 7: "Trade Show", 8: "Web", 9: "Word of Mouth", 10: "Other"}


async def _ac(h: Harness, method: str, path: str, **kwargs: Any) -> Any:
    return (await ac_request(h, method, path, **kwargs)).json()


@pytest.mark.parametrize("fmt", ["plain", "pipes"])
async def test_an_option_set_syncs_to_dropdown_options(harness: HarnessFactory, fmt: str) -> None:
    h = await harness(seed_contacts=20, config=_config(leads={"enabled": True, "direction": "push"}),
                      ac_switches={"dropdown_value_format": fmt})
    field = (await _ac(h, "POST", "fields", json={"field": {"title": "Lead source", "type": "dropdown"}}))["field"]
    await _ac(h, "POST", "fieldOption/bulk", json={"fieldOptions": [
        {"field": str(field["id"]), "label": label, "value": label, "orderid": i} for i, label in SOURCES.items()]})
    cfg = h.config.model_copy(deep=True)
    cfg.entities.leads.custom = [FieldMapping(dynamics="leadsourcecode", activecampaign=f"field:{field['id']}",
                                              direction="push", option_map={str(k): v for k, v in SOURCES.items()})]
    await h.store.save_config(cfg)
    await h.until_idle()
    links = {link.dynamics_id: link for link in await h.links("lead")}
    checked = 0
    for lid, lead in h.dv.rows["lead"].items():
        link = links.get(lid)
        if link is None or lead.get("leadsourcecode") is None:
            continue
        values = (await _ac(h, "GET", f"contacts/{link.ac_id}/fieldValues"))["fieldValues"]
        mine = [v["value"] for v in values if str(v["field"]) == str(field["id"])]
        assert mine and mine[0].strip("|") == SOURCES[int(lead["leadsourcecode"])]
        checked += 1
    assert checked >= 3
    # An echo of the same values writes nothing.
    quiet = await h.run()
    assert h.ac_writes(quiet) == 0


async def test_every_pass_keeps_its_time_budget_while_associating_accounts(harness: HarnessFactory) -> None:
    """Completing imported links costs one AC call per titled contact (the association's job title):
    with many, the pass stops at its budget and the continuation goes on (a pass that ran on would
    be killed by the Functions host every time and never finish)."""
    budget = 60.0
    h = await harness(seed_contacts=1_200, page_size=5000, config=_config(**ACCOUNTS_ON))
    lengths: list[float] = []
    for _ in range(60):
        started = h.clock.monotonic()
        r = await h.engine().run_pass(h.cid, time_budget=budget)
        lengths.append(h.clock.monotonic() - started)
        assert r.outcome in ("finished", "continued"), r.message
        if r.more_work:
            continue
        if r.open_imports:
            h.clock.advance(30)
            continue
        break
    else:
        raise AssertionError("the connection did not become idle")
    # One chunk of association calls (100 at 5/s) may end past the deadline, no more.
    assert max(lengths) <= budget + 25, lengths
    titled = [link for link in await h.links("contact")
              if h.dv.rows["contact"][link.dynamics_id].get("_parentcustomerid_value")
              and h.dv.rows["contact"][link.dynamics_id].get("jobtitle")]
    assert len(titled) > 500  # enough association calls to need several passes
    by_contact = {str(ac.contact): ac for ac in _account_contacts(h)}
    for link in titled:
        assert by_contact[str(link.ac_id)].job_title == h.dv.rows["contact"][link.dynamics_id]["jobtitle"]


async def _assert_associations(h: Harness) -> int:
    """Every linked contact's AC association is its account's, with its title; returns how many."""
    account_links = {link.dynamics_id: link.ac_id for link in await h.links("account")}
    by_contact: dict[str, list[Any]] = {}
    for ac in _account_contacts(h):
        by_contact.setdefault(str(ac.contact), []).append(ac)
    checked = 0
    for link in await h.links("contact"):
        row = h.dv.rows["contact"][link.dynamics_id]
        parent = row.get("_parentcustomerid_value")
        found = by_contact.get(str(link.ac_id), [])
        if parent is None:
            assert not found
            continue
        assert len(found) == 1, f"{link.email}: {len(found)} associations"
        assert str(found[0].account) == account_links[parent], link.email
        assert (found[0].job_title or None) == (row.get("jobtitle") or None), link.email
        checked += 1
    return checked


@pytest.mark.parametrize(("first", "then"), [("link_or_create", "ignore"), ("ignore", "link_or_create")])
async def test_the_import_reading_of_account_names_is_learnt_and_a_change_is_caught(
        harness: HarnessFactory, first: str, then: str) -> None:
    """Whether an import's customer_acct_name links the new contact is learnt from the first imports
    (titled contacts are not named: one create carries the title); a sample keeps checking it, and
    when AC starts to behave the other way every association the pass assumed is read again."""
    h = await harness(seed_contacts=300, page_size=5000, config=_config(**ACCOUNTS_ON),
                      ac_switches={"customer_acct_name": first})
    await h.until_idle()
    assert await _assert_associations(h) > 100
    cursor = await h.store.get_ac_cursor(h.cid, "contact")
    assert cursor is not None and cursor.import_links_accounts is (first != "ignore")
    # AC changes its behaviour; new untitled contacts of existing accounts arrive.
    h.ac.switches["customer_acct_name"] = then
    accounts = [link.dynamics_id for link in await h.links("account")]
    for i in range(120):
        await h.dv_create("contacts", {"lastname": f"New {i}", "emailaddress1": f"new.{i}@example.org",
                                       "parentcustomerid_account@odata.bind": f"/accounts({accounts[i % 10]})"})
    h.clock.advance(3600)
    passes = await h.until_idle()
    assert await _assert_associations(h) > 220
    assert not [e for e in await h.store.list_errors(h.cid) if e.code == "account_contact"]
    cursor = await h.store.get_ac_cursor(h.cid, "contact")
    assert cursor is not None and cursor.import_links_accounts is (then != "ignore")
    # Once learnt, a pass of new contacts reads only a sample of their associations.
    for i in range(120, 240):
        await h.dv_create("contacts", {"lastname": f"New {i}", "emailaddress1": f"new.{i}@example.org",
                                       "parentcustomerid_account@odata.bind": f"/accounts({accounts[i % 10]})"})
    h.clock.advance(3600)
    passes = await h.until_idle()
    assert await _assert_associations(h) > 340
    reads = sum(p.run.api_calls.get("activecampaign", {}).get(k, 0) for p in passes if p.run
                for k in ("accountContacts.list", "contact.accountContacts"))
    assert reads <= 120 // 50 + 2, reads


async def test_a_pass_killed_after_making_associations_resumes_without_errors(harness: HarnessFactory) -> None:
    """Killed between the association creates and the link save: the next pass finds the links
    pending, takes the contacts as new, and the creates AC refuses are read and found right."""
    from tests.engine.test_contacts_push import Killed

    async def die(name: str, info: dict[str, Any]) -> None:
        if name == "after_associations" and info["count"] > 20:
            raise Killed(name)

    h = await harness(seed_contacts=300, page_size=5000, config=_config(**ACCOUNTS_ON))
    with pytest.raises(Killed):
        for _ in range(10):  # the first pass imports, a later one completes the links
            await h.engine(checkpoint=die).run_pass(h.cid)
            h.clock.advance(120)  # the worker's delay while imports are open
    h.clock.advance(3600)  # the dead holder's lease expires
    await h.until_idle()
    assert await _assert_associations(h) > 100
    assert not [e for e in await h.store.list_errors(h.cid) if e.code == "account_contact"]
