"""The outbound path under every reading of the register entries that touch it.

Each AC register switch that could change what the product sees on this path is flipped
in turn, and the issue-5 scenarios run again: initial sync and a delta, a row that fails
inside AC, a bad row in a bulk call.
"""

from __future__ import annotations

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
