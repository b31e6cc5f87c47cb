"""Shared fixtures: real Azurite for the session, a fresh table namespace per test, a fake clock."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from devtools.azurite import connection_string_from_env, running_azurite
from sandbox import register_reads
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


# --- register readings --------------------------------------------------------------------------------
# `pytest --sandbox-switch ac:NAME=VALUE --sandbox-switch dataverse:NAME=VALUE` runs the tests with a
# register entry of a sandbox flipped (VALUE is JSON, else a string). Harnesses apply these before a
# test's own switches, so a test that pins a reading keeps it. `python -m devtools.readings` sweeps them.


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--sandbox-switch", action="append", default=[], metavar="SANDBOX:NAME=VALUE",
                     help="flip a sandbox register switch for every harness (sandbox: ac or dataverse)")


def parse_switch(text: str) -> tuple[str, str, Any]:
    sandbox, sep, rest = text.partition(":")
    name, eq, raw = rest.partition("=")
    if not sep or not eq or sandbox not in ("ac", "dataverse") or not name:
        raise pytest.UsageError(f"--sandbox-switch {text!r}: expected ac:NAME=VALUE or dataverse:NAME=VALUE")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return sandbox, name, value


@pytest.fixture(scope="session")
def sandbox_switches(pytestconfig: pytest.Config) -> dict[str, dict[str, Any]]:
    """The switches of ``--sandbox-switch``, by sandbox."""
    out: dict[str, dict[str, Any]] = {"ac": {}, "dataverse": {}}
    for text in pytestconfig.getoption("sandbox_switch"):
        sandbox, name, value = parse_switch(text)
        out[sandbox][name] = value
    return out


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Iterator[None]:
    """With ``ACDS_READINGS_TRACE=<file>`` (set by devtools.readings), append one JSON line a test: the
    register switches its in-process stand-ins read, from setup to teardown."""
    trace = os.environ.get("ACDS_READINGS_TRACE")
    if trace:
        register_reads.take()
    yield
    if trace:
        read = sorted(f"{sandbox}:{name}" for sandbox, name in register_reads.take())
        with open(trace, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": item.nodeid, "read": read}) + "\n")


def pytest_report_header(config: pytest.Config) -> str | None:
    flipped = config.getoption("sandbox_switch")
    return f"sandbox switches flipped: {', '.join(flipped)}" if flipped else None
