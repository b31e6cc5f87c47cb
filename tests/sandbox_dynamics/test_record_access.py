"""Record-level access: owners, business units, privilege depths, teams, impersonation, RetrievePrincipalAccess.

Sources: power-platform admin/security-roles-privileges.md (depths, team privileges and member's privilege
inheritance), impersonate-another-user(-web-api).md (CallerObjectId / MSCRMCallerID,
prvActOnBehalfOfAnotherUser, the intersection of privileges), verifying-access-in-code.md (queries return
only readable rows; the AccessRights string), compose-http-requests-handle-errors.md (403 for PrivilegeDenied
and CannotActOnBehalfOfAnotherUser), data-service-error-codes.md (codes).
"""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.dynamics import Dataverse

from .conftest import API, values

ALL_RIGHTS = (
    "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess, DeleteAccess, ShareAccess, AssignAccess"
)
SELLER_RIGHTS = "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess"
LLN = "@Microsoft.Dynamics.CRM.lookuplogicalname"


def user(dv: Dataverse, fullname: str) -> dict[str, Any]:
    return next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == fullname)


def team(dv: Dataverse, name: str) -> dict[str, Any]:
    return next(t for t in dv.rows["team"].values() if t["name"] == name)


def as_user(dv: Dataverse, fullname: str) -> dict[str, str]:
    """Impersonation headers the application user sends to act as ``fullname``."""
    return {"CallerObjectId": user(dv, fullname)["azureactivedirectoryobjectid"]}


def owned_by(dv: Dataverse, logical: str, owner_id: str) -> list[dict[str, Any]]:
    return [r for r in dv.rows[logical].values() if r.get("_ownerid_value") == owner_id]


def role_id(dv: Dataverse, name: str, bu: str | None = None) -> str:
    return str(
        next(
            r["roleid"]
            for r in dv.rows["role"].values()
            if r["name"] == name and r["_businessunitid_value"] == (bu or dv.root_bu)
        )
    )


