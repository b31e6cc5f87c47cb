"""Merges in Dynamics: the merged-away record stops syncing and its AC record follows the winner (DESIGN.md §5).

Merging is how an admin resolves the duplicates the sync reports (two contacts with one email, two accounts
with one name), so each shape of that is here, with a kill in the middle and a dry run.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.conftest import Harness, HarnessFactory, base_config


class Killed(BaseException):
    """Stands for the process dying at a checkpoint."""


async def _merge(h: Harness, logical: str, pk: str, winner: str, loser: str,
                 update: dict[str, Any] | None = None) -> None:
    odata_type = f"Microsoft.Dynamics.CRM.{logical}"
    r = await h.dv_request("POST", "Merge", json={
        "Target": {"@odata.type": odata_type, pk: winner},
        "Subordinate": {"@odata.type": odata_type, pk: loser},
        "UpdateContent": {"@odata.type": odata_type, **(update or {})},
        "PerformParentingChecks": False})
    assert r.status_code == 204, r.text


async def _twins(h: Harness) -> tuple[str, str]:
    """Two contacts with one email: the older is linked, the newer reported."""
    email = "twin@example.com"
    older = await h.dv_create("contacts", {"lastname": "Older", "firstname": "Ann", "emailaddress1": email})
    h.clock.advance(60)
    newer = await h.dv_create("contacts", {"lastname": "Newer", "firstname": "Anne", "emailaddress1": email})
    await h.until_idle()
    assert [(e.record_id, e.code) for e in await h.store.list_errors(h.cid)] == [(newer, "duplicate_email")]
    return older, newer


@pytest.mark.parametrize("update", [None, {"jobtitle": "Chief Merger"}], ids=["winner-unchanged", "winner-updated"])
async def test_merging_the_linked_twin_into_the_reported_one_hands_over_the_ac_contact(
        harness: HarnessFactory, update: dict[str, Any] | None) -> None:
    h = await harness(seed_contacts=10)
    older, newer = await _twins(h)
    link = await h.store.get_link(h.cid, "contact", older)
    assert link is not None and link.ac_id
    ac_count = len(h.ac.contacts)
    await _merge(h, "contact", "contactid", winner=newer, loser=older, update=update)
    await h.until_idle()
    assert await h.store.get_link(h.cid, "contact", older) is None
    moved = await h.store.get_link(h.cid, "contact", newer)
    assert moved is not None and moved.ac_id == link.ac_id
    assert await h.store.list_errors(h.cid) == [], "the duplicate report is resolved by the merge"
    assert len(h.ac.contacts) == ac_count
    contact = h.ac_by_email()["twin@example.com"]
    assert (contact.first_name, contact.last_name) == ("Anne", "Newer"), "the AC contact took the winner's values"
    assert [x.email for x in await h.store.find_links_by_email(h.cid, "twin@example.com")] == ["twin@example.com"]
    quiet = await h.run()
    assert h.ac_writes(quiet) == 0


async def test_merging_the_reported_twin_into_the_linked_one_clears_the_report(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=10)
    older, newer = await _twins(h)
    before = await h.store.get_link(h.cid, "contact", older)
    await _merge(h, "contact", "contactid", winner=older, loser=newer)
    await h.until_idle()
    after = await h.store.get_link(h.cid, "contact", older)
    assert before is not None and after is not None and after.ac_id == before.ac_id
    assert await h.store.get_link(h.cid, "contact", newer) is None
    assert await h.store.list_errors(h.cid) == []
    assert h.ac_by_email()["twin@example.com"].last_name == "Older"


async def test_merging_two_synced_contacts_drops_the_losers_link_and_keeps_both_ac_contacts(
        harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=20)
    await h.until_idle()
    winner, loser = sorted(await h.links(), key=lambda x: x.dynamics_id)[:2]
    ac_before = {e: c.id for e, c in h.ac_by_email().items()}
    await _merge(h, "contact", "contactid", winner=winner.dynamics_id, loser=loser.dynamics_id,
                 update={"telephone1": "+1 555 0100"})
    result = (await h.until_idle())[0]
    assert result.run is not None and result.run.counts["contact"].get("merged") == 1
    assert await h.store.get_link(h.cid, "contact", loser.dynamics_id) is None
    kept = await h.store.get_link(h.cid, "contact", winner.dynamics_id)
    assert kept is not None and kept.ac_id == winner.ac_id
    assert {e: c.id for e, c in h.ac_by_email().items()} == ac_before, "no AC contact created or deleted"
    assert h.ac_by_email()[winner.email or ""].phone == "+1 555 0100"
    # The merged-away record is inactive and no longer synced, whatever happens to it.
    await h.dv_patch_inactive("contacts", loser.dynamics_id, {"firstname": "Ghost"})
    later = await h.run()
    assert later.run is not None and later.run.counts["contact"].get("skipped_merged") == 1
    assert h.ac_by_email()[loser.email or ""].first_name != "Ghost"
    assert await h.store.list_errors(h.cid) == []


@pytest.mark.parametrize("reparents", [True, False], ids=["children-reparented", "children-left"])
async def test_merging_accounts_with_one_name_hands_over_the_ac_account(harness: HarnessFactory,
                                                                        reparents: bool) -> None:
    h = await harness(seed_contacts=0, config=base_config(accounts={"enabled": True, "direction": "push"}),
                      dv_switches={"merge_reparents_children": reparents})
    first = await h.dv_create("accounts", {"name": "Twin Peaks Ltd", "websiteurl": "https://one.example"})
    h.clock.advance(60)
    second = await h.dv_create("accounts", {"name": "Twin Peaks Ltd", "websiteurl": "https://two.example"})
    member = await h.dv_create("contacts", {"lastname": "Member", "emailaddress1": "member@example.com",
                                            "parentcustomerid_account@odata.bind": f"/accounts({first})"})
    await h.until_idle()
    linked = await h.store.get_link(h.cid, "account", first)
    assert linked is not None and [e.code for e in await h.store.list_errors(h.cid)] == ["duplicate_name"]
    await _merge(h, "account", "accountid", winner=second, loser=first)
    await h.until_idle()
    moved = await h.store.get_link(h.cid, "account", second)
    assert moved is not None and moved.ac_id == linked.ac_id
    assert await h.store.get_link(h.cid, "account", first) is None
    assert await h.store.list_errors(h.cid) == []
    assert len(h.ac.accounts) == 1
    # The member stays with the one AC account, whether Dynamics moved it to the winner or not.
    contact_id = str(h.ac_by_email()["member@example.com"].id)
    rows = [r for r in h.ac.account_contacts.values() if str(_get(r, "contact")) == contact_id]
    assert [str(_get(r, "account")) for r in rows] == [linked.ac_id]
    parent = h.dv.rows["contact"][member].get("_parentcustomerid_value")
    assert parent == (second if reparents else first)


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key)


async def test_a_dry_run_shows_the_merge_and_changes_nothing(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=10)
    older, newer = await _twins(h)
    await _merge(h, "contact", "contactid", winner=newer, loser=older)
    links_before = await h.links()
    errors_before = await h.store.list_errors(h.cid)
    preview = await h.run(dry_run=True)
    assert preview.run is not None and preview.run.counts["contact"].get("would_follow_merge") == 1
    assert [(s["action"], s["id"]) for s in preview.samples["contact"] if s["action"] == "follow_merge"] \
        == [("follow_merge", older)]
    assert await h.links() == links_before
    assert await h.store.list_errors(h.cid) == errors_before


@pytest.mark.parametrize("kill_at", ["after_merge_link_moved", "after_ac_write", "after_cursor_saved"])
async def test_a_pass_killed_while_following_a_merge_resumes_cleanly(harness: HarnessFactory, kill_at: str) -> None:
    async def die(name: str, info: dict[str, Any]) -> None:
        if name == kill_at:
            raise Killed(name)

    h = await harness(seed_contacts=10)
    older, newer = await _twins(h)
    link = await h.store.get_link(h.cid, "contact", older)
    assert link is not None
    await _merge(h, "contact", "contactid", winner=newer, loser=older, update={"firstname": "Merged"})
    with pytest.raises(Killed):
        await h.engine(checkpoint=die).run_pass(h.cid)
    h.clock.advance(3600)  # the dead holder's lease expires
    await h.until_idle()
    assert await h.store.get_link(h.cid, "contact", older) is None
    moved = await h.store.get_link(h.cid, "contact", newer)
    assert moved is not None and moved.ac_id == link.ac_id
    assert await h.store.list_errors(h.cid) == []
    assert h.ac_by_email()["twin@example.com"].first_name == "Merged"
    assert len(h.ac.contacts) == 11
