"""Dynamics contacts → ActiveCampaign: initial sync, deltas, kills, import outcomes (issue 5)."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.model.state import RecordLink
from tests.engine.conftest import Harness, HarnessFactory


class Killed(BaseException):
    """Stands for the process dying at a checkpoint: nothing after it runs."""


async def _dv_emails(h: Harness) -> dict[str, dict[str, Any]]:
    rows = await h.dv_all("contacts", "contactid,emailaddress1,firstname,lastname,telephone1")
    return {str(r["emailaddress1"]).lower(): r for r in rows if r.get("emailaddress1")}


async def _assert_in_sync(h: Harness) -> list[RecordLink]:
    dv = await _dv_emails(h)
    ac = h.ac_by_email()
    missing = sorted(set(dv) - set(ac))
    assert not missing, f"{len(missing)} Dynamics contacts missing in AC, e.g. {missing[:3]}"
    links = await h.links("contact")
    assert len(links) == len(dv)
    assert len({link.dynamics_id for link in links}) == len(links)
    assert all(link.ac_id for link in links), "pending links left after the connection became idle"
    for link in links:
        assert str(ac[link.email].id) == link.ac_id
    for email, row in dv.items():
        assert (ac[email].first_name or None) == (row.get("firstname") or None)
    return links


async def test_initial_sync_then_deltas(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=300, page_size=100)
    results = await h.until_idle()
    links = await _assert_in_sync(h)
    first = results[0].run
    assert first is not None and first.api_calls["activecampaign"].get("bulk_import", 0) >= 3
    assert any(link.email for link in links)
    # The cursor holds the delta link and progress reached the total.
    cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
    assert cursor is not None and cursor.phase == "delta" and cursor.delta_link and cursor.next_link is None
    assert cursor.done == cursor.total == 300

    # Nothing changed: a pass writes nothing to AC.
    quiet = await h.run()
    assert quiet.outcome == "finished"
    assert h.ac_writes(quiet) == 0, quiet.run.api_calls if quiet.run else None

    # One edit in Dynamics reaches AC through the delta link, alone.
    target = links[0]
    await h.dv_patch("contacts", target.dynamics_id, {"firstname": "Renamed"})
    delta = await h.run()
    assert delta.run is not None and delta.run.counts["contact"]["read"] == 1
    # A linked contact is written by its id (a 404 would say it was deleted in AC), not upserted by email.
    assert delta.run.api_calls["activecampaign"].get("contact.update") == 1
    assert "contact.sync" not in delta.run.api_calls["activecampaign"]
    assert "bulk_import" not in delta.run.api_calls["activecampaign"]
    assert h.ac_by_email()[target.email or ""].first_name == "Renamed"


async def test_an_ac_edit_to_another_field_survives_the_push(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=12)
    await h.until_idle()
    link = (await h.links())[0]
    h.ac_by_email()[link.email or ""].last_name = "EditedInAC"
    await h.dv_patch("contacts", link.dynamics_id, {"firstname": "FromDynamics"})
    await h.run()
    after = h.ac_by_email()[link.email or ""]
    assert after.first_name == "FromDynamics"
    assert after.last_name == "EditedInAC"


@pytest.mark.parametrize("kill_at", ["after_ac_write", "after_links_saved", "after_cursor_saved"])
async def test_killed_pass_resumes_without_duplicates(harness: HarnessFactory, kill_at: str) -> None:
    seen: list[str] = []

    async def die_on_third(name: str, info: dict[str, Any]) -> None:
        seen.append(name)
        if name == kill_at and seen.count(kill_at) == 3:
            raise Killed(kill_at)

    h = await harness(seed_contacts=600, page_size=100)
    with pytest.raises(Killed):
        await h.engine(checkpoint=die_on_third).run_pass(h.cid)
    # The dead process held the lease: the next worker waits for it to expire.
    h.clock.advance(3600)
    results = await h.until_idle()
    await _assert_in_sync(h)
    resumed = results[0].run
    assert resumed is not None
    imports = resumed.api_calls["activecampaign"].get("bulk_import", 0)
    # Pages made durable before the kill are not written again; the page in flight is, unless
    # its links were saved (then its records compare equal to their last synced values).
    durable = 2 if kill_at == "after_ac_write" else 3
    assert imports == 6 - durable, resumed.api_calls


async def test_rows_failing_inside_ac_are_recorded_and_synced_later(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=60)
    dv = await _dv_emails(h)
    victim = sorted(dv)[5]
    h.ac.inject_fault(import_fail_pattern=victim)
    await h.until_idle()  # import/info reports the failed row (however long AC takes: a register reading)
    errors = await h.store.list_errors(h.cid)
    assert [e.record_id for e in errors] == [dv[victim]["contactid"]]
    assert victim not in h.ac_by_email()
    h.ac.clear_faults()
    h.clock.advance(24 * 3600)  # past the retry backoff
    await h.until_idle()
    await _assert_in_sync(h)
    assert await h.store.list_errors(h.cid) == []


async def test_a_bad_row_does_not_block_its_bulk_call(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=30)
    bad = await h.dv_create("contacts", {"lastname": "Broken", "emailaddress1": "not-an-email"})
    await h.until_idle()
    errors = await h.store.list_errors(h.cid)
    assert [e.record_id for e in errors] == [bad]
    assert "not-an-email" not in h.ac_by_email()
    dv = await _dv_emails(h)
    assert set(dv) - {"not-an-email"} <= set(h.ac_by_email())


async def test_global_sync_off_runs_nothing(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=5)
    cfg = h.config.model_copy(deep=True)
    cfg.sync.global_enabled = False
    await h.store.save_config(cfg)
    r = await h.run()
    assert r.outcome == "skipped"
    assert not h.ac.contacts or all("@" in str(c.email) for c in h.ac.contacts.values())
    assert h.ac.count_requests() == 0


async def test_a_delta_costs_follow_the_changes_not_the_data(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=400, page_size=200)
    await h.until_idle()
    links = await h.links()
    h.clock.advance(3600)
    for link in links[:50]:
        await h.dv_patch("contacts", link.dynamics_id, {"firstname": "Bulk"})
    results = await h.until_idle()
    calls: dict[str, int] = {}
    for r in results:
        assert r.run is not None
        for kind, n in r.run.api_calls["activecampaign"].items():
            calls[kind] = calls.get(kind, 0) + n
    # One import for the 50 rows, its status, and no re-reading of the 400 contacts (no email lookups:
    # the rows updated linked contacts, whose ids are known).
    assert calls.get("bulk_import") == 1, calls
    assert calls.get("contacts.list", 0) <= 2, calls
    # import/info is asked once a pass until AC has processed the import: how long that takes is a
    # register reading (import_delay_seconds), not a cost of the data.
    assert calls.pop("import.info", 0) >= 1, calls
    assert sum(calls.values()) <= 5, calls
    assert all(h.ac_by_email()[link.email or ""].first_name == "Bulk" for link in links[:50])
