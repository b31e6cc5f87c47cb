"""The lookup indexes (sandbox/activecampaign/index.py) answer exactly what a scan would, whatever changed the data."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.activecampaign.index import SortedIds, StoreIndex
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .helpers import new_contact


def test_store_index_follows_direct_edits_of_the_dict() -> None:
    store: dict[int, dict[str, Any]] = {1: {"k": "a"}, 2: {"k": "b"}}
    index = StoreIndex(store, lambda r: r["k"])
    assert index.ids("a") == [1]
    store[3] = {"k": "a"}  # added without note(): the next lookup rebuilds
    assert index.ids("a") == [1, 3]
    del store[1]
    assert index.ids("a") == [3]
    store[4] = {"k": "c"}
    index.note(4)  # noted insertion: kept in step without a rebuild
    assert index.ids("c") == [4]
    store[2]["k"] = "c"
    index.note(2)  # noted key change
    assert index.ids("c") == [4, 2] and index.ids("b") == []
    store[3]["k"] = "z"  # changed without note(): never returned under its old key
    assert index.ids("a") == []


def test_sorted_ids_recomputes_when_the_dict_changes() -> None:
    store: dict[int, str] = {5: "x", 2: "y"}
    ids = SortedIds(store)
    assert ids.get() == [2, 5]
    store[3] = "z"
    assert ids.get() == [2, 3, 5]
    del store[2]
    assert ids.get() == [3, 5]


async def test_email_lookup_after_email_change_and_delete(client: httpx.AsyncClient, ac: ACState) -> None:
    first = await new_contact(client, "Old@Example.com")
    assert ac.contact_by_email("old@example.com") is not None
    await client.put(f"/api/3/contacts/{first['id']}", json={"contact": {"email": "new@example.com"}})
    assert ac.contact_by_email("old@example.com") is None
    assert ac.contact_by_email("NEW@example.com") is ac.contacts[int(first["id"])]
    taken = await client.post("/api/3/contacts", json={"contact": {"email": "new@example.com"}})
    assert taken.status_code == 422
    await client.delete(f"/api/3/contacts/{first['id']}")
    assert ac.contact_by_email("new@example.com") is None
    assert (await client.post("/api/3/contacts", json={"contact": {"email": "new@example.com"}})).status_code == 201


async def test_renamed_account_is_found_by_its_new_name(client: httpx.AsyncClient, ac: ACState,
                                                       ac_clock: SandboxClock) -> None:
    account = (await client.post("/api/3/accounts", json={"account": {"name": "Before Ltd"}})).json()["account"]
    await client.put(f"/api/3/accounts/{account['id']}", json={"account": {"name": "After Ltd"}})
    assert ac.account_named("before ltd") is None and ac.account_named("AFTER LTD") is not None
    r = await client.post("/api/3/import/bulk_import", json={"contacts": [
        {"email": "a1@example.com", "customer_acct_name": "after ltd"},
        {"email": "a2@example.com", "customer_acct_name": "Before Ltd"}]})
    assert r.status_code == 200
    ac_clock.advance(3600)
    ac.process_due_imports()
    linked = {ac.contacts[x["contact"]].email: x["account"] for x in ac.account_contacts.values()}
    assert linked["a1@example.com"] == int(account["id"])
    assert linked["a2@example.com"] != int(account["id"])  # link_or_create made a new "Before Ltd"
    listed = (await client.get("/api/3/accounts", params={"count_deals": "true"})).json()["accounts"]
    counts = {a["name"]: a["contactCount"] for a in listed}
    assert counts == {"After Ltd": "1", "Before Ltd": "1"}


async def test_id_greater_paging_and_orders(client: httpx.AsyncClient, ac: ACState) -> None:
    for i in range(25):
        await new_contact(client, f"p{i:02d}@example.com")
    await client.delete("/api/3/contacts/5")
    got: list[str] = []
    last = 0
    while True:
        page = (await client.get("/api/3/contacts", params={"id_greater": last, "orders[id]": "ASC",
                                                            "limit": 10})).json()["contacts"]
        if not page:
            break
        got += [c["id"] for c in page]
        last = int(page[-1]["id"])
    assert got == [str(i) for i in range(1, 26) if i != 5]
    body = (await client.get("/api/3/contacts", params={"id_greater": 20, "orders[id]": "DESC"})).json()
    assert [c["id"] for c in body["contacts"]] == ["25", "24", "23", "22", "21"] and body["meta"]["total"] == "5"
    body = (await client.get("/api/3/contacts", params={"id_greater": 3, "id_less": 9, "email_like": "p0",
                                                        "orders[id]": "DESC"})).json()
    assert [c["id"] for c in body["contacts"]] == ["8", "7", "6", "4"]  # ids 4..8 hold p03..p07
    body = (await client.get("/api/3/contacts", params={"id_greater": 22})).json()  # default order: email
    assert [c["email"] for c in body["contacts"]] == ["p22@example.com", "p23@example.com", "p24@example.com"]


async def test_account_contacts_listing_and_filters(client: httpx.AsyncClient, ac: ACState) -> None:
    accounts = [(await client.post("/api/3/accounts", json={"account": {"name": f"Co {i}"}})).json()["account"]["id"]
                for i in range(2)]
    links = []
    for i in range(5):
        contact = await new_contact(client, f"l{i}@example.com")
        r = await client.post("/api/3/accountContacts", json={"accountContact": {
            "contact": contact["id"], "account": accounts[i % 2]}})
        links.append(r.json()["accountContact"])
    page = (await client.get("/api/3/accountContacts", params={"limit": 2, "offset": 2})).json()
    assert [x["id"] for x in page["accountContacts"]] == [links[2]["id"], links[3]["id"]]
    assert page["meta"]["total"] == "5"
    first = (await client.get("/api/3/accountContacts", params={"filters[account]": accounts[0]})).json()
    assert [x["contact"] for x in first["accountContacts"]] == [links[i]["contact"] for i in (0, 2, 4)]
    await client.put(f"/api/3/accountContacts/{links[0]['id']}", json={"accountContact": {"account": accounts[1]}})
    second = (await client.get("/api/3/accountContacts", params={"filters[account]": accounts[1]})).json()
    assert sorted(x["id"] for x in second["accountContacts"]) == sorted(links[i]["id"] for i in (0, 1, 3))
    one = (await client.get("/api/3/accountContacts", params={"filters[contact]": links[1]["contact"],
                                                             "filters[account]": accounts[0]})).json()
    assert one["accountContacts"] == [] and one["meta"]["total"] == "0"
    assert (await client.get("/api/3/accountContacts", params={"filters[contact]": "0" + links[1]["contact"]})
            ).json()["accountContacts"] == []
    await client.delete(f"/api/3/accountContacts/{links[3]['id']}")
    assert (await client.get("/api/3/accounts", params={"count_deals": "true"})).json()["accounts"][1][
        "contactCount"] == "2"


def test_store_index_notices_a_direct_insert_before_a_noted_one() -> None:
    store: dict[int, dict[str, Any]] = {1: {"k": "a"}}
    index = StoreIndex(store, lambda r: r["k"])
    assert index.ids("a") == [1]
    store[2] = {"k": "a"}  # not noted
    store[3] = {"k": "a"}
    index.note(3)
    assert index.ids("a") == [1, 2, 3]
    del store[1]  # deletions need no note
    assert index.ids("a") == [2, 3]


async def test_query_indexes_follow_every_kind_of_write(client: httpx.AsyncClient, ac: ACState,
                                                        ac_clock: SandboxClock) -> None:
    """updated_after, tag, list/status and email-order lookups answer what a scan would after each write."""
    from sandbox.activecampaign.index import TimeIndex

    from .helpers import emails, new_list, new_tag

    tag, lst = await new_tag(client, "t"), await new_list(client, "L")
    people = [await new_contact(client, f"{name}@example.com") for name in ("c", "a", "b")]
    ac_clock.advance(100)
    ac.contacts[int(people[0]["id"])].udate = ac.now()  # set directly, as seeding and tests do
    since = "2026-05-28T20:27:00Z"
    assert await emails(client, **{"filters[updated_after]": since}) == ["c@example.com"]
    await client.put(f"/api/3/contacts/{people[1]['id']}", json={"contact": {"email": "z@example.com"}})
    assert await emails(client, **{"filters[updated_after]": since}) == ["c@example.com", "z@example.com"]
    assert await emails(client) == ["b@example.com", "c@example.com", "z@example.com"]  # email order re-sorted
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": people[2]["id"], "tag": tag}})
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": people[2]["id"],
                                                                   "status": 1}})
    assert await emails(client, tagid=tag) == ["b@example.com"]
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": people[2]["id"],
                                                                   "status": 2}})
    assert await emails(client, listid=lst, status=1) == [] and await emails(client, listid=lst, status=2) == [
        "b@example.com"]
    await client.delete(f"/api/3/contacts/{people[2]['id']}")
    assert await emails(client, tagid=tag) == [] and await emails(client, listid=lst) == []
    index = TimeIndex()
    for rid, when in ((1, 50.0), (2, 10.5), (3, 30.0), (2, 60.0)):  # out of order, and a move
        index.move(rid, when)
    assert sorted(index.at_or_after(30)) == [1, 2, 3] and sorted(index.at_or_after(51)) == [2]
