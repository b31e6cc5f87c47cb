"""Merge, QualifyLead, security roles, WhoAmI and metadata (dynamics-webapi.md §1.3, §6, §7, §8)."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.dynamics import Dataverse

from .conftest import API, values


def _user(dv: Dataverse, lastname: str) -> dict[str, Any]:
    return next(u for u in dv.rows["systemuser"].values() if u["lastname"] == lastname)


def _role(dv: Dataverse, name: str, bu: str) -> dict[str, Any]:
    return next(r for r in dv.rows["role"].values() if r["name"] == name and r["_businessunitid_value"] == bu)


async def test_who_am_i(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await client.get(API + "WhoAmI")
    body = r.json()
    assert body["UserId"] == dv.app_user and body["OrganizationId"] == dv.org_id
    assert body["BusinessUnitId"] == dv.root_bu
    assert body["@odata.context"].endswith("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")
    assert r.headers["x-ms-dop-hint"]


async def test_merge_contacts(client: httpx.AsyncClient, dv: Dataverse) -> None:
    winner_id, loser_id = dv.sorted_ids("contact")[:2]
    opp = next(iter(dv.rows["opportunity"].values()))
    await client.patch(
        API + f"opportunities({opp['opportunityid']})", json={"parentcontactid@odata.bind": f"/contacts({loser_id})"}
    )
    r = await client.post(
        API + "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner_id},
            "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": loser_id},
            "UpdateContent": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "jobtitle": "Merged title"},
            "PerformParentingChecks": False,
        },
    )
    assert r.status_code == 204, r.text
    loser = (await client.get(API + f"contacts({loser_id})?$select=statecode,statuscode,merged,_masterid_value")).json()
    assert (loser["statecode"], loser["statuscode"], loser["merged"], loser["_masterid_value"]) == (
        1,
        2,
        True,
        winner_id,
    )
    assert dv.rows["contact"][winner_id]["jobtitle"] == "Merged title"
    assert dv.rows["opportunity"][opp["opportunityid"]]["_parentcontactid_value"] == winner_id
    # merging the same loser again is refused; so is a mixed-type merge
    again = await client.post(
        API + "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner_id},
            "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": loser_id},
            "UpdateContent": {},
            "PerformParentingChecks": False,
        },
    )
    assert again.status_code == 400
    account_id = dv.sorted_ids("account")[0]
    mixed = await client.post(
        API + "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner_id},
            "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account_id},
        },
    )
    assert mixed.status_code == 400


async def test_merge_shows_up_in_change_tracking(client: httpx.AsyncClient, dv: Dataverse) -> None:
    link = None
    url: str | None = API + "contacts?$select=merged,_masterid_value"
    while url:
        body = (await client.get(url, headers={"Prefer": "odata.track-changes"})).json()
        url, link = body.get("@odata.nextLink"), body.get("@odata.deltaLink")
    assert link
    winner_id, loser_id = dv.sorted_ids("contact")[:2]
    await client.post(
        API + "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner_id},
            "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": loser_id},
            "UpdateContent": {"@odata.type": "Microsoft.Dynamics.CRM.contact"},
            "PerformParentingChecks": False,
        },
    )
    rows = (await client.get(link, headers={"Prefer": "odata.track-changes"})).json()["value"]
    loser = next(r for r in rows if r["contactid"] == loser_id)
    assert loser["merged"] is True and loser["_masterid_value"] == winner_id


async def test_qualify_lead(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await client.post(
        API + "leads",
        json={
            "subject": "Q",
            "firstname": "Quin",
            "lastname": "Lead",
            "emailaddress1": "q@lead.example",
            "companyname": "QCo",
        },
    )
    lead_id = r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    r = await client.post(
        API + f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": True, "CreateContact": True, "CreateOpportunity": True, "Status": 3},
    )
    assert r.status_code == 200, r.text
    created = {v["@odata.type"]: v for v in r.json()["value"]}
    contact_id = created["#Microsoft.Dynamics.CRM.contact"]["contactid"]
    contact = (await client.get(API + f"contacts({contact_id})")).json()
    assert contact["_originatingleadid_value"] == lead_id and contact["emailaddress1"] == "q@lead.example"
    assert contact["_parentcustomerid_value"] == created["#Microsoft.Dynamics.CRM.account"]["accountid"]
    lead = (await client.get(API + f"leads({lead_id})?$select=statecode,statuscode")).json()
    assert (lead["statecode"], lead["statuscode"]) == (1, 3)
    opp_id = created["#Microsoft.Dynamics.CRM.opportunity"]["opportunityid"]
    assert dv.rows["opportunity"][opp_id]["_originatingleadid_value"] == lead_id
    again = await client.post(
        API + f"leads({lead_id})/Microsoft.Dynamics.CRM.QualifyLead",
        json={"CreateAccount": False, "CreateContact": True, "CreateOpportunity": False, "Status": 3},
    )
    assert again.status_code == 400


async def test_role_association_same_business_unit_only(client: httpx.AsyncClient, dv: Dataverse) -> None:
    user = _user(dv, "Norole")
    bu = user["_businessunitid_value"]
    own = _role(dv, "ActiveCampaign User", bu)
    other = next(
        r for r in dv.rows["role"].values() if r["name"] == "ActiveCampaign User" and r["_businessunitid_value"] != bu
    )
    url = API + f"systemusers({user['systemuserid']})/systemuserroles_association"
    # §8: "A team or user can only be assigned a role from its business unit"
    r = await client.post(
        url + "/$ref",
        json={"@odata.id": f"https://org.example.crm.dynamics.com/api/data/v9.2/roles({other['roleid']})"},
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == dv.switches["role_other_bu_code"]
    r = await client.post(
        url + "/$ref", json={"@odata.id": f"https://org.example.crm.dynamics.com/api/data/v9.2/roles({own['roleid']})"}
    )
    assert r.status_code == 204
    names = [v["name"] for v in values(await client.get(url, params={"$select": "name,roleid"}))]
    assert names == ["ActiveCampaign User"]
    # §8: DELETE .../systemuserroles_association(<roleid>)/$ref and ...$ref?$id=
    assert (await client.delete(url + f"({own['roleid']})/$ref")).status_code == 204
    assert values(await client.get(url)) == []
    await client.post(url + "/$ref", json={"@odata.id": f"roles({own['roleid']})"})
    r = await client.delete(
        url + "/$ref", params={"$id": f"https://org.example.crm.dynamics.com/api/data/v9.2/roles({own['roleid']})"}
    )
    assert r.status_code == 204 and values(await client.get(url)) == []


async def test_role_association_by_object_id(client: httpx.AsyncClient, dv: Dataverse) -> None:
    user = _user(dv, "Norole")
    own = _role(dv, "ActiveCampaign Admin", user["_businessunitid_value"])
    oid = user["azureactivedirectoryobjectid"]
    url = API + f"systemusers(azureactivedirectoryobjectid={oid})/systemuserroles_association"
    assert (await client.post(url + "/$ref", json={"@odata.id": f"/roles({own['roleid']})"})).status_code == 204
    assert [v["name"] for v in values(await client.get(url))] == ["ActiveCampaign Admin"]


async def test_roles_through_teams(client: httpx.AsyncClient, dv: Dataverse) -> None:
    user = _user(dv, "Teamonly")
    teams = values(
        await client.get(API + f"systemusers({user['systemuserid']})/teammembership_association?$select=name,teamid")
    )
    names = set()
    for team in teams:
        names |= {
            r["name"]
            for r in values(await client.get(API + f"teams({team['teamid']})/teamroles_association?$select=name"))
        }
    assert names == {"ActiveCampaign User"}
    assert values(await client.get(API + f"systemusers({user['systemuserid']})/systemuserroles_association")) == []


async def test_create_role_in_business_unit(client: httpx.AsyncClient, dv: Dataverse) -> None:
    r = await client.post(
        API + "roles",
        json={"name": "Custom Sync Role", "businessunitid@odata.bind": f"/businessunits({dv.root_bu})"},
        headers={"Prefer": "return=representation"},
    )
    assert r.status_code == 201 and r.json()["_businessunitid_value"] == dv.root_bu
    copies = values(
        await client.get(
            API + "roles", params={"$filter": "name eq 'Custom Sync Role'", "$select": "name,_businessunitid_value"}
        )
    )
    assert len(copies) == 2  # inherited by the child business unit
    assert (await client.post(API + "roles", json={"name": "No BU"})).status_code == 400


async def test_seeded_roles_per_business_unit(client: httpx.AsyncClient, dv: Dataverse) -> None:
    roles = values(await client.get(API + "roles", params={"$select": "name,_businessunitid_value"}))
    for name in ("System Administrator", "ActiveCampaign Admin", "ActiveCampaign User"):
        assert len([r for r in roles if r["name"] == name]) == len(dv.rows["businessunit"]) == 2


async def test_entity_definitions(client: httpx.AsyncClient) -> None:
    body = (
        await client.get(
            API + "EntityDefinitions",
            params={"$select": "LogicalName,EntitySetName", "$filter": "ChangeTrackingEnabled eq true"},
        )
    ).json()
    tracked = {e["LogicalName"]: e["EntitySetName"] for e in body["value"]}
    assert tracked == {"contact": "contacts", "lead": "leads", "account": "accounts", "opportunity": "opportunities"}
    select = "LogicalName,EntitySetName,PrimaryIdAttribute,ChangeTrackingEnabled"
    one = (await client.get(API + f"EntityDefinitions(LogicalName='opportunity')?$select={select}")).json()
    assert (
        one["EntitySetName"] == "opportunities" and one["PrimaryIdAttribute"] == "opportunityid" and "MetadataId" in one
    )
    attrs = values(
        await client.get(
            API + "EntityDefinitions(LogicalName='lead')/Attributes",
            params={
                "$select": "LogicalName,AttributeTypeName,RequiredLevel",
                "$filter": "RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired'",
            },
        )
    )
    assert {a["LogicalName"] for a in attrs} == {"subject", "lastname"}
    assert attrs[0]["AttributeTypeName"] == {"Value": "StringType"}


async def test_picklist_cast_with_option_set(client: httpx.AsyncClient) -> None:
    r = await client.get(
        API + "EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet"},
    )
    attrs = {a["LogicalName"]: a for a in values(r)}
    assert set(attrs) == {"leadsourcecode", "salesstage"}  # lead salesstage: option 0 "Qualify" (Ref. §7)
    options = {
        o["Value"]: o["Label"]["UserLocalizedLabel"]["Label"] for o in attrs["leadsourcecode"]["OptionSet"]["Options"]
    }
    assert options[8] == "Web" and len(options) == 10
