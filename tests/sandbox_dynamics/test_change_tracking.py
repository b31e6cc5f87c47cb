"""Change tracking (dynamics-webapi.md §2.1) — including the 12,000-contact acceptance read."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse, create_app

from .conftest import API, TOKEN

TRACK = {"Prefer": "odata.track-changes,odata.maxpagesize=1000"}


async def tracked_read(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[list[dict[str, Any]], str]:
    """All pages of a track-changes read; asserts the delta link is on the last page only."""
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        r = await client.get(next_url, headers=headers)
        assert r.status_code == 200, r.text
        assert "odata.track-changes" in r.headers["Preference-Applied"]
        body = r.json()
        pages.append(body)
        next_url = body.get("@odata.nextLink")
    assert all("@odata.deltaLink" not in p for p in pages[:-1])
    assert "@odata.deltaLink" in pages[-1] and "@odata.nextLink" not in pages[-1]
    return [row for p in pages for row in p["value"]], pages[-1]["@odata.deltaLink"]


async def test_acceptance_12000_contacts(sandbox_clock: SandboxClock) -> None:
    app = create_app(clock=sandbox_clock, seed_contacts=12_000)
    dv: Dataverse = app.state.dataverse
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://org.crm.dynamics.com",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as client:
        pages: list[int] = []
        next_url: str | None = API + "contacts?$select=firstname,lastname,emailaddress1"
        last: dict[str, Any] = {}
        while next_url:
            r = await client.get(next_url, headers=TRACK)
            last = r.json()
            pages.append(len(last["value"]))
            assert ("@odata.deltaLink" in last) == ("@odata.nextLink" not in last)
            next_url = last.get("@odata.nextLink")
        assert pages == [1000] * 12  # pages at the requested size; delta link on the last page only
        delta_link = last["@odata.deltaLink"]
        assert "$deltatoken=" in delta_link

        ids = dv.sorted_ids("contact")
        updated = {ids[5], ids[6000]}
        deleted = {ids[10], ids[11_999]}
        for row_id in updated:
            assert (await client.patch(API + f"contacts({row_id})", json={"jobtitle": "Changed"})).status_code == 204
        await client.patch(API + f"contacts({ids[5]})", json={"jobtitle": "Changed twice"})  # twice → once
        for row_id in deleted:
            assert (await client.delete(API + f"contacts({row_id})")).status_code == 204
        created = set()
        for i in range(3):
            r = await client.post(API + "contacts", json={"lastname": f"New{i}"})
            created.add(r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")"))
        r = await client.post(API + "contacts", json={"lastname": "Ephemeral"})
        ephemeral = r.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
        await client.delete(API + f"contacts({ephemeral})")  # created then deleted → reported as deleted

        r = await client.get(delta_link, headers=TRACK)
        body = r.json()
        assert r.headers["Preference-Applied"].startswith("odata.track-changes")
        assert body["@odata.context"].endswith("/$delta")
        changed = [v for v in body["value"] if "reason" not in v]
        removed = [v for v in body["value"] if v.get("reason") == "deleted"]
        assert sorted(v["contactid"] for v in changed) == sorted(updated | created)
        assert {v["id"] for v in removed} == deleted | {ephemeral}
        assert all(v["@odata.context"].endswith("contacts/$deletedEntity") for v in removed)
        assert body["value"][-len(removed) :] == removed  # deletes come last
        assert len(changed) == len({v["contactid"] for v in changed})  # updated twice → listed once
        twice = next(v for v in changed if v["contactid"] == ids[5])
        assert set(twice) == {"@odata.etag", "firstname", "lastname", "emailaddress1", "contactid"}  # $select kept
        # the next delta is empty and brings a new link
        again = (await client.get(body["@odata.deltaLink"], headers=TRACK)).json()
        assert again["value"] == [] and again["@odata.deltaLink"] != delta_link


async def test_delta_returns_current_values_once(client: httpx.AsyncClient, dv: Dataverse) -> None:
    _rows, link = await tracked_read(client, API + "contacts?$select=jobtitle", TRACK)
    row_id = dv.sorted_ids("contact")[0]
    await client.patch(API + f"contacts({row_id})", json={"jobtitle": "one"})
    await client.patch(API + f"contacts({row_id})", json={"jobtitle": "two"})
    rows, _ = await tracked_read(client, link, TRACK)
    assert rows == [{"@odata.etag": rows[0]["@odata.etag"], "jobtitle": "two", "contactid": row_id}]


async def test_delta_pages_when_many_changes(client: httpx.AsyncClient, dv: Dataverse) -> None:
    _rows, link = await tracked_read(client, API + "contacts?$select=lastname", TRACK)
    for row_id in dv.sorted_ids("contact")[:25]:
        await client.patch(API + f"contacts({row_id})", json={"jobtitle": "x"})
    rows, _ = await tracked_read(client, link, {"Prefer": "odata.track-changes,odata.maxpagesize=10"})
    assert len(rows) == 25 and len({r["contactid"] for r in rows}) == 25


@pytest.mark.parametrize(
    ("option", "value"),
    [("$filter", "statecode eq 0"), ("$orderby", "lastname"), ("$top", "5"), ("$expand", "parentcustomerid_account")],
)
async def test_query_options_refused_with_track_changes(client: httpx.AsyncClient, option: str, value: str) -> None:
    # §2.1: $filter, $orderby, $expand, $top are not supported with change tracking
    r = await client.get(API + "contacts", params={option: value}, headers={"Prefer": "odata.track-changes"})
    assert r.status_code == 400
    assert (
        r.json()["error"]["message"]
        == f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'
    )


async def test_count_of_changes(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # §2.1: GET accounts/$count?$deltatoken=...
    _rows, link = await tracked_read(client, API + "accounts?$select=name", TRACK)
    token = httpx.URL(link).params["$deltatoken"]
    await client.patch(API + f"accounts({dv.sorted_ids('account')[0]})", json={"name": "Renamed"})
    r = await client.get(API + "accounts/$count", params={"$deltatoken": token})
    assert r.text == "1"


async def test_expired_token(client: httpx.AsyncClient, sandbox_clock: SandboxClock, dv: Dataverse) -> None:
    # §2.1 [U]: "Version stamp associated with the client has expired. Please perform a full sync."
    _rows, link = await tracked_read(client, API + "contacts?$select=lastname", TRACK)
    sandbox_clock.advance(6 * 86400)
    assert (await client.get(link, headers=TRACK)).status_code == 200
    sandbox_clock.advance(2 * 86400)  # past the 7-day default
    r = await client.get(link, headers=TRACK)
    assert r.status_code == 400
    assert (
        r.json()["error"]["message"]
        == "Version stamp associated with the client has expired. Please perform a full sync."
    )


async def test_control_expires_tokens(client: httpx.AsyncClient) -> None:
    _rows, link = await tracked_read(client, API + "contacts?$select=lastname", TRACK)
    r = await client.post("/_sandbox/change-tracking", json={"table": "contact", "expire_tokens": True})
    assert r.status_code == 200
    assert (await client.get(link, headers=TRACK)).status_code == 400
    _rows, fresh = await tracked_read(client, API + "contacts?$select=lastname", TRACK)
    assert (await client.get(fresh, headers=TRACK)).status_code == 200


async def test_table_with_change_tracking_off_only_modifiedon_reads(
    client: httpx.AsyncClient, sandbox_clock: SandboxClock
) -> None:
    await client.post("/_sandbox/change-tracking", json={"table": "contact", "enabled": False})
    r = await client.get(API + "contacts?$select=lastname", headers={"Prefer": "odata.track-changes"})
    assert r.status_code == 200
    assert "Preference-Applied" not in r.headers and "@odata.deltaLink" not in r.json()
    meta = (await client.get(API + "EntityDefinitions(LogicalName='contact')?$select=ChangeTrackingEnabled")).json()
    assert meta["ChangeTrackingEnabled"] is False
    sandbox_clock.advance(3600)
    created = await client.post(
        API + "contacts", json={"lastname": "Fresh"}, headers={"Prefer": "return=representation"}
    )
    since = created.json()["modifiedon"]
    r = await client.get(
        API + "contacts",
        params={"$filter": f"modifiedon ge {since}", "$orderby": "modifiedon asc", "$select": "lastname"},
    )
    assert [v["lastname"] for v in r.json()["value"]] == ["Fresh"]


async def test_delta_after_rollback_upsert_and_delete(client: httpx.AsyncClient, dv: Dataverse) -> None:
    """The change log (dataverse.py) skips superseded versions and rolled-back writes."""
    _rows, link = await tracked_read(client, API + "contacts?$select=jobtitle", TRACK)
    a, b = dv.sorted_ids("contact")[:2]
    dv.begin()
    dv.update("contact", a, {"jobtitle": "rolled back"})
    dv.rollback()
    await client.patch(API + f"contacts({b})", json={"jobtitle": "one"})
    await client.patch(API + f"contacts({b})", json={"jobtitle": "two"})
    new_id = "33333333-4444-4555-8666-777777777777"
    await client.patch(API + f"contacts({new_id})", json={"lastname": "Upserted"})
    await client.delete(API + f"contacts({a})")
    body = (await client.get(link, headers=TRACK)).json()
    changed = [v for v in body["value"] if "contactid" in v]
    assert [(v["contactid"], v.get("jobtitle")) for v in changed if v["contactid"] == b] == [(b, "two")]
    assert any(v["contactid"] == new_id for v in changed)
    assert [v["id"] for v in body["value"] if "reason" in v] == [a]
    # plain paging still sees the created row and not the deleted one (sorted ids kept, not rebuilt)
    ids: list[str] = []
    url: str | None = API + "contacts?$select=contactid"
    while url:
        page = (await client.get(url, headers={"Prefer": "odata.maxpagesize=25"})).json()
        ids += [v["contactid"] for v in page["value"]]
        url = page.get("@odata.nextLink")
    assert new_id in ids and a not in ids and ids == sorted(ids) and len(ids) == len(dv.rows["contact"])


async def test_opt_outs_deactivations_and_deletes_in_a_delta(client: httpx.AsyncClient, dv: Dataverse) -> None:
    """What issue 17 reads: an opt-out and a deactivation are changed rows with their new values, a delete is a
    ``$deletedEntity`` row, on leads as on contacts; switching change tracking off and on again needs a new read."""
    tables = {"contacts": "contactid,donotbulkemail,donotemail,statecode,statuscode",
              "leads": "leadid,donotbulkemail,statecode,statuscode"}
    links = {}
    for entity_set, select in tables.items():
        _rows, links[entity_set] = await tracked_read(client, API + f"{entity_set}?$select={select}", TRACK)
    contact, gone = dv.sorted_ids("contact")[:2]
    lead, lost = dv.sorted_ids("lead")[:2]
    await client.patch(API + f"contacts({contact})", json={"donotbulkemail": True, "statecode": 1, "statuscode": 2})
    await client.delete(API + f"contacts({gone})")
    await client.patch(API + f"leads({lead})", json={"donotbulkemail": True})
    await client.patch(API + f"leads({lost})", json={"statecode": 2, "statuscode": 6})
    body = (await client.get(links["contacts"], headers=TRACK)).json()
    assert [(v["contactid"], v["donotbulkemail"], v["statecode"], v["statuscode"]) for v in body["value"][:-1]] == [
        (contact, True, 1, 2)]
    assert body["value"][-1]["id"] == gone and body["value"][-1]["reason"] == "deleted"
    leads = (await client.get(links["leads"], headers=TRACK)).json()["value"]
    assert sorted((v["leadid"], v["donotbulkemail"], v["statecode"]) for v in leads) == sorted(
        [(lead, True, dv.rows["lead"][lead]["statecode"]), (lost, dv.rows["lead"][lost]["donotbulkemail"], 2)])
    await client.post("/_sandbox/change-tracking", json={"table": "lead", "enabled": False})
    r = await client.get(API + "leads?$select=leadid", headers=TRACK)
    assert "@odata.deltaLink" not in r.json()  # ct_disabled "ignore" (register #10)
    await client.post("/_sandbox/change-tracking", json={"table": "lead", "enabled": True})
    _rows, fresh = await tracked_read(client, API + "leads?$select=leadid", TRACK)
    assert (await client.get(fresh, headers=TRACK)).json()["value"] == []
