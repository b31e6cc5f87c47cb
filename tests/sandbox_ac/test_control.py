"""The /_sandbox control surface in-process: seed, reset, faults, switches, state."""

from __future__ import annotations

import httpx

from sandbox.activecampaign.state import ACState


async def test_seed_reset_and_state(client: httpx.AsyncClient, ac: ACState) -> None:
    r = await client.post("/_sandbox/seed", json={"contacts": 7})
    counts = r.json()["counts"]
    assert (counts["contacts"], counts["tags"], counts["lists"], counts["fields"]) == (7, 4, 3, 4)
    assert (counts["automations"], counts["campaigns"], counts["messages"]) == (3, 3, 3)
    await client.post("/_sandbox/seed", json={"contacts": 3})
    assert len(ac.contacts) == 10 and len(ac.tags) == 4  # more contacts, same catalogue
    ac.switches["failure_row_base"] = 1
    ac.set_plan("professional")
    r = await client.post("/_sandbox/reset", json={})
    assert r.json()["counts"]["contacts"] == 0
    state = (await client.get("/_sandbox/state")).json()
    assert state["plan"] == "professional" and ac.switches["failure_row_base"] == 1  # kept across reset
    assert (await client.post("/_sandbox/seed", json={"contacts": "many"})).status_code == 400


async def test_fault_and_switch_validation(client: httpx.AsyncClient, ac: ACState) -> None:
    assert (await client.post("/_sandbox/faults", json={"error_rate": 2})).status_code == 400
    assert (await client.post("/_sandbox/faults", json={"explode": True})).status_code == 400
    assert (await client.post("/_sandbox/faults", json={"latency": -1})).status_code == 400
    r = await client.post("/_sandbox/faults", json={"force_429": 1, "import_fail_pattern": "x"})
    assert r.json()["force_429"] == 1 and ac.faults.import_fail_pattern == "x"
    assert (await client.get("/api/3/users/me")).status_code == 429
    r = await client.get("/_sandbox/switches")
    described = {d["name"]: d for d in r.json()["describe"]}
    assert described["plan_limit_status"]["choices"] == [403, 404, 402]
    assert all(d["summary"] for d in described.values())


async def test_control_routes_need_no_token_and_are_not_logged(client: httpx.AsyncClient, ac: ACState) -> None:
    async with httpx.AsyncClient(transport=client._transport, base_url="http://s") as bare:
        assert (await bare.get("/_sandbox/state")).status_code == 200
    assert ac.requests == []
