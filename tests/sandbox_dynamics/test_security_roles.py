"""Security roles: templates, per-business-unit copies and their root role (sandbox/dynamics/roles.py).

Sources: security-roles.md (template GUIDs, the two role alternate keys), reference/entities/role.md
(roletemplateid, parentrootroleid, parentroleid, businessunitid not valid for update).
"""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.dynamics import Dataverse
from sandbox.dynamics.roles import SYSTEM_ADMINISTRATOR_TEMPLATE

from .conftest import API, values

LINEAGE = "name,_businessunitid_value,_roletemplateid_value,_parentrootroleid_value,_parentroleid_value"
SYSADMIN_UPPER = "627090FF-40A3-4053-8790-584EDC5BE201"  # as security-roles.md writes it


def _user(dv: Dataverse, lastname: str) -> dict[str, Any]:
    return next(u for u in dv.rows["systemuser"].values() if u["lastname"] == lastname)


def _child_bu(dv: Dataverse) -> str:
    return str(next(b["businessunitid"] for b in dv.rows["businessunit"].values() if b["businessunitid"] != dv.root_bu))


async def test_every_role_has_a_template_column_and_a_root_role(client: httpx.AsyncClient, dv: Dataverse) -> None:
    rows = values(await client.get(API + "roles", params={"$select": LINEAGE}))
    assert len(rows) == 8  # four roles in each of the two business units
    by_key = {(r["name"], r["_businessunitid_value"]): r for r in rows}
    child = _child_bu(dv)
    for name in ("System Administrator", "ActiveCampaign Admin", "ActiveCampaign User", "Regional Sales Manager"):
        root, copy = by_key[(name, dv.root_bu)], by_key[(name, child)]
        assert root["_parentrootroleid_value"] == root["roleid"] and root["_parentroleid_value"] is None
        assert copy["_parentrootroleid_value"] == root["roleid"] and copy["_parentroleid_value"] == root["roleid"]
        assert copy["roleid"] != root["roleid"]
        template = SYSTEM_ADMINISTRATOR_TEMPLATE if name == "System Administrator" else None
        assert root["_roletemplateid_value"] == copy["_roletemplateid_value"] == template


async def test_filter_roles_by_template_and_by_root_role(client: httpx.AsyncClient, dv: Dataverse) -> None:
    admins = values(await client.get(API + "roles", params={"$filter": f"_roletemplateid_value eq {SYSADMIN_UPPER}"}))
    assert {r["_businessunitid_value"] for r in admins} == {dv.root_bu, _child_bu(dv)}
    custom = values(await client.get(API + "roles", params={"$filter": "_roletemplateid_value eq null"}))
    assert {r["name"] for r in custom} == {"ActiveCampaign Admin", "ActiveCampaign User", "Regional Sales Manager"}
    root = next(r for r in custom if r["name"] == "ActiveCampaign User" and r["_businessunitid_value"] == dv.root_bu)
    copies = values(await client.get(API + "roles", params={"$filter": f"_parentrootroleid_value eq {root['roleid']}"}))
    assert len(copies) == 2 and {c["name"] for c in copies} == {"ActiveCampaign User"}


