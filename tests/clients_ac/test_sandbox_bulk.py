"""Bulk import against the sandbox: refused rows, late failures, the per-minute limit."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette

from sync_core.activecampaign import ActiveCampaignClient, BulkImportRejected
from sync_core.clock import FakeClock
from sync_core.model.budget import SlidingWindowBudget
from tests.clients_ac.conftest import client_for


def rows(n: int, prefix: str = "p") -> list[dict[str, Any]]:
    return [{"email": f"{prefix}{i}@example.com", "first_name": f"P{i}", "tags": ["Imported"]} for i in range(n)]


async def complete(client: ActiveCampaignClient, clock: FakeClock, batch_id: str) -> Any:
    for _ in range(20):
        status = await client.import_info(batch_id)
        if status.finished:
            return status
        clock.advance(5)
    raise AssertionError("the batch never completed")


@pytest.mark.parametrize("base", [0, 1])
async def test_bad_row_dropped_and_rest_imported(ac_app: Starlette, ac_state: Any, clock: FakeClock,
                                                 base: int) -> None:
    ac_state.switches["failure_row_base"] = base
    client = client_for(ac_app, clock, failure_reason_index_base=base)
    batch = rows(12)
    batch[5] = {"email": "not-an-email", "first_name": "Bad"}
    with pytest.raises(BulkImportRejected) as info:
        await client.bulk_import(batch)
    assert [(e.index, e.email) for e in info.value.row_errors] == [(5, "not-an-email")]

    outcome = await client.import_contacts(batch)
    assert [r.row["email"] for r in outcome.rejected] == ["not-an-email"]
    assert outcome.rejected[0].reason
    assert len(outcome.batch_ids) == 1 and outcome.submitted_rows == 11
    status = await complete(client, clock, outcome.batch_ids[0])
    assert status.status == "completed" and len(status.success) == 11 and status.failure == []
    assert ac_state.contact_by_email("p0@example.com") is not None
    assert ac_state.contact_by_email("not-an-email") is None
    assert client.calls.snapshot()["bulk_import"] == 3  # refused, refused again (bulk_import), accepted
    await client.aclose()


async def test_chunks_of_250(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock) -> None:
    outcome = await client.import_contacts(rows(600))
    assert [len(r) for _, r in outcome.submitted] == [250, 250, 100]
    for batch_id in outcome.batch_ids:
        await complete(client, clock, batch_id)
    assert len(ac_state.contacts) == 600


async def test_import_info_reports_rows_that_failed_later(client: ActiveCampaignClient, ac_state: Any,
                                                          clock: FakeClock) -> None:
    ac_state.inject_fault(import_fail_pattern="bounce")
    batch = [*rows(10), {"email": "hard.bounce@example.com"}, {"email": "bounce2@example.com"}]
    result = await client.bulk_import(batch)
    assert result.queued_contacts == 12
    pending = await client.import_info(result.batch_id)
    assert not pending.finished
    status = await complete(client, clock, result.batch_id)
    assert sorted(status.failure) == ["bounce2@example.com", "hard.bounce@example.com"]
    assert len(status.success) == 10
    assert ac_state.contact_by_email("hard.bounce@example.com") is None


async def test_per_minute_limit_400_is_waited_out(ac_app: Starlette, ac_state: Any, clock: FakeClock) -> None:
    """A client that does not pace imports itself hits AC's 400 "Rate limit exceeded", waits and succeeds."""
    loose = SlidingWindowBudget(10_000, 60.0, clock=clock)
    client = client_for(ac_app, clock, import_budget=loose)
    start = clock.time()
    results = [await client.bulk_import(rows(2, prefix=f"m{n}-")) for n in range(101)]
    assert len({r.batch_id for r in results}) == 101
    assert ac_state.count_requests(route="/api/3/import/bulk_import", status=400) >= 1
    assert clock.time() - start >= 60
    await client.aclose()


async def test_default_budgets_pace_imports(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock) -> None:
    start = clock.time()
    for n in range(21):
        await client.bulk_import([{"email": f"single{n}@example.com"}])  # 20 single-row calls a minute
    assert ac_state.count_requests(route="/api/3/import/bulk_import", status=400) == 0
    assert clock.time() - start >= 60
