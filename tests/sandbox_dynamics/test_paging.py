"""Query options and paging (dynamics-webapi.md §3, §9) through HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse, create_app

from .conftest import API, TOKEN, values


async def test_select_returns_only_selected_columns_plus_key_and_etag(client: httpx.AsyncClient) -> None:
    rows = values(
        await client.get(API + "contacts", params={"$select": "firstname,_parentcustomerid_value", "$top": "2"})
    )
    assert len(rows) == 2
    assert set(rows[0]) == {"@odata.etag", "firstname", "_parentcustomerid_value", "contactid"}


async def test_select_unknown_column_is_400(client: httpx.AsyncClient) -> None:
    r = await client.get(API + "contacts", params={"$select": "nosuch"})
    assert r.status_code == 400 and "Could not find a property named 'nosuch'" in r.json()["error"]["message"]


@pytest.mark.parametrize("option", ["$skip", "$search", "$format"])
async def test_unsupported_options(client: httpx.AsyncClient, option: str) -> None:
    # §3: "Not supported: $skip, $search, $format"
    assert (await client.get(API + "contacts", params={option: "1"})).status_code == 400


async def test_filter_over_http_is_case_insensitive_and_wildcards_apply(
    client: httpx.AsyncClient, dv: Dataverse
) -> None:
    emails = [r["emailaddress1"] for r in dv.rows["contact"].values()]
    underscored = [e for e in emails if "_" in e]
    assert underscored, "seed has emails with '_'"
    target = underscored[0]
    rows = values(await client.get(API + "contacts", params={"$filter": f"emailaddress1 eq '{target.upper()}'"}))
    assert [r["emailaddress1"] for r in rows] == [target]
    # '_' unescaped matches any character; escaped as [_] it matches only '_'
    wild = values(
        await client.get(
            API + "contacts", params={"$select": "emailaddress1", "$filter": "contains(emailaddress1,'_')"}
        )
    )
    exact = values(
        await client.get(
            API + "contacts", params={"$select": "emailaddress1", "$filter": "contains(emailaddress1,'[_]')"}
        )
    )
    assert len(wild) == len(emails)
    assert sorted(r["emailaddress1"] for r in exact) == sorted(underscored)
    quoted = next(e for e in emails if "'" in e)
    rows = values(
        await client.get(API + "contacts", params={"$filter": "emailaddress1 eq '" + quoted.replace("'", "''") + "'"})
    )
    assert [r["emailaddress1"] for r in rows] == [quoted]


async def test_orderby_and_top(client: httpx.AsyncClient) -> None:
    rows = values(
        await client.get(API + "contacts", params={"$select": "modifiedon", "$orderby": "modifiedon desc", "$top": "5"})
    )
    stamps = [r["modifiedon"] for r in rows]
    assert len(stamps) == 5 and stamps == sorted(stamps, reverse=True)


async def _all_pages(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> tuple[list[Any], list[Any]]:
    pages, rows = [], []
    next_url: str | None = url
    while next_url:
        r = await client.get(next_url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        pages.append(body)
        rows.extend(body["value"])
        next_url = body.get("@odata.nextLink")
    return pages, rows


async def test_maxpagesize_pages_with_next_link(client: httpx.AsyncClient, dv: Dataverse) -> None:
    # §3: Prefer odata.maxpagesize; @odata.nextLink with $skiptoken; Preference-Applied echoed
    r = await client.get(API + "contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=25"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=25"
    assert "$skiptoken=" in r.json()["@odata.nextLink"]
    pages, rows = await _all_pages(client, API + "contacts?$select=lastname", {"Prefer": "odata.maxpagesize=25"})
    assert [len(p["value"]) for p in pages] == [25, 25, 10]
    assert len({r["contactid"] for r in rows}) == len(dv.rows["contact"]) == 60
    assert "@odata.nextLink" not in pages[-1]


async def test_paging_is_stable_when_rows_are_created_between_pages(client: httpx.AsyncClient) -> None:
    first = (await client.get(API + "contacts?$select=lastname", headers={"Prefer": "odata.maxpagesize=30"})).json()
    for i in range(5):
        await client.post(API + "contacts", json={"lastname": f"late{i}"})
    rest = (await client.get(first["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=30"})).json()
    seen = [r["contactid"] for r in first["value"]] + [r["contactid"] for r in rest["value"]]
    assert len(seen) == len(set(seen))


async def test_maxpagesize_is_capped_at_5000(sandbox_clock: SandboxClock) -> None:
    app = create_app(clock=sandbox_clock, seed_contacts=5100)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dv") as c:
        r = await c.get(
            API + "contacts?$select=lastname&$count=true",
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Prefer": 'odata.maxpagesize=9000,odata.include-annotations="Microsoft.Dynamics.CRM.totalrecordcount,'
                'Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"',
            },
        )
        body = r.json()
        assert len(body["value"]) == 5000 and "@odata.nextLink" in body
        # §3: $count capped at 5,000 with the limit-exceeded annotation
        assert body["@odata.count"] == 5000
        assert body["@Microsoft.Dynamics.CRM.totalrecordcount"] == 5000
        assert body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
        r = await c.get(API + "contacts/$count", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.text == "5000" and r.headers["content-type"].startswith("text/plain")


async def test_count_small(client: httpx.AsyncClient) -> None:
    body = (
        await client.get(
            API + "contacts?$count=true&$select=lastname",
            headers={"Prefer": 'odata.include-annotations="*"'},
        )
    ).json()
    assert body["@odata.count"] == 60 and body["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    r = await client.get(API + "contacts/$count", params={"$filter": "statecode eq 0"})
    assert r.text == "60"


async def test_formatted_values_annotation(client: httpx.AsyncClient) -> None:
    rows = values(
        await client.get(
            API + "leads?$select=leadsourcecode&$top=1",
            headers={"Prefer": 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'},
        )
    )
    assert "leadsourcecode@OData.Community.Display.V1.FormattedValue" in rows[0]


async def test_expand_single_valued_navigation(client: httpx.AsyncClient) -> None:
    rows = values(
        await client.get(
            API + "contacts",
            params={
                "$select": "lastname",
                "$expand": "parentcustomerid_account($select=name)",
                "$filter": "_parentcustomerid_value ne null",
                "$top": "1",
            },
        )
    )
    assert rows[0]["parentcustomerid_account"]["name"]
