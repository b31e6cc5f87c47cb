"""A record synced on request (a seller's action, ``engine/one_record.py``) while an initial sync runs is not pushed
again when the pass reaches it: the pass planned from the link index it scanned at its start, and learns the
link the request wrote from the row ``store/requested.py`` keeps for it."""

from __future__ import annotations

from typing import Any

import httpx

from sync_core.engine.clients import ClientFactory
from sync_core.engine.one_record import read_person, sync_person
from sync_core.model.hosts import HostPolicy
from tests.engine.conftest import Harness, HarnessFactory

SYNC = "/api/3/contact/sync"


async def _on_request(h: Harness, dynamics_id: str) -> str:
    """What POST …/records/contact/{id}/automations does first for an unsynced contact."""
    factory = ClientFactory(clock=h.clock, ac_transport=httpx.ASGITransport(app=h.ac_app),
                            dv_transport=httpx.ASGITransport(app=h.dv_app), host_policy=HostPolicy(local=True))
    async with factory.for_people().open(h.store, h.secrets, h.config) as c:
        person = await read_person(c.dv, h.config, "contact", dynamics_id)
        assert person is not None
        link, now = await sync_person(c.ac, h.store, h.config, person, clock=h.clock)
    assert now and link.ac_id
    return link.ac_id


def _syncs(h: Harness) -> int:
    return sum(1 for r in h.ac.requests if r.method == "POST" and r.path == SYNC)


async def test_a_record_synced_on_request_during_the_initial_sync_is_not_pushed_again(
        harness: HarnessFactory) -> None:
    acted: dict[str, Any] = {}

    async def seller_acts(name: str, info: dict[str, Any]) -> None:
        if name != "after_ac_write" or info.get("entity") != "contact" or acted:
            return
        linked = {lk.dynamics_id for lk in await h.links("contact")}
        in_ac = {c.email.lower() for c in h.ac.contacts.values()}
        ahead = next(r for r in reversed(list(h.dv.rows["contact"].values())) if r.get("emailaddress1")
                     and r["contactid"] not in linked and r["emailaddress1"].lower() not in in_ac)
        acted["id"], acted["ac_id"] = str(ahead["contactid"]), await _on_request(h, str(ahead["contactid"]))
        acted["syncs"] = _syncs(h)

    h = await harness(seed_contacts=30, page_size=10, checkpoint=seller_acts)
    first = await h.run()
    assert first.outcome == "finished" and acted, first.message
    assert first.run is not None and first.run.counts["contact"]["unchanged"] == 1
    with_email = sum(1 for r in h.dv.rows["contact"].values() if r.get("emailaddress1"))
    # Every other contact once by the pass, the seller's once by the request: not a second time by the pass.
    assert _syncs(h) == with_email
    assert first.run.api_calls["activecampaign"]["contact.sync"] == with_email - 1
    link = await h.store.get_link(h.cid, "contact", acted["id"])
    assert link is not None and link.ac_id == acted["ac_id"]
    assert [e.get("run") for e in link.history] == ["on-request"]  # the request's link, not rewritten

    # A dry run writes nothing, the row included; the next pass forgets it (its own index scan has the link).
    assert (await h.run(dry_run=True)).outcome == "finished"
    assert [r.dynamics_id for r in await h.store.list_requested_links(h.cid)] == [acted["id"]]
    quiet = await h.run()
    assert h.ac_writes(quiet) == 0
    assert await h.store.list_requested_links(h.cid) == []
