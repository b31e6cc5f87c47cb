"""The seller routes against both sandboxes: marketing view, actions, refusals, record-level access."""

from __future__ import annotations

from datetime import UTC, datetime

from sync_core.engine.clients import PEOPLE_RESERVE, ac_budget_key
from sync_core.model.state import RecordError
from sync_core.store.budget import PEOPLE_SESSION_WINDOWS
from tests.api.conftest import Api
from tests.api.sales_helpers import P, catalogue, owned_lead, record_path, sams_lead


async def test_a_seller_adds_an_unsynced_lead_to_an_automation_and_sends_it_a_campaign(api: Api) -> None:
    await api.connect()
    catalogue(api)
    lead = owned_lead(api, "Sam Seller")
    h = api.auth("Sam Seller")
    base = record_path("lead", lead)
    view = (await api.client.get(f"{base}/marketing", headers=h))
    assert view.status_code == 200, view.text
    assert view.json()["synced"] is False and view.json()["reason"] == "outside_criteria"  # leads are off
    added = await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=h)
    assert added.status_code == 200, added.text
    assert added.json()["outcome"] == "added" and added.json()["synced_now"] is True
    ac_id = added.json()["contact_id"]
    assert [c.email for c in api.ac.contacts.values() if c.email == "lena.lead@example.com"] == \
        ["lena.lead@example.com"]
    link = await api.rt.store.get_link("contoso", "lead", lead)
    assert link is not None and link.ac_id == ac_id
    again = await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=h)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_in_automation"
    view = (await api.client.get(f"{base}/marketing", headers=h)).json()
    assert view["synced"] is True and view["contact"]["id"] == ac_id
    assert [(a["id"], a["status"]) for a in view["automations"]] == [("1", "active")]
    assert "D365: Lead" in view["tags"]
    sent = await api.client.post(f"{base}/campaigns", json={"campaign_id": "1"}, headers=h)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"outcome": "sent", "contact_id": ac_id}
    draft = await api.client.post(f"{base}/campaigns", json={"campaign_id": "3"}, headers=h)
    assert draft.status_code == 422 and draft.json()["error"]["field"] == "campaign_id"
    actions = [(e.action, (e.after or {}).get("outcome")) for e in await api.rt.store.list_audit("contoso", limit=20)]
    assert ("add_to_automation", "added") in actions and ("send_campaign", "sent") in actions
    assert ("sync_record_on_request", "synced") in actions
    assert ("add_to_automation", "refused: already_in_automation") in actions


async def test_already_in_the_automation_says_since_when_in_utc(api: Api) -> None:
    """AC gives the run's start in the account's zone (the sandbox's is America/Chicago, -06:00 in December);
    the refusal says it in UTC, the same for every caller (the panel and the command line print this text)."""
    base, h = await sams_lead(api)
    assert (await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=h)).status_code == 200
    again = await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=h)
    assert again.status_code == 409, again.text
    (run,) = api.ac.contact_automations.values()
    started = datetime.fromtimestamp(run["adddate"], UTC)
    name = api.ac.automations[1]["name"]
    assert again.json()["error"] == {
        "code": "already_in_automation", "field": "automation_id",
        "message": f"the contact is already in the automation “{name}” (active since {started:%Y-%m-%d %H:%M} UTC)"}


async def test_ac_refusals_come_back_as_4xx_with_acs_reason(api: Api) -> None:
    base, h = await sams_lead(api, email="gone@example.com")
    added = await api.client.post(f"{base}/automations", json={"automation_id": "2"}, headers=h)
    assert added.status_code == 200, added.text
    contact = api.ac.contact_by_email("gone@example.com")
    assert contact is not None
    api.ac.unsubscribe_globally(contact)  # what /_sandbox/global_unsubscribe does
    refused = await api.client.post(f"{base}/campaigns", json={"campaign_id": "1"}, headers=h)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "activecampaign_refused"
    assert "unsubscribed" in refused.json()["error"]["message"]
    paused = await api.client.post(f"{base}/automations", json={"automation_id": "3"}, headers=h)
    assert paused.status_code == 422 and paused.json()["error"]["field"] == "automation_id"
    no_email = owned_lead(api, "Sam Seller", email=None)
    view = (await api.client.get(f"{record_path('lead', no_email)}/marketing", headers=h)).json()
    assert view["synced"] is False and view["reason"] == "no_email"
    r = await api.client.post(f"{record_path('lead', no_email)}/automations", json={"automation_id": "1"}, headers=h)
    assert r.status_code == 422 and r.json()["error"]["code"] == "no_email"


