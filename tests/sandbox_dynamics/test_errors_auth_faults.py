"""Auth, service protection, injected faults and the control surface (dynamics-webapi.md §5, §10)."""

from __future__ import annotations

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse, create_app
from sandbox.dynamics.app import DroppedConnection

from .conftest import API, TOKEN


@pytest.mark.parametrize("auth", [None, "Bearer nope", "Basic abc"])
async def test_missing_or_unknown_token_is_401(client: httpx.AsyncClient, auth: str | None) -> None:
    headers = {"Authorization": auth} if auth else {}
    async with httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url), headers=headers) as anon:
        r = await anon.get(API + "WhoAmI")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer authorization_uri=")


async def test_token_rotation_and_expiry(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/tokens", json={"expire": TOKEN})
    assert (await client.get(API + "WhoAmI")).status_code == 401
    await client.post("/_sandbox/tokens", json={"tokens": ["new-token"]})
    assert (await client.get(API + "WhoAmI")).status_code == 401
    assert (await client.get(API + "WhoAmI", headers={"Authorization": "Bearer new-token"})).status_code == 200


async def test_service_protection_429(sandbox_clock: SandboxClock) -> None:
    # §5: 429 + Retry-After, code 0x80072322, per token over a sliding window
    app = create_app(clock=sandbox_clock, rate_limit=3, rate_window=300.0, tokens=["a", "b"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://dv") as c:
        for _ in range(3):
            assert (await c.get(API + "WhoAmI", headers={"Authorization": "Bearer a"})).status_code == 200
        sandbox_clock.advance(100)
        r = await c.get(API + "WhoAmI", headers={"Authorization": "Bearer a"})
        assert r.status_code == 429 and r.headers["Retry-After"] == "200"
        assert r.json()["error"] == {
            "code": "0x80072322",
            "message": "Number of requests exceeded the limit of 3 over time window of 300 seconds.",
        }
        assert (await c.get(API + "WhoAmI", headers={"Authorization": "Bearer b"})).status_code == 200
        sandbox_clock.advance(200)
        assert (await c.get(API + "WhoAmI", headers={"Authorization": "Bearer a"})).status_code == 200


async def test_forced_429_and_error_rate(client: httpx.AsyncClient, dv: Dataverse) -> None:
    await client.post("/_sandbox/faults", json={"force_429": 2, "retry_after": 7})
    for _ in range(2):
        r = await client.get(API + "WhoAmI")
        assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert (await client.get(API + "WhoAmI")).status_code == 200
    await client.post("/_sandbox/faults", json={"error_rate": 1.0, "error_status": 503})
    r = await client.get(API + "WhoAmI")
    assert r.status_code == 503 and r.json()["error"]["code"]
    await client.post("/_sandbox/faults", json={"error_rate": 0.0})
    assert dv.counters["throttled"] == 2 and dv.counters["faults"] == 1


async def test_latency_uses_injectable_sleep(client: httpx.AsyncClient, dv: Dataverse) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    dv.sleep = fake_sleep
    await client.post("/_sandbox/faults", json={"latency": 1.5})
    assert (await client.get(API + "WhoAmI")).status_code == 200
    assert slept == [1.5]


async def test_dropped_connection(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"drop_next": 1})
    with pytest.raises(DroppedConnection):
        await client.get(API + "WhoAmI")
    assert (await client.get(API + "WhoAmI")).status_code == 200


async def test_control_surface(client: httpx.AsyncClient, sandbox_clock: SandboxClock) -> None:
    counts = (await client.post("/_sandbox/seed", json={"contacts": 30, "seed": 3})).json()
    assert counts["contacts"] == 30 and counts["accounts"] == 3
    inspect = (await client.get("/_sandbox/inspect")).json()
    assert inspect["rows"]["contact"] == 30
    t = (await client.post("/_sandbox/clock", json={"advance": 60})).json()["time"]
    assert t == sandbox_clock.time()
    assert (await client.post("/_sandbox/clock", json={"set": t - 10})).json()["time"] == t - 10
    assert (await client.post("/_sandbox/clock", json={"advance": -1})).status_code == 400
    rows = (await client.get("/_sandbox/tables/contact", params={"limit": 2})).json()
    assert len(rows) == 2
    assert (await client.post("/_sandbox/switches", json={"nope": 1})).status_code == 400
    assert (await client.post("/_sandbox/switches", json={"ct_page_order": "random"})).status_code == 400
    await client.post("/_sandbox/reset")
    assert (await client.get("/_sandbox/inspect")).json()["rows"]["contact"] == 0
    assert (await client.get("/_sandbox/links")).status_code == 200


async def test_seed_is_deterministic_and_shaped(sandbox_clock: SandboxClock) -> None:
    a = create_app(clock=sandbox_clock, seed=5, seed_contacts=500).state.dataverse
    b = create_app(clock=sandbox_clock, seed=5, seed_contacts=500).state.dataverse
    assert a.rows["contact"] == b.rows["contact"]
    emails = [c["emailaddress1"] for c in a.rows["contact"].values()]
    assert len({e.casefold() for e in emails}) == len(emails)
    assert any("_" in e for e in emails) and any("%" in e for e in emails) and any("'" in e for e in emails)
    assert any(e != e.lower() for e in emails) and any(not c["lastname"].isascii() for c in a.rows["contact"].values())
    assert len(a.rows["account"]) == 50
    with_account = sum(1 for c in a.rows["contact"].values() if c.get("_parentcustomerid_value"))
    assert 0 < with_account < 500  # B2B and plain contacts
    lead_emails = {lead["emailaddress1"] for lead in a.rows["lead"].values()}
    assert lead_emails & set(emails)  # some leads share a contact's email
    bus = {u["_businessunitid_value"] for u in a.rows["systemuser"].values()}
    assert len(bus) == 2 and a.rows["team"]
    c = create_app(clock=sandbox_clock, seed=6, seed_contacts=500).state.dataverse
    assert c.rows["contact"] != a.rows["contact"]
