"""CONTRACT MOCK of the seller routes (issue 19), until the API serves them; everything else goes to the API.

It answers exactly the contract the lead fixed (see ``solution/src/api/seller-contract.ts``):
``/me``, a record's ``/marketing`` and ``/activities``, the ``/automations`` and ``/campaigns``
pickers, and the two POSTs, with the API's error shape, auth and per-connection CORS. Tokens are
checked by the API's own local-mode validator; roles come from the Dataverse sandbox (the caller's
and its teams' roles, as the API reads them). Marketing data is made up per record (made up, not
read from ActiveCampaign) and the actions change it in memory. Every other path is proxied to the
real API unchanged, so one base URL serves the pages. Remove it when the routes exist.

Which user may not read which record is set through ``POST /_mock/deny`` (mock only).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sync_core.api.auth import TokenValidator, Unauthenticated

AC_APP = "https://sandbox.activehosted.example"
AUTOMATIONS = [("11", "Welcome series"), ("12", "Webinar follow-up"), ("13", "Re-engagement"), ("14", "Trial nurture")]
CAMPAIGNS = [("21", "December newsletter"), ("22", "Product launch"), ("23", "Event invitation")]
SELLER_ROLES = frozenset({"ActiveCampaign User", "ActiveCampaign Admin", "System Administrator"})
ADMIN_ROLES = frozenset({"ActiveCampaign Admin", "System Administrator"})
SEEDED_ACTIVITIES = 25


def error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "field": field}, "issues": []}, status_code=status)


@dataclass
class RecordState:
    automations: list[dict[str, Any]]
    activities: list[dict[str, Any]]


@dataclass
class MockState:
    connection_id: str
    origin: str
    denied: set[tuple[str, str]] = field(default_factory=set)
    records: dict[str, RecordState] = field(default_factory=dict)


def roles_of(dataverse: Any, object_id: str) -> tuple[str | None, str, frozenset[str]]:
    """The systemuser with that object id, its name and its roles (own and through teams)."""
    user = next((u for u in dataverse.rows["systemuser"].values()
                 if str(u.get("azureactivedirectoryobjectid", "")).lower() == object_id
                 and not u.get("isdisabled")), None)
    if user is None:
        return None, "", frozenset()
    uid = user["systemuserid"]
    links = dataverse.links
    role_ids = {r for u, r in links["systemuserroles_association"] if u == uid}
    teams = {t for u, t in links["teammembership_association"] if u == uid}
    role_ids |= {r for t, r in links["teamroles_association"] if t in teams}
    names = frozenset(str(dataverse.rows["role"][r]["name"]) for r in role_ids if r in dataverse.rows["role"])
    return uid, str(user.get("fullname") or ""), names


def _seeded(record_id: str, now: datetime) -> RecordState:
    kinds = ["open", "click", "campaign_send", "site_visit", "form", "open", "reply"]
    h = int(hashlib.sha256(record_id.encode()).hexdigest()[:8], 16)
    acts = []
    for i in range(SEEDED_ACTIVITIES):
        kind = kinds[(h + i) % len(kinds)]
        at = now - timedelta(hours=6 * i + 3)
        acts.append({"type": kind, "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "title": ["November newsletter", "Pricing page", "Spring webinar"][(h + i) % 3],
                     "url": f"{AC_APP}/app/reports/{kind}/{h % 1000 + i}", "detail": None})
    started = (now - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return RecordState(automations=[{"id": "13", "name": "Re-engagement", "status": "completed",
                                     "started_at": started, "finished_at": (now - timedelta(days=2)).strftime(
                                         "%Y-%m-%dT%H:%M:%SZ")}], activities=acts)


def create_seller_mock(*, validator: TokenValidator, dataverse: Any, api_url: str, connection_id: str,
                       origin: str) -> Starlette:
    state = MockState(connection_id, origin.lower())
    proxy = httpx.AsyncClient(base_url=api_url, timeout=60.0)

    async def caller(request: Request) -> tuple[str, str, frozenset[str]] | Response:
        if request.path_params.get("cid") != state.connection_id:
            return error(404, "connection_not_found", f"no connection {request.path_params.get('cid')}")
        try:
            who = await validator.caller(request.headers.get("authorization"))
        except Unauthenticated as e:
            return error(401, "unauthenticated", str(e))
        uid, name, roles = roles_of(dataverse, who.object_id)
        if uid is None:
            return error(404, "connection_not_found", f"no connection {state.connection_id}")
        return uid, name, roles

    async def seller(request: Request) -> tuple[str, dict[str, Any], RecordState] | Response:
        found = await caller(request)
        if isinstance(found, Response):
            return found
        uid, _, roles = found
        if not roles & SELLER_ROLES:
            return error(403, "forbidden", "this needs the ActiveCampaign User security role")
        entity, rid = request.path_params["entity"], request.path_params["rid"].lower()
        row = dataverse.rows.get(entity, {}).get(rid) if entity in ("lead", "contact") else None
        if entity not in ("lead", "contact"):
            return error(422, "invalid", "entity must be lead or contact", "entity")
        if row is None or (uid, rid) in state.denied:
            return error(403, "forbidden", "you cannot read this record")
        rec = state.records.setdefault(rid, _seeded(rid, datetime.now(UTC)))
        return rid, row, rec

    async def me(request: Request) -> Response:
        found = await caller(request)
        if isinstance(found, Response):
            return found
        uid, name, roles = found
        return JSONResponse({"user_id": uid, "name": name, "roles": sorted(roles),
                             "is_admin": bool(roles & ADMIN_ROLES), "is_seller": bool(roles & SELLER_ROLES)})

    async def marketing(request: Request) -> Response:
        found = await seller(request)
        if isinstance(found, Response):
            return found
        rid, row, rec = found
        email = row.get("emailaddress1")
        if not email:
            return JSONResponse({"synced": False, "reason": "no_email", "error": None, "contact": None, "lists": [],
                                 "tags": [], "score": None, "automations": []})
        cid = str(int(hashlib.sha256(rid.encode()).hexdigest()[:6], 16) % 100000)
        tag = "D365: Lead" if request.path_params["entity"] == "lead" else "D365: Contact"
        return JSONResponse({
            "synced": True, "reason": None, "error": None,
            "contact": {"id": cid, "email": email, "first_name": row.get("firstname") or "",
                        "last_name": row.get("lastname") or "", "url": f"{AC_APP}/app/contacts/{cid}"},
            "lists": [{"id": "1", "name": "Newsletter", "status": "active"},
                      {"id": "2", "name": "Product updates", "status": "unsubscribed"}],
            "tags": [tag, "D365: Pushed from Dynamics"], "score": 10 + len(rec.activities),
            "automations": rec.automations})

    async def activities(request: Request) -> Response:
        found = await seller(request)
        if isinstance(found, Response):
            return found
        _, _, rec = found
        try:
            limit = int(request.query_params.get("limit", "20"))
            start = int(request.query_params.get("cursor") or 0)
        except ValueError:
            return error(422, "invalid", "limit and cursor are numbers here", "limit")
        if not 1 <= limit <= 100:
            return error(422, "invalid", "limit is 1 to 100", "limit")
        items = sorted(rec.activities, key=lambda a: a["at"], reverse=True)
        page = items[start:start + limit]
        nxt = str(start + limit) if start + limit < len(items) else None
        return JSONResponse({"items": page, "next_cursor": nxt})

    def picker(catalog: list[tuple[str, str]]) -> Any:
        async def route(request: Request) -> Response:
            found = await caller(request)
            if isinstance(found, Response):
                return found
            if not found[2] & SELLER_ROLES:
                return error(403, "forbidden", "this needs the ActiveCampaign User security role")
            q = request.query_params.get("search", "").lower()
            return JSONResponse({"items": [{"id": i, "name": n} for i, n in catalog if q in n.lower()],
                                 "next_cursor": None})
        return route

    async def add_to_automation(request: Request) -> Response:
        found = await seller(request)
        if isinstance(found, Response):
            return found
        rid, row, rec = found
        body = await _json(request)
        chosen = dict(AUTOMATIONS).get(str(body.get("automation_id", "")))
        if chosen is None:
            return error(422, "unknown_automation", "no such automation", "automation_id")
        if not row.get("emailaddress1"):
            return error(422, "no_email", "the record has no email address, so it cannot enter an automation")
        if any(a["id"] == body["automation_id"] and a["status"] == "active" for a in rec.automations):
            return error(409, "already_in_automation", f"the contact is already in the automation “{chosen}”")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rec.automations.insert(0, {"id": body["automation_id"], "name": chosen, "status": "active",
                                   "started_at": now, "finished_at": None})
        rec.activities.append({"type": "automation_entered", "at": now, "title": chosen,
                               "url": f"{AC_APP}/app/automations/{body['automation_id']}", "detail": None})
        return JSONResponse({"outcome": "added", "contact_id": rid[:8], "synced_now": False})

    async def send_campaign(request: Request) -> Response:
        found = await seller(request)
        if isinstance(found, Response):
            return found
        rid, row, rec = found
        body = await _json(request)
        chosen = dict(CAMPAIGNS).get(str(body.get("campaign_id", "")))
        if chosen is None:
            return error(422, "unknown_campaign", "no such campaign", "campaign_id")
        if not row.get("emailaddress1"):
            return error(422, "no_email", "the record has no email address")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rec.activities.append({"type": "campaign_send", "at": now, "title": chosen,
                               "url": f"{AC_APP}/app/campaigns/{body['campaign_id']}", "detail": "Sent from Dynamics"})
        return JSONResponse({"outcome": "sent", "contact_id": rid[:8]})

    async def deny(request: Request) -> Response:
        body = await _json(request)
        user = next((u for u in dataverse.rows["systemuser"].values()
                     if str(u.get("domainname", "")).lower() == str(body.get("login", "")).lower()), None)
        if user is None:
            return error(422, "invalid", "no such user", "login")
        state.denied.add((user["systemuserid"], str(body.get("record", "")).lower()))
        return JSONResponse({"denied": len(state.denied)})

    async def forward(request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = await proxy.request(request.method, request.url.path, params=request.query_params,
                                       headers=headers, content=await request.body())
        drop = {"content-length", "transfer-encoding", "connection", "content-encoding"}
        return Response(upstream.content, status_code=upstream.status_code,
                        headers={k: v for k, v in upstream.headers.items() if k.lower() not in drop})

    rec_path = "/api/connections/{cid}/records/{entity}/{rid}"
    routes = [
        Route("/api/connections/{cid}/me", me),
        Route(f"{rec_path}/marketing", marketing),
        Route(f"{rec_path}/activities", activities),
        Route(f"{rec_path}/automations", add_to_automation, methods=["POST"]),
        Route(f"{rec_path}/campaigns", send_campaign, methods=["POST"]),
        Route("/api/connections/{cid}/automations", picker(AUTOMATIONS)),
        Route("/api/connections/{cid}/campaigns", picker(CAMPAIGNS)),
        Route("/_mock/deny", deny, methods=["POST"]),
        Route("/{path:path}", forward, methods=["GET", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(_Cors, state=state)
    app.state.mock = state
    return app


class _Cors:
    """The API's CORS rule for the mocked routes: only the connection's Dynamics origin (preflights too)."""

    def __init__(self, app: Any, state: MockState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Mapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not _mocked(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        origin = headers.get("origin", "")
        allowed = origin.lower() == self.state.origin
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            status = 204 if allowed else 403
            extra = [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin"),
                     (b"access-control-allow-methods", b"GET, PUT, POST, DELETE"),
                     (b"access-control-allow-headers", b"Authorization, Content-Type"),
                     (b"access-control-max-age", b"600")] if allowed else []
            await send({"type": "http.response.start", "status": status, "headers": extra})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and allowed:
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"access-control-allow-origin", origin.encode()),
                                                  (b"vary", b"Origin")]}
            await send(message)

        await self.app(scope, receive, send_with_cors)


def _mocked(path: str) -> bool:
    parts = path.strip("/").split("/")
    if len(parts) < 4 or parts[:2] != ["api", "connections"]:
        return False
    # Only the seller's record routes: a record's history (an admin route) goes to the API, with its CORS.
    seller_record_routes = ("marketing", "activities", "automations", "campaigns")
    return parts[3] in ("me", "automations", "campaigns") or (
        parts[3] == "records" and len(parts) == 7 and parts[6] in seller_record_routes)


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
