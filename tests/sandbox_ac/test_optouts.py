"""Opt-outs, bounces, deletes and contacts by tag: what issues 17 and 18 read."""

from __future__ import annotations

import httpx

from sandbox.activecampaign.state import ACState

from .helpers import emails, new_contact, new_list, new_tag
from .test_webhooks import Receiver, hook


async def _status(client: httpx.AsyncClient, cid: str, lst: str) -> str:
    rows = (await client.get(f"/api/3/contacts/{cid}/contactLists")).json()["contactLists"]
    return next(str(x["status"]) for x in rows if x["list"] == lst)


async def test_list_status_reads_and_writes(client: httpx.AsyncClient, ac: ACState) -> None:
    lst, other = await new_list(client, "News"), await new_list(client, "Other")
    contacts = [await new_contact(client, f"s{i}@example.com") for i in range(4)]
    for c in contacts:
        r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                           "status": 1}})
        assert r.status_code == 200 and r.json()["contactList"]["status"] == 1
    await client.post("/api/3/contactLists", json={"contactList": {"list": other, "contact": contacts[3]["id"],
                                                                   "status": 1}})
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[1]["id"],
                                                                   "status": 2}})
    ac.set_list_status(ac.contacts[int(contacts[2]["id"])], int(lst), 0)  # unconfirmed: a double opt-in form
    await client.post("/_sandbox/bounce", json={"contact": contacts[3]["id"], "list": lst, "type": "hard"})
    by_status = {s: await emails(client, listid=lst, status=s) for s in (-1, 0, 1, 2, 3)}
    assert by_status == {-1: [c["email"] for c in contacts], 0: ["s2@example.com"], 1: ["s0@example.com"],
                         2: ["s1@example.com"], 3: ["s3@example.com"]}
    assert await emails(client, status=1) == ["s0@example.com", "s3@example.com"]  # s3 is still active on Other
    assert [await _status(client, c["id"], lst) for c in contacts] == ["1", "2", "0", "3"]
    # Re-subscribing is allowed (the doc warns it undoes an opt-out; sourceid 4 marks it).
    r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[1]["id"],
                                                                       "status": 1, "sourceid": 4}})
    assert r.json()["contactList"]["sourceid"] == "4" and await _status(client, contacts[1]["id"], lst) == "1"
    for bad in (0, 3, "x", None):
        r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[0]["id"],
                                                                           "status": bad}})
        assert r.status_code == 422


async def test_hard_and_soft_bounces(client: httpx.AsyncClient, ac: ACState) -> None:
    lst = await new_list(client, "News")
    hard, soft = await new_contact(client, "hard@example.com"), await new_contact(client, "soft@example.com")
    for c in (hard, soft):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    r = await client.post("/_sandbox/bounce", json={"contact": hard["id"], "list": lst, "type": "hard",
                                                    "campaign": 1, "message": 1})
    assert r.json()["bounced"] is True
    got = (await client.get(f"/api/3/contacts/{hard['id']}")).json()["contact"]
    assert (got["bounced_hard"], got["bounced_soft"], got["bounced_date"]) == ("1", "0", "2026-05-28")
    logs = (await client.get(f"/api/3/contacts/{hard['id']}/bounceLogs")).json()["bounceLogs"]
    assert [(x["campaignid"], x["email"]) for x in logs] == [("1", "hard@example.com")]
    for n in range(3):  # three soft bounces in a row mark the contact bounced (AC help)
        r = await client.post("/_sandbox/bounce", json={"contact": soft["id"], "list": lst, "type": "soft"})
        assert r.json()["bounced"] is (n == 2)
        assert await _status(client, soft["id"], lst) == ("3" if n == 2 else "1")
    assert (await client.post("/_sandbox/bounce", json={"contact": 999})).status_code == 400


async def test_contacts_by_tag_and_tag_search(client: httpx.AsyncClient) -> None:
    create, other = await new_tag(client, "D365: Create Lead"), await new_tag(client, "D365: Contact")
    await new_tag(client, "newsletter")
    a, b = await new_contact(client, "a@example.com"), await new_contact(client, "b@example.com")
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": a["id"], "tag": create}})
    ct = (await client.post("/api/3/contactTags", json={"contactTag": {"contact": b["id"], "tag": create}})).json()
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": b["id"], "tag": other}})
    assert await emails(client, tagid=create) == ["a@example.com", "b@example.com"]
    await client.delete(f"/api/3/contactTags/{ct['contactTag']['id']}")
    assert await emails(client, tagid=create) == ["a@example.com"]
    assert await emails(client, tagid=other, listid=999) == []

    async def names(**params: str) -> list[str]:
        return [t["tag"] for t in (await client.get("/api/3/tags", params=params)).json()["tags"]]

    assert await names(search="d365") == ["D365: Create Lead", "D365: Contact"]
    assert await names(**{"filters[search][eq]": "d365: create lead"}) == ["D365: Create Lead"]
    assert await names(**{"filters[search][starts_with]": "D365"}) == ["D365: Create Lead", "D365: Contact"]
    assert await names(**{"filters[search][neq]": "newsletter", "orders[search]": "desc"}) == [
        "D365: Create Lead", "D365: Contact"]
    assert await names(**{"filters[search][contains]": "contact", "orders[search]": "weight"}) == ["D365: Contact"]
    assert (await client.get("/api/3/tags", params={"filters[search][like]": "x"})).status_code == 400


