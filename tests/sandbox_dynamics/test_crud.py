"""Create / update / upsert / delete and conditional operations (dynamics-webapi.md §4.1, §4.2, §10)."""

from __future__ import annotations

import httpx

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse

from .conftest import API, T0, values

NEW_ID = "11111111-2222-4333-8444-555555555555"


async def _account(client: httpx.AsyncClient) -> str:
    rows = values(await client.get(API + "accounts", params={"$select": "name", "$top": "1"}))
    return str(rows[0]["accountid"])


async def test_create_returns_204_and_entity_id(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # §4.1: POST → 204 + OData-EntityId
    r = await client.post(API + "contacts", json={"firstname": "Zoë", "lastname": "Ünal", "emailaddress1": "z@x.com"})
    assert r.status_code == 204
    entity_id = r.headers["OData-EntityId"]
    assert entity_id.startswith("https://org.example.crm.dynamics.com/api/data/v9.2/contacts(")
    row_id = entity_id.rsplit("(", 1)[1].rstrip(")")
    row = dv.get("contact", row_id)
    assert row is not None and row["fullname"] == "Zoë Ünal"


async def test_create_with_representation_is_201_with_body_and_no_entity_id(client: httpx.AsyncClient) -> None:
    # §4.1: Prefer: return=representation → 201 with the record (and no OData-EntityId)
    r = await client.post(
        API + "contacts?$select=lastname,createdon",
        json={"lastname": "Rep"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201
    body = r.json()
    assert body["lastname"] == "Rep" and body["@odata.etag"].startswith('W/"') and "contactid" in body
    assert "OData-EntityId" not in r.headers
    assert body["createdon"] == "2026-05-28T20:26:40Z"  # the sandbox clock, not the wall clock
    full = (await client.get(API + f"contacts({body['contactid']})?$select=_ownerid_value")).json()
    assert full["_ownerid_value"] == (await client.get(API + "WhoAmI")).json()["UserId"]


async def test_lookup_bind_and_read_back(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # §4.1: "<navprop>@odata.bind": "/accounts(<guid>)"; §3: read as _parentcustomerid_value
    account = await _account(client)
    r = await client.post(
        API + "contacts",
        json={"lastname": "Bound", "parentcustomerid_account@odata.bind": f"/accounts({account})"},
    )
    assert r.status_code == 204, r.text
    row_url = r.headers["OData-EntityId"]
    got = await client.get(
        row_url + "?$select=_parentcustomerid_value",
        headers={"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'},
    )
    body = got.json()
    assert body["_parentcustomerid_value"] == account
    assert body["_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"] == "account"
    # §4.2: clear a lookup with "<navprop>@odata.bind": null
    r = await client.patch(row_url, json={"parentcustomerid_account@odata.bind": None})
    assert r.status_code == 204
    assert (await client.get(row_url)).json()["_parentcustomerid_value"] is None


async def test_bind_to_wrong_table_or_missing_row_fails(client: httpx.AsyncClient) -> None:
    r = await client.post(
        API + "contacts", json={"lastname": "x", "parentcustomerid_account@odata.bind": f"/contacts({NEW_ID})"}
    )
    assert r.status_code in (400, 404)
    r = await client.post(
        API + "contacts", json={"lastname": "x", "parentcustomerid_account@odata.bind": f"/accounts({NEW_ID})"}
    )
    assert r.status_code == 404 and r.json()["error"]["code"] == "0x80040217"
    r = await client.post(API + "contacts", json={"lastname": "x", "nosuchnav@odata.bind": f"/accounts({NEW_ID})"})
    assert r.status_code == 400 and "undeclared property" in r.json()["error"]["message"]


async def test_unknown_property_and_too_long_value(client: httpx.AsyncClient) -> None:
    r = await client.post(API + "contacts", json={"lastname": "x", "favouritecolour": "red"})
    assert (
        r.status_code == 400
        and "does not exist on type 'Microsoft.Dynamics.CRM.contact'" in r.json()["error"]["message"]
    )
    # §4.3 / §10: 0x80044331 validation error for a too-long value
    r = await client.post(API + "contacts", json={"lastname": "x" * 51})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "0x80044331"
    assert "exceeded the maximum allowed length of '50'" in r.json()["error"]["message"]


async def test_read_only_columns_are_silently_ignored(client: httpx.AsyncClient) -> None:
    # §4.2: "Columns not valid for create/update are silently ignored"
    r = await client.post(
        API + "leads",
        json={"lastname": "L", "subject": "S", "statecode": 1, "createdon": "2000-01-01T00:00:00Z"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201
    assert r.json()["statecode"] == 0  # statecode IsValidForCreate=False (§7)
    assert r.json()["createdon"] != "2000-01-01T00:00:00Z"


async def test_update_bumps_modifiedon_and_version(
    client: httpx.AsyncClient, dv: Dataverse, sandbox_clock: SandboxClock
) -> None:
    r = await client.post(API + "contacts", json={"lastname": "V"}, headers={"Prefer": "return=representation"})
    before = r.json()
    sandbox_clock.advance(90)
    url = API + f"contacts({before['contactid']})"
    r = await client.patch(url, json={"jobtitle": "CTO"}, headers={"Prefer": "return=representation"})
    assert r.status_code == 200
    after = r.json()
    assert after["jobtitle"] == "CTO"
    assert int(after["versionnumber"]) > int(before["versionnumber"])
    assert after["modifiedon"] == "2026-05-28T20:28:10Z" and after["createdon"] == before["createdon"]
    assert after["@odata.etag"] == f'W/"{after["versionnumber"]}"'
    assert sandbox_clock.time() == T0 + 90


async def test_upsert_creates_then_updates(client: httpx.AsyncClient) -> None:
    # §4.2: PATCH without If-Match creates when missing; 201/200 with return=representation
    url = API + f"contacts({NEW_ID})"
    r = await client.patch(url, json={"lastname": "Upsert"}, headers={"Prefer": "return=representation"})
    assert r.status_code == 201 and r.json()["contactid"] == NEW_ID
    r = await client.patch(url, json={"lastname": "Upsert2"}, headers={"Prefer": "return=representation"})
    assert r.status_code == 200 and r.json()["lastname"] == "Upsert2"
    r = await client.patch(url, json={"lastname": "Upsert3"})
    assert r.status_code == 204


async def test_if_match_star_on_missing_row_is_404(client: httpx.AsyncClient) -> None:
    # §4.2 / §10: If-Match: * prevents create → 404 "... With Id = ... Does Not Exist"
    r = await client.patch(API + f"contacts({NEW_ID})", json={"lastname": "x"}, headers={"If-Match": "*"})
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["code"] == "0x80040217" and f"With Id = {NEW_ID} Does Not Exist" in error["message"]


async def test_if_none_match_star_prevents_update(client: httpx.AsyncClient) -> None:
    # §4.2: If-None-Match: * = create-only → 412 "A record with matching key values already exists."
    url = API + f"contacts({NEW_ID})"
    assert (await client.patch(url, json={"lastname": "a"}, headers={"If-None-Match": "*"})).status_code == 204
    r = await client.patch(url, json={"lastname": "b"}, headers={"If-None-Match": "*"})
    assert r.status_code == 412
    assert r.json()["error"]["message"] == "A record with matching key values already exists."


async def test_optimistic_concurrency(client: httpx.AsyncClient) -> None:
    # §4.2: If-Match: W/"<etag>" → 412 on mismatch; conditional GET → 304
    r = await client.post(API + "contacts", json={"lastname": "C"}, headers={"Prefer": "return=representation"})
    etag = r.json()["@odata.etag"]
    url = API + f"contacts({r.json()['contactid']})"
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304
    assert (await client.patch(url, json={"jobtitle": "x"}, headers={"If-Match": etag})).status_code == 204
    r = await client.patch(url, json={"jobtitle": "y"}, headers={"If-Match": etag})
    assert r.status_code == 412
    assert (
        r.json()["error"]["message"]
        == "The version of the existing record doesn't match the RowVersion property provided."
    )
    r = await client.delete(url, headers={"If-Match": etag})
    assert r.status_code == 412
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 200


async def test_delete(client: httpx.AsyncClient) -> None:
    r = await client.post(API + "contacts", json={"lastname": "D"})
    url = r.headers["OData-EntityId"]
    assert (await client.delete(url)).status_code == 204
    r = await client.get(url)
    assert r.status_code == 404 and r.json()["error"]["code"] == "0x80040217"
    assert (await client.delete(url)).status_code == 404


async def test_duplicate_primary_key_on_create(client: httpx.AsyncClient) -> None:
    assert (await client.post(API + "contacts", json={"contactid": NEW_ID, "lastname": "a"})).status_code == 204
    r = await client.post(API + "contacts", json={"contactid": NEW_ID, "lastname": "b"})
    assert r.status_code == 412 and r.json()["error"]["code"] == "0x80040237"


async def test_alternate_key_on_systemuser_and_invalid_key(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # §7 / §8: systemusers(azureactivedirectoryobjectid=<guid>); named primary key not allowed
    user = next(u for u in dv.rows["systemuser"].values() if u["lastname"] == "Seller")
    oid = user["azureactivedirectoryobjectid"]
    r = await client.get(API + f"systemusers(azureactivedirectoryobjectid={oid})?$select=fullname")
    assert r.status_code == 200 and r.json()["systemuserid"] == user["systemuserid"]
    r = await client.get(API + f"systemusers(azureactivedirectoryobjectid={NEW_ID})")
    assert r.status_code == 404
    r = await client.get(API + f"systemusers(systemuserid={user['systemuserid']})")
    assert r.status_code == 400 and "The key in the request URI is not valid" in r.json()["error"]["message"]
    r = await client.get(API + "contacts(emailaddress1='a@b.c')")
    assert r.status_code == 400


async def test_unknown_routes_do_not_answer(client: httpx.AsyncClient) -> None:
    assert (await client.get(API + "widgets")).status_code == 404
    assert (await client.get("/api/data/v9.1/contacts")).status_code == 404
    assert (await client.get("/elsewhere")).status_code == 404
