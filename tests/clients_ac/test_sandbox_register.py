"""The client under every reading of the register entries it depends on (sandbox switches)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import FakeClock
from tests.clients_ac.conftest import client_for
from tests.clients_ac.test_sandbox_custom_objects import SCHEMA


@pytest.mark.parametrize("status", [201, 200])
async def test_sync_contact_update_status(client: ActiveCampaignClient, ac_state: Any, status: int) -> None:
    ac_state.switches["sync_update_status"] = status
    first = await client.sync_contact({"email": "s@example.com", "firstName": "One"})
    second = await client.sync_contact({"email": "s@example.com", "firstName": "Two"})
    assert second["id"] == first["id"] and second["firstName"] == "Two"


@pytest.mark.parametrize("status", [201, 200])
async def test_record_update_status(client: ActiveCampaignClient, ac_state: Any, status: int) -> None:
    ac_state.switches["custom_object_update_status"] = status
    sid = str((await client.create_schema(SCHEMA))["id"])
    first = await client.upsert_record(sid, {"externalId": "x-1", "fields": [{"id": "amount", "value": 1}]})
    second = await client.upsert_record(sid, {"externalId": "x-1", "fields": [{"id": "amount", "value": 2}]})
    assert second["id"] == first["id"]


@pytest.mark.parametrize("success", ["ids", "emails"])
@pytest.mark.parametrize("pending", ["outstanding", "processing"])
async def test_import_info_readings(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock,
                                    success: str, pending: str) -> None:
    ac_state.switches["import_info_success"] = success
    ac_state.switches["import_info_pending"] = pending
    result = await client.bulk_import([{"email": "i1@example.com"}, {"email": "i2@example.com"}])
    before = await client.import_info(result.batch_id)
    assert before.status == pending and not before.finished
    clock.advance(ac_state.switches["import_delay_seconds"] + 1)
    after = await client.import_info(result.batch_id)
    assert after.finished and len(after.success) == 2
    listing = await client.list_imports()
    assert "outstanding" in listing or "recentlyCompleted" in listing


@pytest.mark.parametrize("zone", ["account", "utc"])
@pytest.mark.parametrize("granularity", ["datetime", "date"])
async def test_updated_after_readings(client: ActiveCampaignClient, ac_state: Any, clock: FakeClock,
                                      zone: str, granularity: str) -> None:
    """The client sends updated_after with an explicit offset, so the zone reading cannot shift it; with
    date granularity AC returns a superset (the engine's overlap window and de-duplication absorb it)."""
    ac_state.switches["updated_after_tz"] = zone
    ac_state.switches["updated_after_granularity"] = granularity
    ac_state.reset(seed_contacts=20)
    clock.advance(2 * 86400)
    old = [await client.create_contact({"email": f"old{n}@example.com"}) for n in range(3)]
    clock.advance(6 * 3600)
    mark = clock.now()
    clock.advance(60)
    new = [await client.create_contact({"email": f"new{n}@example.com"}) for n in range(2)]
    got = {str(c["id"]) async for c in client.iter_contacts(updated_after=mark - timedelta(seconds=1))}
    assert {str(c["id"]) for c in new} <= got
    if granularity == "datetime":
        assert got == {str(c["id"]) for c in new}
    else:
        assert got <= {str(c["id"]) for c in new + old}


@pytest.mark.parametrize("spends", [True, False])
async def test_bulk_import_and_request_budget(ac_app: Starlette, ac_state: Any, clock: FakeClock, spends: bool) -> None:
    """Whichever way AC counts bulk calls, a client configured for that reading sees no 429."""
    ac_state.switches["bulk_import_spends_rps"] = spends
    client = client_for(ac_app, clock, bulk_import_spends_request_budget=spends)
    for n in range(12):
        await client.bulk_import([{"email": f"b{n}a@example.com"}, {"email": f"b{n}b@example.com"}])
        await client.get_me()
    assert ac_state.count_requests(status=429) == 0
    await client.aclose()