async def test_a_deleted_contact_answers_404_everywhere(client: httpx.AsyncClient, ac: ACState) -> None:
    tag, lst = await new_tag(client, "t"), await new_list(client, "L")
    c = await new_contact(client, "gone@example.com")
    cid = c["id"]
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": cid, "tag": tag}})
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": cid, "status": 1}})
    assert (await client.delete(f"/api/3/contacts/{cid}")).json() == {}
    gone = {"message": f"No Result found for Subscriber with id {cid}"}
    for method, path in (("GET", f"/contacts/{cid}"), ("PUT", f"/contacts/{cid}"),
                         ("GET", f"/contacts/{cid}/contactLists"), ("GET", f"/contacts/{cid}/fieldValues"),
                         ("GET", f"/contacts/{cid}/contactTags"), ("GET", f"/contacts/{cid}/bounceLogs"),
                         ("GET", f"/contacts/{cid}/contactAutomations"), ("GET", f"/contacts/{cid}/trackingLogs"),
                         ("GET", f"/contacts/{cid}/accountContacts"), ("GET", f"/contacts/{cid}/scoreValues")):
        r = await client.request(method, "/api/3" + path, json={"contact": {"firstName": "x"}})
        assert r.status_code == 404, path
        if not path.endswith("scoreValues"):
            assert r.json() == gone, path
    r = await client.delete(f"/api/3/contacts/{cid}")
    assert (r.status_code, r.json()) == (404, {"message": f"No result found for contact with id {cid}"})
    r = await client.post("/api/3/contactTags", json={"contactTag": {"contact": cid, "tag": tag}})
    assert (r.status_code, r.json()["errors"][0]["detail"]) == (404, "Contact not found")
    r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": cid, "status": 2}})
    assert (r.status_code, r.json()) == (404, gone)
    r = await client.post("/api/3/contactAutomations", json={"contactAutomation": {"contact": cid,
                                                                                   "automation": "1"}})
    assert r.status_code == 403
    assert await emails(client, listid=lst) == [] and await emails(client, tagid=tag) == []
    assert await emails(client, email="gone@example.com") == []
    for route in ("unsubscribe", "bounce", "global_unsubscribe"):
        assert (await client.post(f"/_sandbox/{route}", json={"contact": cid})).status_code == 400
    again = await new_contact(client, "gone@example.com")  # the email is free; ids are never reused
    assert int(again["id"]) > int(cid)
    # a reconcile scan of linked ids (ids[]=…) finds only the live one
    r = await client.get("/api/3/contacts", params=[("ids[]", cid), ("ids[]", again["id"])])
    assert [c["id"] for c in r.json()["contacts"]] == [again["id"]]


async def test_a_person_unsubscribes_outside_a_campaign(client: httpx.AsyncClient, ac: ACState) -> None:
    receiver = Receiver()
    ac.webhook_transport = httpx.MockTransport(receiver)
    await hook(client, ["unsubscribe"])
    news, promo, gone = (await new_list(client, "News"), await new_list(client, "Promo"),
                         await new_list(client, "Gone"))
    c = await new_contact(client, "u@example.com")
    for lst in (news, promo, gone):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    await client.post("/_sandbox/bounce", json={"contact": c["id"], "list": gone, "type": "hard"})
    r = await client.post("/_sandbox/unsubscribe", json={"contact": c["id"], "list": promo, "reason": "too many"})
    assert r.json() == {"contact": int(c["id"]), "lists": [int(promo)]}
    rows = {x["list"]: x for x in (await client.get(f"/api/3/contacts/{c['id']}/contactLists")).json()["contactLists"]}
    assert (rows[promo]["status"], rows[promo]["unsubreason"], rows[news]["status"]) == ("2", "too many", "1")
    [form] = receiver.forms("unsubscribe")
    assert (form["initiated_from"], form["list[0][id]"], form["unsubscribe[reason]"]) == ("public", promo, "too many")
    r = await client.post("/_sandbox/unsubscribe", json={"contact": c["id"]})  # every list it still gets mail from
    assert r.json()["lists"] == [int(news)]
    assert [await _status(client, c["id"], lst) for lst in (news, promo, gone)] == ["2", "2", "3"]
    assert await emails(client, listid=news, status=2) == ["u@example.com"]
    for bad in ({"contact": 999}, {"contact": c["id"], "list": 999}, {"contact": c["id"], "reason": 5}):
        assert (await client.post("/_sandbox/unsubscribe", json=bad)).status_code == 400
    other = await new_list(client, "Other")
    assert (await client.post("/_sandbox/unsubscribe", json={"contact": c["id"], "list": other})).status_code == 400


