"""An admin's retry makes open errors due now, keeping their attempts and cause."""

from __future__ import annotations

from sync_core.clock import FakeClock
from sync_core.model.state import RecordError
from sync_core.store import SyncStore


async def test_retry_errors_makes_them_due_now(storage_connection_string: str, table_prefix: str,
                                               clock: FakeClock) -> None:
    store = SyncStore.from_connection_string(storage_connection_string, table_prefix=table_prefix, clock=clock)
    await store.create_tables()
    try:
        for rid in ("a", "b"):
            await store.record_error("c1", RecordError(entity="contact", side="activecampaign", record_id=rid,
                                                       cause="refused", code="x"))
        await store.record_error("c1", RecordError(entity="contact", side="activecampaign", record_id="a",
                                                   cause="refused", code="x"))
        clock.advance(10)
        assert await store.list_errors("c1", due_at=clock.now()) == []
        errors = await store.list_errors("c1")
        await store.clear_error("c1", "contact", "activecampaign", "b")
        assert await store.retry_errors("c1", errors) == 1  # "b" cleared meanwhile
        (due,) = await store.list_errors("c1", due_at=clock.now())
        assert due.record_id == "a" and due.attempts == 2 and due.cause == "refused"
    finally:
        await store.close()
