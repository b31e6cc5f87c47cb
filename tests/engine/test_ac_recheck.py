"""An AC edit made while a pass runs (after its pull read AC, before its push writes that contact) is not
written over: the push holds the contact back and the next pass settles both sides by the conflict rule."""

from __future__ import annotations

from typing import Any

from sync_core.model.codes import ErrorCode
from sync_core.model.state import RecordLink
from tests.engine.conftest import Harness, HarnessFactory
from tests.engine.test_pull import dv_contact, edit_ac_contact, synced, two_way


async def _edit_both_in_dynamics(h: Harness, links: list[RecordLink]) -> None:
    h.clock.advance(600)
    for i, link in enumerate(links):
        await h.dv_patch("contacts", link.dynamics_id, {"lastname": f"Dunn{i}"})
    h.clock.advance(60)


def _edit_in_ac_after_first_page(h: Harness, links: list[RecordLink]) -> list[str]:
    """At the first page's links saved (one contact a page), every AC contact of ``links`` is edited; the
    ones not yet written are edited inside the pass's window. Returns the ids edited that way."""
    edited: list[str] = []

    async def hook(name: str, info: dict[str, Any]) -> None:
        if name == "after_links_saved" and info.get("entity") == "contact" and not edited:
            written = {lk.dynamics_id for lk in await h.links("contact")
                       if lk.dynamics_values.get("lastname", "").startswith("Dunn")}
            for link in links:
                if link.dynamics_id not in written:
                    edited.append(link.dynamics_id)
                await edit_ac_contact(h, str(link.ac_id), lastName="Ames")

    h.checkpoint = hook
    return edited


async def test_an_ac_edit_during_the_pass_is_held_back_then_decided_by_the_rule(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, page_size=1, config=two_way(conflict="activecampaign_wins"))
    links = (await synced(h))["links"][:2]
    await _edit_both_in_dynamics(h, links)
    edited = _edit_in_ac_after_first_page(h, links)
    first = await h.run()
    assert len(edited) == 1, edited  # one contact was still to be written when AC was edited
    (held,) = edited
    assert first.run is not None and first.run.counts["contact"].get("held_back") == 1, first.run
    errors = {e.record_id: e.code for e in await h.store.list_errors(h.cid, entity="contact")}
    assert errors == {held: ErrorCode.CHANGED_IN_ACTIVECAMPAIGN.value}
    h.checkpoint = None
    h.clock.advance(600)
    await h.until_idle()
    by_id = {lk.dynamics_id: lk for lk in links}
    # The AC edit was not overwritten: the rule (AC wins) decided it, with a conflict row.
    assert h.ac.contacts[int(str(by_id[held].ac_id))].last_name == "Ames"
    assert (await dv_contact(h, held))["lastname"] == "Ames"
    conflicts = await h.store.list_conflicts(h.cid)
    assert [(c.dynamics_id, c.field, c.winner) for c in conflicts] == [(held, "lastname", "activecampaign")]
    assert await h.store.list_errors(h.cid, entity="contact") == []


async def test_held_back_under_dynamics_wins_the_dynamics_value_goes_to_ac_next_pass(harness: HarnessFactory) -> None:
    h = await harness(seed_contacts=3, page_size=1, config=two_way(conflict="dynamics_wins"))
    links = (await synced(h))["links"][:2]
    await _edit_both_in_dynamics(h, links)
    edited = _edit_in_ac_after_first_page(h, links)
    await h.run()
    (held,) = edited
    h.checkpoint = None
    h.clock.advance(600)
    await h.until_idle()
    i = [lk.dynamics_id for lk in links].index(held)
    link = next(lk for lk in links if lk.dynamics_id == held)
    assert h.ac.contacts[int(str(link.ac_id))].last_name == f"Dunn{i}"
    assert (await dv_contact(h, held))["lastname"] == f"Dunn{i}"
    conflicts = await h.store.list_conflicts(h.cid)
    assert [(c.dynamics_id, c.winner) for c in conflicts] == [(held, "dynamics")]
    assert await h.store.list_errors(h.cid, entity="contact") == []
