"""Webhooks: the v3 routes, and delivery as the AC webhook documents describe it (form-encoded, unsigned, at least
once, never retried, 410 deactivates), through a transport the test supplies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest

from sandbox.activecampaign.state import ACState

from .helpers import new_contact, new_field, new_list, new_tag


class Receiver:
    """An httpx transport standing in for the product's webhook route; records each POST."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append({"url": str(request.url), "headers": dict(request.headers),
                           "form": dict(parse_qsl(request.content.decode(), keep_blank_values=True))})
        return httpx.Response(self.status)

    def forms(self, event: str | None = None) -> list[dict[str, str]]:
        return [c["form"] for c in self.calls if event is None or c["form"].get("type") == event]


@pytest.fixture
def receiver(ac: ACState) -> Receiver:
    rec = Receiver()
    ac.webhook_transport = httpx.MockTransport(rec)
    return rec


async def hook(client: httpx.AsyncClient, events: list[str], sources: list[str] | None = None,
               **extra: Any) -> dict[str, Any]:
    r = await client.post("/api/3/webhooks", json={"webhook": {"name": "sync", "url": "https://product.example/h?t=x",
                                                                "events": events,
                                                                "sources": sources or ["public", "admin", "api",
                                                                                       "system"], **extra}})
    assert r.status_code == 201, r.text
    webhook: dict[str, Any] = r.json()["webhook"]
    return webhook


async def test_webhook_routes(client: httpx.AsyncClient, ac: ACState) -> None:
    lst = await new_list(client, "L")
    created = await hook(client, ["subscribe", "unsubscribe"], ["public"], listid=int(lst))
    assert {k: created[k] for k in ("listid", "name", "events", "sources", "id")} == {
        "listid": lst, "name": "sync", "events": ["subscribe", "unsubscribe"], "sources": ["public"], "id": "1"}
    r = await client.put("/api/3/webhooks/1", json={"webhook": {"name": "renamed", "sources": ["api"]}})
    assert r.json()["webhook"]["name"] == "renamed" and r.json()["webhook"]["events"] == ["subscribe", "unsubscribe"]
    listed = (await client.get("/api/3/webhooks", params={"filters[name]": "renamed"})).json()
    assert [w["id"] for w in listed["webhooks"]] == ["1"] and listed["meta"]["total"] == "1"
    assert (await client.get("/api/3/webhooks", params={"filters[listid]": "0"})).json()["webhooks"] == []
    events = (await client.get("/api/3/webhook/events")).json()
    assert events["meta"]["total"] == 25 and "contact_tag_added" in events["webhookEvents"]
    for bad in ({"name": "x", "url": "ftp://x", "events": ["subscribe"], "sources": ["api"]},
                {"name": "x", "url": "https://x:8443/h", "events": ["subscribe"], "sources": ["api"]},
                {"name": "x", "url": "https://x/h", "events": ["explode"], "sources": ["api"]},
                {"name": "x", "url": "https://x/h", "events": ["subscribe"], "sources": []},
                {"url": "https://x/h", "events": ["subscribe"], "sources": ["api"]},
                {"name": "x", "url": "https://x/h", "events": "subscribe", "sources": ["api"]}):
        assert (await client.post("/api/3/webhooks", json={"webhook": bad})).status_code == 422, bad
    assert (await client.delete("/api/3/webhooks/1")).json() == {}
    r = await client.get("/api/3/webhooks/1")
    assert (r.status_code, r.json()) == (404, {"message": "No Result found for Webhook with id 1"})


async def test_contact_events_are_form_posts_with_the_documented_fields(
        client: httpx.AsyncClient, ac: ACState, receiver: Receiver) -> None:
    await hook(client, ["subscribe", "unsubscribe", "update", "contact_tag_added", "contact_tag_removed"])
    lst, tag, field = await new_list(client, "News"), await new_tag(client, "D365: Create Lead"), \
        await new_field(client, "Favourite Colour")
    c = await new_contact(client, "hook@example.com", firstName="Ada", fieldValues=[{"field": field,
                                                                                      "value": "teal"}])
    assert receiver.calls == []  # creating a contact is no event
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 1}})
    r = await client.post("/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag}})
    await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"lastName": "Lovelace"}})
    await client.put(f"/api/3/contacts/{c['id']}", json={"contact": {"lastName": "Lovelace"}})  # no change: none
    await client.delete(f"/api/3/contactTags/{r.json()['contactTag']['id']}")
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"], "status": 2}})
    assert [f["type"] for f in receiver.forms()] == ["subscribe", "contact_tag_added", "update",
                                                     "contact_tag_removed", "unsubscribe"]
    call = receiver.calls[0]
    assert call["url"] == "https://product.example/h?t=x"
    assert call["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert not [h for h in call["headers"] if "signature" in h or h.startswith("x-ac")]  # unsigned
    sub = receiver.forms("subscribe")[0]
    assert {k: sub[k] for k in ("type", "date_time", "initiated_from", "initiated_by", "list", "contact[id]",
                                "contact[email]", "contact[first_name]", "contact[fields][favourite_colour]")} == {
        "type": "subscribe", "date_time": "2026-05-28T15:26:40-05:00", "initiated_from": "api",
        "initiated_by": "api", "list": lst, "contact[id]": c["id"], "contact[email]": "hook@example.com",
        "contact[first_name]": "Ada", "contact[fields][favourite_colour]": "teal"}
    added = receiver.forms("contact_tag_added")[0]
    assert (added["tag"], added["contact[tags]"]) == ("D365: Create Lead", "D365: Create Lead")
    assert receiver.forms("update")[0]["contact[last_name]"] == "Lovelace"
    assert receiver.forms("unsubscribe")[0]["list[0][id]"] == lst
    assert [d.status for d in ac.webhook_deliveries] == [200] * 5


async def test_sources_and_listid_decide_which_events_a_webhook_gets(
        client: httpx.AsyncClient, ac: ACState, receiver: Receiver) -> None:
    one, two = await new_list(client, "One"), await new_list(client, "Two")
    tag = await new_tag(client, "t")
    await hook(client, ["subscribe", "contact_tag_added"], ["public"])  # the sync's own API writes never echo
    await hook(client, ["subscribe", "contact_tag_added"], ["api"], listid=int(one))
    c = await new_contact(client, "src@example.com")
    for lst in (one, two):
        await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                       "status": 1}})
    await client.post("/api/3/contactTags", json={"contactTag": {"contact": c["id"], "tag": tag}})
    # Webhook 2 only: list One's subscribe, and the tag event (listid has no effect on tag events: the doc).
    assert [(f["type"], f["list"]) for f in receiver.forms()] == [("subscribe", one), ("contact_tag_added", "0")]
    assert {d.webhook_id for d in ac.webhook_deliveries} == {2}


