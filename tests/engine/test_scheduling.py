"""Timers enqueue the due connections; the worker collapses duplicates and waits out a held lease."""

from __future__ import annotations

import uuid
from datetime import timedelta

from azure.storage.queue import TextBase64DecodePolicy
from azure.storage.queue.aio import QueueClient

from sync_core.engine.scheduling import LEASE_HELD_DELAY, PassRequest, StorageQueue, enqueue_due, handle_request
from tests.engine.conftest import HarnessFactory, base_config


async def _queue(conn: str) -> tuple[StorageQueue, QueueClient]:
    name = "q" + uuid.uuid4().hex[:12]
    q = StorageQueue.from_connection_string(conn, name)
    await q.create()
    reader = QueueClient.from_connection_string(conn, name, message_decode_policy=TextBase64DecodePolicy())
    return q, reader


async def _visible(reader: QueueClient) -> list[PassRequest]:
    return [PassRequest.from_message(m.content) for m in await reader.peek_messages(max_messages=32)]


async def test_timer_enqueues_exactly_the_connections_due(harness: HarnessFactory,
                                                          storage_connection_string: str) -> None:
    h = await harness(seed_contacts=1)
    for cid, freq, on in (("hourly-b", "1h", True), ("every-4h", "4h", True), ("hourly-off", "1h", False)):
        cfg = base_config(cid)
        cfg.sync.frequency = freq  # type: ignore[assignment]
        cfg.sync.global_enabled = on
        await h.store.save_config(cfg)
    q, reader = await _queue(storage_connection_string)
    try:
        assert sorted(await enqueue_due(h.store, q, "1h", clock=h.clock)) == ["hourly-b", "test"]
        got = await _visible(reader)
        assert sorted(r.connection_id for r in got) == ["hourly-b", "test"]
        assert {r.reason for r in got} == {"timer"}
        assert await enqueue_due(h.store, q, "daily", clock=h.clock) == []
    finally:
        await q.close()
        await reader.close()


async def test_two_messages_for_one_connection_make_one_pass(harness: HarnessFactory,
                                                             storage_connection_string: str) -> None:
    h = await harness(seed_contacts=3)
    q, reader = await _queue(storage_connection_string)
    try:
        t0 = h.clock.now()
        h.clock.advance(1)
        timer = PassRequest(connection_id=h.cid, reason="timer", requested_at=t0)
        now = PassRequest(connection_id=h.cid, reason="sync_now", requested_at=t0)
        first = await handle_request(h.engine(), q, timer, clock=h.clock)
        second = await handle_request(h.engine(), q, now, clock=h.clock)
        assert first.result.outcome == "finished"
        assert second.result.outcome == "collapsed"
        runs = await h.store.list_runs(h.cid, limit=10)
        assert len(runs) == 1
    finally:
        await q.close()
        await reader.close()


async def test_a_held_lease_requeues_with_a_delay(harness: HarnessFactory, storage_connection_string: str) -> None:
    h = await harness(seed_contacts=3)
    q, reader = await _queue(storage_connection_string)
    try:
        lease = await h.store.acquire_lease(h.cid, "someone-else", ttl=600)
        req = PassRequest(connection_id=h.cid, reason="timer", requested_at=h.clock.now())
        handled = await handle_request(h.engine(), q, req, clock=h.clock)
        assert handled.result.outcome == "lease_held"
        assert handled.requeued is not None and handled.delay_seconds == LEASE_HELD_DELAY
        assert handled.requeued.requested_at == req.requested_at
        # Sent with a visibility delay: in the queue, not yet visible.
        props = await reader.get_queue_properties()
        assert props.approximate_message_count == 1
        assert await _visible(reader) == []
        assert await h.store.list_runs(h.cid) == []
        await h.store.release_lease(lease)
    finally:
        await q.close()
        await reader.close()


async def test_a_pass_cut_by_its_time_budget_is_continued(harness: HarnessFactory,
                                                          storage_connection_string: str) -> None:
    h = await harness(seed_contacts=500, page_size=100)
    q, reader = await _queue(storage_connection_string)
    try:
        req = PassRequest(connection_id=h.cid, reason="timer", requested_at=h.clock.now())
        # A budget of zero seconds: the pass stops after its first durable page.
        handled = await handle_request(h.engine(), q, req, clock=h.clock, time_budget=0.0)
        assert handled.result.outcome == "continued"
        assert handled.requeued is not None and handled.requeued.reason == "continuation"
        cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
        assert cursor is not None and cursor.next_link and cursor.done == 100
        follow = handled.requeued
        for _ in range(10):
            h.clock.advance(1)
            handled = await handle_request(h.engine(), q, follow, clock=h.clock, time_budget=0.0)
            if handled.requeued is None or handled.requeued.reason != "continuation":
                break
            follow = handled.requeued
        cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
        assert cursor is not None and cursor.phase == "delta" and cursor.done == 500
        assert h.clock.now() - req.requested_at < timedelta(hours=1)
    finally:
        await q.close()
        await reader.close()


async def test_a_sync_now_is_not_collapsed_behind_a_later_pass_that_failed(harness: HarnessFactory,
                                                                           storage_connection_string: str) -> None:
    """Edits on both sides, then sync now; a pass that started after the request failed (an AC 5xx storm):
    it wrote neither edit, so it does not cover the request, whose pass writes both."""
    from tests.engine.test_pull import dv_contact, edit_ac_contact, synced, two_way

    h = await harness(seed_contacts=4, config=two_way())
    a, b = (await synced(h))["links"][:2]
    q, reader = await _queue(storage_connection_string)
    try:
        h.clock.advance(60)
        await edit_ac_contact(h, str(a.ac_id), lastName="From-AC")
        await h.dv_patch("contacts", b.dynamics_id, {"lastname": "From-Dynamics"})
        now = PassRequest(connection_id=h.cid, reason="sync_now", requested_at=h.clock.now())
        h.clock.advance(1)
        h.ac.inject_fault(error_rate=1.0)
        failed = await h.run(reason="timer")
        assert failed.outcome == "failed" and failed.run is not None and failed.run.started_at > now.requested_at
        h.ac.clear_faults()
        handled = await handle_request(h.engine(), q, now, clock=h.clock)
        assert handled.result.outcome == "finished"
        assert (await dv_contact(h, a.dynamics_id))["lastname"] == "From-AC"
        assert h.ac.contacts[int(str(b.ac_id))].last_name == "From-Dynamics"
    finally:
        await q.close()
        await reader.close()
