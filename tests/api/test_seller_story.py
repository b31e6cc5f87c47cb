"""A seller's story against both sandboxes, end to end through the API (issue 19 acceptance)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import CID, Api
from tests.api.sales_helpers import P, catalogue, owned_lead, record_path


async def _ac_control(api: Api, path: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.ac_app), base_url=api.ac_url) as ac:
        r = await ac.post(path, json=body)
        assert r.status_code == 200, r.text


async def test_a_seller_from_role_to_timeline(api: Api) -> None:
    await api.connect()
    catalogue(api)
    # Either reading of register ``campaign_events_in_activities`` (`--sandbox-switch`): with it off, opens and
    # clicks come from the campaign reports, and the one-contact send from the product's own audit row of it.
    lead = owned_lead(api, "Nina Norole", email="nina.prospect@example.com", first="Pia")
    base = record_path("lead", lead)
    nina = api.auth("Nina Norole")
    assert (await api.client.get(f"{base}/marketing", headers=nina)).status_code == 403  # no role yet

    # An admin gives Nina the ActiveCampaign User role.
    nina_id = api.user("Nina Norole")["systemuserid"]
    r = await api.client.post(f"{P}/users", json={"user_id": nina_id, "role": "ActiveCampaign User"},
                              headers=api.auth())
    assert r.status_code == 200, r.text
    me = (await api.client.get(f"{P}/me", headers=nina)).json()
    assert me["is_seller"] is True and me["roles"] == ["ActiveCampaign User"]

    # She opens her unsynced lead: not in ActiveCampaign yet, no timeline.
    view = await api.client.get(f"{base}/marketing", headers=nina)
    assert view.status_code == 200, view.text
    assert (view.json()["synced"], view.json()["contact"]) == (False, None)
    assert (await api.client.get(f"{base}/activities", headers=nina)).json() == {"items": [], "next_cursor": None,
                                                                                      "partial": False}

    # She adds it to an automation: the lead is synced on request, then added.
    added = await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=nina)
    assert added.status_code == 200, added.text
    assert added.json()["synced_now"] is True
    ac_id = added.json()["contact_id"]
    api.clock.advance(60)

    # She sends it a campaign; the person opens it, then clicks its offer (made to happen in the sandbox).
    sent = await api.client.post(f"{base}/campaigns", json={"campaign_id": "1"}, headers=nina)
    assert sent.status_code == 200, sent.text
    api.clock.advance(60)
    await _ac_control(api, "/_sandbox/campaigns/1/events", {"contact": int(ac_id), "event": "open"})
    api.clock.advance(60)
    offer = next(x for x in api.ac.links.values() if x["campaign"] == 1 and x["link"].startswith("https://"))
    await _ac_control(api, "/_sandbox/campaigns/1/events", {"contact": int(ac_id), "event": "click",
                                                           "link": offer["id"]})

    # The timeline shows them newest first, two at a time.
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await api.client.get(f"{base}/activities", params=params, headers=nina)
        assert page.status_code == 200, page.text
        assert len(page.json()["items"]) <= 2
        seen += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert [a["type"] for a in seen] == ["click", "open", "campaign_send", "automation_entered"]
    assert [a["title"] for a in seen] == ["Welcome campaign"] * 3 + ["Welcome series"]
    assert seen[0]["detail"] == offer["link"]  # the link clicked, under either reading
    assert page.json()["partial"] is False  # two sent campaigns, well under the cap
    assert [a["at"] for a in seen] == sorted((a["at"] for a in seen), reverse=True)
    assert all(a["url"] and a["url"].startswith(api.ac_url) for a in seen)

    # Each step is in the audit log, with who did it, on which record, and the outcome.
    audit = await api.rt.store.list_audit(CID, limit=50)
    granted = next(e for e in audit if e.action == "assign_role")
    assert granted.target == nina_id and granted.after == {"role": "ActiveCampaign User"}
    ours = {e.action: e for e in audit if e.action in ("add_to_automation", "send_campaign", "sync_record_on_request")}
    assert sorted(ours) == ["add_to_automation", "send_campaign", "sync_record_on_request"]
    nina_oid = api.user("Nina Norole")["azureactivedirectoryobjectid"]
    assert all(e.target == f"lead/{lead}" and nina_oid in e.actor for e in ours.values())
    assert [ours[a].after for a in ("sync_record_on_request", "add_to_automation", "send_campaign")] == \
        [{"outcome": "synced"}, {"outcome": "added"}, {"outcome": "sent"}]
