"""Create on request: owned leads and contacts, validating a configured owner, the owner errors.

Sources: create-entity-web-api.md (``ownerid@odata.bind``), reference/entities/systemuser.md (accessmode, isdisabled),
reference/entities/team.md (teamtype, membershiptype), data-service-error-codes.md (unManagedidsownernotenabled
0x8004022b, CannotAssignToAccessTeam 0x80048340, PrincipalPrivilegeDenied 0x80040231 — 403 per
compose-http-requests-handle-errors.md).
"""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.dynamics import Dataverse

from .conftest import API, values

LLN = "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname"
BY_NAME = "/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='prvReadLead')"


def user(dv: Dataverse, fullname: str) -> dict[str, Any]:
    return next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == fullname)


def team(dv: Dataverse, name: str) -> dict[str, Any]:
    return next(t for t in dv.rows["team"].values() if t["name"] == name)


async def test_create_lead_and_contact_with_an_owner(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, keys = user(dv, "Sam Seller"), team(dv, "Key Accounts")
    prefer = {"Prefer": 'return=representation,odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'}
    body = {"subject": "From AC", "lastname": "Request", "ownerid@odata.bind": f"/systemusers({sam['systemuserid']})"}
    r = await client.post(API + "leads?$select=_ownerid_value,_owninguser_value", json=body, headers=prefer)
    assert r.status_code == 201, r.text
    assert r.json()["_ownerid_value"] == sam["systemuserid"] and r.json()[LLN] == "systemuser"
    assert r.json()["_owninguser_value"] == sam["systemuserid"]
    body = {"lastname": "Team-owned", "ownerid@odata.bind": f"/teams({keys['teamid']})"}
    r = await client.post(API + "contacts?$select=_ownerid_value,_owningteam_value", json=body, headers=prefer)
    assert r.status_code == 201 and r.json()[LLN] == "team" and r.json()["_owningteam_value"] == keys["teamid"]
    # the seller the record was made for can read it
    headers = {"CallerObjectId": sam["azureactivedirectoryobjectid"]}
    assert (await client.get(API + f"contacts({r.json()['contactid']})", headers=headers)).status_code == 200
    # upsert-create honours the owner too
    new_id = "22222222-3333-4444-8555-666666666666"
    r = await client.patch(
        API + f"leads({new_id})",
        json=body | {"subject": "Upserted", "ownerid@odata.bind": f"/systemusers({sam['systemuserid']})"},
    )
    assert r.status_code == 204 and dv.rows["lead"][new_id]["_ownerid_value"] == sam["systemuserid"]
    # no owner named: the caller (here the application user, which is why the product names one)
    r = await client.post(API + "leads", json={"subject": "s", "lastname": "l"}, headers=prefer)
    assert r.json()["_ownerid_value"] == dv.app_user and r.json()[LLN] == "systemuser"
    # an owner that does not exist: 0x80040217 (status: register bind_missing_status, 404 by default)
    missing = "/systemusers(11111111-2222-4333-8444-555555555555)"
    r = await client.post(API + "leads", json={"subject": "s", "lastname": "l", "ownerid@odata.bind": missing})
    assert r.status_code == 404 and r.json()["error"]["code"] == "0x80040217"
    r = await client.post(API + "leads", json={"subject": "s", "lastname": "l", "ownerid@odata.bind": "/teams(x)"})
    assert r.status_code == 400


async def test_validate_a_configured_owner(client: httpx.AsyncClient, dv: Dataverse) -> None:
    query = {
        "$select": "fullname,isdisabled,accessmode,_businessunitid_value,azureactivedirectoryobjectid",
        "$filter": "isdisabled eq false and accessmode eq 0 and applicationid eq null",
    }
    names = {u["fullname"] for u in values(await client.get(API + "systemusers", params=query))}
    assert "Sam Seller" in names and "Dana Disabled" not in names and "# ActiveCampaign Sync" not in names
    app = values(
        await client.get(API + "systemusers", params={"$select": "accessmode", "$filter": "applicationid ne null"})
    )
    assert [a["accessmode"] for a in app] == [4]
    owner_teams = values(
        await client.get(
            API + "teams",
            params={"$select": "name,teamtype,membershiptype", "$filter": "teamtype eq 0 and isdefault eq false"},
        )
    )
    assert {t["name"] for t in owner_teams} == {"Key Accounts"} and owner_teams[0]["membershiptype"] == 0
    access = values(await client.get(API + "teams", params={"$filter": "teamtype eq 1"}))
    assert [t["name"] for t in access] == ["Deal room"]
    sam = user(dv, "Sam Seller")
    key = f"azureactivedirectoryobjectid={sam['azureactivedirectoryobjectid']}"
    r = await client.get(API + f"systemusers({key})?$select=isdisabled,accessmode")
    assert r.status_code == 200 and r.json()["isdisabled"] is False
    # can the configured owner read leads? (the documented functions)
    r = await client.get(API + f"systemusers({sam['systemuserid']})" + BY_NAME)
    assert r.json()["RolePrivileges"][0]["Depth"] == "Basic"
    nina = user(dv, "Nina Norole")
    r = await client.get(API + f"systemusers({nina['systemuserid']})" + BY_NAME)
    assert r.json()["RolePrivileges"] == []


async def test_owner_errors(client: httpx.AsyncClient, dv: Dataverse) -> None:
    dana, nina, deal = user(dv, "Dana Disabled"), user(dv, "Nina Norole"), team(dv, "Deal room")
    r = await client.post(
        API + "leads",
        json={"subject": "s", "lastname": "l", "ownerid@odata.bind": f"/systemusers({dana['systemuserid']})"},
    )
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "0x8004022b",
        "message": "The specified owner has been disabled.",
    }
    r = await client.post(API + "contacts", json={"lastname": "l", "ownerid@odata.bind": f"/teams({deal['teamid']})"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048340"
    r = await client.post(
        API + "contacts", json={"lastname": "l", "ownerid@odata.bind": f"/systemusers({nina['systemuserid']})"}
    )
    assert r.status_code == 403 and r.json()["error"] == {
        "code": "0x80040231",
        "message": "Target user or team does not hold required privileges.",
    }
    contact = dv.sorted_ids("contact")[0]
    before = dv.rows["contact"][contact]["_ownerid_value"]
    r = await client.patch(
        API + f"contacts({contact})", json={"ownerid@odata.bind": f"/systemusers({dana['systemuserid']})"}
    )
    assert r.status_code == 400 and dv.rows["contact"][contact]["_ownerid_value"] == before
    r = await client.patch(API + f"contacts({contact})", json={"ownerid@odata.bind": None})
    assert r.status_code == 400 and "ownerid" in r.json()["error"]["message"]
    r = await client.post(
        API + "contacts", json={"lastname": "l", "ownerid@odata.bind": f"/accounts({dv.sorted_ids('account')[0]})"}
    )
    assert r.status_code == 400