async def test_410_deactivates_and_failures_are_never_retried(
        client: httpx.AsyncClient, ac: ACState, receiver: Receiver) -> None:
    lst = await new_list(client, "L")
    await hook(client, ["subscribe", "unsubscribe"])
    contacts = [await new_contact(client, f"f{i}@example.com") for i in range(3)]
    receiver.status = 500
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[0]["id"],
                                                                   "status": 1}})
    await client.get("/api/3/users/me")
    assert len(receiver.calls) == 1  # a 500 is not retried
    receiver.status = 410
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[1]["id"],
                                                                   "status": 1}})
    receiver.status = 200
    await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": contacts[2]["id"],
                                                                   "status": 1}})
    assert len(receiver.calls) == 2 and ac.webhooks[1]["active"] is False  # inactive: sends nothing more
    assert (await client.get("/api/3/webhooks/1")).status_code == 200  # "still show up"
    assert [d.status for d in ac.webhook_deliveries] == [500, 410]


async def test_a_receiver_that_cannot_be_reached_is_logged(client: httpx.AsyncClient, ac: ACState) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    ac.webhook_transport = httpx.MockTransport(refuse)
    await hook(client, ["subscribe"])
    lst, c = await new_list(client, "L"), await new_contact(client, "x@example.com")
    r = await client.post("/api/3/contactLists", json={"contactList": {"list": lst, "contact": c["id"],
                                                                       "status": 1}})
    assert r.status_code == 200
    assert [(d.status, d.error) for d in ac.webhook_deliveries] == [(None, "ConnectError: refused")]
    body = (await client.get("/_sandbox/webhooks/deliveries")).json()
    assert body["pending"] == 0 and body["deliveries"][0]["event"] == "subscribe"


async def test_automation_webhook_step(client: httpx.AsyncClient, ac: ACState, receiver: Receiver) -> None:
    ac.reset(seed_contacts=2)
    url = "https://product.example/api/hooks/c1/ac/token"
    r = await client.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": url})
    assert r.json()["status"] == 200
    form = receiver.forms()[0]
    assert (form["seriesid"], form["contact[id]"], form["contact[email]"]) == ("1", "1", ac.contacts[1].email)
    assert form["initiated_from"] == "system"
    receiver.status = 410
    await client.post("/_sandbox/automations/1/webhook", json={"contact": 2, "url": url})
    receiver.status = 200
    r = await client.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": url})
    assert r.json() == {"sent": False, "reason": "the step was deactivated by a 410", "status": None}
    assert len(receiver.calls) == 2  # never retried, and nothing after the 410
    assert (await client.post("/_sandbox/automations/9/webhook", json={"contact": 1, "url": url})).status_code == 400
    assert (await client.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": "x"})).status_code == 400


async def test_automation_webhook_step_is_an_unsigned_form_post_at_least_once(
        client: httpx.AsyncClient, ac: ACState, receiver: Receiver) -> None:
    ac.reset(seed_contacts=2)
    url = "https://product.example/api/hooks/c1/ac/token"
    r = await client.post("/_sandbox/automations/1/webhook", json={"contact": 1, "url": url})
    assert r.json()["copies"] == 1
    [call] = receiver.calls
    assert call["url"] == url and call["headers"]["content-type"] == "application/x-www-form-urlencoded"
    assert not [h for h in call["headers"] if "signature" in h or "hmac" in h]
    receiver.status = 500
    r = await client.post("/_sandbox/automations/1/webhook", json={"contact": 2, "url": url})
    assert (r.json()["status"], len(receiver.calls)) == (500, 2)  # a failure is not retried
    receiver.status = 200
    ac.switches["webhook_duplicates"] = "always"
    r = await client.post("/_sandbox/automations/1/webhook", json={"contact": 2, "url": url})
    assert r.json()["copies"] == 2 and receiver.calls[-1]["form"] == receiver.calls[-2]["form"]
    assert [d.copy for d in ac.webhook_deliveries][-2:] == [1, 2]
