"""Control routes that make things happen the way a contact, a mail server or an automation would.

- ``POST /_sandbox/bounce`` ``{"contact": 1, "list": 2 (optional), "type": "hard"|"soft", "campaign": 1, "message": 1,
  "code": "5.1.1", "description": "..."}``: a bounce as a mail server reports it (``bounceLogs``, ``bounced_*``,
  list status 3 per ``bounce_scope``, a ``bounce`` webhook event).
- ``POST /_sandbox/unsubscribe`` ``{"contact": 1, "list": 2 (optional: every list it is active or unconfirmed on),
  "reason": "..."}``: the person unsubscribes through a list's unsubscribe or preferences page, outside any campaign
  (list status 2 with ``unsubreason``, an ``unsubscribe`` webhook event from source ``public``; ``udate`` per
  register ``udate_on_list_change``). A campaign's unsubscribe link is ``campaigns/{id}/events``.
- ``POST /_sandbox/subscribe`` ``{"contact": 1, "list": 2, "unconfirmed": false}``: the person (re-)subscribes through
  a list's subscription form (status 1, or 0 awaiting a double opt-in confirmation; a ``subscribe`` webhook event
  from source ``public`` for status 1); the opt-in a consent setting may or may not let travel.
- ``POST /_sandbox/global_unsubscribe`` ``{"contact": 1}``: the account-wide unsubscribe
  (register ``global_unsubscribe_reading``; ``udate`` per ``udate_on_list_change``).
- ``POST /_sandbox/automations/{id}/webhook`` ``{"contact": 1, "url": "https://..."}``: the automation's webhook step
  reached by the contact (one POST, never retried; a 410 deactivates the step); answers what was posted and got.
- ``POST /_sandbox/campaigns/{id}/events`` ``{"contact": 1, "event": "open"|"click"|"reply"|"forward"|
  "unsubscribe"|"bounce", "message": 1, "link": 2 (click: a link id of campaigns/{id}/links), "list": 1
  (unsubscribe/bounce; default: every active list), "reason": "..."}``: the contact acting on a campaign it was
  sent (counters, activities, list status, webhook events).
- ``POST /_sandbox/automations/{id}/finish`` ``{"contact": 1}``: the contact reaches the end of the automation.
- ``POST /_sandbox/scores`` ``{"contact": 1, "score": 1, "value": 40}``: the contact's score value.
- ``POST /_sandbox/webhooks/deliver``: post what waits in the outbox now (the gate does it after every request).
- ``GET /_sandbox/webhooks/deliveries`` (``DELETE`` clears): every delivery made, with its form fields.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import ACError
from .events import Delivery
from .marketing import CAMPAIGN_EVENTS, finish_automation, record_event, set_score
from .state import ACState, Contact
from .webhooks import deliver_pending, run_automation_webhook


class Refused(Exception):
    pass


def _ac(request: Request) -> ACState:
    ac: ACState = request.app.state.ac
    return ac


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = await request.json()
    except ValueError as err:
        raise Refused("body must be JSON") from err
    if not isinstance(data, dict):
        raise Refused("body must be a JSON object")
    return data


def _int(body: dict[str, Any], key: str, *, required: bool = True, default: int = 0) -> int:
    value = body.get(key)
    if value is None:
        if required:
            raise Refused(f"{key} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise Refused(f"{key} must be an id")
    return int(value)


def contact_of(ac: ACState, body: dict[str, Any]) -> Contact:
    cid = _int(body, "contact")
    if cid not in ac.contacts:
        raise Refused(f"no contact {cid}")
    return ac.contacts[cid]


def list_of(ac: ACState, body: dict[str, Any], *, required: bool = False) -> int | None:
    """The ``list`` a control route names (None when optional and absent); an unknown list is refused."""
    list_id = _int(body, "list", required=required) or None
    if list_id is not None and list_id not in ac.lists:
        raise Refused(f"no list {list_id}")
    if required and list_id is None:
        raise Refused("list is required")
    return list_id


def refusing(fn: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            out: Response = await fn(request, _ac(request))
        except Refused as err:
            return JSONResponse({"error": str(err)}, status_code=400)
        return out

    run.__name__ = fn.__name__
    return run


def delivery_json(d: Delivery) -> dict[str, Any]:
    return {"webhook": d.webhook_id, "url": d.url, "event": d.event, "form": d.form, "time": d.time,
            "status": d.status, "error": d.error, "copy": d.copy}


@refusing
async def bounce(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    contact = contact_of(ac, body)
    kind = body.get("type", "hard")
    if kind not in ("hard", "soft"):
        raise Refused("type is hard or soft")
    list_id = list_of(ac, body)
    out = ac.bounce(contact, kind=kind, list_id=list_id, campaign=_int(body, "campaign", required=False),
                    message=_int(body, "message", required=False), code=str(body.get("code", "5.1.1")),
                    description=str(body.get("description", "")))
    return JSONResponse({"bounced": out["bounced"], "bounceLog": out["bounceLog"]["id"]})


@refusing
async def unsubscribe(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    contact = contact_of(ac, body)
    list_id = list_of(ac, body)
    if list_id is not None and all(cl["list"] != list_id for cl in ac.lists_of_contact(contact.id)):
        raise Refused(f"contact {contact.id} is not on list {list_id}")
    targets = [list_id] if list_id is not None else [
        cl["list"] for cl in ac.lists_of_contact(contact.id) if cl["status"] in (0, 1)]
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise Refused("reason must be text")
    for lid in targets:
        ac.set_list_status(contact, lid, 2, source="public", reason=reason)
    return JSONResponse({"contact": contact.id, "lists": sorted(targets)})


@refusing
async def subscribe(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    contact = contact_of(ac, body)
    list_id = list_of(ac, body, required=True) or 0
    unconfirmed = body.get("unconfirmed", False)
    if not isinstance(unconfirmed, bool):
        raise Refused("unconfirmed must be true or false")
    cl = ac.set_list_status(contact, list_id, 0 if unconfirmed else 1, source="public")
    return JSONResponse({"contact": contact.id, "list": list_id, "status": cl["status"]})


@refusing
async def global_unsubscribe(request: Request, ac: ACState) -> Response:
    contact = contact_of(ac, await _body(request))
    ac.unsubscribe_globally(contact)
    return JSONResponse({"contact": contact.id, "global_unsubscribed": True})


@refusing
async def automation_webhook(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    raw = request.path_params["id"]
    automation = ac.automations.get(int(raw)) if raw.isdigit() else None
    if automation is None:
        raise Refused(f"no automation {raw}")
    url = body.get("url")
    if not isinstance(url, str):
        raise Refused("url is required")
    try:
        result = await run_automation_webhook(ac, automation, contact_of(ac, body), url)
    except ACError as err:
        raise Refused(str(err.body)) from err
    return JSONResponse(result)


def _campaign_or_refuse(ac: ACState, raw: str) -> dict[str, Any]:
    campaign = ac.campaigns.get(int(raw)) if raw.isdigit() else None
    if campaign is None:
        raise Refused(f"no campaign {raw}")
    return campaign


@refusing
async def campaign_event(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    campaign = _campaign_or_refuse(ac, request.path_params["id"])
    contact = contact_of(ac, body)
    event = body.get("event")
    if event not in CAMPAIGN_EVENTS:
        raise Refused(f"event is one of {', '.join(CAMPAIGN_EVENTS)}")
    link = None
    if event == "click":
        link = ac.links.get(_int(body, "link"))
        if link is None or link["campaign"] != campaign["id"]:
            raise Refused("link must be a link of this campaign (GET /api/3/campaigns/{id}/links)")
    list_id = list_of(ac, body)
    message = _int(body, "message", required=False) or None
    if message is not None and message not in campaign.get("messages", []):
        raise Refused(f"message {message} is not a message of this campaign")
    out = record_event(ac, campaign, contact, event, message_id=message, link=link, list_id=list_id,
                       reason=str(body.get("reason", "")))
    return JSONResponse({"event": out["event"]})


@refusing
async def finish_automation_route(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    raw = request.path_params["id"]
    if not raw.isdigit() or int(raw) not in ac.automations:
        raise Refused(f"no automation {raw}")
    record = finish_automation(ac, contact_of(ac, body), int(raw))
    if record is None:
        raise Refused("the contact is not in this automation (or has finished it)")
    return JSONResponse({"contactAutomation": record["id"], "status": record["status"]})


@refusing
async def score(request: Request, ac: ACState) -> Response:
    body = await _body(request)
    contact = contact_of(ac, body)
    score_id = _int(body, "score")
    if score_id not in ac.scores:
        raise Refused(f"no score {score_id}")
    value = body.get("value")
    if isinstance(value, bool) or not isinstance(value, int):
        raise Refused("value must be an integer")
    return JSONResponse({"scoreValue": set_score(ac, contact, score_id, value)["id"]})


@refusing
async def deliver(request: Request, ac: ACState) -> Response:
    before = len(ac.webhook_deliveries)
    await deliver_pending(ac)
    return JSONResponse({"deliveries": [delivery_json(d) for d in ac.webhook_deliveries[before:]]})


@refusing
async def deliveries(request: Request, ac: ACState) -> Response:
    if request.method == "DELETE":
        ac.webhook_deliveries.clear()
    return JSONResponse({"deliveries": [delivery_json(d) for d in ac.webhook_deliveries],
                         "pending": len(ac.outbox)})


ROUTES: list[Route] = [
    Route("/_sandbox/bounce", bounce, methods=["POST"]),
    Route("/_sandbox/unsubscribe", unsubscribe, methods=["POST"]),
    Route("/_sandbox/subscribe", subscribe, methods=["POST"]),
    Route("/_sandbox/global_unsubscribe", global_unsubscribe, methods=["POST"]),
    Route("/_sandbox/automations/{id}/webhook", automation_webhook, methods=["POST"]),
    Route("/_sandbox/campaigns/{id}/events", campaign_event, methods=["POST"]),
    Route("/_sandbox/automations/{id}/finish", finish_automation_route, methods=["POST"]),
    Route("/_sandbox/scores", score, methods=["POST"]),
    Route("/_sandbox/webhooks/deliver", deliver, methods=["POST"]),
    Route("/_sandbox/webhooks/deliveries", deliveries, methods=["GET", "DELETE"]),
]
