"""Simulated per-route latency: calls answer later on the sandbox clock, never by really sleeping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

from sandbox.activecampaign import create_app
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

from .conftest import START, TOKEN


async def test_realistic_profile_moves_the_clock_not_the_wall(client: httpx.AsyncClient, ac: ACState,
                                                             ac_clock: SandboxClock) -> None:
    ac.set_latency("realistic")
    wall = time.monotonic()
    for _ in range(200):
        assert (await client.get("/api/3/users/me")).status_code == 200
    assert time.monotonic() - wall < 5  # no real sleeping (200 calls of 150-300 ms would take 30 s or more)
    waited = ac_clock.time() - START
    assert waited == pytest.approx(ac.latency_waited)
    assert 200 * 0.15 <= waited <= 200 * 0.30 + 200 * 0.05 * 1.2 * 3  # the range, and a modest tail
    assert (await client.get("/_sandbox/latency")).json()["profile"]["default"]["max"] == 0.3


async def test_calls_in_flight_overlap(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock) -> None:
    ac.set_latency({"default": {"min": 0.2, "max": 0.2}})
    await asyncio.gather(*(client.get("/api/3/users/me") for _ in range(5)))
    assert ac_clock.time() - START == pytest.approx(0.2)  # five at once take 0.2 s, not 1 s
    await client.get("/api/3/users/me")
    assert ac_clock.time() - START == pytest.approx(0.4)


async def test_per_route_latency_and_control(client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock) -> None:
    r = await client.post("/_sandbox/latency", json={"default": None, "routes": {
        "GET /api/3/contacts/{id}": {"min": 1, "max": 1}}})
    assert r.status_code == 200, r.text
    await client.get("/api/3/users/me")
    assert ac_clock.time() == START
    await client.get("/api/3/contacts/1")
    assert ac_clock.time() == START + 1
    bodies: list[dict[str, Any]] = [{"profile": "slow"}, {"default": {"min": 2, "max": 1}},
                                    {"default": {"min": -1, "max": 1}}, {"routes": []}]
    for bad in bodies:
        assert (await client.post("/_sandbox/latency", json=bad)).status_code == 400, bad
    assert (await client.post("/_sandbox/latency", json={"profile": "none"})).json()["profile"] is None


async def test_latency_needs_a_clock_that_can_move() -> None:
    class Fixed:
        def time(self) -> float:
            return START

    app = create_app(clock=Fixed(), api_token=TOKEN)
    with pytest.raises(ValueError):
        app.state.ac.set_latency("realistic")


async def test_header_answer_announces_the_latency_and_leaves_the_clock(
        client: httpx.AsyncClient, ac: ACState, ac_clock: SandboxClock) -> None:
    """For a caller that owns simulated time in another process (the bench): the answer comes at once with
    ``x-sandbox-latency``; the sandbox's clock, and so its rate window, stay at the request's arrival."""
    ac.enforce_rate_limit = True
    r = await client.post("/_sandbox/latency", json={"profile": "realistic", "answer": "header"})
    assert r.status_code == 200 and r.json()["answer"] == "header", r.text
    wall = time.monotonic()
    drawn = []
    for _ in range(5):  # five at one instant: the 5/s window admits them all
        r = await client.get("/api/3/users/me")
        assert r.status_code == 200
        drawn.append(float(r.headers["x-sandbox-latency"]))
    assert ac_clock.time() == START and time.monotonic() - wall < 2
    assert all(0.15 <= d <= 0.30 + 1.2 for d in drawn) and ac.latency_waited == pytest.approx(sum(drawn))
    assert (await client.get("/api/3/users/me")).status_code == 429  # the sixth at the same instant
    ac_clock.advance(1.0)
    imported = await client.post("/api/3/import/bulk_import", json={"contacts": []})
    assert 0.30 <= float(imported.headers["x-sandbox-latency"]) <= 0.60 + 1.2  # the import route's own range
    bad = await client.post("/_sandbox/latency", json={"profile": "realistic", "answer": "later"})
    assert bad.status_code == 400


def test_realistic_profile_has_the_documented_range_and_tail(ac: ACState) -> None:
    ac.set_latency("realistic", answer="header")
    assert ac.latency is not None
    draws = sorted(ac.latency.draw("GET", "/api/3/contacts") for _ in range(4000))
    body = [d for d in draws if d <= 0.30]
    assert draws[0] >= 0.15 and 0.93 <= len(body) / len(draws) <= 0.97  # 5 % tail
    assert 0.2 <= draws[len(draws) // 2] <= 0.25 and draws[-1] > 0.8
