"""Contacts: CRUD, sync, paging, filters, sub-resources."""

from __future__ import annotations

import httpx

from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .helpers import emails, new_contact, new_field, new_list, new_tag


async def test_create_get_update_delete(client: httpx.AsyncClient, ac: ACState) -> None:
    field = await new_field(client, "City")
    created = await new_contact(client, "Jane@Example.com", firstName="Jane", lastName="Doe", phone="123",
                                fieldValues=[{"field": field, "value": "Albany"}])
    cid = created["id"]
    assert isinstance(cid, str) and created["cdate"] == created["udate"]
    assert created["cdate"].endswith("-05:00")  # account zone America/Chicago in May
    got = (await client.get(f"/api/3/contacts/{cid}")).json()
    assert got["contact"]["email"] == "Jane@Example.com"
    assert [(v["field"], v["value"]) for v in got["fieldValues"]] == [(field, "Albany")]

    r = await client.put(f"/api/3/contacts/{cid}", json={"contact": {"lastName": "Roe"}})
    assert r.status_code == 200
    body = r.json()["contact"]
    assert (body["firstName"], body["lastName"], body["phone"]) == ("Jane", "Roe", "123")  # partial update

    assert (await client.delete(f"/api/3/contacts/{cid}")).json() == {}
    r = await client.get(f"/api/3/contacts/{cid}")
    assert r.status_code == 404
    assert r.json() == {"message": f"No Result found for Subscriber with id {cid}"}
    r = await client.delete(f"/api/3/contacts/{cid}")
    assert r.json() == {"message": f"No result found for contact with id {cid}"}
    assert ac.contacts_by_email("jane@example.com") == []


async def test_duplicate_email_gives_ac_422(client: httpx.AsyncClient) -> None:
    await new_contact(client, "dup@example.com")
    r = await client.post("/api/3/contacts", json={"contact": {"email": "DUP@example.com"}})
    assert r.status_code == 422
    assert r.json() == {"errors": [{"title": "Email address already exists in the system", "detail": "",
                                    "code": "duplicate", "source": {"pointer": "/data/attributes/email"}}]}


async def test_invalid_or_missing_email_is_422(client: httpx.AsyncClient) -> None:
    for body in ({"contact": {"email": "nope"}}, {"contact": {"firstName": "x"}}, {"email": "x@y.co"}):
        r = await client.post("/api/3/contacts", json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["code"] in ("field_invalid", "field_missing")


async def test_update_moves_udate_only_on_change(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    c = await new_contact(client, "u@example.com", firstName="U")
    ac_clock.advance(60)
    same = (await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"firstName": "U"}})).json()
    assert same["contact"]["udate"] == c["udate"]
    ac_clock.advance(60)
    moved = (await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"firstName": "V"}})).json()
    assert moved["contact"]["udate"] > c["udate"]


async def test_sync_upserts_by_email(client: httpx.AsyncClient, ac: ACState) -> None:
    r = await client.post("/api/3/contact/sync", json={"contact": {"email": "s@example.com", "firstName": "A"}})
    assert r.status_code == 201
    first_id = r.json()["contact"]["id"]
    r = await client.post("/api/3/contact/sync", json={"contact": {"email": "S@example.com", "lastName": "B"}})
    assert r.status_code == 201  # default of switch sync_update_status
    assert r.json()["contact"]["id"] == first_id
    assert (r.json()["contact"]["firstName"], r.json()["contact"]["lastName"]) == ("A", "B")
    assert len(ac.contacts) == 1


