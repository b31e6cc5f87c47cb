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
