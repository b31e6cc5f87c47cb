"""webhooks (create/list/get/update/delete) and webhook/events; delivery lives in webhooks.py."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .events import EVENTS
from .render import Renderer
from .state import ACState
from .web import api, page_meta, paging, wrapped
from .webhooks import check_webhook, create_webhook, get_webhook


def render_webhook(r: Renderer, w: dict[str, Any]) -> dict[str, Any]:
    return {"cdate": r.t(w["cdate"]), "listid": str(w["listid"]), "name": w["name"], "url": w["url"],
            "events": list(w["events"]), "sources": list(w["sources"]), "links": [], "id": str(w["id"])}


async def post_webhook(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 201, {"webhook": render_webhook(r, create_webhook(ac, await wrapped(request, "webhook")))}


async def list_webhooks(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    items = sorted(ac.webhooks.values(), key=lambda w: w["id"])
    q = request.query_params
    if (name := q.get("filters[name]")) is not None:
        items = [w for w in items if w["name"] == name]
    if (url := q.get("filters[url]")) is not None:
        items = [w for w in items if w["url"] == url]
    if (listid := q.get("filters[listid]")) is not None:
        items = [w for w in items if str(w["listid"]) == listid]
    return 200, {"webhooks": [render_webhook(r, w) for w in items[offset:offset + limit]],
                 "meta": page_meta(len(items))}


async def read_webhook(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"webhook": render_webhook(r, get_webhook(ac, request.path_params["id"]))}


async def put_webhook(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    webhook = get_webhook(ac, request.path_params["id"])
    webhook.update(check_webhook(ac, await wrapped(request, "webhook"), partial=True))
    return 200, {"webhook": render_webhook(r, webhook)}


async def delete_webhook(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    del ac.webhooks[get_webhook(ac, request.path_params["id"])["id"]]
    return 200, {}


async def webhook_events(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"webhookEvents": list(EVENTS), "meta": {"total": len(EVENTS)}}


ROUTES: list[Route] = [
    api("/webhooks", post_webhook, ["POST"]),
    api("/webhooks", list_webhooks, ["GET"]),
    api("/webhooks/{id}", read_webhook, ["GET"]),
    api("/webhooks/{id}", put_webhook, ["PUT"]),
    api("/webhooks/{id}", delete_webhook, ["DELETE"]),
    api("/webhook/events", webhook_events, ["GET"]),
]
