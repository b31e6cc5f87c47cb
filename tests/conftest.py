"""Shared fixtures: real Azurite for the session, a fresh table namespace per test, a fake clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devtools.azurite import connection_string_from_env, running_azurite
from sync_core.clock import FakeClock


@pytest.fixture(scope="session")
def storage_connection_string() -> Iterator[str]:
    """Connection string of a real Azurite (started here unless AZURITE_CONNECTION_STRING is set)."""
    existing = connection_string_from_env()
    if existing:
        yield existing
        return
    with running_azurite() as az:
        yield az.connection_string


@pytest.fixture
def table_prefix() -> str:
    """A table-name prefix no other test uses, so every test starts with empty tables."""
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
