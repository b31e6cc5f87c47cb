"""Deletes on the Dynamics side (issue 17): a record removed from change tracking follows its entity's
``on_delete`` (keep, unsubscribe, tag, delete — the last only when no other linked record shares the AC
contact); policies the engine cannot carry out are refused naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sync_core.model.config import ConnectionConfig
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config


def config(list_id: int, on_delete: str, *, leads: bool = False) -> ConnectionConfig:
    doc = base_config().model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": "push", "on_delete": on_delete}
    if leads:
        doc["entities"]["leads"] = {"enabled": True, "direction": "push"}
    doc["push"]["list_ids"] = [list_id]
    return ConnectionConfig.model_validate(doc)


async def setup(harness: HarnessFactory, on_delete: str, *, leads: bool = False) -> tuple[Harness, int, list[Any]]:
    h = await harness(seed_contacts=4)
    for row in h.dv.rows["contact"].values():
        row["donotbulkemail"] = False
    body = (await ac_request(h, "POST", "lists", json={"list": {"name": "News", "sender_url": "https://x.example",
                                                                "sender_reminder": "You signed up"}})).json()
    list_id = int(body["list"]["id"])
    h.config = config(list_id, on_delete, leads=leads)
    await h.store.save_config(h.config)
    if leads:
        h.dv.rows["lead"].clear()
    await h.until_idle()
    links = sorted(await h.links("contact"), key=lambda lk: lk.dynamics_id)
    assert links and all(lk.ac_id for lk in links)
    return h, list_id, links


async def delete_in_dynamics(h: Harness, did: str) -> dict[str, int]:
    h.clock.advance(600)
    r = await h.dv_request("DELETE", f"contacts({did})")
    assert r.status_code == 204, r.text
    results = await h.until_idle()
    assert await h.store.get_link(h.cid, "contact", did) is None
    return results[0].run.counts["contact"] if results[0].run else {}


def list_status(h: Harness, ac_id: str, list_id: int) -> int | None:
    return next((int(cl["status"]) for cl in h.ac.contact_lists.values()
                 if int(cl["contact"]) == int(ac_id) and int(cl["list"]) == list_id), None)


def tag_names(h: Harness, ac_id: str) -> set[str]:
    return {str(h.ac.tags[int(ct["tag"])]["tag"]) for ct in h.ac.contact_tags.values()
            if int(ct["contact"]) == int(ac_id)}


@pytest.mark.parametrize("policy", ["keep", "unsubscribe", "tag", "delete"])
async def test_a_dynamics_delete_follows_on_delete(harness: HarnessFactory, policy: str) -> None:
    h, list_id, links = await setup(harness, policy)
    target, other = links[0], links[1]
    ac_id = int(str(target.ac_id))
    counts = await delete_in_dynamics(h, target.dynamics_id)
    assert counts.get("deleted_in_dynamics") == 1, counts
    exists = ac_id in h.ac.contacts
    assert exists is (policy != "delete")
    if exists:
        assert list_status(h, str(ac_id), list_id) == (2 if policy == "unsubscribe" else 1)
        assert ("D365: Deleted in Dynamics" in tag_names(h, str(ac_id))) is (policy == "tag")
    # The others are untouched.
    assert int(str(other.ac_id)) in h.ac.contacts and list_status(h, str(other.ac_id), list_id) == 1
    assert "D365: Deleted in Dynamics" not in tag_names(h, str(other.ac_id))


async def test_delete_keeps_an_ac_contact_another_linked_record_shares(harness: HarnessFactory) -> None:
    h, _, links = await setup(harness, "delete", leads=True)
    target = links[0]
    email = str(h.dv.rows["contact"][target.dynamics_id]["emailaddress1"])
    h.clock.advance(600)
    await h.dv_create("leads", {"lastname": "Lead Of Same Person", "emailaddress1": email, "subject": "x"})
    await h.until_idle()
    leads = await h.links("lead")
    assert [lk.ac_id for lk in leads] == [target.ac_id]  # one AC contact for the person
    counts = await delete_in_dynamics(h, target.dynamics_id)
    assert counts.get("delete_kept_shared") == 1, counts
    assert int(str(target.ac_id)) in h.ac.contacts


def test_policies_the_engine_cannot_carry_out_are_refused() -> None:
    for entities, field in (({"accounts": {"on_delete": "delete"}}, "entities.accounts.on_delete"),
                            ({"opportunities": {"direction": "push", "on_delete": "tag"}},
                             "entities.opportunities.on_delete"),
                            ({"leads": {"on_ac_delete": "deactivate"}}, "entities.leads.on_ac_delete")):
        doc = base_config().model_dump(mode="json")
        doc["entities"].update(entities)
        with pytest.raises(ValidationError, match=field.replace(".", r"\.")):
            ConnectionConfig.model_validate(doc)


async def test_a_table_without_change_tracking_finds_deletes_by_the_link_scan(harness: HarnessFactory) -> None:
    """Its modifiedon watermark never shows a delete: the link scan looks the linked ids up, bounded a pass."""
    from sync_core.engine import link_scan

    h = await harness(seed_contacts=4)
    for row in h.dv.rows["contact"].values():
        row["donotbulkemail"] = False
    h.dv.set_change_tracking("contact", False)
    h.config = config(1, "tag")
    h.config.push.list_ids = []
    await h.store.save_config(h.config)
    await h.until_idle()
    cursor = await h.store.get_dynamics_cursor(h.cid, "contact")
    assert cursor is not None and cursor.mode == "modifiedon"
    links = sorted(await h.links("contact"), key=lambda lk: lk.dynamics_id)
    target = links[0]
    h.clock.advance(600)
    assert (await h.dv_request("DELETE", f"contacts({target.dynamics_id})")).status_code == 204
    await h.until_idle()
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is not None  # not seen before the scan
    h.clock.advance(link_scan.SCAN_EVERY.total_seconds())
    results = await h.until_idle()
    counts = results[0].run.counts["contact"] if results[0].run else {}
    assert counts.get("link_scan_checked_dynamics") == len(links) and counts.get("deleted_in_dynamics") == 1, counts
    assert await h.store.get_link(h.cid, "contact", target.dynamics_id) is None
    assert "D365: Deleted in Dynamics" in tag_names(h, str(target.ac_id))
