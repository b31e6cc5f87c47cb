"""A one-contact campaign send made through the product is in the person's timeline once, under either reading of
register ``campaign_events_in_activities`` (run with ``--sandbox-switch ac:campaign_events_in_activities=false``
for the other): AC's ``CampaignSend`` activity where AC lists it, else the product's own audit row of the send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.activecampaign.marketing import record_event
from tests.api.conftest import Api
from tests.api.sales_helpers import LLN, catalogue, owned_lead, record_path

EMAIL = "olga.own@example.com"


async def _post(api: Api, path: str, body: dict[str, str], status: int = 200) -> dict[str, Any]:
    r = await api.client.post(path, json=body, headers=api.auth("Sam Seller"))
    assert r.status_code == status, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def _all_pages(api: Api, entity: str, record: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(f"{record_path(entity, record)}/activities", params=params,
                                 headers=api.auth("Sam Seller"))
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        if (cursor := r.json()["next_cursor"]) is None:
            return seen


def _owned_contact(api: Api, email: str) -> str:
    """A Dynamics contact of Sam Seller's with ``email`` (a lead of the same email shares its AC contact)."""
    row = api.dv.create("contact", {"firstname": "Olga", "lastname": "Own", "emailaddress1": email})
    row["_ownerid_value"] = api.user("Sam Seller")["systemuserid"]
    row["_ownerid_value" + LLN] = "systemuser"
    return str(row["contactid"])


async def test_a_one_contact_send_is_in_the_timeline_once_newest_first_and_paged(api: Api) -> None:
    await api.connect()
    catalogue(api)
    lead = owned_lead(api, "Sam Seller", email=EMAIL)
    base = record_path("lead", lead)
    ac_id = (await _post(api, f"{base}/automations", {"automation_id": "1"}))["contact_id"]
    names = {str(c["id"]): c["name"] for c in api.ac.campaigns.values()}
    api.clock.advance(60)
    before = api.clock.now().replace(microsecond=0)
    await _post(api, f"{base}/campaigns", {"campaign_id": "1"})
    after = api.clock.now()
    api.clock.advance(60)
    await _post(api, f"{base}/campaigns", {"campaign_id": "3"}, status=422)  # a draft: refused, audited, not shown
    await _post(api, f"{base}/campaigns", {"campaign_id": "2"})
    api.clock.advance(60)
    record_event(api.ac, api.ac.campaigns[1], api.ac.contacts[int(ac_id)], "open")

    seen = await _all_pages(api, "lead", lead)
    assert [(i["type"], i["title"]) for i in seen] == [
        ("open", names["1"]), ("campaign_send", names["2"]), ("campaign_send", names["1"]),
        ("automation_entered", "Welcome series")]
    sends = [i for i in seen if i["type"] == "campaign_send"]
    assert [i["url"] for i in sends] == [f"{api.ac_url}/app/campaigns/2", f"{api.ac_url}/app/campaigns/1"]
    times = [datetime.fromisoformat(i["at"]) for i in seen]
    assert times == sorted(times, reverse=True) and all(t.utcoffset() is not None and not t.utcoffset()
                                                        for t in times)
    assert before <= times[2] <= after  # the first send's own time

    # The Dynamics contact of the same email shares the AC contact: its timeline has the lead's sends too.
    contact = _owned_contact(api, EMAIL)
    again = await _post(api, f"{record_path('contact', contact)}/automations", {"automation_id": "2"})
    assert again["contact_id"] == ac_id
    assert [i["type"] for i in await _all_pages(api, "contact", contact)].count("campaign_send") == 2


async def test_a_send_to_another_ac_contact_of_the_record_is_not_its_own(api: Api) -> None:
    """Only sends whose audit row names the contact shown count (a record's earlier contact keeps its sends)."""
    api.ac.switches["campaign_events_in_activities"] = False  # the reading the audit rows are read under
    await api.connect()
    catalogue(api)
    lead = owned_lead(api, "Sam Seller", email=EMAIL)
    base = record_path("lead", lead)
    await _post(api, f"{base}/automations", {"automation_id": "1"})
    await _post(api, f"{base}/campaigns", {"campaign_id": "1"})
    link = await api.rt.store.get_link("contoso", "lead", lead)
    assert link is not None
    other = api.ac.create_contact({"email": "olga.new@example.com"})
    link.ac_id = str(other.id)  # as if the record were relinked to another AC contact since
    await api.rt.store.save_links("contoso", [link])
    assert [i["type"] for i in await _all_pages(api, "lead", lead)] == []
