"""Contact custom fields ↔ lists (fieldRels) and the single-field read (v3 spec, reference §6)."""

from __future__ import annotations

import httpx

from sandbox.activecampaign.state import ACState

from .helpers import new_field, new_list


async def test_field_rel_create_matches_the_doc_example(client: httpx.AsyncClient, ac: ACState) -> None:
    # op create-a-custom-field-relationship-to-lists: {"fieldRel":{"field":8,"relid":2}} → 201
    field, lst = await new_field(client, "Customer group"), await new_list(client, "Newsletter")
    r = await client.post("/api/3/fieldRels", json={"fieldRel": {"field": int(field), "relid": int(lst)}})
    assert r.status_code == 201, r.text
    rel = r.json()["fieldRel"]
    assert (rel["field"], rel["relid"], rel["links"]) == (int(field), int(lst), [])
    assert isinstance(rel["id"], str) and rel["cdate"].endswith(("-05:00", "-06:00"))
    again = await client.post("/api/3/fieldRels", json={"fieldRel": {"field": field, "relid": lst}})
    assert (again.status_code, again.json()["fieldRel"]["id"]) == (201, rel["id"])  # same relation, not a second
    assert len(ac.field_rels) == 1


async def test_field_rel_zero_means_all_lists(client: httpx.AsyncClient) -> None:
    field = await new_field(client, "Everywhere")
    r = await client.post("/api/3/fieldRels", json={"fieldRel": {"field": field, "relid": 0}})
    assert r.status_code == 201 and r.json()["fieldRel"]["relid"] == 0


async def test_field_rel_unknown_field_or_list_and_delete(client: httpx.AsyncClient) -> None:
    field = await new_field(client, "Rel field")
    for body in ({"field": 999, "relid": 0}, {"field": field, "relid": 999}):
        r = await client.post("/api/3/fieldRels", json={"fieldRel": body})
        assert (r.status_code, r.json()) == (403, {"message": "Forbidden"})  # the doc's only error for the op
    missing_wrapper = await client.post("/api/3/fieldRels", json={"field": field})
    assert missing_wrapper.status_code == 422
    rel_id = (await client.post("/api/3/fieldRels", json={"fieldRel": {"field": field, "relid": 0}})).json()[
        "fieldRel"]["id"]
    assert (await client.delete(f"/api/3/fieldRels/{rel_id}")).json() == {}
    gone = await client.delete(f"/api/3/fieldRels/{rel_id}")
    assert (gone.status_code, gone.json()) == (403, {"message": "Forbidden"})


async def test_get_field_includes_options_and_rels(client: httpx.AsyncClient) -> None:
    # op retrieve-a-custom-field-contact: {"fieldOptions": [...], "fieldRels": [...], "field": {..., "relations"}}
    field, other = await new_field(client, "Tier", "dropdown"), await new_field(client, "Other")
    lst = await new_list(client, "Customers")
    await client.post("/api/3/fieldOption/bulk", json={"fieldOptions": [
        {"field": field, "label": "Gold", "value": "gold", "orderid": 1, "isdefault": False}]})
    rel = (await client.post("/api/3/fieldRels", json={"fieldRel": {"field": field, "relid": lst}})).json()["fieldRel"]
    await client.post("/api/3/fieldRels", json={"fieldRel": {"field": other, "relid": 0}})
    body = (await client.get(f"/api/3/fields/{field}")).json()
    assert set(body) == {"fieldOptions", "fieldRels", "field"}
    assert [o["value"] for o in body["fieldOptions"]] == ["gold"]
    assert body["fieldRels"] == [{"field": field, "relid": lst, "dorder": "0", "cdate": rel["cdate"], "links": [],
                                  "id": rel["id"]}]  # strings throughout, as in the doc's GET example
    assert body["field"]["relations"] == [rel["id"]] and body["field"]["options"] == [body["fieldOptions"][0]["id"]]
    listed = (await client.get("/api/3/fields")).json()
    assert sorted(x["field"] for x in listed["fieldRels"]) == sorted([field, other])


async def test_deleting_a_field_or_list_drops_its_rels(client: httpx.AsyncClient, ac: ACState) -> None:
    field, lst = await new_field(client, "Drop me"), await new_list(client, "Drop list")
    keep = await new_field(client, "Keep me")
    await client.post("/api/3/fieldRels", json={"fieldRel": {"field": field, "relid": 0}})
    await client.post("/api/3/fieldRels", json={"fieldRel": {"field": keep, "relid": lst}})
    await client.delete(f"/api/3/fields/{field}")
    assert [r["field"] for r in ac.field_rels.values()] == [int(keep)]
    await client.delete(f"/api/3/lists/{lst}")
    assert ac.field_rels == {}
