"""Scheduling and health: watermark tables, leases, retries with backoff, progress, global sync (issue 6)."""

from __future__ import annotations

from datetime import timedelta

from sync_core.store import backoff_seconds
from tests.engine.conftest import HarnessFactory, base_config
from tests.engine.test_contacts_push import _assert_in_sync


async def test_a_table_without_change_tracking_syncs_by_modifiedon(harness: HarnessFactory) -> None:
    cfg = base_config(contacts={"enabled": True, "direction": "push", "scope": "criteria",
                                "criteria": [{"field": "lastname", "operator": "ne", "value": "Smith"}]})
    h = await harness(seed_contacts=120, page_size=50, config=cfg)
    h.dv.set_change_tracking("contact", False)
    await h.until_idle()
    cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
    assert cursor is not None and cursor.mode == "modifiedon" and cursor.phase == "delta"
    rows = h.dv.rows["contact"].values()
    expected = {str(r["emailaddress1"]).lower() for r in rows if r.get("lastname") != "Smith"}
    assert set(h.ac_by_email()) == expected
    # A later edit is picked up by the watermark, with the criteria as $filter on the read.
    target = next(r for r in rows if r.get("lastname") != "Smith")
    h.clock.advance(3600)
    await h.dv_patch("contacts", target["contactid"], {"firstname": "Watermarked"})
    h.clock.advance(60)
    results = await h.until_idle()
    assert h.ac_by_email()[str(target["emailaddress1"]).lower()].first_name == "Watermarked"
    run = results[0].run
    assert run is not None
    assert run.counts["contact"]["read"] < 10, run.counts


async def test_a_lease_whose_holder_died_is_taken_over_after_expiry(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=5)
    await h.store.acquire_lease(h.cid, "dead-worker", ttl=300)
    assert (await h.run()).outcome == "lease_held"
    h.clock.advance(301)
    assert (await h.run()).outcome == "finished"


async def test_a_failing_record_is_retried_with_backoff_and_cleared(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3)
    await h.until_idle()
    # A contact AC refuses (its email): the record fails alone, the others are untouched.
    bad = await h.dv_create("contacts", {"lastname": "Bad", "emailaddress1": "bad@@example.com"})
    await h.run()
    (err,) = await h.store.list_errors(h.cid)
    assert err.record_id == bad and err.attempts == 1 and err.next_retry is not None
    first_due = err.next_retry
    # Not due yet: the next pass leaves it alone.
    h.clock.advance(5)
    await h.run()
    (err,) = await h.store.list_errors(h.cid)
    assert err.attempts == 1
    # Due: retried, fails again, backs off longer.
    h.clock.set(first_due + timedelta(seconds=1))
    await h.run()
    (err,) = await h.store.list_errors(h.cid)
    assert err.attempts == 2
    assert err.next_retry is not None and err.last_seen is not None
    assert (err.next_retry - err.last_seen).total_seconds() == backoff_seconds(2)
    # Fixed in Dynamics: it syncs and its error is cleared.
    await h.dv_patch("contacts", bad, {"emailaddress1": "fixed@example.com"})
    h.clock.advance(60)
    await h.until_idle()
    assert await h.store.list_errors(h.cid) == []
    assert "fixed@example.com" in h.ac_by_email()


async def test_progress_of_an_initial_sync_past_5000_records(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=12_000, page_size=5000, enforce_rate_limit=True)
    seen: list[tuple[int, int | None]] = []
    first = await h.engine().run_pass(h.cid, time_budget=0.0)
    assert first.outcome == "continued"
    cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
    assert cursor is not None
    seen.append((cursor.done, cursor.total))
    while True:
        r = await h.engine().run_pass(h.cid, time_budget=0.0)
        cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
        assert cursor is not None
        seen.append((cursor.done, cursor.total))
        if not r.more_work:
            break
    assert seen[0] == (5000, 12_000)
    assert seen[-1] == (12_000, 12_000)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


async def test_global_sync_off_then_on_resumes_from_the_cursors(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=300, page_size=100)
    first = await h.engine().run_pass(h.cid, time_budget=0.0)
    assert first.outcome == "continued"
    cfg = h.config.model_copy(deep=True)
    cfg.sync.global_enabled = False
    await h.store.save_config(cfg)
    assert (await h.run()).outcome == "skipped"
    cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
    assert cursor is not None and cursor.done == 100
    cfg.sync.global_enabled = True
    await h.store.save_config(cfg)
    results = await h.until_idle()
    resumed = results[0].run
    assert resumed is not None and resumed.counts["contact"]["read"] == 200
    await _assert_in_sync(h)


async def test_a_page_of_accounts_longer_than_the_pass_is_cut_and_continued(harness: HarnessFactory) -> None:
    cfg = base_config(accounts={"enabled": True, "direction": "push"})
    h = await harness(seed_contacts=300, page_size=5000, config=cfg)
    accounts = len(h.dv.rows["account"])
    outcomes = []
    for _ in range(40):
        r = await h.engine().run_pass(h.cid, time_budget=2.0)
        outcomes.append(r.outcome)
        if not r.more_work:
            break
    assert outcomes.count("continued") >= 2, outcomes
    assert len(h.ac.accounts) == accounts
    assert len(await h.links("account")) == accounts
    cursor = await h.store.get_dynamics_cursor(h.cid, "account")
    assert cursor is not None and cursor.phase == "delta" and cursor.done == accounts