async def test_pickers_list_only_usable_ones_searchable_and_paged(api: Api) -> None:
    await api.connect()
    catalogue(api)
    h = api.auth("Sam Seller")
    autos = (await api.client.get(f"{P}/automations", headers=h)).json()
    assert [a["name"] for a in autos["items"]] == ["Welcome series", "Re-engagement"]  # not the paused one
    camps = (await api.client.get(f"{P}/campaigns", params={"search": "WIN"}, headers=h)).json()
    assert camps == {"items": [{"id": "2", "name": "Win-back campaign"}], "next_cursor": None}
    first = (await api.client.get(f"{P}/campaigns", params={"limit": 1}, headers=h)).json()
    assert first["items"] == [{"id": "1", "name": "Welcome campaign"}] and first["next_cursor"] == "1"
    rest = (await api.client.get(f"{P}/campaigns", params={"limit": 1, "cursor": "1"}, headers=h)).json()
    assert rest["items"] == [{"id": "2", "name": "Win-back campaign"}] and rest["next_cursor"] is None
    bad = await api.client.get(f"{P}/campaigns", params={"cursor": "x"}, headers=h)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "cursor"


async def test_a_seller_who_cannot_read_the_record_gets_403_on_every_route_of_it(api: Api) -> None:
    await api.connect()
    catalogue(api)
    theirs = owned_lead(api, "Alex Admin", email="alex.lead@example.com")
    h = api.auth("Sam Seller")
    base = record_path("lead", theirs)
    calls = [("GET", f"{base}/marketing", None), ("GET", f"{base}/activities", None),
             ("POST", f"{base}/automations", {"automation_id": "1"}),
             ("POST", f"{base}/campaigns", {"campaign_id": "1"})]
    for method, path, body in calls:
        r = await api.client.request(method, path, json=body, headers=h)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "record_forbidden"
        ok = await api.client.request(method, path, json=body, headers=api.auth("Marie Müller"))  # Global read
        assert ok.status_code == 200, (method, path, ok.text)
    assert api.ac.contact_by_email("alex.lead@example.com") is not None  # synced by Marie's action, not Sam's
    me = (await api.client.get(f"{P}/me", headers=h)).json()
    assert me["is_seller"] is True and me["is_admin"] is False and me["roles"] == ["ActiveCampaign User"]


async def test_a_throttled_activecampaign_is_a_503_with_retry_after_at_once(api: Api) -> None:
    await api.connect()
    catalogue(api)
    lead = owned_lead(api, "Sam Seller")
    h = api.auth("Sam Seller")
    api.ac.inject_fault(force_429=3)
    before = api.clock.time()
    r = await api.client.post(f"{record_path('lead', lead)}/automations", json={"automation_id": "1"}, headers=h)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "activecampaign_unavailable" and int(r.headers["Retry-After"]) >= 1
    assert api.clock.time() - before <= 1.0  # one retry within a second, then the seller is told
    assert api.ac_key not in r.text
    failed = [e for e in await api.rt.store.list_audit("contoso", limit=5) if e.action == "add_to_automation"]
    assert failed and str((failed[0].after or {}).get("outcome", "")).startswith("failed")


