"""Opt-outs both ways (issue 17): a Dynamics opt-out unsubscribes the AC contact from the connection's lists
(never deletes it); an AC unsubscribe or bounce sets ``donotbulkemail`` in Dynamics; nobody is re-subscribed
when either side edits other fields afterwards; an opt-in travels only when ``consent.opt_in`` allows it; the
opt-out read is paged, capped per pass and resumed."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from sync_core.model.config import ConnectionConfig
from tests.engine.conftest import Harness, HarnessFactory, ac_request, base_config


def consent_config(list_id: int, *, direction: str = "bidirectional", **consent: Any) -> ConnectionConfig:
    doc = base_config().model_dump(mode="json")
    doc["entities"]["contacts"] = {"enabled": True, "direction": direction}
    doc["push"]["list_ids"] = [list_id]
    doc["consent"] = {**doc["consent"], **consent}
    return ConnectionConfig.model_validate(doc)


async def with_list(harness: HarnessFactory, seed_contacts: int = 4, **consent: Any) -> tuple[Harness, int]:
    h = await harness(seed_contacts=seed_contacts)
    body = (
        await ac_request(
            h,
            "POST",
            "lists",
            json={
                "list": {"name": "Newsletter", "sender_url": "https://x.example", "sender_reminder": "You signed up"}
            },
        )
    ).json()
    list_id = int(body["list"]["id"])
    h.config = consent_config(list_id, **consent)
    await h.store.save_config(h.config)
    return h, list_id


def list_status(h: Harness, ac_id: str, list_id: int) -> int | None:
    return next(
        (
            int(cl["status"])
            for cl in h.ac.contact_lists.values()
            if int(cl["contact"]) == int(ac_id) and int(cl["list"]) == list_id
        ),
        None,
    )


def opt_out_in_ac(h: Harness, ac_id: str, list_id: int, how: str) -> None:
    """Ten minutes on, the AC contact unsubscribes from the list (``how="unsubscribe"``) or hard-bounces."""
    contact = h.ac.contacts[int(ac_id)]
    h.clock.advance(600)
    if how == "unsubscribe":
        h.ac.set_list_status(contact, list_id, 2, source="public")
    else:
        h.ac.bounce(contact, kind="hard", list_id=list_id)


async def dv_consent(h: Harness, did: str) -> bool:
    r = await h.dv_request("GET", f"contacts({did})?$select=donotbulkemail")
    assert r.status_code == 200, r.text
    return bool(r.json()["donotbulkemail"])


async def first_sync(h: Harness) -> list[Any]:
    for row in h.dv.rows["contact"].values():
        row["donotbulkemail"] = False  # the seed opts some out; these tests start from everyone subscribed
    await h.until_idle()
    links = sorted(await h.links("contact"), key=lambda lk: lk.dynamics_id)
    assert links and all(lk.ac_id for lk in links)
    return links


async def test_a_dynamics_opt_out_unsubscribes_in_ac_and_no_edit_resubscribes(harness: HarnessFactory) -> None:
    h, list_id = await with_list(harness)
    links = await first_sync(h)
    assert all(list_status(h, str(lk.ac_id), list_id) == 1 for lk in links)
    target = links[0]
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"donotbulkemail": True})
    results = await h.until_idle()
    assert list_status(h, str(target.ac_id), list_id) == 2
    assert int(str(target.ac_id)) in h.ac.contacts  # unsubscribed, never deleted
    assert all(list_status(h, str(lk.ac_id), list_id) == 1 for lk in links[1:])
    assert results[0].run is not None and results[0].run.counts["contact"].get("opted_out") == 1
    stored = await h.store.get_link(h.cid, "contact", target.dynamics_id)
    assert stored is not None and stored.opted_out and stored.history[-1]["why"] == "opt-out"
    # Edits of other fields on either side afterwards re-subscribe nobody.
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"firstname": "Edited-In-Dynamics"})
    await h.until_idle()
    h.clock.advance(600)
    await ac_request(h, "PUT", f"contacts/{target.ac_id}", json={"contact": {"lastName": "Edited-In-AC"}})
    h.clock.advance(60)
    await h.until_idle()
    assert h.ac.contacts[int(str(target.ac_id))].first_name == "Edited-In-Dynamics"
    assert list_status(h, str(target.ac_id), list_id) == 2
    assert await dv_consent(h, target.dynamics_id) is True


@pytest.mark.parametrize("how", ["unsubscribe", "bounce"])
async def test_an_ac_unsubscribe_or_bounce_reaches_dynamics(harness: HarnessFactory, how: str) -> None:
    h, list_id = await with_list(harness)
    links = await first_sync(h)
    target = links[1]
    opt_out_in_ac(h, str(target.ac_id), list_id, how)
    results = await h.until_idle()
    assert await dv_consent(h, target.dynamics_id) is True
    assert [await dv_consent(h, lk.dynamics_id) for lk in links if lk is not target] == [False] * (len(links) - 1)
    run = results[0].run
    assert run is not None and run.counts["contact"].get("opted_out_from_ac") == 1
    assert run.counts["contact"].get("optout_pages", 0) >= 1  # the read's cost, on the run
    # A Dynamics edit of another field, and an AC one, afterwards: still opted out on both sides.
    h.clock.advance(600)
    await h.dv_patch("contacts", target.dynamics_id, {"firstname": "Edited-After"})
    await ac_request(h, "PUT", f"contacts/{target.ac_id}", json={"contact": {"lastName": "Also-Edited"}})
    h.clock.advance(60)
    await h.until_idle()
    assert list_status(h, str(target.ac_id), list_id) == (2 if how == "unsubscribe" else 3)
    assert await dv_consent(h, target.dynamics_id) is True
    # The next cycles find the same opt-out and write nothing.
    h.clock.advance(3600)
    again = await h.until_idle()
    assert all((r.run.counts.get("contact", {}).get("opted_out_from_ac", 0) if r.run else 0) == 0 for r in again)


async def test_the_opt_out_read_is_capped_per_pass_and_resumed(harness: HarnessFactory) -> None:
    h, list_id = await with_list(harness, seed_contacts=130, scan_pages_per_pass=1)
    links = await first_sync(h)
    for lk in links[:120]:
        h.ac.set_list_status(h.ac.contacts[int(str(lk.ac_id))], list_id, 2, source="public")
    h.clock.advance(600)
    first = await h.run()
    assert first.run is not None and first.run.counts["contact"]["optout_pages"] == 1
    assert first.more_work
    cursor = await h.store.get_ac_cursor(h.cid, "contact", stream="optouts")
    assert cursor is not None and cursor.position is not None
    await h.until_idle()
    opted = [lk.dynamics_id for lk in await h.links("contact") if lk.opted_out]
    assert sorted(opted) == sorted(lk.dynamics_id for lk in links[:120])
    assert sum(1 for r in h.dv.rows["contact"].values() if r.get("donotbulkemail")) == 120


async def test_an_opt_in_travels_only_when_the_setting_allows_it(harness: HarnessFactory) -> None:
    h, list_id = await with_list(harness)
    links = await first_sync(h)
    never, allowed = links[0], links[1]
    h.clock.advance(600)
    for lk in (never, allowed):
        await h.dv_patch("contacts", lk.dynamics_id, {"donotbulkemail": True})
    await h.until_idle()
    h.clock.advance(600)
    await h.dv_patch("contacts", never.dynamics_id, {"donotbulkemail": False})
    await h.until_idle()
    assert list_status(h, str(never.ac_id), list_id) == 2  # opt_in "never": cleared in Dynamics, stays out in AC
    h.config = consent_config(list_id, opt_in="from_dynamics")
    await h.store.save_config(h.config)
    h.clock.advance(600)
    await h.dv_patch("contacts", allowed.dynamics_id, {"donotbulkemail": False})
    await h.until_idle()
    assert list_status(h, str(allowed.ac_id), list_id) == 1
    assert list_status(h, str(never.ac_id), list_id) == 2  # its opt-in was before the setting allowed it


async def test_a_new_person_is_never_put_back_on_a_list_they_left(harness: HarnessFactory) -> None:
    """An AC contact that unsubscribed before the sync knew them, and a Dynamics record that opted out, are
    linked without a subscribe."""
    h, list_id = await with_list(harness, seed_contacts=3)
    rows = sorted(h.dv.rows["contact"].values(), key=lambda r: str(r["contactid"]))
    for row in rows:
        row["donotbulkemail"] = False
    rows[0]["donotbulkemail"] = True
    email = str(rows[1]["emailaddress1"])
    made = (await ac_request(h, "POST", "contacts", json={"contact": {"email": email}})).json()["contact"]
    h.ac.set_list_status(h.ac.contacts[int(made["id"])], list_id, 2, source="public")
    await h.until_idle()
    by_id = {lk.dynamics_id: lk for lk in await h.links("contact")}
    opted, left, other = (by_id[str(r["contactid"])] for r in rows)
    assert list_status(h, str(opted.ac_id), list_id) == 2 and opted.opted_out
    assert str(left.ac_id) == str(made["id"]) and list_status(h, str(left.ac_id), list_id) == 2 and left.opted_out
    assert list_status(h, str(other.ac_id), list_id) == 1 and not other.opted_out


def test_an_opt_in_setting_the_engine_cannot_carry_out_is_refused() -> None:
    assert consent_config(7, opt_in="from_dynamics").consent.opt_in == "from_dynamics"  # lists: fine
    with pytest.raises(ValidationError, match=r"consent\.opt_in"):
        doc = base_config().model_dump(mode="json")
        doc["consent"]["opt_in"] = "from_dynamics"  # no lists to re-subscribe to
        ConnectionConfig.model_validate(doc)
    with pytest.raises(ValidationError, match="donotbulkemail"):
        doc = base_config().model_dump(mode="json")
        doc["consent"]["dynamics_columns"] = ["donotemail"]
        ConnectionConfig.model_validate(doc)


@pytest.mark.parametrize("reading", ["unreadable", "all_lists"])
async def test_a_global_unsubscribe_reaches_dynamics_only_where_ac_shows_it(
    harness: HarnessFactory, reading: str
) -> None:
    """Register ``global_unsubscribe_reading``: AC documents no read of an account-wide unsubscribe; when it
    shows as status 2 on the lists, the opt-out read finds it, else nothing can."""
    h, _ = await with_list(harness)
    h.ac.switches["global_unsubscribe_reading"] = reading
    links = await first_sync(h)
    target = links[2]
    h.ac.unsubscribe_globally(h.ac.contacts[int(str(target.ac_id))])
    h.clock.advance(600)
    await h.until_idle()
    assert await dv_consent(h, target.dynamics_id) is (reading == "all_lists")
