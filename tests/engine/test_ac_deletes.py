"""Deletes on the ActiveCampaign side (issue 17): the link scan finds a linked AC contact that is gone, the
link goes and the Dynamics record is kept or deactivated per ``on_ac_delete`` (statecode, never deleted); a
404 on a write is the same; the person is not pushed back while suppressed; the scan is bounded per pass."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.engine import link_scan
from sync_core.model.config import ConnectionConfig
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config


def config(on_ac_delete: str) -> ConnectionConfig:
    doc = base_config().model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": "bidirectional", "on_ac_delete": on_ac_delete}
    return ConnectionConfig.model_validate(doc)


async def synced(harness: HarnessFactory, on_ac_delete: str, seed_contacts: int = 4) -> tuple[Harness, list[Any]]:
    h = await harness(seed_contacts=seed_contacts, config=config(on_ac_delete))
    await h.until_idle()
    links = sorted(await h.links("contact"), key=lambda lk: lk.dynamics_id)
    assert links and all(lk.ac_id for lk in links)
    return h, links


async def state_of(h: Harness, did: str) -> tuple[int, int] | None:
    r = await h.dv_request("GET", f"contacts({did})?$select=statecode,statuscode")
    if r.status_code == 404:
        return None
    return int(r.json()["statecode"]), int(r.json()["statuscode"])


@pytest.mark.parametrize("policy", ["keep", "deactivate"])
async def test_the_link_scan_finds_an_ac_delete(harness: HarnessFactory, policy: str) -> None:
    h, links = await synced(harness, policy)
    target = links[0]
    await ac_request(h, "DELETE", f"contacts/{target.ac_id}")
    h.clock.advance(600)
    quiet = await h.run()  # the last cycle finished with the first sync: this pass pays nothing for the scan
    assert quiet.run is not None and "link_scan_checked" not in quiet.run.counts.get("contact", {})
    h.clock.advance(link_scan.SCAN_EVERY.total_seconds())
    results = await h.until_idle()
    counts = results[0].run.counts["contact"] if results[0].run else {}
    assert counts.get("deleted_in_activecampaign") == 1, counts
    assert counts.get("link_scan_checked") == len(links)
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is None
    assert await state_of(h, target.dynamics_id) == ((1, 2) if policy == "deactivate" else (0, 1))
    assert all([await state_of(h, lk.dynamics_id) == (0, 1) for lk in links[1:]])
    # The Dynamics record still exists and changes: it is not pushed back (suppressed) as a new AC contact.
    email = str(h.dv.rows["contact"][target.dynamics_id]["emailaddress1"]).lower()
    h.clock.advance(600)
    edit = h.dv_patch_inactive if policy == "deactivate" else h.dv_patch
    await edit("contacts", target.dynamics_id, {"firstname": "Changed-After-AC-Delete"})
    again = await h.until_idle()
    assert email not in h.ac_by_email()
    assert sum((r.run.counts.get("contact", {}).get("skipped_suppressed", 0) if r.run else 0) for r in again) == 1


async def test_a_404_on_write_is_an_ac_delete(harness: HarnessFactory) -> None:
    h, links = await synced(harness, "deactivate")
    target = links[1]
    del h.ac.contacts[int(str(target.ac_id))]  # gone in AC, and the scan does not run before the write
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"emailaddress1": "moved.elsewhere@example.org"})
    original, link_scan.LINKS_PER_PASS = link_scan.LINKS_PER_PASS, 0
    try:
        results = await h.until_idle()
    finally:
        link_scan.LINKS_PER_PASS = original
    counts = results[0].run.counts["contact"] if results[0].run else {}
    assert counts.get("deleted_in_activecampaign") == 1, counts
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is None
    assert await state_of(h, target.dynamics_id) == (1, 2)
    assert "moved.elsewhere@example.org" not in h.ac_by_email()


async def test_the_link_scan_is_bounded_and_resumed(harness: HarnessFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    h, links = await synced(harness, "keep", seed_contacts=12)
    monkeypatch.setattr(link_scan, "LINKS_PER_PASS", 5)
    last = links[-1]
    await ac_request(h, "DELETE", f"contacts/{last.ac_id}")
    checked = []
    h.clock.advance(link_scan.SCAN_EVERY.total_seconds())
    for _ in range(4):
        h.clock.advance(600)
        r = await h.run()
        assert r.run is not None
        checked.append(r.run.counts.get("contact", {}).get("link_scan_checked", 0))
    assert checked == [5, 5, 2, 0]  # then the cycle waits for the next SCAN_EVERY
    assert await h.store.get_link(h.cid, "contact", last.dynamics_id) is None


async def test_a_contact_deleted_in_ac_stays_out_under_a_new_email_until_lifted(harness: HarnessFactory) -> None:
    """The rule: a contact deleted in AC is not pushed back (it may have opted out there, unread). The
    suppression names the Dynamics record, so an email change in Dynamics after the delete does not bring it
    back either; an admin's lift (by the email AC had) lets the next change push it."""
    h, links = await synced(harness, "keep")
    target = links[0]
    old_email = str(target.email)
    await ac_request(h, "DELETE", f"contacts/{target.ac_id}")
    h.clock.advance(link_scan.SCAN_EVERY.total_seconds())
    found = await h.until_idle()
    counts = found[0].run.counts["contact"] if found[0].run else {}
    assert counts.get("suppressed_deleted_in_activecampaign") == 1, counts
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is None
    contacts_before = len(h.ac.contacts)

    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"emailaddress1": "new.address@example.org"})
    again = await h.until_idle()
    assert sum((r.run.counts.get("contact", {}).get("skipped_suppressed", 0) if r.run else 0) for r in again) == 1
    assert len(h.ac.contacts) == contacts_before  # no new AC contact, under either email
    assert "new.address@example.org" not in h.ac_by_email() and old_email.lower() not in h.ac_by_email()
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is None

    assert await h.store.lift_suppression(h.cid, old_email)  # what POST /suppressions/lift calls (audited)
    assert not await h.store.suppressed_hashes(h.cid)  # every row naming the record went with it
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"firstname": "Back-After-Lift"})
    await h.until_idle()
    link = await h.store.get_link(h.cid, "contact", target.dynamics_id)
    assert link is not None and link.ac_id is not None
    contact = h.ac_by_email()["new.address@example.org"]
    assert contact.first_name == "Back-After-Lift"


async def test_a_404_on_write_suppresses_the_new_email_too(harness: HarnessFactory) -> None:
    """The write that found the delete carried a new email: the admin may lift by either address."""
    h, links = await synced(harness, "keep")
    target = links[1]
    del h.ac.contacts[int(str(target.ac_id))]
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"emailaddress1": "moved.on@example.org"})
    original, link_scan.LINKS_PER_PASS = link_scan.LINKS_PER_PASS, 0
    try:
        await h.until_idle()
    finally:
        link_scan.LINKS_PER_PASS = original
    hashes = await h.store.suppressed_hashes(h.cid)
    assert await h.store.suppression_hash(h.cid, "moved.on@example.org") in hashes
    assert await h.store.suppression_hash(h.cid, str(target.email)) in hashes
    assert await h.store.lift_suppression(h.cid, "MOVED.ON@example.org")
    assert not await h.store.suppressed_hashes(h.cid)
