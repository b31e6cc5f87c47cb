"""ActiveCampaign → Dynamics into inactive records (issue 16, register dataverse:inactive_update).

A qualified or disqualified lead sharing its AC contact with an active contact is not pulled into (the
contact is the person now), under either reading. An update Dataverse refuses because the record is
inactive (0x80040230, the ``refuse`` reading) is the record error ``record_inactive``: not retried by
backoff (each retry would read the AC side again for nothing), retried once a read sees the record active.
"""

from __future__ import annotations

import pytest

from sync_core.engine.runner import PassResult
from tests.engine.conftest import Harness, HarnessFactory
from tests.engine.test_pull import config_with, dv_contact, edit_ac_contact, synced, two_way


def _count(results: list[PassResult], entity: str, name: str) -> int:
    return sum((r.run.counts.get(entity, {}).get(name, 0) if r.run else 0) for r in results)


def _ac_calls(results: list[PassResult], name: str) -> int:
    return sum((r.run.api_calls.get("activecampaign", {}).get(name, 0) if r.run else 0) for r in results)


async def _dynamics_errors(h: Harness) -> list[tuple[str, str, str, bool]]:
    return [(e.entity, e.record_id, e.code, e.retriable) for e in await h.store.list_errors(h.cid)
            if e.side == "dynamics"]


@pytest.mark.parametrize("reading", ["allow", "refuse"])
async def test_an_inactive_lead_sharing_its_ac_contact_with_a_contact_is_not_pulled_into(
        harness: HarnessFactory, reading: str) -> None:
    h = await harness(seed_contacts=20, dv_switches={"inactive_update": reading}, config=config_with(
        leads={"enabled": True, "direction": "bidirectional"},
        contacts={"enabled": True, "direction": "bidirectional"}))
    await h.until_idle()
    contacts = {lk.ac_id: lk for lk in await h.links("contact")}
    shared = [lk for lk in await h.links("lead")
              if h.dv.rows["lead"][lk.dynamics_id].get("statecode") != 0 and lk.ac_id in contacts]
    assert shared, "the seed has an inactive lead linked to the AC contact of a contact"
    lead = shared[0]
    contact = contacts[lead.ac_id]
    assert h.dv.rows["contact"][contact.dynamics_id].get("statecode") == 0
    before = h.dv.rows["lead"][lead.dynamics_id].get("lastname")
    h.clock.advance(600)
    await edit_ac_contact(h, str(lead.ac_id), lastName="The-Person-Now")
    h.clock.advance(60)
    results = await h.until_idle()
    assert (await dv_contact(h, contact.dynamics_id))["lastname"] == "The-Person-Now"
    assert h.dv.rows["lead"][lead.dynamics_id].get("lastname") == before
    assert await _dynamics_errors(h) == []
    assert _count(results, "lead", "skipped_inactive_lead") == 1
    # Not read again: the lead's link learnt the change.
    h.clock.advance(7 * 3600)
    quiet = await h.until_idle()
    assert _count(quiet, "lead", "skipped_inactive_lead") == 0 and _count(quiet, "lead", "pull_retried") == 0


async def _deactivated_contact_edited_in_ac(harness: HarnessFactory, reading: str) -> tuple[Harness, str, str]:
    h = await harness(seed_contacts=5, config=two_way(), dv_switches={"inactive_update": reading})
    links = (await synced(h))["links"]
    inactive = links[0]
    await h.dv_patch("contacts", inactive.dynamics_id, {"statecode": 1, "statuscode": 2})
    h.clock.advance(600)
    await h.until_idle()
    await edit_ac_contact(h, str(inactive.ac_id), lastName="Edited-While-Inactive")
    h.clock.advance(60)
    return h, inactive.dynamics_id, str(inactive.ac_id)


async def test_a_refused_inactive_record_waits_for_reactivation_without_reading_ac_again(
        harness: HarnessFactory) -> None:
    h, did, _ = await _deactivated_contact_edited_in_ac(harness, "refuse")
    await h.until_idle()
    assert await _dynamics_errors(h) == [("contact", did, "record_inactive", False)]
    (err,) = [e for e in await h.store.list_errors(h.cid) if e.side == "dynamics"]
    assert "0x80040230" in err.cause and err.next_retry is None
    # Hours pass with the record still inactive: no retry, so the AC contact is not read again.
    h.clock.advance(7 * 3600)
    waiting = await h.until_idle()
    assert _count(waiting, "contact", "pull_retried") == 0
    assert _ac_calls(waiting, "contact.get") == 0, [r.run.api_calls if r.run else None for r in waiting]
    assert await _dynamics_errors(h) == [("contact", did, "record_inactive", False)]
    # Reactivated: the push's read sees it active, the next pull reads AC once and writes the edit.
    await h.dv_patch("contacts", did, {"statecode": 0, "statuscode": 1})
    h.clock.advance(60)
    back = await h.until_idle()
    assert _count(back, "contact", "reactivated") == 1 and _count(back, "contact", "pull_retried") == 1
    assert (await dv_contact(h, did))["lastname"] == "Edited-While-Inactive"
    assert await _dynamics_errors(h) == []


async def test_an_inactive_record_is_pulled_into_where_dataverse_allows_it(harness: HarnessFactory) -> None:
    """The default reading: Dataverse updates an inactive contact, so the pull writes it as any other."""
    h, did, _ = await _deactivated_contact_edited_in_ac(harness, "allow")
    results = await h.until_idle()
    assert (await dv_contact(h, did))["lastname"] == "Edited-While-Inactive"
    assert _count(results, "contact", "pulled") == 1 and await _dynamics_errors(h) == []
