"""automations, contactAutomations, campaigns, messages, and the v1 ``campaign_send`` call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import v1_reports
from .errors import ACError, no_result
from .marketing import can_send, links_of_campaign
from .render import Renderer
from .state import ACState, as_int
from .web import api, page_meta, paging, wrapped

V1_ACTIONS = frozenset({"send", "copy", "test", "source", "messagesize", "spamcheck", "preview"})


def undocumented_filters(request: Request, ac: ACState, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``filters[status|type|name]`` on automations and campaigns: not in the doc (register
    ``undocumented_list_filters``); ``name`` is "contains", the others exact."""
    if ac.switches["undocumented_list_filters"] != "honoured":
        return items
    q = request.query_params
    for key in ("status", "type"):
        if (value := q.get(f"filters[{key}]")) is not None:
            items = [x for x in items if str(x.get(key, "single" if key == "type" else 0)) == value]
    if (name := q.get("filters[name]")) is not None:
        items = [x for x in items if name.lower() in x["name"].lower()]
    return items


async def list_automations(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    items = undocumented_filters(request, ac, sorted(ac.automations.values(), key=lambda a: a["id"]))
    return 200, {"automations": [r.automation(a) for a in items[offset:offset + limit]],
                 "meta": {**page_meta(len(items)), "starts": [], "filtered": False, "smsLogs": []}}


async def get_automation(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    aid = as_int(request.path_params["id"])
    if aid is None or aid not in ac.automations:
        raise no_result("Series", request.path_params["id"])
    return 200, {"automation": r.automation(ac.automations[aid])}


async def add_contact_automation(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "contactAutomation")
    cid, aid = as_int(data.get("contact")), as_int(data.get("automation"))
    automation = ac.automations.get(aid) if aid is not None else None
    if cid is None or cid not in ac.contacts or automation is None or automation["status"] != 1:
        raise ACError(403, {"message": "Could not create SubscriberSeries"})
    inside = [x for x in ac.automations_of_contact(cid) if x["automation"] == automation["id"]
              and x.get("status", 1) == 1]
    if inside and ac.switches["automation_reentry"] == "refused":
        raise ACError(403, {"message": "Could not create SubscriberSeries"})
    record = ac.add_contact_automation(ac.contacts[cid], automation["id"])
    return 201, {"contacts": [r.contact(ac.contacts[cid])], "contactAutomation": r.contact_automation(record)}


async def list_contact_automations(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    if (contact := request.query_params.get("filters[contact]")) is not None:
        items = sorted(ac.automations_of_contact(as_int(contact) or -1), key=lambda x: x["id"])
        items = [x for x in items if str(x["contact"]) == contact]
    else:
        items = sorted(ac.contact_automations.values(), key=lambda x: x["id"])
    if (seriesid := request.query_params.get("filters[seriesid]")) is not None:
        items = [x for x in items if str(x["automation"]) == seriesid]
    return 200, {"contactAutomations": [r.contact_automation(x) for x in items[offset:offset + limit]],
                 "meta": {**page_meta(len(items)), "showcase_stats": []}}


def _contact_automation(ac: ACState, raw: object, status: int) -> dict[str, Any]:
    xid = as_int(raw)
    if xid is None or xid not in ac.contact_automations:
        raise no_result("SubscriberSeries", raw, status=status)
    return ac.contact_automations[xid]


async def get_contact_automation(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"contactAutomation": r.contact_automation(
        _contact_automation(ac, request.path_params["id"], 404))}


async def delete_contact_automation(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _contact_automation(ac, request.path_params["id"], 403)  # AC answers 403 here (reference §13.4)
    del ac.contact_automations[record["id"]]
    return 200, {}


async def list_campaigns(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    """The doc's parameters: ``orders[sdate]`` (default ASC), ``orders[ldate]``, ``filters[seriesid]``."""
    limit, offset = paging(request)
    q = request.query_params
    items = sorted(ac.campaigns.values(), key=lambda c: c["id"])
    if (seriesid := q.get("filters[seriesid]")) is not None:
        items = [c for c in items if str(c.get("seriesid", 0)) == seriesid]
    items = undocumented_filters(request, ac, items)
    for key in ("ldate", "sdate"):  # sdate sorts last, so it decides first when both are given
        if (direction := q.get(f"orders[{key}]")) is not None:  # never-sent campaigns last either way
            dated = [c for c in items if _time_of(ac, c, key) is not None]
            dated.sort(key=_order_key(ac, key), reverse=direction.strip().lower() == "desc")
            items = dated + [c for c in items if _time_of(ac, c, key) is None]
    return 200, {"campaigns": [r.campaign(c) for c in items[offset:offset + limit]], "meta": page_meta(len(items))}


async def get_campaign(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"campaign": r.campaign(_campaign(ac, request.path_params["id"]))}


def _order_key(ac: ACState, key: str) -> Callable[[dict[str, Any]], tuple[bool, float]]:
    def order(campaign: dict[str, Any]) -> tuple[bool, float]:
        when = _time_of(ac, campaign, key)
        return when is None, when or 0.0

    return order


def _time_of(ac: ACState, campaign: dict[str, Any], key: str) -> float | None:
    if key == "sdate":
        value: float | None = campaign.get("sdate")
        return value
    return max((s["time"] for s in ac.sends if s["campaignid"] == campaign["id"]), default=campaign.get("ldate"))


def _campaign(ac: ACState, raw: str) -> dict[str, Any]:
    cid = as_int(raw)
    if cid is None or cid not in ac.campaigns:
        raise no_result("Campaign", raw)
    return ac.campaigns[cid]


async def campaign_links(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    campaign = _campaign(ac, request.path_params["id"])
    return 200, {"links": [r.link(x) for x in links_of_campaign(ac, campaign["id"])]}


async def list_scores(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    items = sorted(ac.scores.values(), key=lambda x: x["id"]) if ac.has_feature("scoring") else []
    return 200, {"scores": [r.score(x) for x in items[offset:offset + limit]], "meta": page_meta(len(items))}


async def contact_score_values(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    contact = ac.get_contact(request.path_params["id"])
    values = ac.scores_by_contact.records(contact.id) if ac.has_feature("scoring") else []
    return 200, {"scoreValues": [r.score_value(v) for v in sorted(values, key=lambda v: v["id"])]}


async def list_messages(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    items = sorted(ac.messages.values(), key=lambda m: m["id"])
    return 200, {"messages": [r.message(m) for m in items[offset:offset + limit]], "meta": page_meta(len(items))}


async def get_message(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    mid = as_int(request.path_params["id"])
    if mid is None or mid not in ac.messages:
        raise no_result("Message", request.path_params["id"])
    return 200, {"message": r.message(ac.messages[mid])}


# ------------------------------------------------------------------ v1
def _v1(code: int, text: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"result_code": code, "result_message": text, "result_output": "json", **extra})


def v1_authorised(ac: ACState, request: Request, params: dict[str, str]) -> bool:
    if params.get("api_key") == ac.api_token:
        return True
    return bool(ac.switches["v1_header_auth"]) and request.headers.get("Api-Token") == ac.api_token


async def v1_api(request: Request) -> Response:
    """``/admin/api.php``: parameters come from the query string and, for POST, the form body."""
    ac: ACState = request.app.state.ac
    params = dict(request.query_params)
    if request.method == "POST":  # v1 takes application/x-www-form-urlencoded only
        params.update(dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)))
    if not v1_authorised(ac, request, params):
        return _v1(0, "You are not authorized to access this file")
    if params.get("api_output", "xml") != "json":
        return _v1(0, "This sandbox answers api_output=json only")
    if params.get("api_action") in v1_reports.ACTIONS:
        code, text, rows = v1_reports.report(ac, params)
        return _v1(code, text, **rows)
    if params.get("api_action") != "campaign_send":
        return _v1(0, f"Unknown or unsupported api_action {params.get('api_action')!r}")
    return _campaign_send(ac, params)


def _campaign_send(ac: ACState, params: dict[str, str]) -> JSONResponse:
    missing = [k for k in ("email", "campaignid", "messageid", "action") if not params.get(k)]
    if missing:
        return _v1(0, f"Missing required parameter(s): {', '.join(missing)}")
    action = params["action"]
    if action not in V1_ACTIONS:
        return _v1(0, f"Invalid action {action!r}")
    if params.get("type", "html") not in ("html", "text"):
        return _v1(0, "Invalid type; use html or text")
    contact = ac.contact_by_email(params["email"])
    if contact is None:
        return _v1(0, "Contact not found")
    cid, mid = as_int(params["campaignid"]), as_int(params["messageid"])
    campaign = ac.campaigns.get(cid) if cid is not None else None
    if campaign is None:
        return _v1(0, "Campaign not found")
    if mid is None or mid not in campaign.get("messages", []):
        return _v1(0, "Message not found in this campaign")
    if action in ("send", "copy") and (refusal := can_send(ac, campaign, contact)) is not None:
        return _v1(0, refusal)
    if action in ("send", "copy", "test"):
        ac.sends.append({"contact": contact.id, "campaignid": campaign["id"], "messageid": mid, "action": action,
                         "type": params.get("type", "html"), "time": ac.now()})
        if action == "send" and ac.switches["campaign_events_in_activities"]:
            ac.add_activity(contact.id, "CampaignSend", campaign["id"], "send")
        return _v1(1, "Message sent")
    return _v1(1, f"Campaign {action} completed")


ROUTES: list[Route] = [
    api("/automations", list_automations, ["GET"]),
    api("/automations/{id}", get_automation, ["GET"]),
    api("/contactAutomations", add_contact_automation, ["POST"]),
    api("/contactAutomations", list_contact_automations, ["GET"]),
    api("/contactAutomations/{id}", get_contact_automation, ["GET"]),
    api("/contactAutomations/{id}", delete_contact_automation, ["DELETE"]),
    api("/campaigns", list_campaigns, ["GET"]),
    api("/campaigns/{id}", get_campaign, ["GET"]),
    api("/campaigns/{id}/links", campaign_links, ["GET"]),
    api("/scores", list_scores, ["GET"]),
    api("/contacts/{id}/scoreValues", contact_score_values, ["GET"]),
    api("/messages", list_messages, ["GET"]),
    api("/messages/{id}", get_message, ["GET"]),
    Route("/admin/api.php", v1_api, methods=["GET", "POST"]),
]
