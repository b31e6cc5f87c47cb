"""The timeline's campaign events when AC's ``activities`` carry none (register ``campaign_events_in_activities``
false): the bounded reports, their cost and the ``partial`` flag; and the link of a click under either reading."""

from __future__ import annotations

from typing import Any

from sandbox.activecampaign.marketing import add_link, record_event
from sync_core.engine import campaign_reports
from tests.api.conftest import Api
from tests.api.sales_helpers import catalogue, owned_lead, record_path


async def _synced_lead(api: Api, email: str = "rita.reports@example.com") -> tuple[str, int]:
    await api.connect()
    catalogue(api)
    lead = owned_lead(api, "Sam Seller", email=email)
    added = await api.client.post(f"{record_path('lead', lead)}/automations", json={"automation_id": "1"},
                                  headers=api.auth("Sam Seller"))
    assert added.status_code == 200, added.text
    return lead, int(added.json()["contact_id"])


def _sent_campaign(api: Api, name: str) -> dict[str, Any]:
    """A campaign sent to a list now (its ``ldate``), with one tracked link."""
    cid = api.ac.next_id("campaign")
    now = api.ac.now()
    api.ac.campaigns[cid] = {"id": cid, "name": name, "cdate": now, "status": 5, "messages": [1], "sdate": now,
                             "ldate": now, "seriesid": 0}
    add_link(api.ac, cid, 1, f"https://example.com/{cid}", name)
    campaign: dict[str, Any] = api.ac.campaigns[cid]
    return campaign


async def _timeline(api: Api, lead: str, **params: Any) -> dict[str, Any]:
    r = await api.client.get(f"{record_path('lead', lead)}/activities", params=params, headers=api.auth("Sam Seller"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_reports_give_opens_clicks_and_bounces_at_a_bounded_cost(api: Api) -> None:
    api.ac.switches["campaign_events_in_activities"] = False  # the reading this path exists for
    lead, ac_id = await _synced_lead(api)
    contact = api.ac.contacts[ac_id]
    others = [api.ac.create_contact({"email": f"crowd{n}@example.com"}) for n in range(45)]
    news = _sent_campaign(api, "Newsletter")
    link = next(x for x in api.ac.links.values() if x["campaign"] == news["id"])
    api.clock.advance(60)
    record_event(api.ac, news, contact, "open")
    api.clock.advance(60)
    record_event(api.ac, news, contact, "click", link=link)
    api.clock.advance(60)
    for other in others:  # 45 later openers: the contact's row is on the report's third page
        record_event(api.ac, news, other, "open")
    api.clock.advance(60)
    record_event(api.ac, news, contact, "bounce", list_id=None)
    before = api.ac.count_requests(path="/admin/api.php")

    body = await _timeline(api, lead)
    items = body["items"]
    assert [(i["type"], i["title"]) for i in items if i["type"] != "automation_entered"] == \
        [("bounce", "Newsletter"), ("click", "Newsletter")]
    assert items[1]["detail"] == link["link"] and items[1]["url"].endswith(f"/app/campaigns/{news['id']}")
    # The open is on page 3 of its report, past PAGES_PER_REPORT: not shown, and the answer says so.
    assert body["partial"] is True
    v1 = api.ac.count_requests(path="/admin/api.php") - before
    # Newsletter: 2 open pages + 1 link page; Welcome and Win-back campaigns: no opens, no clicks (skipped).
    assert v1 == 3 <= 2 * campaign_reports.RECENT_CAMPAIGNS * campaign_reports.PAGES_PER_REPORT


async def test_the_most_recent_campaigns_only_and_the_answer_says_partial(api: Api) -> None:
    api.ac.switches["campaign_events_in_activities"] = False
    lead, ac_id = await _synced_lead(api)
    old = _sent_campaign(api, "Old news")
    record_event(api.ac, old, api.ac.contacts[ac_id], "open")
    api.clock.advance(60)
    record_event(api.ac, old, api.ac.contacts[ac_id], "open")
    body = await _timeline(api, lead)
    assert [(i["type"], i["detail"]) for i in body["items"] if i["type"] == "open"] == [("open", "2 times")]
    assert body["partial"] is False
    for n in range(campaign_reports.RECENT_CAMPAIGNS):
        api.clock.advance(60)
        _sent_campaign(api, f"Later {n}")
    api.clock.advance(120)  # past the catalogue's minute
    body = await _timeline(api, lead)
    assert [i["type"] for i in body["items"]] == ["automation_entered"]  # "Old news" is no longer read
    assert body["partial"] is True


async def test_report_events_page_by_cursor_with_the_rest(api: Api) -> None:
    api.ac.switches["campaign_events_in_activities"] = False
    lead, ac_id = await _synced_lead(api)
    campaigns = [_sent_campaign(api, f"Issue {n}") for n in range(3)]
    for c in campaigns:
        api.clock.advance(60)
        record_event(api.ac, c, api.ac.contacts[ac_id], "open")
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        body = await _timeline(api, lead, limit=1, **({"cursor": cursor} if cursor else {}))
        seen += body["items"]
        if (cursor := body["next_cursor"]) is None:
            break
    assert [i["title"] for i in seen] == ["Issue 2", "Issue 1", "Issue 0", "Welcome series"]


async def test_a_click_shows_its_link_under_either_reading(api: Api) -> None:
    lead, ac_id = await _synced_lead(api)
    news = _sent_campaign(api, "Offers")
    first, second = add_link(api.ac, news["id"], 1, "https://example.com/a"), \
        add_link(api.ac, news["id"], 1, "https://example.com/b")
    api.clock.advance(60)
    record_event(api.ac, news, api.ac.contacts[ac_id], "click", link=first)
    api.clock.advance(60)
    record_event(api.ac, news, api.ac.contacts[ac_id], "click", link=second)
    clicks = [i for i in (await _timeline(api, lead))["items"] if i["type"] == "click"]
    assert [i["detail"] for i in clicks] == ["https://example.com/b", "https://example.com/a"]
