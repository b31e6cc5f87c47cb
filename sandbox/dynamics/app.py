"""The ASGI app: real routes under ``/api/data/v9.2/``, the control surface under ``/_sandbox/``.

Request order on the real routes: injected latency and dropped connections, bearer token (401),
forced 429s, random injected errors, then the service-protection request limit (429 +
``Retry-After``, dynamics-webapi.md §5), then the Web API itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.clock import SandboxClock, TimeSource

from . import api, batch, caller, security
from .dataverse import Dataverse
from .errors import REQUESTS_LIMIT, DataverseError
from .http import ApiRequest, ApiResponse
from .latency import Meter

PREFIX = "/api/data/v9.2/"


class DroppedConnection(Exception):
    """Raised after a partial response so the client sees the connection drop mid-answer."""


class _DropMiddleware:
    def __init__(self, app: ASGIApp, dataverse: Dataverse) -> None:
        self.app = app
        self.dv = dataverse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX) and self.dv.faults.drop_next > 0:
            self.dv.faults.drop_next -= 1
            self.dv.counters["dropped"] += 1
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1000")]})
            await send({"type": "http.response.body", "body": b'{"value": [', "more_body": True})
            raise DroppedConnection("sandbox fault: connection dropped")
        await self.app(scope, receive, send)


def _to_starlette(response: ApiResponse) -> Response:
    return Response(response.body, status_code=response.status, headers=response.headers)


def _error(dv: Dataverse, exc: DataverseError) -> Response:
    return _to_starlette(ApiResponse.error(exc))


def _limit_error(dv: Dataverse, retry_after: float) -> DataverseError:
    limit = dv.rate_limit if dv.rate_limit is not None else 6000
    window = int(dv.rate_window)
    return DataverseError(
        429,
        REQUESTS_LIMIT,
        f"Number of requests exceeded the limit of {limit} over time window of {window} seconds.",
        {"Retry-After": str(math.ceil(retry_after))},
    )


async def web_api(request: Request) -> Response:
    dv: Dataverse = request.app.state.dataverse
    route = f"{request.method} {request.path_params['path'].split('(')[0].split('/')[0] or '/'}"
    dv.counters["requests"] += 1
    dv.counters[route] += 1
    faults = dv.faults
    if faults.latency > 0:
        await dv.sleep(faults.latency)
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if not token or token not in dv.tokens or token in dv.expired_tokens:
        dv.counters["unauthorized"] += 1
        return _unauthorized(dv, request)
    refused = _refusal(dv, token)
    if refused is not None:
        return refused
    try:
        dv.limits.enter(token)
    except DataverseError as exc:
        dv.counters["throttled"] += 1
        return _error(dv, exc)
    try:
        return await _serve(dv, request, token, route)
    finally:
        dv.limits.leave(token)


def _refusal(dv: Dataverse, token: str) -> Response | None:
    """Forced 429s, random injected errors, then the service-protection limits (limits.py)."""
    faults = dv.faults
    if faults.force_429 > 0:
        faults.force_429 -= 1
        dv.counters["throttled"] += 1
        return _error(dv, _limit_error(dv, faults.retry_after))
    if faults.error_rate > 0 and dv.fault_rng.random() < faults.error_rate:
        dv.counters["faults"] += 1
        return _error(
            dv, DataverseError(faults.error_status, "0x80040216", "An unexpected error occurred (sandbox fault).")
        )
    wait = dv.throttle(token)
    if wait is not None:
        dv.counters["throttled"] += 1
        return _error(dv, _limit_error(dv, wait))
    try:
        dv.limits.check_execution(token, dv.clock.time())
    except DataverseError as exc:
        dv.counters["throttled"] += 1
        return _error(dv, exc)
    return None


async def _serve(dv: Dataverse, request: Request, token: str, route: str) -> Response:
    req = ApiRequest(
        method=request.method,
        path=request.path_params["path"],
        query=parse_qsl(request.url.query, keep_blank_values=True),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=await request.body(),
        base=f"{request.url.scheme}://{request.url.netloc}{PREFIX}",
        token=token,
    )
    dv.meter = Meter()
    timed_out: batch.BatchTimedOut | None = None
    try:
        req.caller = caller.resolve(dv, token, req.headers)
        response = batch.handle(dv, req, api.dispatch) if req.path == "$batch" else api.dispatch(dv, req)
    except DataverseError as exc:
        response = ApiResponse.error(exc)
    except batch.BatchTimedOut as exc:
        timed_out, response = exc, exc.response()
    meter, dv.meter = dv.meter, Meter()
    ms = dv.latency.server_ms(meter, route)
    dv.limits.charge(token, dv.clock.time(), ms)
    dv.latency.record(route, ms)
    announced = ms / 1000.0
    await dv.latency.wait(ms / 1000.0, dv.clock, dv.sleep)
    if timed_out is not None:  # the gateway gives up long after the server started
        dv.counters["batch_timeouts"] += 1
        if dv.latency.mode == "header":
            announced += timed_out.seconds
        else:
            await dv.latency.wait_gateway(timed_out.seconds, dv.clock, dv.sleep)
    out = _to_starlette(response)
    if dv.latency.mode == "header":  # the caller owns simulated time and waits this (bench/simclock.py)
        out.headers["x-sandbox-latency"] = f"{announced:.6f}"
    out.headers.update(dv.limits.headers(token, dv.clock.time()))
    if dv.rate_limit is not None:
        out.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] = str(dv.requests_remaining(token))
    if dv.latency.mode == "simulated":
        out.headers["x-sandbox-time"] = f"{dv.clock.time():.6f}"
    return out


def _unauthorized(dv: Dataverse, request: Request) -> Response:
    headers = {
        "WWW-Authenticate": (
            "Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize, "
            f"resource_id={request.url.scheme}://{request.url.netloc}/"
        )
    }
    if dv.switches["auth_401_body"] == "error":
        body = {"error": {"code": "0x80072560", "message": "The user is not a member of the organization."}}
        return JSONResponse(body, status_code=401, headers=headers)
    return Response(b"", status_code=401, headers=headers)


# ------------------------------------------------------------------ control surface


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise DataverseError(400, "sandbox", "the control body must be a JSON object")
    return data


def _control(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        dv: Dataverse = request.app.state.dataverse
        try:
            result = await handler(dv, request)
        except DataverseError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(result)

    return endpoint


async def _seed(dv: Dataverse, request: Request) -> Any:
    body = await _body(request)
    return dv.seed(contacts=int(body.get("contacts", 0)), seed=body.get("seed"))


async def _reset(dv: Dataverse, request: Request) -> Any:
    dv.reset()
    return {"ok": True}


async def _faults(dv: Dataverse, request: Request) -> Any:
    if request.method == "POST":
        return dv.set_faults(await _body(request))
    return dv.faults.as_dict()


async def _switches(dv: Dataverse, request: Request) -> Any:
    if request.method == "POST":
        return dv.set_switches(await _body(request))
    return dv.switches


async def _clock(dv: Dataverse, request: Request) -> Any:
    """POST {"advance": s} | {"set": epoch} | {"freeze": true} | {"unfreeze": true} (SandboxClock only)."""
    clock = dv.clock
    if request.method == "POST":
        if not isinstance(clock, SandboxClock):
            raise DataverseError(409, "sandbox", "the clock was injected by the test; move it there")
        body = await _body(request)
        was_frozen = clock._frozen is not None  # SandboxClock has no public flag
        if "set" in body:
            clock.freeze(float(body["set"]))
            if not (was_frozen or body.get("freeze")):
                clock.unfreeze()
        elif body.get("freeze"):
            clock.freeze()
        if "advance" in body:
            clock.advance(float(body["advance"]))
        if body.get("unfreeze"):
            clock.unfreeze()
    frozen = isinstance(clock, SandboxClock) and clock._frozen is not None
    return {"time": clock.time(), "frozen": frozen, "controllable": isinstance(clock, SandboxClock)}


async def _tokens(dv: Dataverse, request: Request) -> Any:
    """{"tokens": [...]} rotates; {"expire": "t"}; {"users": {"t": "<systemuserid>"}} adds tokens of that user."""
    body = await _body(request)
    if "tokens" in body:
        dv.rotate_tokens([str(t) for t in body["tokens"]])
    if "expire" in body:
        dv.expire_token(str(body["expire"]))
    for token, user_id in dict(body.get("users") or {}).items():
        dv.add_user_token(str(token), str(user_id))
    return {"count": len(dv.tokens), "expired": len(dv.expired_tokens), "users": dict(dv.token_users)}


async def _owners(dv: Dataverse, request: Request) -> Any:
    """POST {"table": "contact", "id": "<id>", "systemuser": "<id>"} (or "team"): assign the record."""
    body = await _body(request)
    kinds = [k for k in ("systemuser", "team") if k in body]
    if len(kinds) != 1:
        raise DataverseError(400, "sandbox", "give exactly one of 'systemuser' or 'team'")
    row = dv.assign(str(body["table"]), str(body["id"]), kinds[0], str(body[kinds[0]]))
    return {"_ownerid_value": row["_ownerid_value"], "versionnumber": row["versionnumber"]}


async def _privileges(dv: Dataverse, request: Request) -> Any:
    """GET ?role=<id> | POST {"role": "<id>", "privileges": {"prvReadContact": "Local", "prvWriteLead": null}}."""
    if request.method == "GET":
        role = dv.require("role", str(request.query_params.get("role", "")))
        return security.role_privileges(dv, role)
    body = await _body(request)
    changes = body.get("privileges")
    if not isinstance(changes, dict):
        raise DataverseError(400, "sandbox", "'privileges' must be an object of privilege name -> depth or null")
    return security.set_role_privileges(dv, str(body["role"]), changes)


async def _change_tracking(dv: Dataverse, request: Request) -> Any:
    body = await _body(request)
    table = str(body["table"])
    dv.table(table)
    if "enabled" in body:
        dv.set_change_tracking(table, bool(body["enabled"]))
    if body.get("expire_tokens"):
        dv.expire_change_tokens(table)
    return {name: t.change_tracking for name, t in dv.tables.items()}


async def _rate_limit(dv: Dataverse, request: Request) -> Any:
    """{"limit": 6000 or null, "window": 300, "execution_ms": 1200000 or null, "concurrency": 52 or null}."""
    body = await _body(request)
    if "limit" in body:
        dv.rate_limit = None if body["limit"] is None else int(body["limit"])
    if "window" in body:
        dv.rate_window = float(body["window"])
        dv.limits.window = dv.rate_window
    if "execution_ms" in body:
        dv.limits.execution_ms = None if body["execution_ms"] is None else float(body["execution_ms"])
    if "concurrency" in body:
        dv.limits.concurrency = None if body["concurrency"] is None else int(body["concurrency"])
    dv.rate_log.clear()
    dv.limits.reset()
    return {
        "limit": dv.rate_limit,
        "window": dv.rate_window,
        "execution_ms": dv.limits.execution_ms,
        "concurrency": dv.limits.concurrency,
    }


async def _latency(dv: Dataverse, request: Request) -> Any:
    """GET → mode, costs, per-route p50/p99 of server time; POST {"mode": "simulated", "costs": {...}}."""
    if request.method == "POST":
        return dv.latency.configure(await _body(request))
    return dv.latency.report()


async def _users(dv: Dataverse, request: Request) -> Any:
    """POST {"id": "<systemuserid>", "isdisabled": true}: an admin's change (not writable through the Web API here)."""
    body = await _body(request)
    row = dv.set_user_disabled(str(body["id"]), bool(body.get("isdisabled", True)))
    return {"systemuserid": row["systemuserid"], "isdisabled": row["isdisabled"]}


