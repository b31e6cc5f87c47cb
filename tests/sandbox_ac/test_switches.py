"""One test per register switch (ASSUMPTIONS.md): each shows the switch really changes behaviour."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.activecampaign import create_app
from sandbox.activecampaign.state import ACState
from sandbox.activecampaign.switches import SPECS
from sandbox.clock import SandboxClock

from .conftest import TOKEN
from .helpers import emails, new_contact, new_field, new_list, new_tag

SCHEMA_WITH_DATE = {"slug": "renewal", "labels": {"singular": "Renewal", "plural": "Renewals"},
                    "fields": [{"id": "due", "labels": {"singular": "Due", "plural": "Dues"}, "type": "date"}]}


@pytest.mark.parametrize("name", [s.name for s in SPECS])
def test_every_switch_has_a_test(name: str) -> None:
    assert callable(globals().get(f"test_switch_{name}")), f"write test_switch_{name}"


async def test_switch_endpoint_validates(client: httpx.AsyncClient, ac: ACState) -> None:
    assert (await client.post("/_sandbox/switches", json={"failure_row_base": 2})).status_code == 400
    assert (await client.post("/_sandbox/switches", json={"no_such": 1})).status_code == 400
    assert (await client.post("/_sandbox/switches", json={"udate_on_tag_change": 1})).status_code == 400
    r = await client.post("/_sandbox/switches", json={"failure_row_base": 1, "sync_update_status": 200})
    assert r.json()["switches"]["failure_row_base"] == 1 and ac.switches["sync_update_status"] == 200
    with pytest.raises(ValueError):
        ac.switches["account_timezone"] = "Mars/Olympus"
    r = await client.post("/_sandbox/switches", json={"reset": True})
    assert r.json()["switches"]["failure_row_base"] == 0


async def _import(client: httpx.AsyncClient, contacts: list[dict[str, Any]], clock: SandboxClock,
                  wait: float = 5) -> str:
    r = await client.post("/api/3/import/bulk_import", json={"contacts": contacts})
    assert r.status_code == 200, r.text
    clock.advance(wait)
    return str(r.json()["batchId"])


@pytest.mark.parametrize("spends", [True, False])
async def test_switch_bulk_import_spends_rps(ac_clock: SandboxClock, spends: bool) -> None:
    app = create_app(clock=ac_clock, api_token=TOKEN, enforce_rate_limit=True)
    app.state.ac.switches["bulk_import_spends_rps"] = spends
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://s",
                                 headers={"Api-Token": TOKEN}) as client:
        statuses = [(await client.post("/api/3/import/bulk_import", json={"contacts": [
            {"email": f"r{i}@example.com"}, {"email": f"q{i}@example.com"}]})).status_code for i in range(6)]
        after = (await client.get("/api/3/users/me")).status_code
    assert statuses == ([200] * 5 + [429] if spends else [200] * 6)
    assert after == (429 if spends else 200)


@pytest.mark.parametrize("moves", [True, False])
async def test_switch_udate_on_tag_change(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                          moves: bool) -> None:
    ac.switches["udate_on_tag_change"] = moves
    tag = await new_tag(client, "t")
    c = await new_contact(client, "t@example.com")
    ac_clock.advance(60)
    r = await client.post("/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag}})
    udate = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]["udate"]
    assert (udate > c["udate"]) is moves
    ac_clock.advance(60)  # removing the tag again, as a create-on-request pass does
    await client.delete(f"/api/3/contactTags/{r.json()['contactTag']['id']}")
    later = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]["udate"]
    assert (later > udate) is moves


@pytest.mark.parametrize("moves", [True, False])
@pytest.mark.parametrize("how", ["subscribe", "unsubscribe_api", "unsubscribe_page", "bounce", "global"])
async def test_switch_udate_on_list_change(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                           moves: bool, how: str) -> None:
    ac.switches["udate_on_list_change"] = False
    lst = await new_list(client, "L")
    c = await new_contact(client, "l@example.com")
    if how != "subscribe":
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    ac.switches["udate_on_list_change"] = moves
    ac_clock.advance(60)
    status = 2
    if how in ("subscribe", "unsubscribe_api"):
        status = 1 if how == "subscribe" else 2
        r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                           "status": status}})
    elif how == "unsubscribe_page":
        r = await client.post("/_sandbox/unsubscribe", json={"contact": c["id"], "list": lst})
    elif how == "bounce":
        status = 3
        r = await client.post("/_sandbox/bounce", json={"contact": c["id"], "list": lst, "type": "hard"})
    else:
        status = 1  # the list row keeps status 1 under the default reading of global_unsubscribe_reading
        r = await client.post("/_sandbox/global_unsubscribe", json={"contact": c["id"]})
    assert r.status_code in (200, 201), r.text
    got = (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]
    assert [x["status"] for x in got] == [str(status)]
    udate = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]["udate"]
    assert (udate > c["udate"]) is moves


@pytest.mark.parametrize("moves", [True, False])
async def test_switch_udate_on_import(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                      moves: bool) -> None:
    ac.switches["udate_on_import"] = moves
    c = await new_contact(client, "i@example.com", firstName="Same")
    ac_clock.advance(60)
    await _import(client, [{"email": "i@example.com", "first_name": "Same"}, {"email": "other@example.com"}],
                  ac_clock)
    udate = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]["udate"]
    assert (udate > c["udate"]) is moves


@pytest.mark.parametrize("moves", [True, False])
async def test_switch_udate_on_noop_update(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                           moves: bool) -> None:
    ac.switches["udate_on_noop_update"] = moves
    c = await new_contact(client, "n@example.com", firstName="Same")
    ac_clock.advance(60)
    r = await client.post("/api/3/contact/sync", json={"contact": {"email": "n@example.com", "firstName": "Same"}})
    assert (r.json()["contact"]["udate"] > c["udate"]) is moves


async def test_switch_account_timezone(client: httpx.AsyncClient, ac: ACState) -> None:
    c = await new_contact(client, "tz@example.com")
    assert c["cdate"] == "2026-05-28T15:26:40-05:00"
    ac.switches["account_timezone"] = "UTC"
    got = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]
    assert got["cdate"] == "2026-05-28T20:26:40+00:00"
    ac.switches["account_timezone"] = "Europe/Berlin"
    got = (await client.get(f"/api/3/contacts/{c['id']}")).json()["contact"]
    assert got["cdate"] == "2026-05-28T22:26:40+02:00"


@pytest.mark.parametrize(("zone", "included"), [("account", False), ("utc", True)])
async def test_switch_updated_after_tz(client: httpx.AsyncClient, ac: ACState, zone: str, included: bool) -> None:
    ac.switches["updated_after_tz"] = zone
    await new_contact(client, "z@example.com")  # udate 20:26:40Z = 15:26:40 in Chicago
    found = await emails(client, **{"filters[updated_after]": "2026-05-28 16:00:00"})
    assert (found == ["z@example.com"]) is included


@pytest.mark.parametrize(("granularity", "included"), [("datetime", False), ("date", True)])
async def test_switch_updated_after_granularity(client: httpx.AsyncClient, ac: ACState, granularity: str,
                                                included: bool) -> None:
    ac.switches["updated_after_granularity"] = granularity
    await new_contact(client, "g@example.com")  # 15:26:40 local
    found = await emails(client, **{"filters[updated_after]": "2026-05-28T23:00:00-05:00"})
    assert (found == ["g@example.com"]) is included


@pytest.mark.parametrize(("mode", "expect"), [("link_or_create", {"new@example.com": "New Co", "old@example.com":
                                                                 "Existing"}),
                                             ("link_only", {"old@example.com": "Existing"}), ("ignore", {})])
async def test_switch_customer_acct_name(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock, mode: str,
                                         expect: dict[str, str]) -> None:
    ac.switches["customer_acct_name"] = mode
    await client.post("/api/3/accounts", json={"account": {"name": "Existing"}})
    await _import(client, [{"email": "new@example.com", "customer_acct_name": "New Co"},
                           {"email": "old@example.com", "customer_acct_name": "existing"}], ac_clock)
    await client.get("/api/3/users/me")  # any later request sees the batch due and processes it
    linked = {ac.contacts[x["contact"]].email: ac.accounts[x["account"]]["name"]
              for x in ac.account_contacts.values()}
    assert linked == expect


@pytest.mark.parametrize("base", [0, 1])
async def test_switch_failure_row_base(client: httpx.AsyncClient, ac: ACState, base: int) -> None:
    ac.switches["failure_row_base"] = base
    r = await client.post("/api/3/import/bulk_import", json={"contacts": [{"email": "ok@example.com"},
                                                                          {"email": "bad"}]})
    assert r.json()["failureReasons"][0]["contact"] == 1 + base


PLAN_BODIES: list[tuple[int, dict[str, Any]]] = [
    (403, {"errors": [{"status": 403, "title": "Forbidden",
                       "detail": "Your plan does not include access to this feature."}]}),
    (404, {"message": "Not Found"}),
    (402, {"errors": [{"status": 402, "title": "Payment Required",
                       "detail": "Upgrade your plan to access this feature."}]}),
]


@pytest.mark.parametrize(("status", "body"), PLAN_BODIES)
async def test_switch_plan_limit_status(client: httpx.AsyncClient, ac: ACState, status: int,
                                        body: dict[str, Any]) -> None:
    ac.switches["plan_limit_status"] = status
    ac.set_plan("lite")
    for path in ("/api/3/accounts", "/api/3/customObjects/schemas"):
        r = await client.get(path)
        assert (r.status_code, r.json()) == (status, body)


@pytest.mark.parametrize("status", [200, 201])
async def test_switch_sync_update_status(client: httpx.AsyncClient, ac: ACState, status: int) -> None:
    ac.switches["sync_update_status"] = status
    await new_contact(client, "s@example.com")
    r = await client.post("/api/3/contact/sync", json={"contact": {"email": "s@example.com", "firstName": "X"}})
    assert r.status_code == status
    r = await client.post("/api/3/contact/sync", json={"contact": {"email": "brand-new@example.com"}})
    assert r.status_code == 201


@pytest.mark.parametrize("status", [200, 201])
async def test_switch_custom_object_update_status(client: httpx.AsyncClient, ac: ACState, status: int) -> None:
    ac.switches["custom_object_update_status"] = status
    schema = (await client.post("/api/3/customObjects/schemas", json={"schema": {
        "slug": "s", "labels": {"singular": "S", "plural": "Ss"},
        "fields": [{"id": "f", "labels": {"singular": "F", "plural": "Fs"}, "type": "text"}]}})).json()["schema"]["id"]
    record = {"record": {"externalId": "e1", "fields": [{"id": "f", "value": "a"}]}}
    assert (await client.post(f"/api/3/customObjects/records/{schema}", json=record)).status_code == 201
    assert (await client.post(f"/api/3/customObjects/records/{schema}", json=record)).status_code == status


@pytest.mark.parametrize("mode", ["ids", "emails"])
async def test_switch_import_info_success(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                          mode: str) -> None:
    ac.switches["import_info_success"] = mode
    batch = await _import(client, [{"email": "a@example.com"}, {"email": "b@example.com"}], ac_clock)
    info = (await client.get("/api/3/import/info", params={"batchId": batch})).json()
    ids = [str(ac.contacts_by_email(e)[0].id) for e in ("a@example.com", "b@example.com")]
    assert info["success"] == (ids if mode == "ids" else ["a@example.com", "b@example.com"])


@pytest.mark.parametrize("status", ["outstanding", "processing"])
async def test_switch_import_info_pending(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                          status: str) -> None:
    ac.switches["import_info_pending"] = status
    batch = await _import(client, [{"email": "a@example.com"}, {"email": "b@example.com"}], ac_clock, wait=0)
    assert (await client.get("/api/3/import/info", params={"batchId": batch})).json()["status"] == status


@pytest.mark.parametrize(("delay", "done_after_5s"), [(0, True), (5, True), (30, False)])
async def test_switch_import_delay_seconds(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                           delay: int, done_after_5s: bool) -> None:
    ac.switches["import_delay_seconds"] = delay
    batch = await _import(client, [{"email": "a@example.com"}, {"email": "b@example.com"}], ac_clock)
    status = (await client.get("/api/3/import/info", params={"batchId": batch})).json()["status"]
    assert (status == "completed") is done_after_5s


@pytest.mark.parametrize(("fmt", "stored"), [("plain", "Tech"), ("pipes", "||Tech||")])
async def test_switch_dropdown_value_format(client: httpx.AsyncClient, ac: ACState, fmt: str, stored: str) -> None:
    ac.switches["dropdown_value_format"] = fmt
    field = await new_field(client, "Industry", "dropdown")
    multi = await new_field(client, "Topics", "checkbox")
    for i, sent in enumerate(("Tech", "||Tech||")):
        c = await new_contact(client, f"d{i}@example.com", fieldValues=[{"field": field, "value": sent},
                                                                      {"field": multi, "value": "A"}])
        values = (await client.get(f"/api/3/contacts/{c['id']}/fieldValues")).json()["fieldValues"]
        assert {v["field"]: v["value"] for v in values} == {field: stored, multi: "||A||"}


@pytest.mark.parametrize("mode", ["accepted", "rejected"])
async def test_switch_custom_object_date_fields(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["custom_object_date_fields"] = mode
    r = await client.post("/api/3/customObjects/schemas", json={"schema": SCHEMA_WITH_DATE})
    assert r.status_code == (201 if mode == "accepted" else 422)
    if mode == "accepted":
        schema = r.json()["schema"]["id"]
        ok = await client.post(f"/api/3/customObjects/records/{schema}",
                               json={"record": {"externalId": "r", "fields": [{"id": "due", "value": "2026-01-31"}]}})
        assert ok.status_code == 201
        bad = await client.post(f"/api/3/customObjects/records/{schema}",
                                json={"record": {"externalId": "r", "fields": [{"id": "due", "value": "31/01/2026"}]}})
        assert bad.status_code == 422


@pytest.mark.parametrize("accepts", [True, False])
async def test_switch_v1_header_auth(client: httpx.AsyncClient, ac: ACState, accepts: bool) -> None:
    ac.switches["v1_header_auth"] = accepts
    ac.reset(seed_contacts=1)
    r = await client.get("/admin/api.php", params={"api_action": "campaign_send", "api_output": "json",
                                                   "email": ac.contacts[1].email, "campaignid": 1, "messageid": 1,
                                                   "action": "send"})
    assert r.json()["result_code"] == (1 if accepts else 0)


@pytest.mark.parametrize(("order", "expected"), [("email", ["a@example.com", "b@example.com", "c@example.com"]),
                                                 ("id", ["c@example.com", "a@example.com", "b@example.com"])])
async def test_switch_contacts_default_order(client: httpx.AsyncClient, ac: ACState, order: str,
                                             expected: list[str]) -> None:
    ac.switches["contacts_default_order"] = order
    for email in ("c@example.com", "a@example.com", "b@example.com"):
        await new_contact(client, email)
    assert await emails(client) == expected


@pytest.mark.parametrize("status", [429, 503])
async def test_switch_rate_limit_status(ac_clock: SandboxClock, status: int) -> None:
    app = create_app(clock=ac_clock, api_token=TOKEN)
    app.state.ac.switches["rate_limit_status"] = status
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://s",
                                 headers={"Api-Token": TOKEN}) as client:
        codes = [(await client.get("/api/3/users/me")) for _ in range(6)]
    assert [r.status_code for r in codes] == [200] * 5 + [status]
    assert int(codes[-1].headers["Retry-After"]) >= 1


@pytest.mark.parametrize("moves", [False, True])
async def test_switch_account_udate_on_noop(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                            moves: bool) -> None:
    ac.switches["account_udate_on_noop"] = moves
    acct = (await client.post("/api/3/accounts", json={"account": {"name": "Same"}})).json()["account"]
    ac_clock.advance(60)
    r = await client.put(f"/api/3/accounts/{acct['id']}", json={"account": {"name": "Same"}})
    assert (r.json()["account"]["updatedTimestamp"] > acct["updatedTimestamp"]) is moves


@pytest.mark.parametrize("moves", [False, True])
async def test_switch_account_udate_on_contact_link(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                                    moves: bool) -> None:
    ac.switches["account_udate_on_contact_link"] = moves
    acct = (await client.post("/api/3/accounts", json={"account": {"name": "Linked"}})).json()["account"]
    c = await new_contact(client, "link@example.com")
    ac_clock.advance(60)
    await client.post("/api/3/accountContacts", json={"accountContact": {"contact": c["id"], "account": acct["id"]}})
    got = (await client.get(f"/api/3/accounts/{acct['id']}")).json()["account"]
    assert (got["updatedTimestamp"] > acct["updatedTimestamp"]) is moves


@pytest.mark.parametrize("mode", ["ignored", "honoured"])
async def test_switch_contacts_list_include(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["contacts_list_include"] = mode
    field, lst, tag = await new_field(client, "City"), await new_list(client, "L"), await new_tag(client, "t")
    c = await new_contact(client, "inc@example.com", fieldValues=[{"field": field, "value": "Austin"}])
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag}})
    body = (await client.get("/api/3/contacts", params={"include": "fieldValues,contactLists,contactTags"})).json()
    if mode == "ignored":
        assert set(body) == {"scoreValues", "contacts", "meta"}
    else:
        assert [v["value"] for v in body["fieldValues"]] == ["Austin"]
        assert [x["list"] for x in body["contactLists"]] == [lst] and [x["tag"] for x in body["contactTags"]] == [tag]


@pytest.mark.parametrize("scope", ["list", "all_lists"])
async def test_switch_bounce_scope(client: httpx.AsyncClient, ac: ACState, scope: str) -> None:
    ac.switches["bounce_scope"] = scope
    one, two = await new_list(client, "One"), await new_list(client, "Two")
    c = await new_contact(client, "b@example.com")
    for lst in (one, two):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    await client.post("/_sandbox/bounce", json={"contact": c["id"], "list": one, "type": "hard"})
    rows = (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]
    assert {x["list"]: x["status"] for x in rows} == {one: "3", two: "3" if scope == "all_lists" else "1"}


@pytest.mark.parametrize("reading", ["unreadable", "all_lists"])
async def test_switch_global_unsubscribe_reading(client: httpx.AsyncClient, ac: ACState, reading: str) -> None:
    ac.switches["global_unsubscribe_reading"] = reading
    lst = await new_list(client, "L")
    c = await new_contact(client, "g@example.com")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    await client.post("/_sandbox/global_unsubscribe", json={"contact": c["id"]})
    rows = (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]
    assert rows[0]["status"] == ("2" if reading == "all_lists" else "1")
    assert await emails(client, listid=lst, status=2) == (["g@example.com"] if reading == "all_lists" else [])
    assert await emails(client, listid=lst, status=1) == ([] if reading == "all_lists" else ["g@example.com"])


def _receiver(ac: ACState) -> list[dict[str, str]]:
    from urllib.parse import parse_qsl

    forms: list[dict[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        forms.append(dict(parse_qsl(request.content.decode(), keep_blank_values=True)))
        return httpx.Response(200)

    ac.webhook_transport = httpx.MockTransport(handle)
    return forms


async def _hook(client: httpx.AsyncClient, events: list[str]) -> None:
    r = await client.post("/api/3/webhooks", json={"webhook": {"name": "h", "url": "https://p.example/h",
                                                                "events": events, "sources": ["api", "system"]}})
    assert r.status_code == 201


@pytest.mark.parametrize("mode", ["never", "always"])
async def test_switch_webhook_duplicates(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["webhook_duplicates"] = mode
    forms = _receiver(ac)
    await _hook(client, ["subscribe"])
    lst, c = await new_list(client, "L"), await new_contact(client, "d@example.com")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    assert len(forms) == (2 if mode == "always" else 1) and forms[0] == forms[-1]


@pytest.mark.parametrize("fires", [False, True])
async def test_switch_import_fires_webhooks(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock,
                                            fires: bool) -> None:
    ac.switches["import_fires_webhooks"] = fires
    forms = _receiver(ac)
    await _hook(client, ["subscribe", "contact_tag_added"])
    lst = await new_list(client, "L")
    await _import(client, [{"email": "i1@example.com", "tags": ["x"], "subscribe": [{"listid": int(lst)}]},
                           {"email": "i2@example.com"}], ac_clock)
    await client.get("/api/3/users/me")
    assert sorted(f["type"] for f in forms) == (["contact_tag_added", "subscribe"] if fires else [])


@pytest.mark.parametrize("mode", ["with_envelope", "contact_only"])
async def test_switch_automation_webhook_envelope(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["automation_webhook_envelope"] = mode
    ac.reset(seed_contacts=1)
    forms = _receiver(ac)
    await client.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": "https://p.example/a"})
    assert forms[0]["seriesid"] == "1" and forms[0]["contact[id]"] == "1"
    assert ("date_time" in forms[0]) is (mode == "with_envelope")


@pytest.mark.parametrize("shown", [True, False])
async def test_switch_campaign_events_in_activities(client: httpx.AsyncClient, ac: ACState, shown: bool) -> None:
    ac.switches["campaign_events_in_activities"] = shown
    ac.reset(seed_contacts=1)
    lst = await new_list(client, "L")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": "1", "status": 1}})
    ac.activities.clear()
    await client.get("/admin/api.php", params={"api_action": "campaign_send", "api_output": "json",
                                               "email": ac.contacts[1].email, "campaignid": 1, "messageid": 1,
                                               "action": "send"})
    await client.post("/_sandbox/campaigns/1/events", json={"contact": 1, "event": "open"})
    acts = (await client.get("/api/3/activities", params={"contact": 1})).json()["activities"]
    assert [a["reference_action"] for a in acts] == (["open", "send"] if shown else [])
    assert (await client.get("/api/3/campaigns/1")).json()["campaign"]["opens"] == "1"  # counted either way


@pytest.mark.parametrize("mode", ["ignored", "honoured"])
async def test_switch_undocumented_list_filters(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["undocumented_list_filters"] = mode
    ac.reset(seed_contacts=1)
    campaigns = (await client.get("/api/3/campaigns", params={"filters[status]": "0"})).json()["campaigns"]
    automations = (await client.get("/api/3/automations", params={"filters[name]": "welcome"})).json()["automations"]
    assert [c["name"] for c in campaigns] == (["Invoice campaign"] if mode == "honoured" else
                                              ["Welcome campaign", "Win-back campaign", "Invoice campaign"])
    assert len(automations) == (1 if mode == "honoured" else 3)


@pytest.mark.parametrize("mode", ["refused", "duplicate"])
async def test_switch_automation_reentry(client: httpx.AsyncClient, ac: ACState, mode: str) -> None:
    ac.switches["automation_reentry"] = mode
    ac.reset(seed_contacts=1)
    body = {"contactAutomation": {"contact": "1", "automation": "1"}}
    assert (await client.post("/api/3/contactAutomations", json=body)).status_code == 201
    again = await client.post("/api/3/contactAutomations", json=body)
    assert again.status_code == (201 if mode == "duplicate" else 403)
    assert len((await client.get("/api/3/contacts/1/contactAutomations")).json()["contactAutomations"]) == (
        2 if mode == "duplicate" else 1)
