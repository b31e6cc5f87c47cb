"""Each register switch (sandbox/dynamics/ASSUMPTIONS.md) changes observable behaviour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse
from sandbox.dynamics.switches import SWITCHES

from .conftest import API, values

TRACK = {"Prefer": "odata.track-changes,odata.maxpagesize=20"}


async def _set(client: httpx.AsyncClient, **changes: Any) -> None:
    r = await client.post("/_sandbox/switches", json=changes)
    assert r.status_code == 200, r.text


async def _delta_link(client: httpx.AsyncClient, table: str = "contacts", select: str = "lastname") -> str:
    url: str | None = API + f"{table}?$select={select}"
    link = ""
    while url:
        body = (await client.get(url, headers=TRACK)).json()
        url, link = body.get("@odata.nextLink"), body.get("@odata.deltaLink", "")
    return link


def test_every_switch_has_a_test_and_a_register_entry() -> None:
    source = Path(__file__).read_text()
    register = (Path(__file__).parents[2] / "sandbox" / "dynamics" / "ASSUMPTIONS.md").read_text()
    for key in SWITCHES:
        assert f"async def test_switch_{key}(" in source, key
        assert f"`{key}`" in register, key


async def test_switch_filter_accent_insensitive(client: httpx.AsyncClient) -> None:
    await client.post(API + "contacts", json={"lastname": "Ångström"})
    query = {"$filter": "lastname eq 'angstrom'"}
    assert len(values(await client.get(API + "contacts", params=query))) == 1
    await _set(client, filter_accent_insensitive=False)
    assert values(await client.get(API + "contacts", params=query)) == []


async def test_switch_ne_matches_null(client: httpx.AsyncClient, dv: Dataverse) -> None:
    query = {"$filter": "jobtitle ne 'CEO'", "$count": "true"}
    strict = (await client.get(API + "contacts", params=query)).json()["@odata.count"]
    await _set(client, ne_matches_null=True)
    loose = (await client.get(API + "contacts", params=query)).json()["@odata.count"]
    nulls = sum(1 for c in dv.rows["contact"].values() if c.get("jobtitle") is None)
    assert nulls > 0 and loose == strict + nulls


async def test_switch_ct_expired_status(client: httpx.AsyncClient) -> None:
    link = await _delta_link(client)
    await client.post("/_sandbox/change-tracking", json={"table": "contact", "expire_tokens": True})
    assert (await client.get(link, headers=TRACK)).status_code == 400
    await _set(client, ct_expired_status=410)
    assert (await client.get(link, headers=TRACK)).status_code == 410


async def test_switch_ct_token_from(client: httpx.AsyncClient, dv: Dataverse) -> None:
    async def read_with_update_midway() -> set[str]:
        first = (await client.get(API + "contacts?$select=jobtitle", headers=TRACK)).json()
        seen_id = first["value"][0]["contactid"]
        await client.patch(API + f"contacts({seen_id})", json={"jobtitle": "changed during read"})
        url: str | None = first["@odata.nextLink"]
        link = ""
        while url:
            body = (await client.get(url, headers=TRACK)).json()
            url, link = body.get("@odata.nextLink"), body.get("@odata.deltaLink", "")
        delta = (await client.get(link, headers=TRACK)).json()["value"]
        return {v["contactid"] for v in delta} & {seen_id}

    assert await read_with_update_midway()  # first_page: the mid-read update is in the next delta
    await _set(client, ct_token_from="last_page")
    assert not await read_with_update_midway()  # last_page: it is lost


async def test_switch_ct_page_order(client: httpx.AsyncClient, dv: Dataverse) -> None:
    async def first_page_ids() -> list[str]:
        body = (await client.get(API + "contacts?$select=lastname", headers=TRACK)).json()
        return [v["contactid"] for v in body["value"]]

    assert await first_page_ids() == dv.sorted_ids("contact")[:20]
    await _set(client, ct_page_order="version")
    by_version = sorted(dv.rows["contact"].values(), key=lambda r: r["versionnumber"])
    assert await first_page_ids() == [r["contactid"] for r in by_version[:20]]


async def test_switch_skiptoken_format(client: httpx.AsyncClient) -> None:
    headers = {"Prefer": "odata.maxpagesize=5"}
    link = (await client.get(API + "contacts?$select=lastname", headers=headers)).json()["@odata.nextLink"]
    assert httpx.URL(link).params["$skiptoken"].startswith("<cookie pagenumber=")
    await _set(client, skiptoken_format="opaque")
    link = (await client.get(API + "contacts?$select=lastname", headers=headers)).json()["@odata.nextLink"]
    token = httpx.URL(link).params["$skiptoken"]
    assert not token.startswith("<") and len(values(await client.get(link, headers=headers))) == 5


async def test_switch_ct_expire_days(client: httpx.AsyncClient, sandbox_clock: SandboxClock) -> None:
    link = await _delta_link(client)
    sandbox_clock.advance(10 * 86400)
    assert (await client.get(link, headers=TRACK)).status_code == 400
    await _set(client, ct_expire_days=30)
    assert (await client.get(link, headers=TRACK)).status_code == 200
    org = values(await client.get(API + "organizations", params={"$select": "expirechangetrackingindays"}))
    assert org[0]["expirechangetrackingindays"] == 30


async def test_switch_state_patch(client: httpx.AsyncClient, dv: Dataverse) -> None:
    lead_id, other = dv.sorted_ids("lead")[:2]
    opportunity = dv.sorted_ids("opportunity")[0]
    dv.rows["lead"][other].update(statecode=0, statuscode=1)
    dv.rows["opportunity"][opportunity].update(statecode=0, statuscode=1)
    qualify, won = {"statecode": 1, "statuscode": 3}, {"statecode": 1, "statuscode": 3}
    assert (await client.patch(API + f"leads({lead_id})", json=qualify)).status_code == 204
    await _set(client, state_patch="refuse")
    r = await client.patch(API + f"leads({other})", json=qualify)
    assert r.status_code == 400 and "QualifyLead" in r.json()["error"]["message"]
    r = await client.patch(API + f"opportunities({opportunity})", json=won)
    assert r.status_code == 400 and "WinOpportunity" in r.json()["error"]["message"]
    disqualify = {"statecode": 2, "statuscode": 6}  # an update under both readings (SetState is deprecated)
    assert (await client.patch(API + f"leads({other})", json=disqualify)).status_code == 204


async def test_switch_role_other_bu_code(client: httpx.AsyncClient, dv: Dataverse) -> None:
    user = next(u for u in dv.rows["systemuser"].values() if u["lastname"] == "Norole")
    other = next(r for r in dv.rows["role"].values() if r["_businessunitid_value"] != user["_businessunitid_value"])
    url = API + f"systemusers({user['systemuserid']})/systemuserroles_association/$ref"
    ref = {"@odata.id": f"roles({other['roleid']})"}
    assert (await client.post(url, json=ref)).json()["error"]["code"] == "0x80040375"
    await _set(client, role_other_bu_code="0x80040220")
    assert (await client.post(url, json=ref)).json()["error"]["code"] == "0x80040220"


async def test_switch_ct_disabled(client: httpx.AsyncClient) -> None:
    url = API + "systemusers?$select=fullname"
    assert (await client.get(url, headers=TRACK)).status_code == 200
    await _set(client, ct_disabled="error")
    assert (await client.get(url, headers=TRACK)).status_code == 400


async def test_switch_count_endpoint_capped(client: httpx.AsyncClient, dv: Dataverse) -> None:
    await client.post("/_sandbox/seed", json={"contacts": 5003})
    assert (await client.get(API + "contacts/$count")).text == "5000"
    await _set(client, count_endpoint_capped=False)
    assert (await client.get(API + "contacts/$count")).text == "5003"


async def _merge(client: httpx.AsyncClient, winner: str, loser: str) -> None:
    r = await client.post(
        API + "Merge",
        json={
            "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner},
            "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": loser},
            "UpdateContent": {"@odata.type": "Microsoft.Dynamics.CRM.contact"},
            "PerformParentingChecks": False,
        },
    )
    assert r.status_code == 204, r.text


async def test_switch_merge_reparents_children(client: httpx.AsyncClient, dv: Dataverse) -> None:
    ids = dv.sorted_ids("contact")
    opps = list(dv.rows["opportunity"])[:2]
    for opp, loser in ((opps[0], ids[1]), (opps[1], ids[3])):
        await client.patch(API + f"opportunities({opp})", json={"parentcontactid@odata.bind": f"/contacts({loser})"})
    await _merge(client, ids[0], ids[1])
    assert dv.rows["opportunity"][opps[0]]["_parentcontactid_value"] == ids[0]
    await _set(client, merge_reparents_children=False)
    await _merge(client, ids[2], ids[3])
    assert dv.rows["opportunity"][opps[1]]["_parentcontactid_value"] == ids[3]


async def test_switch_role_copies_to_child_bus(client: httpx.AsyncClient, dv: Dataverse) -> None:
    async def create(name: str) -> int:
        await client.post(
            API + "roles", json={"name": name, "businessunitid@odata.bind": f"/businessunits({dv.root_bu})"}
        )
        return len(values(await client.get(API + "roles", params={"$filter": f"name eq '{name}'"})))

    assert await create("R1") == 2
    await _set(client, role_copies_to_child_bus=False)
    assert await create("R2") == 1


async def test_switch_reassociate_duplicate(client: httpx.AsyncClient, dv: Dataverse) -> None:
    user = next(u for u in dv.rows["systemuser"].values() if u["lastname"] == "Seller")
    role = next(
        r
        for r in dv.rows["role"].values()
        if r["name"] == "ActiveCampaign User" and r["_businessunitid_value"] == user["_businessunitid_value"]
    )
    url = API + f"systemusers({user['systemuserid']})/systemuserroles_association/$ref"
    assert (await client.post(url, json={"@odata.id": f"roles({role['roleid']})"})).status_code == 204
    await _set(client, reassociate_duplicate="error")
    assert (await client.post(url, json={"@odata.id": f"roles({role['roleid']})"})).status_code == 412


async def test_switch_auth_401_body(client: httpx.AsyncClient) -> None:
    assert (await client.get(API + "WhoAmI", headers={"Authorization": "Bearer bad"})).content == b""
    await _set(client, auth_401_body="error")
    r = await client.get(API + "WhoAmI", headers={"Authorization": "Bearer bad"})
    assert r.status_code == 401 and r.json()["error"]["message"]


async def test_switch_concurrency_code(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"contacts({dv.sorted_ids('contact')[0]})"
    headers = {"If-Match": 'W/"1"'}
    assert (await client.patch(url, json={"jobtitle": "x"}, headers=headers)).json()["error"]["code"] == "0x80060882"
    await _set(client, concurrency_code="")
    assert (await client.patch(url, json={"jobtitle": "x"}, headers=headers)).json()["error"]["code"] == ""


async def test_switch_top_with_maxpagesize(client: httpx.AsyncClient) -> None:
    headers = {"Prefer": "odata.maxpagesize=10"}
    assert len(values(await client.get(API + "contacts", params={"$top": "3"}, headers=headers))) == 10
    await _set(client, top_with_maxpagesize="top_wins")
    assert len(values(await client.get(API + "contacts", params={"$top": "3"}, headers=headers))) == 3


async def test_switch_qualify_closed_lead(client: httpx.AsyncClient, dv: Dataverse) -> None:
    closed = next(lead for lead in dv.rows["lead"].values() if lead["statecode"] == 2)
    url = API + f"leads({closed['leadid']})/Microsoft.Dynamics.CRM.QualifyLead"
    body = {"CreateAccount": False, "CreateContact": True, "CreateOpportunity": False, "Status": 3}
    assert (await client.post(url, json=body)).status_code == 400
    await _set(client, qualify_closed_lead="allow")
    assert (await client.post(url, json=body)).status_code == 200


async def test_switch_root_role_parent_root(client: httpx.AsyncClient, dv: Dataverse) -> None:
    query = {"$select": "name,_parentrootroleid_value", "$filter": f"_businessunitid_value eq {dv.root_bu}"}
    roots = values(await client.get(API + "roles", params=query))
    assert roots and all(r["_parentrootroleid_value"] == r["roleid"] for r in roots)
    await _set(client, root_role_parent_root="null")
    roots = values(await client.get(API + "roles", params=query))
    assert all(r["_parentrootroleid_value"] is None for r in roots)
    copies = values(await client.get(API + "roles", params={"$filter": f"_businessunitid_value ne {dv.root_bu}"}))
    assert {c["_parentrootroleid_value"] for c in copies} == {r["roleid"] for r in roots}


def _seller_headers(dv: Dataverse, fullname: str) -> dict[str, str]:
    person = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == fullname)
    return {"CallerObjectId": person["azureactivedirectoryobjectid"]}


def _first_owned(dv: Dataverse, fullname: str) -> str:
    person = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == fullname)
    return str(
        next(r["contactid"] for r in dv.rows["contact"].values() if r["_ownerid_value"] == person["systemuserid"])
    )


async def test_switch_team_role_scope(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # Sam (root unit) joins an owner team of the child unit that holds a Local-read role
    child = next(b["businessunitid"] for b in dv.rows["businessunit"].values() if b["businessunitid"] != dv.root_bu)
    eu_team = dv.create("team", {"name": "EU desk", "teamtype": 0}, binds={"businessunitid": ("businessunit", child)})
    regional = next(
        r["roleid"]
        for r in dv.rows["role"].values()
        if r["name"] == "Regional Sales Manager" and r["_businessunitid_value"] == child
    )
    dv.associate("teamroles_association", "team", eu_team["teamid"], regional)
    sam = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Sam Seller")
    dv.associate("teammembership_association", "systemuser", sam["systemuserid"], eu_team["teamid"])
    headers = _seller_headers(dv, "Sam Seller")
    child_record, root_record = _first_owned(dv, "Émile Dubois"), _first_owned(dv, "Nina Norole")
    assert (await client.get(API + f"contacts({child_record})", headers=headers)).status_code == 200
    assert (await client.get(API + f"contacts({root_record})", headers=headers)).status_code == 403
    await _set(client, team_role_scope="member_bu")
    assert (await client.get(API + f"contacts({child_record})", headers=headers)).status_code == 403
    assert (await client.get(API + f"contacts({root_record})", headers=headers)).status_code == 200


async def test_switch_record_access_denied_code(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"contacts({_first_owned(dv, 'Nina Norole')})"
    headers = _seller_headers(dv, "Sam Seller")
    r = await client.get(url, headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x80040220"
    await _set(client, record_access_denied_code="0x80048306")
    r = await client.get(url, headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "0x80048306"


async def test_switch_impersonate_disabled_status(client: httpx.AsyncClient, dv: Dataverse) -> None:
    headers = _seller_headers(dv, "Sam Seller")
    dv.set_user_disabled(
        next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Sam Seller")["systemuserid"]
    )
    assert (await client.get(API + "WhoAmI", headers=headers)).status_code == 403
    await _set(client, impersonate_disabled_status=400)
    r = await client.get(API + "WhoAmI", headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80040225"


async def test_switch_inactive_update(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"contacts({dv.sorted_ids('contact')[0]})"
    assert (await client.patch(url, json={"statecode": 1, "statuscode": 2})).status_code == 204
    assert (await client.patch(url, json={"jobtitle": "while inactive"})).status_code == 204
    await _set(client, inactive_update="refuse")
    r = await client.patch(url, json={"jobtitle": "refused"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80040230"
    assert (await client.patch(url, json={"statecode": 0, "statuscode": 1, "jobtitle": "back"})).status_code == 204


async def test_switch_max_length_unit(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"contacts({dv.sorted_ids('contact')[0]})"
    body = {"lastname": "x" * 49 + "😀"}  # 50 code points, 51 UTF-16 units
    assert (await client.patch(url, json=body)).status_code == 400
    await _set(client, max_length_unit="codepoints")
    assert (await client.patch(url, json=body)).status_code == 204


async def test_switch_bind_missing_status(client: httpx.AsyncClient, dv: Dataverse) -> None:
    url = API + f"contacts({dv.sorted_ids('contact')[0]})"
    body = {"parentcustomerid_account@odata.bind": "/accounts(11111111-2222-4333-8444-555555555555)"}
    assert (await client.patch(url, json=body)).status_code == 404
    await _set(client, bind_missing_status=400)
    r = await client.patch(url, json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80040217"


async def test_switch_disabled_owner_code(client: httpx.AsyncClient, dv: Dataverse) -> None:
    dana = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Dana Disabled")
    body = {"lastname": "l", "ownerid@odata.bind": f"/systemusers({dana['systemuserid']})"}
    assert (await client.post(API + "contacts", json=body)).json()["error"]["code"] == "0x8004022b"
    await _set(client, disabled_owner_code="0x80040225")
    r = await client.post(API + "contacts", json=body)
    assert r.status_code == 400 and r.json()["error"]["code"] == "0x80040225"


async def test_switch_owner_needs_read(client: httpx.AsyncClient, dv: Dataverse) -> None:
    nina = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Nina Norole")
    body = {"lastname": "l", "ownerid@odata.bind": f"/systemusers({nina['systemuserid']})"}
    assert (await client.post(API + "contacts", json=body)).status_code == 403
    await _set(client, owner_needs_read=False)
    assert (await client.post(API + "contacts", json=body)).status_code == 204


async def test_switch_application_required(client: httpx.AsyncClient, dv: Dataverse) -> None:
    bare = {"firstname": "Only"}
    lead = {"subject": "Web form", "lastname": "Request"}
    for table, body in (("leads", bare), ("leads", {"lastname": "no subject"}), ("contacts", bare),
                        ("accounts", {"telephone1": "1"})):
        assert (await client.post(API + table, json=body)).status_code == 204, table  # forms-only reading
    lead_id = dv.sorted_ids("lead")[0]
    assert (await client.patch(API + f"leads({lead_id})", json={"subject": None})).status_code == 204
    await _set(client, application_required="enforced")
    for table, body, column in (("leads", bare, "subject"), ("leads", {"subject": "s"}, "lastname"),
                                ("leads", {"subject": "s", "lastname": ""}, "lastname"), ("contacts", bare, "lastname"),
                                ("accounts", {"telephone1": "1"}, "name")):
        r = await client.post(API + table, json=body)
        assert r.status_code == 400 and r.json()["error"]["code"] == "0x80044331", (table, body)
        assert f"'{column}'" in r.json()["error"]["message"]
    assert (await client.post(API + "leads", json=lead)).status_code == 204
    r = await client.patch(API + f"leads({lead_id})", json={"lastname": None})
    assert r.status_code == 400 and "'lastname'" in r.json()["error"]["message"]
    assert (await client.patch(API + f"leads({lead_id})", json={"firstname": "x"})).status_code == 204
    upsert = API + "contacts(11111111-2222-4333-8444-555555555555)"
    assert (await client.patch(upsert, json=bare)).status_code == 400  # an upsert that creates is a create