async def test_passes_leave_the_reserved_share_to_people_while_someone_is_at_work(api: Api) -> None:
    """With no one at work a pass spends the whole 5 a second; a person's first request waits at most one
    window; then, for PEOPLE_SESSION_WINDOWS, the pass stops at 5 - PEOPLE_RESERVE and people take the rest at once."""
    factory = api.rt.clients
    assert factory is not None
    pass_budget = factory.ac_budget(api.rt.store, api.ac_url)
    people_budget = factory.for_people().ac_budget(api.rt.store, api.ac_url)
    start = api.clock.time()
    for _ in range(5):
        await pass_budget.acquire()  # no one at work: the bulk path's whole bound
    assert api.clock.time() == start
    await people_budget.acquire()  # a session's first click waits for the window, no longer
    assert start < api.clock.time() <= start + 1.0
    api.clock.advance(5)  # past the two windows of priority, inside the session
    start = api.clock.time()
    for _ in range(5 - PEOPLE_RESERVE):
        await pass_budget.acquire()
    assert api.clock.time() == start
    for _ in range(PEOPLE_RESERVE):
        await people_budget.acquire()  # the reserved share: no wait although the pass spent its own
    assert api.clock.time() == start
    api.clock.advance(5)
    start = api.clock.time()
    for _ in range(5 - PEOPLE_RESERVE):
        await pass_budget.acquire()
    await pass_budget.acquire()  # inside the session a pass never takes the reserved share
    assert api.clock.time() >= start + 1.0
    api.clock.advance(5)
    start = api.clock.time()
    await people_budget.acquire()
    await pass_budget.acquire()  # people were served just now: the pass waits for a window without requests
    assert api.clock.time() >= start + 1.0
    resumed = api.clock.time()
    for _ in range(4):
        await people_budget.acquire()  # people still have all but the pass's one
    assert api.clock.time() == resumed
    api.clock.advance(PEOPLE_SESSION_WINDOWS + 1)  # the session is over: the pass has the whole bound again
    start = api.clock.time()
    for _ in range(5):
        await pass_budget.acquire()
    assert api.clock.time() == start
    assert ac_budget_key(api.ac_url) == "ac-ac.sandbox"


async def test_why_a_record_is_not_synced(api: Api) -> None:
    await api.connect()  # contacts on, leads off
    h = api.auth("Sam Seller")
    sam = api.user("Sam Seller")["systemuserid"]
    contact = api.dv.create("contact", {"firstname": "Cy", "lastname": "Contact", "emailaddress1": "cy@example.com"})
    contact["_ownerid_value"] = sam
    view = (await api.client.get(f"{record_path('contact', contact['contactid'])}/marketing", headers=h)).json()
    assert (view["synced"], view["reason"], view["error"]) == (False, "not_yet_synced", None)
    now = api.clock.now()
    await api.rt.store.record_error("contoso", RecordError(
        entity="contact", side="dynamics", record_id=contact["contactid"], code="refused",
        cause="ActiveCampaign refused the email", first_seen=now, last_seen=now, next_retry=now))
    view = (await api.client.get(f"{record_path('contact', contact['contactid'])}/marketing", headers=h)).json()
    assert view["reason"] == "error" and "refused the email" in view["error"]["message"]


async def test_site_tracking_page_visits_are_site_visits_other_tracked_events_are_events(api: Api) -> None:
    base, h = await sams_lead(api)
    added = await api.client.post(f"{base}/automations", json={"automation_id": "1"}, headers=h)
    assert added.status_code == 200, added.text
    ac_id = int(added.json()["contact_id"])
    api.clock.advance(60)
    api.ac.add_tracking_log(ac_id, "__pagevisit", "https://www.example.com/pricing")
    api.clock.advance(60)
    api.ac.add_tracking_log(ac_id, "webinar_joined", "December demo")
    api.clock.advance(60)
    api.ac.add_tracking_log(ac_id, "__pagevisit")
    page = await api.client.get(f"{base}/activities", headers=h)
    assert page.status_code == 200, page.text
    tracked = [(a["type"], a["title"], a["detail"], a["url"]) for a in page.json()["items"]
               if a["type"] in ("site_visit", "event")]
    assert tracked == [("site_visit", "a page", None, None),
                       ("event", "webinar_joined", "December demo", None),
                       ("site_visit", "https://www.example.com/pricing", None, None)]
