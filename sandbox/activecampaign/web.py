"""Glue between Starlette and the handlers: JSON in/out, AC errors, paging, plan gates."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .errors import PLAN_LIMIT_BODIES, ACError, jsonapi
from .render import Renderer
from .state import ACState

Handler = Callable[[Request, ACState, Renderer], Awaitable[tuple[int, Any]]]
API = "/api/3"


def endpoint(fn: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        ac: ACState = request.app.state.ac
        renderer = Renderer(ac, str(request.base_url))
        try:
            status, body = await fn(request, ac, renderer)
        except ACError as err:
            status, body = err.status, err.body
        if body is None:
            return Response(status_code=status)
        return JSONResponse(body, status_code=status)

    run.__name__ = fn.__name__
    return run


def api(path: str, fn: Handler, methods: list[str]) -> Route:
    return Route(API + path, endpoint(fn), methods=methods)


async def body_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as err:
        raise ACError(400, {"errors": [{"status": 400, "title": "Bad Request", "detail": "Malformed JSON"}]}) from err


async def wrapped(request: Request, key: str) -> dict[str, Any]:
    """The singular wrapper object, e.g. ``{"contact": {...}}``."""
    body = await body_json(request)
    inner = body.get(key) if isinstance(body, dict) else None
    if not isinstance(inner, dict):
        raise jsonapi(422, f"The {key} attribute was not provided", "field_missing", f"/data/attributes/{key}")
    return inner


def paging(request: Request, *, default: int = 20, maximum: int = 100) -> tuple[int, int]:
    """AC caps ``limit`` at 100 (pagination page); a larger value is clamped."""
    try:
        limit = int(request.query_params.get("limit", default))
        offset = int(request.query_params.get("offset", 0))
    except ValueError as err:
        raise ACError(400, {}) from err
    return max(0, min(limit, maximum)), max(0, offset)


def require_feature(ac: ACState, feature: str) -> None:
    if not ac.has_feature(feature):
        status = int(ac.switches["plan_limit_status"])
        raise ACError(status, PLAN_LIMIT_BODIES[status])


def page_meta(total: int) -> dict[str, Any]:
    return {"total": str(total)}