async def _inspect(dv: Dataverse, request: Request) -> Any:
    return {
        "counters": dict(dv.counters),
        "rows": {name: len(rows) for name, rows in dv.rows.items()},
        "version": dv.version,
        "time": dv.clock.time(),
        "change_tracking": {name: t.change_tracking for name, t in dv.tables.items()},
        "app_user": dv.app_user,
        "organization": dv.org_id,
    }


async def _table_rows(dv: Dataverse, request: Request) -> Any:
    logical = request.path_params["table"]
    dv.table(logical)
    row_id = request.query_params.get("id")
    if row_id:
        row = dv.get(logical, row_id)
        if row is None:
            raise DataverseError(404, "sandbox", "no such row")
        return row
    limit = int(request.query_params.get("limit", "100"))
    return [dv.rows[logical][i] for i in dv.sorted_ids(logical)[:limit]]


async def _links(dv: Dataverse, request: Request) -> Any:
    return {name: sorted(map(list, pairs)) for name, pairs in dv.links.items()}


def _control_routes() -> list[Route]:
    both = ["GET", "POST"]
    return [
        Route("/_sandbox/seed", _control(_seed), methods=["POST"]),
        Route("/_sandbox/reset", _control(_reset), methods=["POST"]),
        Route("/_sandbox/faults", _control(_faults), methods=both),
        Route("/_sandbox/switches", _control(_switches), methods=both),
        Route("/_sandbox/clock", _control(_clock), methods=both),
        Route("/_sandbox/tokens", _control(_tokens), methods=["POST"]),
        Route("/_sandbox/change-tracking", _control(_change_tracking), methods=["POST"]),
        Route("/_sandbox/rate-limit", _control(_rate_limit), methods=["POST"]),
        Route("/_sandbox/latency", _control(_latency), methods=both),
        Route("/_sandbox/users", _control(_users), methods=["POST"]),
        Route("/_sandbox/owners", _control(_owners), methods=["POST"]),
        Route("/_sandbox/privileges", _control(_privileges), methods=both),
        Route("/_sandbox/inspect", _control(_inspect), methods=["GET"]),
        Route("/_sandbox/tables/{table}", _control(_table_rows), methods=["GET"]),
        Route("/_sandbox/links", _control(_links), methods=["GET"]),
    ]