async def test_paging_limit_offset_and_total(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.reset(seed_contacts=130)
    r = (await client.get("/api/3/contacts", params={"limit": 50, "offset": 100, "orders[id]": "ASC"})).json()
    assert r["meta"]["total"] == "130"  # a string, as AC returns it
    assert [c["id"] for c in r["contacts"]] == [str(i) for i in range(101, 131)]
    default = (await client.get("/api/3/contacts")).json()
    assert len(default["contacts"]) == 20
    capped = (await client.get("/api/3/contacts", params={"limit": 500})).json()
    assert len(capped["contacts"]) == 100


async def test_id_greater_with_orders_id(client: httpx.AsyncClient, ac: ACState) -> None:
    ac.reset(seed_contacts=45)
    seen: list[int] = []
    last = 0
    while True:
        r = (await client.get("/api/3/contacts", params={"orders[id]": "ASC", "id_greater": last,
                                                          "limit": 20})).json()
        if not r["contacts"]:
            break
        ids = [int(c["id"]) for c in r["contacts"]]
        assert r["meta"]["total"] == str(45 - last)
        seen += ids
        last = ids[-1]
    assert seen == list(range(1, 46))
    desc = (await client.get("/api/3/contacts", params={"orders[id]": "DESC", "limit": 3})).json()
    assert [c["id"] for c in desc["contacts"]] == ["45", "44", "43"]


async def test_filters_email_tag_list_status(client: httpx.AsyncClient) -> None:
    tag = await new_tag(client, "vip")
    lst = await new_list(client, "News")
    a = await new_contact(client, "a@example.com")
    b = await new_contact(client, "b@example.com")
    await new_contact(client, "c@example.com")
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": a["id"], "tag": tag}})
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": a["id"], "status": 1}})
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": b["id"], "status": 2}})
    assert await emails(client, email="B@EXAMPLE.COM") == ["b@example.com"]
    assert await emails(client, tagid=tag) == ["a@example.com"]
    assert await emails(client, listid=lst) == ["a@example.com", "b@example.com"]
    assert await emails(client, listid=lst, status=1) == ["a@example.com"]
    assert await emails(client, listid=lst, status=2) == ["b@example.com"]
    assert await emails(client, email_like="example", **{"orders[email]": "DESC"}) == [
        "c@example.com", "b@example.com", "a@example.com"]


async def test_filters_updated_after(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    old = await new_contact(client, "old@example.com")
    ac_clock.advance(3 * 3600)
    fresh = await new_contact(client, "new@example.com")
    # Both ways of writing the threshold: with the account offset, and as the account's local wall time.
    assert await emails(client, **{"filters[updated_after]": fresh["udate"]}) == ["new@example.com"]
    naive = fresh["udate"][:19].replace("T", " ")
    assert await emails(client, **{"filters[updated_after]": naive}) == ["new@example.com"]
    assert await emails(client, **{"filters[updated_before]": fresh["udate"]}) == ["old@example.com"]
    assert await emails(client, **{"filters[updated_after]": old["udate"]}) == ["new@example.com", "old@example.com"]
    r = await client.get("/api/3/contacts", params={"filters[updated_after]": "yesterday"})
    assert r.status_code == 400


async def test_tags_lists_and_subresources(client: httpx.AsyncClient) -> None:
    tag = await new_tag(client, "t")
    lst = await new_list(client, "L")
    c = await new_contact(client, "sub@example.com")
    r = await client.post("/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag}})
    assert r.status_code == 201
    ct_id = r.json()["contactTag"]["id"]
    r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    assert r.status_code == 200 and r.json()["contactList"]["status"] == 1
    tags = (await client.get(f"/api/3/contacts/{c['id']}/contactTags")).json()["contactTags"]
    assert [(t["tag"], t["id"]) for t in tags] == [(tag, ct_id)]
    lists = (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]
    assert [(x["list"], x["status"]) for x in lists] == [(lst, "1")]
    assert (await client.delete(f"/api/3/contactTags/{ct_id}")).status_code == 200
    r = await client.delete(f"/api/3/contactTags/{ct_id}")
    assert r.json() == {"message": f"No Result found for SubscriberTag with id {ct_id}"}
    r = await client.post("/api/3/contactTags", json={"contactTag": {"contact": "999", "tag": tag}})
    assert r.status_code == 404 and r.json()["errors"][0]["detail"] == "Contact not found"
    for sub in ("fieldValues", "accountContacts", "contactAutomations", "trackingLogs"):
        r = await client.get(f"/api/3/contacts/{c['id']}/{sub}")
        assert r.status_code == 200 and r.json() == {sub: []}
        assert (await client.get(f"/api/3/contacts/999/{sub}")).status_code == 404


async def test_field_values_and_options(client: httpx.AsyncClient, ac_clock: SandboxClock) -> None:
    field = await new_field(client, "Colour", "dropdown")
    r = await client.post("/api/3/fieldOption/bulk", json={"fieldOptions": [
        {"field": field, "label": "Blue", "value": "Blue", "orderid": 1, "isdefault": False}]})
    assert r.status_code == 201 and r.json()["fieldOptions"][0]["isdefault"] == 0
    r = await client.post("/api/3/fieldOption/bulk", json={"fieldOptions": {"field": field}})
    assert r.json() == {"errors": "Bulk operation failed. Request must contain an array of fieldOption objects."}
    c = await new_contact(client, "fv@example.com")
    ac_clock.advance(10)
    r = await client.post("/api/3/fieldValues", json={"fieldValue": {"contact": c["id"], "field": field,
                                                                     "value": "Blue"}})
    assert r.status_code == 200
    fv_id = r.json()["fieldValue"]["id"]
    assert r.json()["contacts"][0]["udate"] > c["udate"]  # a field edit moves udate
    r = await client.put(f"/api/3/fieldValues/{fv_id}", json={"fieldValue": {"contact": c["id"], "field": field,
                                                                            "value": "Red"}})
    assert r.json()["fieldValue"]["value"] == "Red"
    listed = (await client.get("/api/3/fieldValues", params={"filters[fieldid]": field})).json()
    assert listed["meta"]["total"] == "1"
    assert (await client.get("/api/3/fieldValues/999")).status_code == 403
    fields = (await client.get("/api/3/fields")).json()
    assert [f["perstag"] for f in fields["fields"]] == ["COLOUR"] and len(fields["fieldOptions"]) == 1
    dup = await client.post("/api/3/fields", json={"field": {"title": "Colour", "type": "text"}})
    assert dup.status_code == 422 and dup.json()["errors"][0]["code"] == "duplicate"


async def test_activities_and_tracking_logs(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock) -> None:
    c = await new_contact(client, "act@example.com")
    cid = int(c["id"])
    ac.add_activity(cid, "SubscriberEmail", 3, "open")
    ac_clock.advance(100)
    r = await client.post("/_sandbox/events", json={"contact": cid, "event": "visited", "value": "/pricing",
                                                     "activity": "SubscriberEmail", "action": "click"})
    assert r.status_code == 200
    acts = (await client.get("/api/3/activities", params={"contact": cid})).json()
    assert acts["meta"]["total"] == "2"
    assert [a["reference_action"] for a in acts["activities"]] == ["click", "open"]
    after = (await client.get("/api/3/activities", params={"contact": cid, "after": acts["activities"][0]["tstamp"]}))
    assert [a["reference_action"] for a in after.json()["activities"]] == ["click"]
    logs = (await client.get(f"/api/3/contacts/{cid}/trackingLogs")).json()["trackingLogs"]
    assert [(x["type"], x["value"], x["contact"]) for x in logs] == [("visited", "/pricing", str(cid))]


async def test_write_answers_give_organization_as_a_string(client: httpx.AsyncClient) -> None:
    """The document types ``organization`` as a string in the create and sync answers (fuzzing found null)."""
    created = (await client.post("/api/3/contacts", json={"contact": {"email": "o@example.com"}})).json()
    synced = (await client.post("/api/3/contact/sync", json={"contact": {"email": "o@example.com"}})).json()
    new = (await client.post("/api/3/contact/sync", json={"contact": {"email": "o2@example.com"}})).json()
    assert [b["contact"]["organization"] for b in (created, synced, new)] == ["", "", ""]


async def test_attributes_of_the_wrong_kind(client: httpx.AsyncClient) -> None:
    c = await new_contact(client, "kind@example.com")
    r = await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"firstName": {"x": 1}}})
    assert r.status_code == 422 and r.json()["errors"][0]["source"]["pointer"] == "/data/attributes/firstName"
    r = await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"phone": 5551234}})
    assert r.status_code == 200 and r.json()["contact"]["phone"] == "5551234"  # numbers are kept as digits


async def test_ids_that_are_not_ascii_digits_are_not_found(client: httpx.AsyncClient) -> None:
    """Found by the large fuzz run: "²" passes str.isdigit() but is no id."""
    await new_contact(client, "d@example.com")
    assert (await client.get("/api/3/contacts", params={"listid": "²"})).status_code == 400
    assert (await client.get("/api/3/lists/¹")).status_code == 404