async def test_owner_columns_as_documented(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam = user(dv, "Sam Seller")
    keys = team(dv, "Key Accounts")
    select = "_ownerid_value,_owninguser_value,_owningteam_value,_owningbusinessunit_value"
    prefer = {"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"'}
    mine = values(
        await client.get(
            API + "contacts",
            params={"$select": select, "$filter": f"_owninguser_value eq {sam['systemuserid']}"},
            headers=prefer,
        )
    )
    assert mine and len(mine) == len(owned_by(dv, "contact", sam["systemuserid"]))
    assert all(r["_owningteam_value"] is None and r["_owningbusinessunit_value"] == dv.root_bu for r in mine)
    assert mine[0]["_ownerid_value" + LLN] == "systemuser"
    teams = values(
        await client.get(
            API + "contacts",
            params={"$select": select, "$filter": f"_owningteam_value eq {keys['teamid']}"},
            headers=prefer,
        )
    )
    assert teams and all(r["_ownerid_value"] == keys["teamid"] and r["_owninguser_value"] is None for r in teams)
    assert teams[0]["_ownerid_value" + LLN] == "team"
    expand = "owningteam($select=name),ownerid($select=name),owningbusinessunit($select=name)"
    body = (
        await client.get(API + f"contacts({teams[0]['contactid']})", params={"$select": "fullname", "$expand": expand})
    ).json()
    assert body["owningteam"]["name"] == "Key Accounts" and body["ownerid"]["name"] == "Key Accounts"
    assert body["owningbusinessunit"]["name"] == "sandbox"
    # read-only: sending them changes nothing (§4.2)
    r = await client.patch(
        API + f"contacts({teams[0]['contactid']})", json={"owningteam@odata.bind": None, "jobtitle": "x"}
    )
    assert r.status_code == 204 and dv.rows["contact"][teams[0]["contactid"]]["_ownerid_value"] == keys["teamid"]


async def test_seller_reads_own_and_team_records_only(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, nina, keys = user(dv, "Sam Seller"), user(dv, "Nina Norole"), team(dv, "Key Accounts")
    own = owned_by(dv, "contact", sam["systemuserid"])[0]["contactid"]
    teams = owned_by(dv, "contact", keys["teamid"])[0]["contactid"]
    other = owned_by(dv, "contact", nina["systemuserid"])[0]["contactid"]
    headers = as_user(dv, "Sam Seller")
    assert (await client.get(API + f"contacts({own})?$select=fullname", headers=headers)).status_code == 200
    assert (await client.get(API + f"contacts({teams})?$select=fullname", headers=headers)).status_code == 200
    r = await client.get(API + f"contacts({other})?$select=fullname", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x80040220"
    assert (
        "SecLib::AccessCheckEx" in r.json()["error"]["message"]
        and "AccessRights: ReadAccess" in r.json()["error"]["message"]
    )
    # the application user itself (System Administrator) reads everything
    assert (await client.get(API + f"contacts({other})?$select=fullname")).status_code == 200
    # queries return only what the caller may read
    readable = {c["contactid"] for c in values(await client.get(API + "contacts?$select=fullname", headers=headers))}
    expected = {
        r["contactid"]
        for r in dv.rows["contact"].values()
        if r["_ownerid_value"] in (sam["systemuserid"], keys["teamid"])
    }
    assert readable == expected and other not in readable
    count = (await client.get(API + "contacts/$count", headers=headers)).text
    assert int(count) == len(expected)
    legacy = {"MSCRMCallerID": sam["systemuserid"]}
    assert (await client.get(API + f"contacts({other})", headers=legacy)).status_code == 403
    who = (await client.get(API + "WhoAmI", headers=headers)).json()
    assert who["UserId"] == sam["systemuserid"]


async def test_seller_token_and_change_tracking(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam = user(dv, "Sam Seller")
    r = await client.post("/_sandbox/tokens", json={"users": {"sam-token": sam["systemuserid"]}})
    assert r.status_code == 200
    sam_auth = {"Authorization": "Bearer sam-token"}
    assert (await client.get(API + "WhoAmI", headers=sam_auth)).json()["UserId"] == sam["systemuserid"]
    other = owned_by(dv, "lead", user(dv, "Alex Admin")["systemuserid"])[0]["leadid"]
    assert (await client.get(API + f"leads({other})", headers=sam_auth)).status_code == 403
    # §2.1: change tracking needs organization-level Read
    r = await client.get(API + "contacts?$select=fullname", headers={**sam_auth, "Prefer": "odata.track-changes"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x80040220"
    r = await client.get(API + "contacts?$select=fullname", headers={"Prefer": "odata.track-changes"})
    assert r.status_code == 200


async def test_local_depth_reaches_the_business_unit_only(client: httpx.AsyncClient, dv: Dataverse) -> None:
    lou = as_user(dv, "Lou Local")
    root_owner = owned_by(dv, "contact", user(dv, "Nina Norole")["systemuserid"])[0]["contactid"]
    child_owner = owned_by(dv, "contact", user(dv, "Émile Dubois")["systemuserid"])[0]["contactid"]
    assert (await client.get(API + f"contacts({root_owner})", headers=lou)).status_code == 200
    assert (await client.get(API + f"contacts({child_owner})", headers=lou)).status_code == 403
    # Deep: the unit and the units below it
    r = await client.post(
        "/_sandbox/privileges",
        json={"role": role_id(dv, "Regional Sales Manager"), "privileges": {"prvReadContact": "Deep"}},
    )
    assert r.status_code == 200 and r.json()["prvReadContact"] == "Deep"
    assert (await client.get(API + f"contacts({child_owner})", headers=lou)).status_code == 200
    # but a Deep reader in the child unit does not reach the root
    emile = user(dv, "Émile Dubois")
    child = emile["_businessunitid_value"]
    dv.links["systemuserroles_association"].add((emile["systemuserid"], role_id(dv, "Regional Sales Manager", child)))
    assert (await client.get(API + f"contacts({root_owner})", headers=as_user(dv, "Émile Dubois"))).status_code == 403


async def test_other_business_unit_seller(client: httpx.AsyncClient, dv: Dataverse) -> None:
    emile = user(dv, "Émile Dubois")
    headers = as_user(dv, "Émile Dubois")
    rows = values(await client.get(API + "leads?$select=fullname", headers=headers))
    assert {r["leadid"] for r in rows} == {r["leadid"] for r in owned_by(dv, "lead", emile["systemuserid"])}


async def test_privileges_through_an_entra_group_team(client: httpx.AsyncClient, dv: Dataverse) -> None:
    tom = user(dv, "Tom Teamonly")  # no role of his own; "ActiveCampaign User" through the AAD group team
    own = owned_by(dv, "contact", tom["systemuserid"])[0]["contactid"]
    headers = as_user(dv, "Tom Teamonly")
    assert (await client.get(API + f"contacts({own})", headers=headers)).status_code == 200
    privileges = (
        await client.get(API + f"systemusers({tom['systemuserid']})/Microsoft.Dynamics.CRM.RetrieveUserPrivileges")
    ).json()
    read = next(p for p in privileges["RolePrivileges"] if p["PrivilegeName"] == "prvReadContact")
    assert read["Depth"] == "Basic" and set(read) == {"Depth", "PrivilegeId", "BusinessUnitId", "PrivilegeName"}
    # "Team privileges only": members reach only what the team owns
    r = await client.patch(API + f"roles({role_id(dv, 'ActiveCampaign User')})", json={"isinherited": 0})
    assert r.status_code == 204
    assert (await client.get(API + f"contacts({own})", headers=headers)).status_code == 403


async def test_retrieve_principal_access(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, nina, keys = user(dv, "Sam Seller"), user(dv, "Nina Norole"), team(dv, "Key Accounts")
    own = owned_by(dv, "contact", sam["systemuserid"])[0]["contactid"]
    other = owned_by(dv, "contact", nina["systemuserid"])[0]["contactid"]
    teams = owned_by(dv, "contact", keys["teamid"])[0]["contactid"]

    async def rights(principal: str, target: str) -> str:
        url = API + f"{principal}/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)"
        r = await client.get(url, params={"@tid": "{'@odata.id':'" + target + "'}"})
        assert r.status_code == 200, r.text
        assert r.json()["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.RetrievePrincipalAccessResponse")
        return str(r.json()["AccessRights"])

    me = f"systemusers({sam['systemuserid']})"
    assert await rights(me, f"contacts({own})") == SELLER_RIGHTS
    assert await rights(me, f"contacts({teams})") == SELLER_RIGHTS
    assert await rights(me, f"contacts({other})") == "None"
    assert await rights(f"systemusers({dv.app_user})", f"{API}contacts({other})") == ALL_RIGHTS
    assert await rights(f"teams({keys['teamid']})", f"/contacts({teams})") == SELLER_RIGHTS
    account = owned_by(dv, "account", sam["systemuserid"])[0]["accountid"]
    assert await rights(me, f"accounts({account})") == "ReadAccess"
    inline = API + f"{me}/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target={{'@odata.id':'contacts({own})'}})"
    assert (await client.get(inline)).json()["AccessRights"] == SELLER_RIGHTS
    missing = API + f"{me}/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@tid)"
    r = await client.get(missing, params={"@tid": "{'@odata.id':'contacts(11111111-2222-4333-8444-555555555555)'}"})
    assert r.status_code == 404
    assert (await client.get(missing, params={"@tid": "'contacts'"})).status_code == 400
    assert (await client.get(missing)).status_code == 400
    r = await client.get(
        API + f"{me}/Microsoft.Dynamics.CRM.RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='prvReadLead')"
    )
    assert [p["Depth"] for p in r.json()["RolePrivileges"]] == ["Basic"]


async def test_impersonation_refusals(client: httpx.AsyncClient, dv: Dataverse) -> None:
    marie = user(dv, "Marie Müller")  # ActiveCampaign Admin: Global read, but no prvActOnBehalfOfAnotherUser
    await client.post("/_sandbox/tokens", json={"users": {"marie-token": marie["systemuserid"]}})
    headers = {"Authorization": "Bearer marie-token", **as_user(dv, "Sam Seller")}
    r = await client.get(API + "contacts?$top=1", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x8004A110"
    assert r.json()["error"]["message"] == "User does not have the privilege to act on behalf another user."
    assert (
        await client.get(API + "contacts?$top=1", headers={"Authorization": "Bearer marie-token"})
    ).status_code == 200
    r = await client.get(API + "WhoAmI", headers={"CallerObjectId": "11111111-2222-4333-8444-555555555555"})
    assert r.status_code == 404
    r = await client.get(API + "WhoAmI", headers={"CallerObjectId": "not-a-guid"})
    assert r.status_code == 400 and "CallerObjectId" in r.json()["error"]["message"]
    dv.set_user_disabled(user(dv, "Sam Seller")["systemuserid"])
    r = await client.get(API + "WhoAmI", headers=as_user(dv, "Sam Seller"))
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x80040225"


async def test_impersonated_writes_and_owned_creates(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, nina = user(dv, "Sam Seller"), user(dv, "Nina Norole")
    headers = as_user(dv, "Sam Seller")
    own = owned_by(dv, "contact", sam["systemuserid"])[0]["contactid"]
    other = owned_by(dv, "contact", nina["systemuserid"])[0]["contactid"]
    assert (
        await client.patch(API + f"contacts({own})", json={"jobtitle": "Seller's"}, headers=headers)
    ).status_code == 204
    r = await client.patch(API + f"contacts({other})", json={"jobtitle": "no"}, headers=headers)
    assert r.status_code == 403 and "AccessRights: WriteAccess" in r.json()["error"]["message"]
    r = await client.post(
        API + "contacts", json={"lastname": "Made by Sam"}, headers={**headers, "Prefer": "return=representation"}
    )
    assert r.status_code == 201 and r.json()["_ownerid_value"] == sam["systemuserid"]
    r = await client.post(
        API + "contacts",
        json={"lastname": "For Nina", "ownerid@odata.bind": f"/systemusers({nina['systemuserid']})"},
        headers=headers,
    )
    assert r.status_code == 403 and "CreateAccess" in r.json()["error"]["message"]
    r = await client.delete(API + f"contacts({own})", headers=headers)
    assert r.status_code == 403 and "is missing prvDeleteContact privilege" in r.json()["error"]["message"]
    r = await client.patch(
        API + f"contacts({own})", json={"ownerid@odata.bind": f"/systemusers({nina['systemuserid']})"}, headers=headers
    )
    assert r.status_code == 403 and "prvAssignContact" in r.json()["error"]["message"]
    # impersonation is the intersection: a read the seller may do fails when the application user may not
    app_role = next(iter(dv.related("systemuserroles_association", "systemuser", dv.app_user)))
    dv.links["systemuserroles_association"].discard((dv.app_user, app_role))
    dv.links["systemuserroles_association"].add((dv.app_user, role_id(dv, "ActiveCampaign Admin")))
    assert (await client.get(API + f"contacts({own})", headers=headers)).status_code == 403  # no act-on-behalf now
    await client.post(
        "/_sandbox/privileges",
        json={
            "role": role_id(dv, "ActiveCampaign Admin"),
            "privileges": {"prvActOnBehalfOfAnotherUser": "Global", "prvReadContact": "Basic"},
        },
    )
    assert (await client.get(API + f"contacts({own})", headers=headers)).status_code == 403  # app user: Basic only


async def test_batch_parts_run_as_the_impersonated_user(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, nina = user(dv, "Sam Seller"), user(dv, "Nina Norole")
    own = owned_by(dv, "contact", sam["systemuserid"])[0]["contactid"]
    other = owned_by(dv, "contact", nina["systemuserid"])[0]["contactid"]
    parts = []
    for i, (target, extra) in enumerate(((own, ""), (other, ""), (other, f"MSCRMCallerID: {dv.app_user}\r\n"))):
        parts.append(
            f"--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: {i}\r\n\r\n"
            f"GET {API}contacts({target})?$select=fullname HTTP/1.1\r\nAccept: application/json\r\n{extra}\r\n"
        )
    body = "".join(parts) + "--b--\r\n"
    headers = {
        "Content-Type": "multipart/mixed; boundary=b",
        "Prefer": "odata.continue-on-error",
        **as_user(dv, "Sam Seller"),
    }
    r = await client.post(API + "$batch", content=body.encode(), headers=headers)
    assert r.status_code == 200
    statuses = [line.split()[1] for line in r.text.splitlines() if line.startswith("HTTP/1.1")]
    assert statuses == ["200", "403", "200"]


async def test_owner_and_privilege_control_routes(client: httpx.AsyncClient, dv: Dataverse) -> None:
    sam, nina = user(dv, "Sam Seller"), user(dv, "Nina Norole")
    other = owned_by(dv, "contact", nina["systemuserid"])[0]
    before = other["versionnumber"]
    r = await client.post(
        "/_sandbox/owners", json={"table": "contact", "id": other["contactid"], "systemuser": sam["systemuserid"]}
    )
    assert r.status_code == 200 and r.json()["versionnumber"] > before
    assert (
        await client.get(API + f"contacts({other['contactid']})", headers=as_user(dv, "Sam Seller"))
    ).status_code == 200
    assert (
        await client.post("/_sandbox/owners", json={"table": "contact", "id": other["contactid"]})
    ).status_code == 400
    assert (
        await client.post("/_sandbox/owners", json={"table": "role", "id": other["contactid"], "team": "x"})
    ).status_code == 400
    role = role_id(dv, "ActiveCampaign User")
    got = (await client.get("/_sandbox/privileges", params={"role": role})).json()
    assert got["prvReadContact"] == "Basic" and "prvDeleteContact" not in got
    assert (
        await client.post("/_sandbox/privileges", json={"role": role, "privileges": {"prvFlyContact": "Basic"}})
    ).status_code == 400
    assert (
        await client.post("/_sandbox/privileges", json={"role": role, "privileges": {"prvReadContact": "Huge"}})
    ).status_code == 400
    admin = role_id(dv, "System Administrator")
    assert (await client.post("/_sandbox/privileges", json={"role": admin, "privileges": {}})).status_code == 400
    await client.post("/_sandbox/privileges", json={"role": role, "privileges": {"prvReadLead": "Global"}})
    rows = values(await client.get(API + "leads?$select=fullname", headers=as_user(dv, "Sam Seller")))
    assert len(rows) == len(dv.rows["lead"])


async def test_team_role_rules_and_role_deletion(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await client.post(
        API + "teams",
        json={"name": "Deal room", "teamtype": 1, "businessunitid@odata.bind": f"/businessunits({dv.root_bu})"},
        headers={"Prefer": "return=representation"},
    )
    access_team = r.json()["teamid"]
    ref = {"@odata.id": f"roles({role_id(dv, 'ActiveCampaign User')})"}
    r = await client.post(API + f"teams({access_team})/teamroles_association/$ref", json=ref)
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048331"
    group = next(t for t in dv.rows["team"].values() if t["teamtype"] == 2)
    child = group["_businessunitid_value"]
    await client.patch(API + f"roles({role_id(dv, 'Regional Sales Manager')})", json={"isinherited": 0})
    ref = {"@odata.id": f"roles({role_id(dv, 'Regional Sales Manager', child)})"}
    dv.rows["role"][role_id(dv, "Regional Sales Manager", child)]["isinherited"] = 0
    r = await client.post(API + f"teams({group['teamid']})/teamroles_association/$ref", json=ref)
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80048350"
    r = await client.delete(API + f"roles({role_id(dv, 'Regional Sales Manager', child)})")
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x8004140c"
    assert (await client.delete(API + f"roles({role_id(dv, 'Regional Sales Manager')})")).status_code == 204
    assert not [x for x in dv.rows["role"].values() if x["name"] == "Regional Sales Manager"]


async def test_privileges_table(client: httpx.AsyncClient) -> None:
    rows = values(
        await client.get(
            API + "privileges", params={"$filter": "name eq 'prvReadContact'", "$select": "name,accessright"}
        )
    )
    assert len(rows) == 1 and rows[0]["accessright"] == 1
    rows = values(await client.get(API + "privileges", params={"$filter": "name eq 'prvActOnBehalfOfAnotherUser'"}))
    assert rows[0]["canbebasic"] is False and rows[0]["canbeglobal"] is True


async def test_retrieve_principal_access_follows_business_unit_depth_and_ownership(
    client: httpx.AsyncClient, dv: Dataverse
) -> None:
    """What the sales routes ask before showing a record (issue 19): the answer moves with the role's depth
    (Local: the user's unit; Deep: and the units below; Global: all), with the owner, and on leads as on contacts."""
    lou, sam = user(dv, "Lou Local"), user(dv, "Sam Seller")
    root_contact = owned_by(dv, "contact", user(dv, "Nina Norole")["systemuserid"])[0]["contactid"]
    child_contact = owned_by(dv, "contact", user(dv, "Émile Dubois")["systemuserid"])[0]["contactid"]
    child_lead = owned_by(dv, "lead", user(dv, "Émile Dubois")["systemuserid"])[0]["leadid"]

    async def rights(principal: dict[str, Any], target: str) -> str:
        url = API + f"systemusers({principal['systemuserid']})"
        url += "/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)"
        r = await client.get(url, params={"@t": "{'@odata.id':'" + target + "'}"})
        assert r.status_code == 200, r.text
        return str(r.json()["AccessRights"])

    assert await rights(lou, f"contacts({root_contact})") == "ReadAccess, WriteAccess"  # Local, same unit
    assert await rights(lou, f"contacts({child_contact})") == "None"  # Local stops at the child unit
    assert await rights(lou, f"leads({child_lead})") == "None"
    manager = role_id(dv, "Regional Sales Manager")
    await client.post("/_sandbox/privileges", json={"role": manager, "privileges": {"prvReadContact": "Deep"}})
    assert await rights(lou, f"contacts({child_contact})") == "ReadAccess"  # Deep reaches below, Write stays Local
    await client.post("/_sandbox/privileges", json={"role": manager, "privileges": {"prvReadLead": "Global"}})
    assert await rights(lou, f"leads({child_lead})") == "ReadAccess"
    # Basic: only what the user (or a team of theirs) owns; assigning the record gives and takes access.
    assert await rights(sam, f"leads({child_lead})") == "None"
    await client.post("/_sandbox/owners", json={"table": "lead", "id": child_lead, "systemuser": sam["systemuserid"]})
    assert await rights(sam, f"leads({child_lead})") == SELLER_RIGHTS
    assert await rights(user(dv, "Émile Dubois"), f"leads({child_lead})") == "None"
    assert await rights(user(dv, "Nina Norole"), f"leads({child_lead})") == "None"  # no role at all
