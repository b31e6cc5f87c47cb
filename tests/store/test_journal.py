"""Runs and audit newest first, per-record errors with backoff, pending import batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync_core.clock import FakeClock
from sync_core.model.state import AuditEntry, ImportBatch, ImportRow, RecordError, RunRecord
from sync_core.store import SyncStore, backoff_seconds

CID = "conn-1"


def test_backoff_doubles_from_a_minute_up_to_six_hours() -> None:
    assert [backoff_seconds(n) for n in range(1, 11)] == [
        60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600,
    ]
    assert backoff_seconds(500) == 6 * 3600


async def test_record_error_counts_attempts_and_backs_off(store: SyncStore, clock: FakeClock) -> None:
    t0 = clock.now()
    first = await store.record_error(CID, RecordError("contact", "dynamics", "d/1", "timeout", code="transient"))
    assert (first.attempts, first.first_seen, first.last_seen) == (1, t0, t0)
    assert first.next_retry == t0 + timedelta(seconds=60)

    clock.advance(100)
    second = await store.record_error(CID, RecordError("contact", "dynamics", "d/1", "timeout again"))
    assert second.attempts == 2 and second.first_seen == t0 and second.cause == "timeout again"
    assert second.next_retry == clock.now() + timedelta(seconds=120)
    for _ in range(10):
        last = await store.record_error(CID, RecordError("contact", "dynamics", "d/1", "x"))
    assert last.attempts == 12 and last.next_retry == clock.now() + timedelta(hours=6)
    assert await store.get_error(CID, "contact", "dynamics", "d/1") == last

    fatal = await store.record_error(CID, RecordError("lead", "activecampaign", "9", "invalid", retriable=False))
    assert fatal.next_retry is None

    await store.clear_error(CID, "contact", "dynamics", "d/1")
    await store.clear_error(CID, "contact", "dynamics", "d/1")
    assert await store.get_error(CID, "contact", "dynamics", "d/1") is None
    assert [e.record_id for e in await store.list_errors(CID)] == ["9"]


async def test_list_errors_by_entity_and_due_time(store: SyncStore, clock: FakeClock) -> None:
    await store.record_error(CID, RecordError("contact", "dynamics", "c1", "x"))
    clock.advance(30)
    await store.record_error(CID, RecordError("contact", "activecampaign", "c2", "x"))
    await store.record_error(CID, RecordError("lead", "dynamics", "l1", "x"))
    await store.record_error(CID, RecordError("lead", "dynamics", "l2", "x", retriable=False))

    assert sorted(e.record_id for e in await store.list_errors(CID, entity="lead")) == ["l1", "l2"]
    due = await store.list_errors(CID, due_at=clock.now() + timedelta(seconds=45))
    assert [e.record_id for e in due] == ["c1"]
    due_later = await store.list_errors(CID, due_at=clock.now() + timedelta(seconds=60))
    assert sorted(e.record_id for e in due_later) == ["c1", "c2", "l1"]
    assert len(await store.list_errors(CID, limit=2)) == 2


async def test_runs_are_listed_newest_first_and_saved_by_id(store: SyncStore, clock: FakeClock) -> None:
    runs = []
    for i in range(5):
        runs.append(RunRecord(f"run-{i}", clock.now(), "timer"))
        await store.save_run(CID, runs[-1])
        clock.advance(90)
    runs[2].status = "finished"
    runs[2].finished_at = clock.now()
    runs[2].count("contact", "created", 7)
    runs[2].api_calls = {"activecampaign": {"GET": 3}}
    await store.save_run(CID, runs[2])

    listed = await store.list_runs(CID, limit=10)
    assert [r.run_id for r in listed] == ["run-4", "run-3", "run-2", "run-1", "run-0"]
    assert listed[2] == runs[2]
    assert [r.run_id for r in await store.list_runs(CID, limit=2)] == ["run-4", "run-3"]


async def test_audit_is_listed_newest_first(store: SyncStore, clock: FakeClock) -> None:
    for i in range(4):
        await store.append_audit(CID, AuditEntry(clock.now(), f"user{i}@x.com", "config.update",
                                                 before={"v": i}, after={"v": i + 1}))
        clock.advance(1)
    listed = await store.list_audit(CID, limit=3)
    assert [a.actor for a in listed] == ["user3@x.com", "user2@x.com", "user1@x.com"]
    assert listed[0].before == {"v": 3} and listed[0].after == {"v": 4}


async def test_audit_of_one_action_on_some_targets(store: SyncStore, clock: FakeClock) -> None:
    rows = [("send_campaign", "lead/1"), ("add_to_automation", "lead/1"), ("send_campaign", "contact/2"),
            ("send_campaign", "lead/3"), ("send_campaign", "lead/1")]
    for n, (action, target) in enumerate(rows):
        await store.append_audit(CID, AuditEntry(clock.now(), "u", action, target=target, detail={"n": n}))
        clock.advance(1)
    found = await store.list_audit(CID, action="send_campaign", targets=["lead/1", "contact/2"])
    assert [a.detail["n"] for a in found] == [4, 2, 0]
    assert [a.detail["n"] for a in await store.list_audit(CID, action="send_campaign", targets=["lead/1"],
                                                          limit=1)] == [4]
    with pytest.raises(ValueError, match="13 targets"):
        await store.list_audit(CID, targets=[f"lead/{n}" for n in range(14)])


async def test_import_batches(store: SyncStore) -> None:
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    b1 = ImportBatch("batch/1", at, rows=[ImportRow("contact", "c1", "a@x.com"), ImportRow("lead", "l1", "b@x.com")])
    b2 = ImportBatch("batch-2", at + timedelta(seconds=5))
    await store.save_import(CID, b2)
    await store.save_import(CID, b1)
    assert b1.etag
    listed = await store.list_imports(CID)
    assert [b.batch_id for b in listed] == ["batch/1", "batch-2"]
    assert listed[0].rows == b1.rows
    b1.status = "completed"
    await store.save_import(CID, b1)
    assert [b.batch_id for b in await store.list_imports(CID)] == ["batch-2"]
    assert [b.batch_id for b in await store.list_imports(CID, status="completed")] == ["batch/1"]
    await store.delete_import(CID, "batch/1")
    assert len(await store.list_imports(CID, status=None)) == 1
