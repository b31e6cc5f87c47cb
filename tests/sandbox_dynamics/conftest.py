"""Fixtures for the Dataverse stand-in's conformance tests (no sync_core: the sandbox stands alone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sandbox.clock import SandboxClock
from sandbox.dynamics import Dataverse, create_app

TOKEN = "sandbox-dynamics-token"
API = "/api/data/v9.2/"
T0 = 1_780_000_000.0  # a fixed instant (2026-05-28): tests never read the wall clock


@pytest.fixture
def sandbox_clock() -> SandboxClock:
    return SandboxClock(frozen_at=T0)


@pytest.fixture
def app(sandbox_clock: SandboxClock) -> Any:
    return create_app(clock=sandbox_clock, seed=7, seed_contacts=60)


@pytest.fixture
def dv(app: Any) -> Dataverse:
    dataverse: Dataverse = app.state.dataverse
    return dataverse


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="https://org.example.crm.dynamics.com",
        headers={"Authorization": f"Bearer {TOKEN}", "Accept": "application/json", "OData-Version": "4.0"},
    ) as http:
        yield http


def values(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()["value"]
    return body
