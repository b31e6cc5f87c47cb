"""Latency announced for a caller that owns simulated time (``mode: header``): nothing waits, nothing moves."""

from __future__ import annotations

import time

import httpx

from sandbox.clock import SandboxClock

from .conftest import API


async def test_header_mode_announces_latency_without_moving_the_clock(
        client: httpx.AsyncClient, sandbox_clock: SandboxClock) -> None:
    r = await client.post("/_sandbox/latency", json={"mode": "header"})
    assert r.status_code == 200 and r.json()["mode"] == "header"
    start, wall = sandbox_clock.time(), time.monotonic()
    drawn = []
    for _ in range(400):
        r = await client.get(API + "WhoAmI")
        assert r.status_code == 200 and "x-sandbox-time" not in r.headers
        drawn.append(float(r.headers["x-sandbox-latency"]))
    assert sandbox_clock.time() == start and time.monotonic() - wall < 20
    body = [d for d in drawn if d <= 0.150]
    assert min(drawn) >= 0.050 and len(body) >= 0.9 * len(drawn)  # 50-150 ms, 5 % tail to 600 ms
    assert max(drawn) <= 0.6001 and max(drawn) > 0.150
    report = (await client.get("/_sandbox/latency")).json()
    assert report["routes"]["GET WhoAmI"]["count"] == 400


async def test_header_mode_adds_per_row_cost(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/latency", json={"mode": "header", "costs": {"base_ms": [100, 100], "tail_share": 0,
                                                                             "row_ms": 1}})
    r = await client.get(API + "contacts?$top=5&$select=lastname")
    assert r.status_code == 200
    rows = len(r.json()["value"])
    assert abs(float(r.headers["x-sandbox-latency"]) - (0.100 + rows * 0.001)) < 1e-6
