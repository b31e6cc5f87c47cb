"""The AC sandbox in-process, sharing the test's FakeClock, and a client wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.activecampaign import create_app
from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import FakeClock

SANDBOX_KEY = "sbx-7f3c9e21a4-api-key"
API_URL = "https://sandbox-account.api-us1.com"


@pytest.fixture
def ac_app(clock: FakeClock) -> Starlette:
    return create_app(clock=clock, api_token=SANDBOX_KEY, seed=7)


@pytest.fixture
def ac_state(ac_app: Starlette) -> Any:
    return ac_app.state.ac


def client_for(app: Starlette, clock: FakeClock, *, key: str = SANDBOX_KEY, **kw: Any) -> ActiveCampaignClient:
    return ActiveCampaignClient(API_URL, key, clock=clock, transport=httpx.ASGITransport(app=app), **kw)


@pytest.fixture
async def client(ac_app: Starlette, clock: FakeClock) -> AsyncIterator[ActiveCampaignClient]:
    ac = client_for(ac_app, clock)
    yield ac
    await ac.aclose()
