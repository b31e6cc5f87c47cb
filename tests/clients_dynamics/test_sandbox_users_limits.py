"""Users, roles and teams; service-protection 429s; log hygiene — against the Dataverse sandbox."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from sync_core.dynamics import BatchOperation, DataverseClient, DataverseError, quote_string
from sync_core.model import SlidingWindowBudget
from sync_core.model import errors as model
from tests.clients_dynamics.conftest import TOKEN, ClientFactory


def _user(dv: Any, fullname: str) -> dict[str, Any]:
    return next(u for u in dv.rows["systemuser"].values() if u["fullname"] == fullname)


async def test_users_search_and_lookup(client: DataverseClient, dv: Any) -> None:
    marie = _user(dv, "Marie Müller")
    found = await client.search_users("müll")
    assert [u["systemuserid"] for u in found] == [marie["systemuserid"]]
    assert [u["systemuserid"] for u in await client.search_users("mariemuller@sandbox")] == [marie["systemuserid"]]
    assert len(await client.search_users("", top=3)) == 3

    dv.rows["systemuser"][marie["systemuserid"]]["isdisabled"] = True
    assert await client.search_users("müll") == []  # enabled users only
    assert await client.search_users("100%") == []  # a wildcard is literal

    got = await client.get_user(marie["systemuserid"])
    assert got is not None and got["fullname"] == "Marie Müller"
    by_oid = await client.get_user_by_object_id(marie["azureactivedirectoryobjectid"].upper())
    assert by_oid is not None and by_oid["systemuserid"] == marie["systemuserid"]
    assert await client.get_user_by_object_id("00000000-0000-0000-0000-000000000000") is None


@pytest.mark.parametrize("reassociate", ["ok", "error"])
async def test_roles_teams_and_association(client: DataverseClient, dv: Any, reassociate: str) -> None:
    dv.set_switches({"reassociate_duplicate": reassociate})
    me = await client.who_am_i()
    roles = await client.user_roles(me.user_id)
    assert "System Administrator" in {r["name"] for r in roles}

    tom = _user(dv, "Tom Teamonly")
    teams = await client.user_teams(tom["systemuserid"])
    assert teams, "the seed puts Tom in a team"
    team_roles = [r for t in teams for r in await client.team_roles(t["teamid"])]
    assert team_roles and all("name" in r and "roleid" in r for r in team_roles)

    sam = _user(dv, "Sam Seller")
    copies = await client.find_roles("ActiveCampaign User")
    assert len(copies) == len(dv.rows["businessunit"])  # one copy per business unit
    own = await client.find_roles("ActiveCampaign User", business_unit_id=sam["_businessunitid_value"])
    assert len(own) == 1
    await client.associate_role(sam["systemuserid"], own[0]["roleid"])
    await client.associate_role(sam["systemuserid"], own[0]["roleid"])  # already held: fine
    assert own[0]["roleid"] in {r["roleid"] for r in await client.user_roles(sam["systemuserid"])}
    await client.disassociate_role(sam["systemuserid"], own[0]["roleid"])
    assert own[0]["roleid"] not in {r["roleid"] for r in await client.user_roles(sam["systemuserid"])}
    await client.disassociate_role(sam["systemuserid"], own[0]["roleid"])  # already gone: fine

    new_role = await client.create_role("Sync Auditor", me.business_unit_id)
    mine = await client.find_roles("Sync Auditor", business_unit_id=me.business_unit_id)
    assert [r["roleid"] for r in mine] == [new_role]


@pytest.mark.parametrize("code", ["0x80040375", "0x80040220"])
async def test_role_from_another_business_unit_is_refused(client: DataverseClient, dv: Any, code: str) -> None:
    dv.set_switches({"role_other_bu_code": code})
    sam = _user(dv, "Sam Seller")
    other = next(c for c in await client.find_roles("ActiveCampaign User")
                 if c["_businessunitid_value"] != sam["_businessunitid_value"])
    with pytest.raises(DataverseError) as info:
        await client.associate_role(sam["systemuserid"], other["roleid"])
    assert info.value.dataverse_code == code and isinstance(info.value, model.SyncError)
    assert other["roleid"] not in {r["roleid"] for r in await client.user_roles(sam["systemuserid"])}


async def test_429_storm_is_waited_out(make_client: ClientFactory, dv: Any, clock: Any) -> None:
    budget = SlidingWindowBudget(6000, 300, clock=clock)
    client = make_client(budget=budget)
    dv.seed(contacts=3, seed=4)
    dv.set_faults({"force_429": 5, "retry_after": 30})
    start = clock.time()
    me = await client.who_am_i()
    rows = await client.query_all("contacts", select=["lastname"])
    new_id = await client.create("contacts", {"lastname": "After the storm"})
    results = await client.execute_batch([BatchOperation("POST", "contacts", {"lastname": "batched"})])
    assert me.user_id and rows and new_id and results[0].ok
    assert dv.counters["throttled"] >= 1
    assert client.calls.total == 4 + dv.counters["throttled"]
    assert clock.time() - start >= 30  # Retry-After obeyed on the shared clock, no real sleeping


async def test_service_protection_limit_is_obeyed(make_client: ClientFactory, clock: Any) -> None:
    from sandbox.dynamics import create_app

    app = create_app(clock=clock, rate_limit=20, rate_window=300.0)
    import httpx

    from sync_core.dynamics import StaticTokenCredential

    async with DataverseClient("http://dataverse.test", StaticTokenCredential(TOKEN), clock=clock,
                               transport=httpx.ASGITransport(app=app)) as client:
        for _ in range(30):
            await client.who_am_i()
        assert app.state.dataverse.counters["throttled"] >= 1
        assert client.calls.snapshot()["whoami"] == 30 + app.state.dataverse.counters["throttled"]


async def test_logs_carry_no_token_and_no_query(caplog: pytest.LogCaptureFixture, make_client: ClientFactory,
                                                dv: Any) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sync_core.dynamics"):
        caplog.set_level(logging.DEBUG, logger=name)
    dv.seed(contacts=12, seed=2)
    dv.set_faults({"force_429": 1, "retry_after": 5})
    client = make_client(page_size=5)
    secret_filter = f"startswith(lastname,{quote_string('Zq-secret-value')})"
    await client.query_all("contacts", select=["lastname"], filter=secret_filter)
    async for _ in client.read_changes("contacts", select=["lastname"]):
        pass
    await client.create("contacts", {"lastname": "Logged"})
    bad = make_client(token="wrong-token-value")
    with pytest.raises(DataverseError):
        await bad.who_am_i()

    text = "\n".join(f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "sync_core.dynamics" in text and "/api/data/v9.2/contacts" in text
    assert "httpx" in text  # httpx's own request lines were captured, and scrubbed
    for forbidden in (TOKEN, "wrong-token-value", "Zq-secret-value", "$select", "$filter", "skiptoken",
                      "deltatoken", "?", "Bearer "):
        assert forbidden not in text, forbidden
