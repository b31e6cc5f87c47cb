"""The status says how many records wait for ActiveCampaign to process their bulk import.

AC applies an import asynchronously: "100 %" of the initial sync means Dynamics has been read and every
record sent, not that AC holds them yet. An admin (and the admin pages' story) must be able to tell.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from sync_core.clock import FakeClock
from sync_core.engine.scheduling import PassRequest, handle_request
from tests.api.conftest import CID, Api, api_harness

P = f"/api/connections/{CID}"


async def test_records_in_an_unprocessed_import_are_counted_until_ac_has_applied_it(
        storage_connection_string: str, table_prefix: str, clock: FakeClock, tmp_path: Path,
        signing_key: rsa.RSAPrivateKey) -> None:
    # Pages of 100: the 60 seeded contacts go in one bulk import (pages of 10 or fewer use contact/sync).
    async with api_harness(storage_connection_string, table_prefix, clock, tmp_path, signing_key,
                           dv_page_size=100) as api:
        await _awaited_until_processed(api)


async def _awaited_until_processed(api: Api) -> None:
    h = api.auth()
    await api.connect()
    api.ac.switches.set_many({"import_delay_seconds": 300})
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=h)
    assert r.status_code == 200, r.text
    request = PassRequest(connection_id=CID, reason="initial", requested_at=api.clock.now())
    handled = await handle_request(api.rt.engine, api.rt.queue, request, clock=api.clock, time_budget=60.0)
    queued = sum(len(b.rows) for b in api.ac.pending_imports)
    assert queued > 10  # the seeded contacts went in bulk imports, not one contact/sync each
    status = (await api.client.get(f"{P}/status", headers=h)).json()
    assert status["awaiting_import"] == queued
    assert not api.ac.contacts or len(api.ac.contacts) < queued
    # Once AC has processed them, the next pass learns it and nothing is awaited.
    api.clock.advance(301)
    request = handled.requeued or PassRequest(connection_id=CID, reason="sync_now", requested_at=api.clock.now())
    for _ in range(5):
        handled = await handle_request(api.rt.engine, api.rt.queue, request, clock=api.clock, time_budget=60.0)
        status = (await api.client.get(f"{P}/status", headers=h)).json()
        if status["awaiting_import"] == 0 or handled.requeued is None:
            break
        api.clock.advance(60)
        request = handled.requeued
    assert status["awaiting_import"] == 0
    assert not api.ac.pending_imports
