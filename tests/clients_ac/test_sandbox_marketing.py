"""Automations, campaigns (v1 campaign_send), activities and tracking logs against the sandbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sync_core.activecampaign import ActiveCampaignClient, CampaignSendError
from sync_core.clock import FakeClock


@pytest.fixture
def seeded(ac_state: Any) -> Any:
    ac_state.reset(seed_contacts=3)  # seeding brings automations, campaigns and messages
    return ac_state


async def test_automations(client: ActiveCampaignClient, seeded: Any) -> None:
    automations = [a async for a in client.iter_automations()]
    assert automations
    contact = await client.create_contact({"email": "auto@example.com"})
    cid, aid = str(contact["id"]), str(automations[0]["id"])
    await client.add_contact_to_automation(cid, aid)
    mine = await client.list_contact_automations(cid)
    assert [str(m["automation"]) for m in mine] == [aid]


async def test_campaign_send_v1(client: ActiveCampaignClient, seeded: Any) -> None:
    campaigns = [c async for c in client.iter_campaigns()]
    messages = await client.list_messages()
    assert campaigns and messages
    contact = await client.create_contact({"email": "reader@example.com"})
    result = await client.send_campaign(email="reader@example.com", campaign_id=str(campaigns[0]["id"]),
                                        message_id=str(messages[0]["id"]))
    assert str(result["result_code"]) == "1"
    assert len(seeded.sends) == 1
    assert client.calls.snapshot()["campaign_send"] == 1
    with pytest.raises(CampaignSendError) as info:
        await client.send_campaign(email="reader@example.com", campaign_id="99999", message_id="99999")
    assert info.value.result_message
    activities = await client.list_contact_activities(str(contact["id"]))
    assert activities  # the send shows up in the contact's activity


@pytest.mark.parametrize("header_auth", [True, False])
async def test_campaign_send_under_either_header_reading(client: ActiveCampaignClient, seeded: Any,
                                                         header_auth: bool) -> None:
    """Register entry: whether v1 reads the Api-Token header is unconfirmed; the documented api_key form
    field works under either reading, and the key is in no URL."""
    seeded.switches["v1_header_auth"] = header_auth
    campaigns = [c async for c in client.iter_campaigns()]
    campaign, message = campaigns[0], (await client.list_messages())[0]
    await client.create_contact({"email": "x@example.com"})
    result = await client.send_campaign(email="x@example.com", campaign_id=str(campaign["id"]),
                                        message_id=str(message["id"]))
    assert str(result["result_code"]) == "1"
    assert len(seeded.sends) == 1


async def test_activities_after_and_tracking_logs(client: ActiveCampaignClient, seeded: Any,
                                                  clock: FakeClock) -> None:
    contact = await client.create_contact({"email": "active@example.com"})
    cid = int(contact["id"])
    seeded.add_activity(cid, "SubscriberEmail", 1, "open")
    clock.advance(3600)
    mark = clock.now()
    clock.advance(3600)
    seeded.add_activity(cid, "SubscriberEmail", 2, "click")
    everything = await client.list_contact_activities(str(cid))
    recent = await client.list_contact_activities(str(cid), after=mark - timedelta(seconds=1))
    assert len(everything) >= 2
    assert [str(a["reference_id"]) for a in recent] == ["2"]

    seeded.add_tracking_log(cid, "webinar", "joined")
    logs = await client.list_tracking_logs(str(cid))
    assert [(t["type"], t["value"]) for t in logs] == [("webinar", "joined")]


async def test_v1_campaign_reports_recent_campaigns_and_bounce_logs(client: ActiveCampaignClient,
                                                                    seeded: Any) -> None:
    from sandbox.activecampaign.marketing import record_event

    contact = await client.create_contact({"email": "opener@example.com"})
    cid = int(contact["id"])
    welcome = seeded.campaigns[1]
    offer = next(x for x in seeded.links.values() if x["campaign"] == 1 and x["link"].startswith("https://"))
    record_event(seeded, welcome, seeded.contacts[cid], "open")
    record_event(seeded, welcome, seeded.contacts[cid], "click", link=offer)
    record_event(seeded, welcome, seeded.contacts[cid], "bounce")
    opens = await client.campaign_report("campaign_report_open_list", "1")
    assert [(r["subscriberid"], r["times"]) for r in opens] == [(str(cid), "1")]
    links = await client.campaign_report("campaign_report_link_list", "1")
    assert [(r["link"], r["info"][0]["email"]) for r in links] == [(offer["link"], "opener@example.com")]
    assert await client.campaign_report("campaign_report_open_list", "1", page=2) == []  # "Nothing is returned"
    assert await client.campaign_report("campaign_report_open_list", "2") == []
    with pytest.raises(CampaignSendError, match="Campaign not found"):
        await client.campaign_report("campaign_report_open_list", "999")
    with pytest.raises(ValueError):
        await client.campaign_report("campaign_report_everything", "1")
    logs = await client.list_contact_bounce_logs(str(cid))
    assert [str(b["campaign"]) for b in logs] == ["1"]
    await client.send_campaign(email="opener@example.com", campaign_id="2", message_id="2")
    assert [str(c["id"]) for c in await client.list_recent_campaigns(1)] == ["2"]  # sent last
    assert client.calls.snapshot()["campaign_report_open_list"] == 4