async def test_user_roles_read_with_select_and_expand(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"systemusers({dv.app_user})/systemuserroles_association"
    roles = values(await client.get(url, params={"$select": "name,_roletemplateid_value,_parentrootroleid_value"}))
    assert [r["_roletemplateid_value"] for r in roles] == [SYSTEM_ADMINISTRATOR_TEMPLATE]
    seller = _user(dv, "Seller")["systemuserid"]
    expand = (
        "systemuserroles_association($select=name,_roletemplateid_value,_parentrootroleid_value;"
        f"$filter=_roletemplateid_value eq {SYSADMIN_UPPER})"
    )
    body = (
        await client.get(API + f"systemusers({dv.app_user})", params={"$select": "fullname", "$expand": expand})
    ).json()
    assert [r["name"] for r in body["systemuserroles_association"]] == ["System Administrator"]
    body = (await client.get(API + f"systemusers({seller})", params={"$select": "fullname", "$expand": expand})).json()
    assert body["systemuserroles_association"] == []  # the seller's one role is custom
    r = await client.get(API + f"systemusers({seller})", params={"$expand": "systemuserroles_association($skip=1)"})
    assert r.status_code == 400 and "$skip" in r.json()["error"]["message"]


async def test_team_roles_carry_the_root_role(client: httpx.AsyncClient, dv: Dataverse) -> None:
    team = next(t for t in dv.rows["team"].values() if t["teamtype"] == 2)
    roles = values(
        await client.get(
            API + f"teams({team['teamid']})/teamroles_association",
            params={"$select": "name,_businessunitid_value,_parentrootroleid_value"},
        )
    )
    assert len(roles) == 1 and roles[0]["_businessunitid_value"] == _child_bu(dv)
    root = dv.rows["role"][roles[0]["_parentrootroleid_value"]]
    assert root["_businessunitid_value"] == dv.root_bu and root["name"] == "ActiveCampaign User"
    tom = _user(dv, "Teamonly")["systemuserid"]
    expand = "teammembership_association($select=name;$filter=teamtype eq 2)"
    body = (await client.get(API + f"systemusers({tom})", params={"$expand": expand})).json()
    assert [t["teamid"] for t in body["teammembership_association"]] == [team["teamid"]]
    teams = values(
        await client.get(
            API + "teams",
            params={
                "$select": "name",
                "$filter": "teamtype eq 2",
                "$expand": "teamroles_association($select=_parentrootroleid_value)",
            },
        )
    )
    assert teams[0]["teamroles_association"][0]["_parentrootroleid_value"] == root["roleid"]


async def test_roles_by_their_documented_alternate_keys(client: httpx.AsyncClient, dv: Dataverse) -> None:
    child = _child_bu(dv)
    tail = f"_businessunitid_value={child},componentstate=0,overwritetime=1900-01-01T00:00:00Z"
    r = await client.get(API + f"roles(_roletemplateid_value={SYSADMIN_UPPER},{tail})?$select=name")
    assert r.status_code == 200 and r.json()["name"] == "System Administrator"
    root = next(
        x
        for x in dv.rows["role"].values()
        if x["name"] == "ActiveCampaign Admin" and x["_businessunitid_value"] == dv.root_bu
    )
    r = await client.get(API + f"roles(_parentrootroleid_value={root['roleid']},{tail})?$select=name")
    assert r.status_code == 200 and r.json()["name"] == "ActiveCampaign Admin"
    assert r.json()["roleid"] != root["roleid"]
    r = await client.get(API + f"roles(_roletemplateid_value={SYSADMIN_UPPER})")
    assert r.status_code == 400 and "key in the request URI is not valid" in r.json()["error"]["message"]
    r = await client.get(API + f"roles(_parentrootroleid_value={dv.app_user},{tail})")
    assert r.status_code == 404


async def test_role_templates_table(client: httpx.AsyncClient) -> None:
    r = await client.get(API + f"roletemplates({SYSADMIN_UPPER.lower()})?$select=name")
    assert r.status_code == 200 and r.json()["name"] == "System Administrator"
    expand = {"$select": "name", "$expand": "roletemplateid($select=name)", "$filter": "_roletemplateid_value ne null"}
    rows = values(await client.get(API + "roles", params=expand))
    assert {row["roletemplateid"]["name"] for row in rows} == {"System Administrator"}


async def test_created_role_is_its_own_root_and_copied_down(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await client.post(
        API + "roles",
        json={"name": "Sync Reader", "businessunitid@odata.bind": f"/businessunits({dv.root_bu})"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201, r.text
    root = r.json()
    assert root["_parentrootroleid_value"] == root["roleid"] and root["_roletemplateid_value"] is None
    rows = values(await client.get(API + "roles", params={"$select": LINEAGE, "$filter": "name eq 'Sync Reader'"}))
    copy = next(x for x in rows if x["roleid"] != root["roleid"])
    assert copy["_businessunitid_value"] == _child_bu(dv)
    assert copy["_parentrootroleid_value"] == copy["_parentroleid_value"] == root["roleid"]
    # read-only lineage and a business unit that is not valid for update are ignored (§4.2)
    r = await client.patch(
        API + f"roles({copy['roleid']})",
        json={
            "name": "Sync Reader (EU)",
            "businessunitid@odata.bind": f"/businessunits({dv.root_bu})",
            "parentrootroleid@odata.bind": f"/roles({copy['roleid']})",
        },
    )
    assert r.status_code == 204, r.text
    row = dv.rows["role"][copy["roleid"]]
    assert row["name"] == "Sync Reader (EU)" and row["_businessunitid_value"] == _child_bu(dv)
    assert row["_parentrootroleid_value"] == root["roleid"]


async def test_role_metadata_matches_the_reference(client: httpx.AsyncClient) -> None:
    base = API + "EntityDefinitions(LogicalName='role')/Attributes"
    template = (await client.get(base + "(LogicalName='roletemplateid')")).json()
    assert template["Targets"] == ["roletemplate"] and template["IsValidForUpdate"] is False
    unit = (await client.get(base + "(LogicalName='businessunitid')")).json()
    assert unit["IsValidForCreate"] is True and unit["IsValidForUpdate"] is False
    root = (await client.get(base + "(LogicalName='parentrootroleid')")).json()
    assert root["RequiredLevel"]["Value"] == "SystemRequired" and root["Targets"] == ["role"]