async def test_contacts_by_list_and_status_page_with_limit_and_offset(client: httpx.AsyncClient,
                                                                     ac: ACState) -> None:
    lst = await new_list(client, "News")
    made = [await new_contact(client, f"p{i:02}@example.com") for i in range(25)]
    for i, c in enumerate(made):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                       "status": 2 if i % 2 else 1}})
    unsubscribed = [c["email"] for i, c in enumerate(made) if i % 2]
    seen: list[str] = []
    for offset in range(0, 20, 5):
        r = await client.get("/api/3/contacts", params={"listid": lst, "status": 2, "limit": 5, "offset": offset})
        assert r.status_code == 200 and r.json()["meta"]["total"] == "12"
        seen += [x["email"] for x in r.json()["contacts"]]
    assert seen == unsubscribed  # 12 rows over three pages of 5, the fourth empty
    r = await client.get("/api/3/contacts", params={"listid": lst, "status": 2, "limit": 5, "offset": 10})
    assert len(r.json()["contacts"]) == 2
    # A change between pages moves later rows: offset paging is not a snapshot.
    first = (await client.get("/api/3/contacts", params={"listid": lst, "status": 2, "limit": 5})).json()["contacts"]
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": first[0]["id"],
                                                                   "status": 1}})
    after = (await client.get("/api/3/contacts", params={"listid": lst, "status": 2, "limit": 5,
                                                         "offset": 5})).json()["contacts"]
    assert after[0]["email"] == unsubscribed[6]


async def test_opt_outs_resume_from_an_id_checkpoint(client: httpx.AsyncClient, ac: ACState) -> None:
    """``listid`` + ``status`` + ``id_greater`` + ``orders[id]=ASC``: a scan capped per pass resumes after the last id
    it saw, and a contact that unsubscribes meanwhile with a lower id is found by the next full scan only."""
    lst = await new_list(client, "News")
    made = [await new_contact(client, f"c{i}@example.com") for i in range(8)]
    for i, c in enumerate(made):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                       "status": 2 if i in (1, 4, 6) else 1}})

    async def page(after: int) -> list[str]:
        r = await client.get("/api/3/contacts", params={"listid": lst, "status": 2, "id_greater": after,
                                                        "orders[id]": "ASC", "limit": 2})
        return [c["id"] for c in r.json()["contacts"]]

    first = await page(0)
    assert first == [made[1]["id"], made[4]["id"]]
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": made[0]["id"],
                                                                   "status": 2}})
    assert await page(int(first[-1])) == [made[6]["id"]]
    assert await page(int(made[6]["id"])) == []
    assert await page(0) == [made[0]["id"], made[1]["id"]]


async def test_a_person_subscribes_again_through_a_form(client: httpx.AsyncClient, ac: ACState) -> None:
    receiver = Receiver()
    ac.webhook_transport = httpx.MockTransport(receiver)
    await hook(client, ["subscribe"])
    lst = await new_list(client, "News")
    c = await new_contact(client, "back@example.com")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 2}})
    r = await client.post("/_sandbox/subscribe", json={"contact": c["id"], "list": lst, "unconfirmed": True})
    assert r.json()["status"] == 0 and await _status(client, c["id"], lst) == "0"  # awaiting the confirmation
    assert receiver.forms("subscribe") == []
    r = await client.post("/_sandbox/subscribe", json={"contact": c["id"], "list": lst})
    assert r.json()["status"] == 1 and await emails(client, listid=lst, status=1) == ["back@example.com"]
    [form] = receiver.forms("subscribe")
    assert (form["initiated_from"], form["list"]) == ("public", lst)
    for bad in ({"contact": c["id"]}, {"contact": c["id"], "list": 999}, {"contact": c["id"], "list": lst,
                                                                          "unconfirmed": "yes"}):
        assert (await client.post("/_sandbox/subscribe", json=bad)).status_code == 400
    ac.switches["global_unsubscribe_reading"] = "all_lists"
    await client.post("/_sandbox/global_unsubscribe", json={"contact": c["id"]})
    await client.post("/_sandbox/subscribe", json={"contact": c["id"], "list": lst})
    assert await _status(client, c["id"], lst) == "2"  # a form subscribe does not lift the global unsubscribe
