"""Fixtures for the AC sandbox's conformance tests: a frozen sandbox clock and an in-process client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.activecampaign import create_app
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

TOKEN = "test-ac-token"
START = 1_780_000_000.0  # 2026-05-28T20:26:40Z


@pytest.fixture
def ac_clock() -> SandboxClock:
    return SandboxClock(frozen_at=START)


@pytest.fixture
def ac_app(ac_clock: SandboxClock) -> Starlette:
    return create_app(clock=ac_clock, api_token=TOKEN, enforce_rate_limit=False, seed=7)


@pytest.fixture
def ac(ac_app: Starlette) -> ACState:
    state: ACState = ac_app.state.ac
    return state


@pytest.fixture
async def client(ac_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=ac_app)
    async with httpx.AsyncClient(transport=transport, base_url="https://sandbox.api-us1.com",
                                 headers={"Api-Token": TOKEN}) as c:
        yield c
