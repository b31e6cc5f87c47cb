"""Fixtures: the Dataverse sandbox in-process, sharing the test's FakeClock, and clients for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from sandbox.dynamics import create_app
from sync_core.clock import FakeClock
from sync_core.dynamics import DataverseClient, StaticTokenCredential

TOKEN = "sandbox-dynamics-token"
ENV = "http://dataverse.test"

ClientFactory = Callable[..., DataverseClient]


@pytest.fixture
def app(clock: FakeClock) -> Starlette:
    return create_app(clock=clock, seed_contacts=0)


@pytest.fixture
def dv(app: Starlette) -> Any:
    return app.state.dataverse


@pytest.fixture
async def make_client(app: Starlette, clock: FakeClock) -> AsyncIterator[ClientFactory]:
    """New client instances on the same sandbox (e.g. to resume a read in a fresh process)."""
    made: list[DataverseClient] = []

    def factory(token: str = TOKEN, **kw: Any) -> DataverseClient:
        c = DataverseClient(ENV, StaticTokenCredential(token), clock=clock,
                            transport=httpx.ASGITransport(app=app), **kw)
        made.append(c)
        return c

    yield factory
    for c in made:
        await c.aclose()


@pytest.fixture
def client(make_client: ClientFactory) -> DataverseClient:
    return make_client()