def create_app(
    *,
    clock: TimeSource | None = None,
    tokens: Iterable[str] = ("sandbox-dynamics-token",),
    seed: int = 1,
    seed_contacts: int = 0,
    rate_limit: int | None = None,
    rate_window: float = 300.0,
    execution_ms: float | None = None,
    concurrency: int | None = None,
    latency: str = "off",
) -> Starlette:
    """A fresh in-memory Dataverse organisation behind the Web API routes.

    ``rate_limit``/``execution_ms``/``concurrency``: the service-protection limits (None: off;
    documented defaults 6000, 1,200,000 and 52). ``latency``: "off", "simulated" or "real" (latency.py).
    """
    dv = Dataverse(clock or SandboxClock(), tokens, seed)
    dv.rate_limit = rate_limit
    dv.rate_window = rate_window
    dv.limits.window = rate_window
    dv.limits.execution_ms = execution_ms
    dv.limits.concurrency = concurrency
    dv.latency.configure({"mode": latency})
    dv.seed(contacts=seed_contacts)
    methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]
    routes = [Route(PREFIX + "{path:path}", web_api, methods=methods), *_control_routes()]
    app = Starlette(routes=routes, middleware=[Middleware(_DropMiddleware, dataverse=dv)])
    app.state.dataverse = dv
    return app


__all__ = ["DroppedConnection", "create_app"]
