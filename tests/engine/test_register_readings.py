"""The outbound path under every reading of the register entries that touch it.

Each AC register switch that could change what the product sees on this path is flipped
in turn, and the issue-5 scenarios run again: initial sync and a delta, a row that fails
inside AC, a bad row in a bulk call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import HarnessFactory
from tests.engine.test_contacts_push import _assert_in_sync, _dv_emails

READINGS: list[tuple[str, Any]] = [
    ("udate_on_import", False),
    ("updated_after_tz", "utc"),
    ("updated_after_granularity", "date"),
    ("account_timezone", "Asia/Tokyo"),
    ("account_timezone", "UTC"),
    ("bulk_import_spends_rps", False),
    ("import_info_success", "emails"),
    ("import_info_pending", "processing"),
    ("sync_update_status", 200),
    ("rate_limit_status", 503),
    ("udate_on_noop_update", True),
    ("failure_row_base", 1),
]


@pytest.mark.parametrize(("switch", "value"), READINGS, ids=[f"{s}={v}" for s, v in READINGS])
async def test_outbound_scenarios_hold_under_the_reading(harness: HarnessFactory, switch: str, value: Any) -> None:
    h = await harness(seed_contacts=120, page_size=50, ac_switches={switch: value})
    bad = await h.dv_create("contacts", {"lastname": "Broken", "emailaddress1": "not-an-email"})
    dv = await _dv_emails(h)
    victim = sorted(e for e in dv if e != "not-an-email")[7]
    h.ac.inject_fault(import_fail_pattern=victim)
    await h.until_idle()
    h.ac.clear_faults()
    errors = {e.record_id for e in await h.store.list_errors(h.cid)}
    assert bad in errors and dv[victim]["contactid"] in errors
    h.clock.advance(24 * 3600)
    await h.until_idle()
    h.clock.advance(24 * 3600)
    await h.until_idle()
    # Everything but the bad row is in AC, linked, with its values.
    await h.dv_patch("contacts", bad, {"emailaddress1": None})
    await _assert_in_sync(h)
    remaining = [e.record_id for e in await h.store.list_errors(h.cid)]
    assert remaining == [bad]
    # A delta still carries an edit.
    link = (await h.links())[3]
    await h.dv_patch("contacts", link.dynamics_id, {"firstname": "Reading"})
    h.clock.advance(3600)
    await h.until_idle()
    assert h.ac_by_email()[link.email or ""].first_name == "Reading"


PRE_EXISTING_READINGS: list[tuple[str, Any]] = [
    ("udate_on_import", True),
    ("udate_on_import", False),
    ("updated_after_tz", "utc"),
    ("updated_after_granularity", "date"),
    ("account_timezone", "Asia/Tokyo"),
]


@pytest.mark.parametrize(("switch", "value"), PRE_EXISTING_READINGS, ids=[f"{s}={v}" for s, v in PRE_EXISTING_READINGS])
async def test_initial_sync_into_an_account_that_has_the_contacts(harness: HarnessFactory, switch: str,
                                                                  value: Any) -> None:
    """AC already holds the people: imports update them (no new ids), found by updated_after or by email."""
    import httpx

    from tests.engine.conftest import AC_KEY, AC_URL

    h = await harness(seed_contacts=150, page_size=150, ac_switches={switch: value})
    dv = await _dv_emails(h)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=h.ac_app), base_url=AC_URL,
                                 headers={"Api-Token": AC_KEY}) as c:
        for email in dv:
            while True:
                r = await c.post("/api/3/contacts", json={"contact": {"email": email, "lastName": "Before"}})
                if r.status_code not in (429, 503):  # over 5/s: 429 or 503 (register #21)
                    break
                h.clock.advance(float(r.headers.get("Retry-After", "1")))
            assert r.status_code == 201, r.text
    before = {e: c.id for e, c in h.ac_by_email().items()}
    h.clock.advance(7200)
    await h.until_idle()
    links = await _assert_in_sync(h)
    assert {link.email: link.ac_id for link in links} == {e: str(i) for e, i in before.items()}


def test_every_register_switch_is_swept_or_excluded_with_a_reason() -> None:
    """`python -m devtools.readings` runs these scenario tests under each reading on the outbound path;
    a switch added to a register must join the sweep or be excluded with the reason."""
    from devtools.readings import NOT_OUTBOUND, OPEN_VALUES, outbound_readings, register

    switches = register()
    swept = {(r.sandbox, r.name) for r in outbound_readings()}
    assert set(NOT_OUTBOUND) <= set(switches), set(NOT_OUTBOUND) - set(switches)
    assert swept | set(NOT_OUTBOUND) == set(switches)
    assert not swept & set(NOT_OUTBOUND)
    for key, (_default, choices) in switches.items():
        if choices is None and key not in NOT_OUTBOUND:
            assert OPEN_VALUES.get(key), f"{key}: an open-ended switch needs the readings to sweep"


def test_the_inbound_path_s_switches_are_swept_and_its_tests_exist() -> None:
    """The pull writes Dynamics with If-Match, so the 412's code is on the sync path now (issue 16); the
    ``--inbound`` sweep names test files that exist."""
    from devtools.readings import INBOUND_TESTS, ROOT, outbound_readings

    swept = {(r.sandbox, r.name) for r in outbound_readings()}
    assert {("dataverse", "concurrency_code"), ("ac", "contacts_list_include"), ("ac", "updated_after_tz"),
            ("ac", "updated_after_granularity"), ("ac", "account_udate_on_noop")} <= swept
    assert INBOUND_TESTS and all((ROOT / t).is_file() for t in INBOUND_TESTS)


def test_flipped_switches_are_parsed_and_a_test_keeps_its_own() -> None:
    from sandbox.activecampaign import create_app as ac_create_app
    from sandbox.dynamics import create_app as dv_create_app
    from sync_core.clock import FakeClock
    from tests.conftest import parse_switch
    from tests.engine.conftest import apply_switches

    assert parse_switch('ac:account_timezone="Asia/Tokyo"') == ("ac", "account_timezone", "Asia/Tokyo")
    assert parse_switch("ac:account_timezone=UTC") == ("ac", "account_timezone", "UTC")
    assert parse_switch("dataverse:ct_expire_days=30") == ("dataverse", "ct_expire_days", 30)
    assert parse_switch("ac:bulk_import_spends_rps=false") == ("ac", "bulk_import_spends_rps", False)
    with pytest.raises(pytest.UsageError):
        parse_switch("crm:x=1")
    clock = FakeClock()
    ac_app, dv_app = ac_create_app(clock=clock, api_token="k"), dv_create_app(clock=clock, tokens=("t",))
    flipped: dict[str, dict[str, Any]] = {"ac": {"account_timezone": "UTC", "failure_row_base": 1},
                                         "dataverse": {"ct_expire_days": 30}}
    apply_switches(ac_app, dv_app, flipped, ac={"failure_row_base": 0})
    assert ac_app.state.ac.switches["account_timezone"] == "UTC"
    assert ac_app.state.ac.switches["failure_row_base"] == 0
    assert dv_app.state.dataverse.switches["ct_expire_days"] == 30


def test_the_sweep_runs_a_reading_only_where_its_switch_is_read(tmp_path: Path) -> None:
    """The traced default run (tests/conftest.py's hook) records each test's switch reads; a reading then runs
    exactly the tests that read its switch. A stand-in read that went unnoted would skip a test it changes."""
    from devtools.readings import tests_by_switch
    from sandbox import register_reads
    from sandbox.activecampaign.switches import Switches
    from sandbox.dynamics.switches import defaults

    register_reads.take()
    ac, dv = Switches(), defaults()
    assert ac["rate_limit_status"] == 429 and dv.get("ct_page_order") == "pk"
    assert register_reads.take() == {("ac", "rate_limit_status"), ("dataverse", "ct_page_order")}
    copied = dict(dv)  # the control route's copy reads every switch
    assert {name for _, name in register_reads.take()} == set(copied)
    trace = tmp_path / "trace.jsonl"
    trace.write_text("\n".join(json.dumps(e) for e in [
        {"test": "t.py::a", "read": ["ac:rate_limit_status", "dataverse:ct_page_order"]},
        {"test": "t.py::b", "read": []},
        {"test": "t.py::c", "read": ["ac:rate_limit_status"]},
        {"test": "t.py::c", "read": ["ac:rate_limit_status"]}]))
    assert tests_by_switch(trace) == {"ac:rate_limit_status": ["t.py::a", "t.py::c"],
                                      "dataverse:ct_page_order": ["t.py::a"]}


def test_the_traced_run_writes_each_test_s_reads(tmp_path: Path) -> None:
    """The pytest hook itself: one real test run with ``ACDS_READINGS_TRACE`` set, as devtools.readings runs it."""
    from devtools.readings import ROOT

    trace = tmp_path / "trace.jsonl"
    test = "tests/engine/test_register_readings.py::test_flipped_switches_are_parsed_and_a_test_keeps_its_own"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test], cwd=ROOT,
                          env={**os.environ, "ACDS_READINGS_TRACE": str(trace)}, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    entries = [json.loads(line) for line in trace.read_text().splitlines()]
    assert [e["test"] for e in entries] == [test]
    assert "ac:account_timezone" in entries[0]["read"] and "ac:contacts_default_order" not in entries[0]["read"]
