"""Probe each register entry (ASSUMPTIONS.md) against a REAL Dataverse environment. Never run in CI.

    DATAVERSE_URL=https://<org>.crm.dynamics.com DATAVERSE_TOKEN=<bearer> python -m sandbox.live_check dynamics

It creates a few throw-away records (names start with ``zz-sandbox-probe``) and deletes them again,
and prints what it observed per entry so the register and the switch defaults can be updated.
The token is only sent in the Authorization header and never printed.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from typing import Any

import httpx

Probe = Callable[["Live"], str]
TAG = "zz-sandbox-probe"


class Live:
    def __init__(self, url: str, token: str) -> None:
        self.api = url.rstrip("/") + "/api/data/v9.2/"
        self.http = httpx.Client(
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "OData-Version": "4.0",
                "OData-MaxVersion": "4.0",
            },
            timeout=60.0,
        )
        self.cleanup: list[str] = []

    def req(self, method: str, path: str, **kw: Any) -> httpx.Response:
        url = path if path.startswith("http") else self.api + path
        return self.http.request(method, url, **kw)

    def create(self, entity_set: str, body: dict[str, Any]) -> str:
        r = self.req("POST", entity_set, json=body)
        r.raise_for_status()
        url = r.headers["OData-EntityId"]
        self.cleanup.append(url)
        return url.rsplit("(", 1)[1].rstrip(")")

    def close(self) -> None:
        for url in reversed(self.cleanup):
            self.req("DELETE", url)
        self.http.close()


def _err(r: httpx.Response) -> str:
    try:
        error = r.json().get("error", {})
        return f"{r.status_code} code={error.get('code')!r} message={error.get('message', '')[:160]!r}"
    except ValueError:
        return f"{r.status_code} body={r.text[:160]!r}"


def _tracked_pages(live: Live, url: str, size: int, on_first: Callable[[dict[str, Any]], object] | None = None) -> str:
    headers = {"Prefer": f"odata.track-changes,odata.maxpagesize={size}"}
    next_url: str | None = url
    first = True
    link = ""
    while next_url:
        body = live.req("GET", next_url, headers=headers).json()
        if first and on_first:
            on_first(body)
        first = False
        next_url, link = body.get("@odata.nextLink"), body.get("@odata.deltaLink", "")
    return link


def filter_accent_insensitive(live: Live) -> str:
    suffix = uuid.uuid4().hex[:6]
    live.create("contacts", {"lastname": f"{TAG}-Ångström-{suffix}"})
    r = live.req("GET", "contacts", params={"$select": "lastname", "$filter": f"lastname eq '{TAG}-angstrom-{suffix}'"})
    return f"accent-folded match count = {len(r.json().get('value', []))} (1 → insensitive)"


def ne_matches_null(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-null-job"})
    r = live.req("GET", "contacts", params={"$filter": f"contactid eq {cid} and jobtitle ne 'x'"})
    return f"rows with null jobtitle matched by ne = {len(r.json().get('value', []))} (0 → excluded)"


def ct_expired_status(live: Live) -> str:
    r = live.req("GET", "contacts?$select=lastname&$deltatoken=1%2101%2f01%2f2000%2000%3a00%3a00")
    return "ancient delta token → " + _err(r)


def ct_token_from(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-midread"})
    link = _tracked_pages(
        live,
        "contacts?$select=lastname",
        5000,
        on_first=lambda _body: live.req("PATCH", f"contacts({cid})", json={"jobtitle": "changed mid read"}),
    )
    delta = live.req("GET", link, headers={"Prefer": "odata.track-changes"}).json().get("value", [])
    seen = any(v.get("contactid") == cid for v in delta)
    return f"row updated during the initial read appears in next delta: {seen} (True → first_page)"


def ct_page_order(live: Live) -> str:
    body = live.req(
        "GET", "contacts?$select=versionnumber", headers={"Prefer": "odata.track-changes,odata.maxpagesize=50"}
    ).json()
    ids = [v["contactid"] for v in body.get("value", [])]
    versions = [int(v.get("versionnumber") or 0) for v in body.get("value", [])]
    return f"first page ordered by id: {ids == sorted(ids)}, by versionnumber: {versions == sorted(versions)}"


def skiptoken_format(live: Live) -> str:
    body = live.req("GET", "contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=1"}).json()
    link = body.get("@odata.nextLink", "")
    return "skiptoken: " + str(httpx.URL(link).params.get("$skiptoken", "(no nextLink)"))[:200]


def ct_expire_days(live: Live) -> str:
    r = live.req("GET", "organizations?$select=expirechangetrackingindays")
    return f"organizations: {r.json().get('value')}"


def state_patch(live: Live) -> str:
    lid = live.create("leads", {"subject": TAG, "lastname": TAG})
    r = live.req("PATCH", f"leads({lid})", json={"statecode": 1, "statuscode": 3})
    qualified = str(r.status_code) if r.status_code < 400 else _err(r)
    other = live.create("leads", {"subject": TAG, "lastname": TAG})
    r = live.req("PATCH", f"leads({other})", json={"statecode": 2, "statuscode": 4})
    return f"PATCH lead to Qualified → {qualified}; to Disqualified → " + (
        str(r.status_code) if r.status_code < 400 else _err(r)
    )


def _me(live: Live) -> dict[str, Any]:
    data: dict[str, Any] = live.req("GET", "WhoAmI").json()
    return data


def role_other_bu_code(live: Live) -> str:
    me = _me(live)
    roles = live.req("GET", "roles", params={"$select": "name,_businessunitid_value", "$top": "500"}).json()["value"]
    other = next((r for r in roles if r["_businessunitid_value"] != me["BusinessUnitId"]), None)
    if other is None:
        return "only one business unit: cannot probe"
    url = f"systemusers({me['UserId']})/systemuserroles_association/$ref"
    r = live.req("POST", url, json={"@odata.id": live.api + f"roles({other['roleid']})"})
    if r.status_code < 300:
        live.req("DELETE", f"systemusers({me['UserId']})/systemuserroles_association({other['roleid']})/$ref")
    return "role from another BU → " + _err(r)


def ct_disabled(live: Live) -> str:
    r = live.req(
        "GET", "EntityDefinitions", params={"$select": "EntitySetName", "$filter": "ChangeTrackingEnabled eq false"}
    )
    sets = [e["EntitySetName"] for e in r.json().get("value", []) if e.get("EntitySetName")]
    if not sets:
        return "no table without change tracking found"
    target = "businessunits" if "businessunits" in sets else sets[0]
    r = live.req("GET", f"{target}?$top=1", headers={"Prefer": "odata.track-changes"})
    if r.status_code >= 400:
        return f"{target}: " + _err(r)
    applied = r.headers.get("Preference-Applied")
    return f"{target}: {r.status_code}, Preference-Applied={applied!r}, deltaLink={'@odata.deltaLink' in r.json()}"


def count_endpoint_capped(live: Live) -> str:
    return "contacts/$count = " + live.req("GET", "contacts/$count").text + " (5000 with more rows → capped)"


def merge_reparents_children(live: Live) -> str:
    winner = live.create("contacts", {"lastname": f"{TAG}-winner"})
    loser = live.create("contacts", {"lastname": f"{TAG}-loser"})
    child = live.create(
        "contacts", {"lastname": f"{TAG}-child", "parentcustomerid_contact@odata.bind": f"/contacts({loser})"}
    )
    body = {
        "Target": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": winner},
        "Subordinate": {"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": loser},
        "UpdateContent": {"@odata.type": "Microsoft.Dynamics.CRM.contact"},
        "PerformParentingChecks": False,
    }
    r = live.req("POST", "Merge", json=body)
    if r.status_code >= 400:
        return "Merge → " + _err(r)
    got = live.req("GET", f"contacts({child})?$select=_parentcustomerid_value").json()
    lost = live.req("GET", f"contacts({loser})?$select=statecode,statuscode,merged,_masterid_value").json()
    return f"child parent → winner: {got.get('_parentcustomerid_value') == winner}; loser: {lost}"


def role_copies_to_child_bus(live: Live) -> str:
    me = _me(live)
    name = f"{TAG}-role-{uuid.uuid4().hex[:6]}"
    live.create("roles", {"name": name, "businessunitid@odata.bind": f"/businessunits({me['BusinessUnitId']})"})
    rows = live.req("GET", "roles", params={"$select": "roleid", "$filter": f"name eq '{name}'"}).json()["value"]
    return f"copies of a new role: {len(rows)} (>1 → copied into child BUs)"


def reassociate_duplicate(live: Live) -> str:
    me = _me(live)
    roles = live.req("GET", f"systemusers({me['UserId']})/systemuserroles_association?$select=roleid").json()["value"]
    if not roles:
        return "caller has no direct role: cannot probe"
    r = live.req(
        "POST",
        f"systemusers({me['UserId']})/systemuserroles_association/$ref",
        json={"@odata.id": live.api + f"roles({roles[0]['roleid']})"},
    )
    return "re-associating an existing role → " + (str(r.status_code) if r.status_code < 400 else _err(r))


def auth_401_body(live: Live) -> str:
    r = httpx.get(live.api + "WhoAmI", headers={"Accept": "application/json"}, timeout=30)
    return f"{r.status_code} body={r.text[:120]!r} WWW-Authenticate={r.headers.get('WWW-Authenticate', '')[:120]!r}"


def concurrency_code(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-etag"})
    r = live.req("PATCH", f"contacts({cid})", json={"jobtitle": "x"}, headers={"If-Match": 'W/"1"'})
    return "stale If-Match → " + _err(r)


def top_with_maxpagesize(live: Live) -> str:
    r = live.req("GET", "contacts?$select=lastname&$top=3", headers={"Prefer": "odata.maxpagesize=10"})
    return f"$top=3 with maxpagesize=10 → {len(r.json().get('value', []))} rows"


def qualify_closed_lead(live: Live) -> str:
    lid = live.create("leads", {"subject": TAG, "lastname": TAG})
    body = {"CreateAccount": False, "CreateContact": False, "CreateOpportunity": False, "Status": 3}
    first = live.req("POST", f"leads({lid})/Microsoft.Dynamics.CRM.QualifyLead", json=body)
    second = live.req("POST", f"leads({lid})/Microsoft.Dynamics.CRM.QualifyLead", json=body)
    return f"first → {first.status_code}; second → " + _err(second)


def root_role_parent_root(live: Live) -> str:
    units = live.req(
        "GET", "businessunits", params={"$select": "name", "$filter": "_parentbusinessunitid_value eq null"}
    )
    root = units.json()["value"][0]["businessunitid"]
    query = {
        "$select": "name,_parentrootroleid_value,_roletemplateid_value",
        "$filter": f"_businessunitid_value eq {root}",
    }
    rows = live.req("GET", "roles", params=query).json().get("value", [])
    own = sum(1 for r in rows if r.get("_parentrootroleid_value") == r["roleid"])
    empty = sum(1 for r in rows if r.get("_parentrootroleid_value") is None)
    return f"root-unit roles: {len(rows)}, pointing at themselves: {own} (→ self), null: {empty} (→ null)"


def _users(live: Live, query: str) -> list[dict[str, Any]]:
    params = {"$select": "fullname,azureactivedirectoryobjectid,_businessunitid_value,isdisabled", "$filter": query}
    rows: list[dict[str, Any]] = live.req("GET", "systemusers", params=params).json().get("value", [])
    return rows


def _access(live: Live, principal: str, target: str) -> str:
    url = f"{principal}/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)"
    r = live.req("GET", url, params={"@t": "{'@odata.id':'" + target + "'}"})
    return str(r.json().get("AccessRights")) if r.status_code == 200 else _err(r)


def team_role_scope(live: Live) -> str:
    teams = (
        live.req(
            "GET",
            "teams",
            params={
                "$select": "name,_businessunitid_value",
                "$filter": "teamtype eq 0 and isdefault eq false",
                "$expand": "teammembership_association($select=_businessunitid_value),"
                "teamroles_association($select=name)",
            },
        )
        .json()
        .get("value", [])
    )
    for team in teams:
        if not team.get("teamroles_association"):
            continue
        for member in team.get("teammembership_association", []):
            if member["_businessunitid_value"] != team["_businessunitid_value"]:
                rows = live.req(
                    "GET",
                    "contacts",
                    params={
                        "$select": "contactid",
                        "$top": "1",
                        "$filter": f"_owningbusinessunit_value eq {team['_businessunitid_value']}",
                    },
                ).json()["value"]
                if rows:
                    rights = _access(
                        live, f"systemusers({member['systemuserid']})", f"contacts({rows[0]['contactid']})"
                    )
                    return f"member of team '{team['name']}' (other unit) on a record of the team's unit: {rights}"
    return "no owner team with roles and a member from another business unit: cannot probe (set one up)"


def record_access_denied_code(live: Live) -> str:
    contact = live.req("GET", "contacts", params={"$select": "contactid", "$top": "1"}).json()["value"][0]["contactid"]
    for user in _users(live, "isdisabled eq false and applicationid eq null and azureactivedirectoryobjectid ne null"):
        rights = _access(live, f"systemusers({user['systemuserid']})", f"contacts({contact})")
        if "ReadAccess" not in rights:
            r = live.req(
                "GET", f"contacts({contact})", headers={"CallerObjectId": user["azureactivedirectoryobjectid"]}
            )
            return f"AccessRights without read = {rights!r}; impersonated read → " + _err(r)
    return "every user can read the first contact: cannot probe"


def impersonate_disabled_status(live: Live) -> str:
    users = _users(live, "isdisabled eq true and azureactivedirectoryobjectid ne null")
    if not users:
        return "no disabled user with an object id: cannot probe"
    r = live.req("GET", "WhoAmI", headers={"CallerObjectId": users[0]["azureactivedirectoryobjectid"]})
    return "impersonating a disabled user → " + (str(r.status_code) if r.status_code < 400 else _err(r))


def inactive_update(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-inactive"})
    live.req("PATCH", f"contacts({cid})", json={"statecode": 1, "statuscode": 2})
    r = live.req("PATCH", f"contacts({cid})", json={"jobtitle": "edited while inactive"})
    return "update of an inactive contact → " + (str(r.status_code) if r.status_code < 400 else _err(r))


def max_length_unit(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-len"})
    r = live.req("PATCH", f"contacts({cid})", json={"lastname": "x" * 49 + "\U0001f600"})
    return "49 chars + 1 emoji in lastname (50) → " + (
        str(r.status_code) + " (codepoints)" if r.status_code < 400 else _err(r) + " (utf16)"
    )


def bind_missing_status(live: Live) -> str:
    cid = live.create("contacts", {"lastname": f"{TAG}-bind"})
    missing = "/accounts(11111111-2222-4333-8444-555555555555)"
    r = live.req("PATCH", f"contacts({cid})", json={"parentcustomerid_account@odata.bind": missing})
    return "bind to a missing account → " + _err(r)


def disabled_owner_code(live: Live) -> str:
    users = _users(live, "isdisabled eq true")
    if not users:
        return "no disabled user: cannot probe"
    body = {"lastname": f"{TAG}-owner", "ownerid@odata.bind": f"/systemusers({users[0]['systemuserid']})"}
    r = live.req("POST", "contacts", json=body)
    if r.status_code < 300:
        live.cleanup.append(r.headers.get("OData-EntityId", ""))
        return f"a disabled owner was accepted ({r.status_code})"
    return "contact owned by a disabled user → " + _err(r)


def owner_needs_read(live: Live) -> str:
    params = {
        "$select": "fullname",
        "$filter": "isdisabled eq false and applicationid eq null and accessmode eq 0",
        "$expand": "systemuserroles_association($select=roleid)",
    }
    users = live.req("GET", "systemusers", params=params).json().get("value", [])
    bare = [u for u in users if not u["systemuserroles_association"]]
    if not bare:
        return "every enabled user has a role: cannot probe"
    body = {"lastname": f"{TAG}-owner", "ownerid@odata.bind": f"/systemusers({bare[0]['systemuserid']})"}
    r = live.req("POST", "contacts", json=body)
    if r.status_code < 300:
        live.cleanup.append(r.headers.get("OData-EntityId", ""))
        return f"owner without a direct role accepted ({r.status_code}; check its teams)"
    return "contact owned by a user without roles → " + _err(r)


def application_required(live: Live) -> str:
    r = live.req("POST", "leads", json={"firstname": f"{TAG}-required"})  # no subject, no lastname
    if r.status_code < 300:
        live.cleanup.append(r.headers.get("OData-EntityId", ""))
        return f"lead without subject/lastname accepted ({r.status_code}: not_enforced)"
    return "lead without subject/lastname → " + _err(r) + " (enforced)"


PROBES: dict[str, Probe] = {
    f.__name__: f
    for f in (
        filter_accent_insensitive,
        ne_matches_null,
        ct_expired_status,
        ct_token_from,
        ct_page_order,
        skiptoken_format,
        ct_expire_days,
        state_patch,
        role_other_bu_code,
        ct_disabled,
        count_endpoint_capped,
        merge_reparents_children,
        role_copies_to_child_bus,
        reassociate_duplicate,
        auth_401_body,
        concurrency_code,
        top_with_maxpagesize,
        qualify_closed_lead,
        root_role_parent_root,
        team_role_scope,
        record_access_denied_code,
        impersonate_disabled_status,
        inactive_update,
        max_length_unit,
        bind_missing_status,
        disabled_owner_code,
        owner_needs_read,
        application_required,
    )
}


def main(argv: list[str] | None = None) -> int:
    url, token = os.environ.get("DATAVERSE_URL"), os.environ.get("DATAVERSE_TOKEN")
    if not url or not token:
        print(
            "set DATAVERSE_URL (https://<org>.crm.dynamics.com) and DATAVERSE_TOKEN (a bearer token)", file=sys.stderr
        )
        return 2
    wanted = set(argv or []) or set(PROBES)
    live = Live(url, token)
    try:
        for name, probe in PROBES.items():
            if name not in wanted:
                continue
            try:
                print(f"{name}: {probe(live)}")
            except (httpx.HTTPError, KeyError, ValueError) as exc:
                print(f"{name}: probe failed: {type(exc).__name__}: {exc}")
    finally:
        live.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
