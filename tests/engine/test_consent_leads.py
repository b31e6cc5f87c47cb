"""Opt-outs both ways for leads (issue 17): the Dataverse lead has the same consent flags as the contact
(``donotbulkemail``, ``donotemail``), so a Dynamics lead opt-out unsubscribes its AC contact from the
connection's lists, and an AC unsubscribe or bounce sets the lead's ``donotbulkemail``; an edit of another
field afterwards re-subscribes nobody."""

from __future__ import annotations

from typing import Any

import pytest

from sync_core.model.config import ConnectionConfig
from tests.engine.conftest import Harness, HarnessFactory
from tests.engine.test_consent import list_status, opt_out_in_ac, with_list


async def leads_with_list(harness: HarnessFactory, **consent: Any) -> tuple[Harness, int, Any]:
    """Leads bidirectional with one list; everyone subscribed after the first sync; a synced open lead whose
    email no contact has (its AC contact is the lead's own)."""
    h, list_id = await with_list(harness, seed_contacts=40, **consent)
    doc = h.config.model_dump(mode="json")
    doc["entities"]["leads"] = {"enabled": True, "direction": "bidirectional"}
    h.config = ConnectionConfig.model_validate(doc)
    await h.store.save_config(h.config)
    for table in ("contact", "lead"):
        for row in h.dv.rows[table].values():
            row["donotbulkemail"] = row["donotemail"] = False
    await h.until_idle()
    contacts = {x.email for x in await h.links("contact")}
    for link in sorted(await h.links("lead"), key=lambda x: x.dynamics_id):
        if link.ac_id and link.email not in contacts and h.dv.rows["lead"][link.dynamics_id].get("statecode") == 0:
            assert list_status(h, str(link.ac_id), list_id) == 1
            return h, list_id, link
    raise AssertionError("the seed has open leads of their own")


async def lead_consent(h: Harness, lead_id: str) -> bool:
    r = await h.dv_request("GET", f"leads({lead_id})?$select=donotbulkemail")
    assert r.status_code == 200, r.text
    return bool(r.json()["donotbulkemail"])


@pytest.mark.parametrize("column", ["donotbulkemail", "donotemail"])
async def test_a_dynamics_lead_opt_out_unsubscribes_its_ac_contact(harness: HarnessFactory, column: str) -> None:
    h, list_id, lead = await leads_with_list(harness, dynamics_columns=["donotbulkemail", "donotemail"])
    h.clock.advance(600)
    await h.dv_patch("leads", lead.dynamics_id, {column: True})
    results = await h.until_idle()
    assert list_status(h, str(lead.ac_id), list_id) == 2
    assert int(str(lead.ac_id)) in h.ac.contacts  # unsubscribed, never deleted
    assert results[0].run is not None and results[0].run.counts["lead"].get("opted_out") == 1
    stored = await h.store.get_link(h.cid, "lead", lead.dynamics_id)
    assert stored is not None and stored.opted_out
    h.clock.advance(600)
    await h.dv_patch("leads", lead.dynamics_id, {"firstname": "Edited-In-Dynamics"})
    await h.until_idle()
    assert h.ac.contacts[int(str(lead.ac_id))].first_name == "Edited-In-Dynamics"
    assert list_status(h, str(lead.ac_id), list_id) == 2


@pytest.mark.parametrize("how", ["unsubscribe", "bounce"])
async def test_an_ac_unsubscribe_or_bounce_reaches_the_lead(harness: HarnessFactory, how: str) -> None:
    h, list_id, lead = await leads_with_list(harness)
    others = [lk for lk in await h.links("lead") if lk.dynamics_id != lead.dynamics_id and lk.ac_id != lead.ac_id]
    opt_out_in_ac(h, str(lead.ac_id), list_id, how)
    results = await h.until_idle()
    assert await lead_consent(h, lead.dynamics_id) is True
    assert [await lead_consent(h, lk.dynamics_id) for lk in others[:3]] == [False] * len(others[:3])
    run = results[0].run
    assert run is not None and run.counts["lead"].get("opted_out_from_ac") == 1
    h.clock.advance(600)
    await h.dv_patch("leads", lead.dynamics_id, {"firstname": "Edited-After"})
    h.clock.advance(60)
    await h.until_idle()
    assert list_status(h, str(lead.ac_id), list_id) == (2 if how == "unsubscribe" else 3)
    assert await lead_consent(h, lead.dynamics_id) is True
