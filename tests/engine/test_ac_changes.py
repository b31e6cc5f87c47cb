"""The AC changes read (``engine/ac_changes.py``): its cursor's boundary keys, and what a custom-field edit in
the second of the sync's own write is taken for under each reading of ``contacts_list_include``."""

from __future__ import annotations

from typing import Any

from sync_core.model.config import FieldMapping
from sync_core.model.state import AcCursor
from tests.engine.conftest import Harness, HarnessFactory, ac_request
from tests.engine.test_pull import ac_json, dv_contact, edit_ac_contact, synced, two_way


async def changes_cursor(h: Harness) -> AcCursor:
    cursor = await h.store.get_ac_cursor(h.cid, "contact", stream="changes")
    assert cursor is not None
    return cursor


async def test_the_boundary_keys_hold_each_contact_once_over_quiet_passes(harness: HarnessFactory) -> None:
    """Each quiet pass reads the contacts at the watermark again (the overlap window); their ``id@udate`` keys
    were kept once per pass (four copies of one key after four passes), filling ``BOUNDARY_KEYS_MAX``."""
    h = await harness(seed_contacts=3, config=two_way())
    await synced(h)
    for _ in range(4):
        h.clock.advance(3600)
        await h.until_idle()
    keys = (await changes_cursor(h)).boundary_keys
    assert keys, "the read found the contacts at its watermark"
    assert len(keys) == len(set(keys)), keys


async def _with_custom_field(harness: HarnessFactory, include: str) -> tuple[Harness, Any, str]:
    """A two-way contact sync with ``mobilephone`` <-> an AC text field, pushed once; (harness, link, field id)."""
    # udate_on_tag_change pinned off: with it on, the push's own tags move udate past the one recorded, so no
    # later edit in that second shares it (the limit cannot arise; the edit is read and pulled).
    h = await harness(seed_contacts=2, config=two_way(),
                      ac_switches={"contacts_list_include": include, "udate_on_tag_change": False})
    field = await ac_json(h, "POST", "fields", json={"field": {"title": "Mobile", "type": "text"}})
    fid = str(field["field"]["id"])
    cfg = h.config.model_copy(deep=True)
    cfg.entities.contacts.custom = [FieldMapping(dynamics="mobilephone", activecampaign=f"field:{fid}")]
    await h.store.save_config(cfg)
    for row in await h.dv_all("contacts", "contactid"):  # a value to push, so the link records it as synced
        await h.dv_patch("contacts", row["contactid"], {"mobilephone": "+1 555 0100"})
    link = (await synced(h))["links"][0]
    stored = await h.store.get_link(h.cid, "contact", link.dynamics_id)
    assert stored is not None and f"field:{fid}" in stored.ac_values, "the push recorded the field as synced"
    return h, stored, fid


async def _edit_field_in_the_same_second(h: Harness, link: Any, fid: str, value: str) -> list[Any]:
    """The person's edit of the custom field landing in the second of the sync's own write; the passes after."""
    contact = h.ac.contacts[int(link.ac_id)]
    written = contact.udate  # what the sync's own write left; AC shows udate in whole seconds
    await ac_request(h, "PUT", f"contacts/{link.ac_id}", json={"contact": {"fieldValues": [
        {"field": fid, "value": value}]}})
    contact.udate = written
    h.clock.advance(60)
    return await h.until_idle()


def _pulled_and_reads(results: list[Any]) -> tuple[int, int]:
    pulled = sum((r.run.counts.get("contact", {}).get("pulled", 0) if r.run else 0) for r in results)
    reads = sum((r.run.api_calls.get("activecampaign", {}).get("contact.fieldValues", 0) if r.run else 0)
                for r in results)
    return pulled, reads


async def test_a_same_second_custom_field_edit_is_pulled_when_the_list_side_loads_values(
        harness: HarnessFactory) -> None:
    """``include=fieldValues`` honoured: the page carries the values, so the echo check compares the custom
    field too, at no cost, and the edit is not taken for the sync's own write."""
    h, link, fid = await _with_custom_field(harness, "honoured")
    results = await _edit_field_in_the_same_second(h, link, fid, "+1 555 0199")
    assert h.dv.rows["contact"][link.dynamics_id].get("mobilephone") == "+1 555 0199"
    assert _pulled_and_reads(results) == (1, 0)


async def test_a_same_second_custom_field_edit_waits_for_the_contact_s_next_change_when_values_cost_a_read(
        harness: HarnessFactory) -> None:
    """The documented limit (README, "What it does today"). ``include`` ignored, AC's documented list: the contacts list
    carries no custom-field values, and a contact whose ``udate`` is the one recorded after the sync's own
    write, with every listed value as synced, is taken for an echo without a read (telling the two apart
    would cost a field-value read per echo, i.e. per record the sync writes). The edit is not lost: it
    travels with the contact's next change."""
    h, link, fid = await _with_custom_field(harness, "ignored")
    results = await _edit_field_in_the_same_second(h, link, fid, "+1 555 0199")
    assert h.dv.rows["contact"][link.dynamics_id].get("mobilephone") == "+1 555 0100"
    assert _pulled_and_reads(results) == (0, 0)
    assert sum((r.run.counts.get("contact", {}).get("skipped_echo", 0) if r.run else 0) for r in results) >= 1
    # The contact's next change (a later second) reads its values and carries the field with it.
    h.clock.advance(600)
    await edit_ac_contact(h, str(link.ac_id), lastName="Next-Change")
    h.clock.advance(60)
    results = await h.until_idle()
    now = await dv_contact(h, link.dynamics_id)
    assert now["lastname"] == "Next-Change"
    assert h.dv.rows["contact"][link.dynamics_id].get("mobilephone") == "+1 555 0199"
    assert _pulled_and_reads(results) == (1, 1)
