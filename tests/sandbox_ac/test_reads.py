"""What AC -> Dynamics reads need: the documented ways to read custom-field values, udate moved by every contact
write path, account timestamps moved by every account write, the documented account list parameters."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .helpers import new_contact, new_field


async def _udate(client: httpx.AsyncClient, cid: str) -> str:
    return str((await client.get(f"/api/3/contacts/{cid}")).json()["contact"]["udate"])


async def test_the_three_documented_field_value_reads_agree(client: httpx.AsyncClient) -> None:
    city, size = await new_field(client, "City"), await new_field(client, "Size")
    a = await new_contact(client, "a@example.com", fieldValues=[{"field": city, "value": "Austin"},
                                                                {"field": size, "value": "10"}])
    await new_contact(client, "b@example.com", fieldValues=[{"field": city, "value": "Kraków"}])
    embedded = (await client.get(f"/api/3/contacts/{a['id']}")).json()["fieldValues"]
    own = (await client.get(f"/api/3/contacts/{a['id']}/fieldValues")).json()["fieldValues"]
    listed = (await client.get("/api/3/fieldValues", params={"limit": 100})).json()
    of_a = [v for v in listed["fieldValues"] if v["contact"] == a["id"]]
    assert [(v["field"], v["value"]) for v in embedded] == [(city, "Austin"), (size, "10")]
    assert embedded == own == of_a
    assert listed["meta"]["total"] == "3"
    by_field = (await client.get("/api/3/fieldValues", params={"filters[fieldid]": city})).json()
    assert [v["value"] for v in by_field["fieldValues"]] == ["Austin", "Kraków"]
    by_value = (await client.get("/api/3/fieldValues", params={"filters[val]": "Kraków"})).json()
    assert [v["contact"] for v in by_value["fieldValues"]] == [str(int(a["id"]) + 1)]
    page = (await client.get("/api/3/fieldValues", params={"limit": 2, "offset": 2})).json()
    assert len(page["fieldValues"]) == 1 and page["meta"]["total"] == "3"


async def test_contacts_list_carries_no_field_values_by_default(client: httpx.AsyncClient) -> None:
    field = await new_field(client, "City")
    await new_contact(client, "a@example.com", fieldValues=[{"field": field, "value": "Austin"}])
    body = (await client.get("/api/3/contacts", params={"include": "fieldValues"})).json()
    assert "fieldValues" not in body and "fieldValues" not in body["contacts"][0]


async def test_every_contact_write_path_moves_udate(client: httpx.AsyncClient, ac: ACState,
                                                    ac_clock: SandboxClock) -> None:
    field = await new_field(client, "City")
    c = await new_contact(client, "w@example.com")
    cid = c["id"]

    async def moved(call: Any) -> bool:
        before = await _udate(client, cid)
        ac_clock.advance(60)
        await call()
        return await _udate(client, cid) > before

    assert await moved(lambda: client.put(f"/api/3/contacts/{cid}", json={"contact": {"lastName": "One"}}))
    assert await moved(lambda: client.post("/api/3/contact/sync",
                                           json={"contact": {"email": "w@example.com", "lastName": "Two"}}))
    assert await moved(lambda: client.post("/api/3/fieldValues",
                                           json={"fieldValue": {"contact": cid, "field": field, "value": "A"}}))
    fv = (await client.get(f"/api/3/contacts/{cid}/fieldValues")).json()["fieldValues"][0]["id"]
    assert await moved(lambda: client.put(f"/api/3/fieldValues/{fv}",
                                          json={"fieldValue": {"contact": cid, "field": field, "value": "B"}}))

    async def imported() -> None:
        await client.post("/api/3/import/bulk_import", json={"contacts": [
            {"email": "w@example.com", "fields": [{"id": int(field), "value": "C"}]}, {"email": "x@example.com"}]})
        ac_clock.advance(5)

    assert await moved(imported)
    # Writes that change nothing do not (register #5, default).
    assert not await moved(lambda: client.put(f"/api/3/contacts/{cid}", json={"contact": {"lastName": "Two"}}))
    assert not await moved(lambda: client.post("/api/3/fieldValues",
                                               json={"fieldValue": {"contact": cid, "field": field, "value": "C"}}))
    assert await moved(lambda: client.delete(f"/api/3/fieldValues/{fv}"))


async def _account(client: httpx.AsyncClient, name: str, **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/3/accounts", json={"account": {"name": name, **extra}})
    assert r.status_code == 201, r.text
    account: dict[str, Any] = r.json()["account"]
    return account


async def _updated(client: httpx.AsyncClient, aid: str) -> str:
    return str((await client.get(f"/api/3/accounts/{aid}")).json()["account"]["updatedTimestamp"])


async def test_every_account_write_moves_updated_timestamp(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    meta = (await client.post("/api/3/accountCustomFieldMeta", json={"accountCustomFieldMetum": {
        "fieldLabel": "Tier", "fieldType": "text"}})).json()["accountCustomFieldMetum"]["id"]
    acct = await _account(client, "Timely")
    aid = acct["id"]

    async def moved(call: Any) -> bool:
        before = await _updated(client, aid)
        ac_clock.advance(60)
        r = await call()
        assert r.status_code < 300, r.text
        return await _updated(client, aid) > before

    assert await moved(lambda: client.put(f"/api/3/accounts/{aid}", json={"account": {"name": "Timely 2"}}))
    assert await moved(lambda: client.put(f"/api/3/accounts/{aid}", json={"account": {"accountUrl": "https://t"}}))
    assert await moved(lambda: client.put(f"/api/3/accounts/{aid}", json={"account": {
        "fields": [{"customFieldId": int(meta), "fieldValue": "gold"}]}}))
    assert await moved(lambda: client.post("/api/3/accountCustomFieldData", json={"accountCustomFieldDatum": {
        "customerAccountId": aid, "customFieldId": meta, "fieldValue": "silver"}}))
    datum = (await client.get("/api/3/accountCustomFieldData",
                              params={"filters[customerAccountId]": aid})).json()["accountCustomFieldData"][0]["id"]
    assert await moved(lambda: client.put(f"/api/3/accountCustomFieldData/{datum}", json={
        "accountCustomFieldDatum": {"fieldValue": "bronze"}}))
    assert await moved(lambda: client.request("PATCH", "/api/3/accountCustomFieldData/bulkUpdate",
                                              json=[{"id": datum, "fieldValue": "iron"}]))
    assert await moved(lambda: client.post("/api/3/accountCustomFieldData/bulkCreate", json=[
        {"accountId": aid, "customFieldId": meta, "fieldValue": "tin"}]))
    assert await moved(lambda: client.delete(f"/api/3/accountCustomFieldData/{datum}"))
    # Nothing changed: no move (switch account_udate_on_noop, default); an association does not move it either.
    assert not await moved(lambda: client.put(f"/api/3/accounts/{aid}", json={"account": {"name": "Timely 2"}}))
    c = await new_contact(client, "emp@example.com")
    assert not await moved(lambda: client.post("/api/3/accountContacts", json={"accountContact": {
        "contact": c["id"], "account": aid}}))


async def test_account_list_parameters(client: httpx.AsyncClient) -> None:
    for name in ("Alpha Co", "Beta Co", "Gamma Ltd"):
        await _account(client, name)
    c = await new_contact(client, "m@example.com")
    await client.post("/api/3/accountContacts", json={"accountContact": {"contact": c["id"], "account": "1"}})
    plain = (await client.get("/api/3/accounts", params={"limit": 2})).json()
    assert [a["name"] for a in plain["accounts"]] == ["Alpha Co", "Beta Co"] and plain["meta"]["total"] == "3"
    assert plain["accounts"][0]["contactCount"] == "0"  # counted only with count_deals=true (doc)
    counted = (await client.get("/api/3/accounts", params={"count_deals": "true"})).json()
    assert counted["accounts"][0]["contactCount"] == "1"
    found = (await client.get("/api/3/accounts", params={"search": " co", "offset": 1})).json()
    assert [a["name"] for a in found["accounts"]] == ["Beta Co"] and found["meta"]["total"] == "2"
    ordered = (await client.get("/api/3/accounts", params={"orders[updatedTimestamp]": "DESC"})).json()
    assert [a["id"] for a in ordered["accounts"]] == ["1", "2", "3"]  # no documented order: ignored
