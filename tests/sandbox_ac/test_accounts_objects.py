"""Accounts, accountContacts, account custom fields, custom objects, automations, campaigns, v1 campaign_send."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .conftest import TOKEN
from .helpers import new_contact

SCHEMA = {"slug": "membership", "labels": {"singular": "Membership", "plural": "Memberships"},
          "description": "D365 memberships",
          "fields": [{"id": "level", "labels": {"singular": "Level", "plural": "Levels"}, "type": "text",
                      "required": True},
                     {"id": "amount", "labels": {"singular": "Amount", "plural": "Amounts"}, "type": "number",
                      "scale": 0}],
          "relationships": [{"id": "primary-contact", "labels": {"singular": "Contact", "plural": "Contacts"},
                             "description": "", "namespace": "contacts", "hasMany": False}]}


async def test_account_names_unique_and_search(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/3/accounts", json={"account": {"name": "Acme Ltd", "accountUrl": "https://acme"}})
    assert r.status_code == 201
    acct = r.json()["account"]
    r = await client.post("/api/3/accounts", json={"account": {"name": "acme ltd"}})
    assert r.status_code == 422
    assert r.json()["errors"][0] == {"title": 'An account named "acme ltd" already exists. Please choose a new name.',
                                     "detail": "", "code": "duplicate", "source": {"pointer": "/data/attributes/name"}}
    await client.post("/api/3/accounts", json={"account": {"name": "Other"}})
    found = (await client.get("/api/3/accounts", params={"search": "acm"})).json()
    assert [a["id"] for a in found["accounts"]] == [acct["id"]] and found["meta"]["total"] == "1"
    r = await client.put(f"/api/3/accounts/{acct['id']}", json={"account": {"name": "Other"}})
    assert r.status_code == 422
    r = await client.post("/api/3/accounts", json={"account": {"accountUrl": "x"}})
    assert r.json()["errors"][0]["code"] == "field_missing"


async def test_contact_belongs_to_one_account(client: httpx.AsyncClient) -> None:
    a1 = (await client.post("/api/3/accounts", json={"account": {"name": "A1"}})).json()["account"]["id"]
    a2 = (await client.post("/api/3/accounts", json={"account": {"name": "A2"}})).json()["account"]["id"]
    c = await new_contact(client, "emp@example.com")
    r = await client.post("/api/3/accountContacts", json={"accountContact": {"contact": c["id"], "account": a1,
                                                                           "jobTitle": "CTO"}})
    assert r.status_code == 201 and r.json()["accountContact"]["jobTitle"] == "CTO"
    link = r.json()["accountContact"]["id"]
    r = await client.post("/api/3/accountContacts", json={"accountContact": {"contact": c["id"], "account": a2}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["title"] == ("This contact is already associated with an account. We currently do "
                                              "not support contacts on multiple accounts.")
    r = await client.put(f"/api/3/accountContacts/{link}", json={"accountContact": {"jobTitle": "CEO"}})
    assert r.json()["accountContact"]["jobTitle"] == "CEO"
    mine = (await client.get(f"/api/3/contacts/{c['id']}/accountContacts")).json()["accountContacts"]
    assert [(x["account"], x["jobTitle"]) for x in mine] == [(a1, "CEO")]
    listed = (await client.get("/api/3/accountContacts", params={"filters[account]": a1})).json()
    assert listed["meta"]["total"] == "1"
    assert (await client.get(f"/api/3/accounts/{a1}")).json()["account"]["contactCount"] == "1"


async def test_account_custom_fields_and_bulk(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    meta = (await client.post("/api/3/accountCustomFieldMeta", json={"accountCustomFieldMetum": {
        "fieldLabel": "Employees", "fieldType": "number", "isFormVisible": 1, "displayOrder": 1}})).json()
    fid = meta["accountCustomFieldMetum"]["id"]
    bad = await client.post("/api/3/accountCustomFieldMeta", json={"accountCustomFieldMetum": {"fieldLabel": "x"}})
    assert bad.status_code == 422
    acct = (await client.post("/api/3/accounts", json={"account": {
        "name": "Fields Inc", "fields": [{"customFieldId": int(fid), "fieldValue": "10"}]}})).json()["account"]
    assert acct["fields"] == [{"customFieldId": int(fid), "fieldValue": "10", "accountId": acct["id"]}]
    ac_clock.advance(30)
    r = await client.post("/api/3/accountCustomFieldData/bulkCreate",
                          json=[{"accountId": acct["id"], "customFieldId": fid, "fieldValue": "20"}])
    assert r.json() == {"message": "the bulk insert was successful"}
    data = (await client.get("/api/3/accountCustomFieldData",
                             params={"filters[customerAccountId]": acct["id"]})).json()["accountCustomFieldData"]
    assert [d["fieldValue"] for d in data] == ["20"]
    r = await client.patch("/api/3/accountCustomFieldData/bulkUpdate", json=[{"id": data[0]["id"], "fieldValue": "30"}])
    assert r.json() == {"message": f"AccountCustomFieldDatas with ID(s): {data[0]['id']} successfully bulk updated."}
    got = (await client.get(f"/api/3/accounts/{acct['id']}")).json()["account"]
    assert got["updatedTimestamp"] > acct["updatedTimestamp"]


async def test_accounts_unavailable_without_plan(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.set_plan("plus")
    for method, path in (("GET", "/api/3/accounts"), ("POST", "/api/3/accountContacts"),
                         ("GET", "/api/3/accountCustomFieldMeta")):
        r = await client.request(method, path, json={})
        assert r.status_code == 403, path
        assert r.json()["errors"][0]["status"] == 403
    assert (await client.get("/api/3/customObjects/schemas")).status_code == 403
    r = await client.post("/_sandbox/plan", json={"plan": "professional"})
    assert r.json() == {"plan": "professional"}
    assert (await client.get("/api/3/accounts")).status_code == 200
    assert (await client.get("/api/3/customObjects/schemas")).status_code == 403


async def _schema(client: httpx.AsyncClient) -> str:
    r = await client.post("/api/3/customObjects/schemas", json={"schema": SCHEMA})
    assert r.status_code == 201, r.text
    return str(r.json()["schema"]["id"])


async def upsert(client: httpx.AsyncClient, schema: str, record: dict[str, Any]) -> httpx.Response:
    return await client.post(f"/api/3/customObjects/records/{schema}", json={"record": record})


async def test_custom_object_upsert_by_external_id(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    schema = await _schema(client)
    c = await new_contact(client, "member@example.com")
    r = await upsert(client, schema, {"externalId": "d365-1", "fields": [{"id": "level", "value": "gold"}],
                                      "relationships": {"primary-contact": [int(c["id"])]}})
    assert r.status_code == 201
    first = r.json()["record"]
    assert first["relationships"] == {"primary-contact": [c["id"]]} and first["createdTimestamp"].endswith("Z")
    ac_clock.advance(5)
    r = await upsert(client, schema, {"externalId": "d365-1", "fields": [{"id": "amount", "value": 100}]})
    assert r.status_code == 201  # default of switch custom_object_update_status
    second = r.json()["record"]
    assert second["id"] == first["id"]
    assert {f["id"]: f["value"] for f in second["fields"]} == {"level": "gold", "amount": 100}
    assert second["updatedTimestamp"] > first["updatedTimestamp"]
    assert second["relationships"] == first["relationships"]  # not sent: kept

    # Documented rules: matching id + no externalId -> update; id + different externalId -> new record.
    r = await upsert(client, schema, {"id": first["id"], "fields": [{"id": "level", "value": "silver"}]})
    assert r.json()["record"]["id"] == first["id"]
    r = await upsert(client, schema, {"id": first["id"], "externalId": "d365-2",
                                      "fields": [{"id": "level", "value": "new"}]})
    assert r.status_code == 201 and r.json()["record"]["id"] != first["id"]
    r = await upsert(client, schema, {"id": "unknown-id", "fields": [{"id": "level", "value": "x"}]})
    assert r.status_code == 201 and r.json()["record"]["id"] != "unknown-id"

    listed = (await client.get(f"/api/3/customObjects/records/{schema}",
                               params={"filters[relationships.primary-contact][eq]": c["id"]})).json()
    assert [x["externalId"] for x in listed["records"]] == ["d365-1"]
    assert listed["meta"] == {"total": 1, "count": 1, "limit": 20, "offset": 0}
    got = await client.get(f"/api/3/customObjects/records/{schema}/external/d365-1")
    assert got.json()["record"]["id"] == first["id"]
    assert (await client.delete(f"/api/3/customObjects/records/{schema}/external/d365-1")).status_code == 202
    assert (await client.get(f"/api/3/customObjects/records/{schema}/{first['id']}")).status_code == 404


async def test_custom_object_validation(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    r = await client.post("/api/3/customObjects/schemas", json={"schema": SCHEMA})
    assert r.status_code == 422 and r.json()["errors"][0]["detail"] == "Schema slug must be unique"
    r = await upsert(client, schema, {"externalId": "x", "fields": [{"id": "colour", "value": "red"}]})
    assert r.status_code == 422
    assert r.json()["errors"][0]["source"] == {"type": "pointer", "value": "/data/attributes/colour"}
    r = await upsert(client, schema, {"externalId": "x", "fields": [{"id": "amount", "value": 3}]})
    assert r.status_code == 422  # required "level" missing
    r = await upsert(client, schema, {"externalId": "x", "fields": [{"id": "level", "value": "a"}],
                                      "relationships": {"primary-contact": [424242]}})
    assert r.status_code == 422
    r = await client.put(f"/api/3/customObjects/schemas/{schema}", json={"schema": {"fields": [
        {"id": "note", "labels": {"singular": "Note", "plural": "Notes"}, "type": "textarea"}]}})
    assert [f["id"] for f in r.json()["schema"]["fields"]] == ["level", "amount", "note"]
    assert (await client.delete(f"/api/3/customObjects/schemas/{schema}")).status_code == 200
    assert (await client.get(f"/api/3/customObjects/schemas/{schema}")).json() == {"message": "Not Found"}


async def test_custom_objects_answer_plan_limit_off_enterprise(client: httpx.AsyncClient, ac: ACState) -> None:
    schema = await _schema(client)
    ac.set_plan("professional")
    r = await upsert(client, schema, {"externalId": "x", "fields": [{"id": "level", "value": "a"}]})
    assert r.status_code == 403
    assert r.json() == {"errors": [{"status": 403, "title": "Forbidden",
                                    "detail": "Your plan does not include access to this feature."}]}


async def test_automations_and_contact_automations(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.reset(seed_contacts=3)
    autos = (await client.get("/api/3/automations")).json()
    assert autos["meta"]["total"] == "3"
    r = await client.post("/api/3/contactAutomations", json={"contactAutomation": {"contact": "1", "automation": "1"}})
    assert r.status_code == 201
    xid = r.json()["contactAutomation"]["id"]
    assert (await client.get("/api/3/contacts/1/contactAutomations")).json()["contactAutomations"][0]["id"] == xid
    assert (await client.get("/api/3/contacts", params={"seriesid": 1})).json()["meta"]["total"] == "1"
    paused = await client.post("/api/3/contactAutomations", json={"contactAutomation": {"contact": "1",
                                                                                        "automation": "3"}})
    assert paused.status_code == 403 and paused.json() == {"message": "Could not create SubscriberSeries"}
    assert (await client.delete(f"/api/3/contactAutomations/{xid}")).status_code == 200
    assert (await client.delete(f"/api/3/contactAutomations/{xid}")).status_code == 403
    campaigns = (await client.get("/api/3/campaigns")).json()
    assert campaigns["meta"]["total"] == "3" and (await client.get("/api/3/messages")).json()["meta"]["total"] == "3"


async def test_v1_campaign_send(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.reset(seed_contacts=2)
    email = ac.contacts[1].email
    params = {"api_action": "campaign_send", "api_output": "json", "email": email, "campaignid": "2",
              "messageid": "2", "type": "html", "action": "send"}
    r = await client.get("/admin/api.php", params=params)
    assert r.status_code == 200 and r.json()["result_code"] == 1 and r.json()["result_message"] == "Message sent"
    assert ac.sends[-1]["contact"] == 1 and ac.sends[-1]["action"] == "send"
    r = await client.post("/admin/api.php?api_action=campaign_send&api_output=json",
                          content=f"email={email}&campaignid=2&messageid=1&action=copy",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.json()["result_code"] == 0  # message 1 is not in campaign 2
    r = await client.get("/admin/api.php", params={**params, "email": "nobody@example.com"})
    assert r.json()["result_code"] == 0
    async with httpx.AsyncClient(transport=client._transport, base_url="https://s") as bare:
        r = await bare.get("/admin/api.php", params=params)
        assert r.status_code == 200 and r.json()["result_code"] == 0
        r = await bare.get("/admin/api.php", params={**params, "api_key": TOKEN})
        assert r.json()["result_code"] == 1


async def test_account_fields_of_the_wrong_kind_are_a_422(client: httpx.AsyncClient, ac: ACState) -> None:
    """Found by fuzzing with the document: a number or boolean ``fields`` answered 500."""
    acct = (await client.post("/api/3/accounts", json={"account": {"name": "Kinds"}})).json()["account"]
    wrong: list[Any] = [5, True, "x", {"customFieldId": 1}, [5], [{"customFieldId": {}}]]
    for fields in wrong:
        for method, url in (("POST", "/api/3/accounts"), ("PUT", f"/api/3/accounts/{acct['id']}")):
            r = await client.request(method, url, json={"account": {"name": "Other", "fields": fields}})
            assert r.status_code == 422, (method, fields, r.text)
            assert r.json()["errors"][0]["code"] in ("field_invalid", "field_missing")
    assert [a["name"] for a in ac.accounts.values()] == ["Kinds"]  # nothing was written
