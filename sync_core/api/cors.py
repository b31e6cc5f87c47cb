"""CORS decided per connection: only the connection's own Dynamics origin may call from a browser.

The platform's CORS is off (DESIGN.md §6); this middleware looks at ``Origin`` on requests to
``/api/connections/{id}/…`` and answers preflights itself. No origin, no work.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response

_PATH = re.compile(r"^/api/connections/([a-z0-9][a-z0-9-]{1,62})(/|$)")
ALLOW_METHODS = "GET, PUT, POST, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def install_cors(app: FastAPI) -> None:
    @app.middleware("http")
    async def per_connection_cors(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        origin = request.headers.get("origin")
        m = _PATH.match(request.url.path)
        if not origin or m is None:
            return await call_next(request)
        allowed = await _allowed_origin(request, m.group(1))
        is_preflight = request.method == "OPTIONS" and "access-control-request-method" in request.headers
        if is_preflight:
            if allowed is None or allowed != origin.lower():
                return Response(status_code=403)
            return Response(status_code=204, headers=_headers(origin) | {
                "Access-Control-Allow-Methods": ALLOW_METHODS, "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE})
        response = await call_next(request)
        if allowed is not None and allowed == origin.lower():
            for k, v in _headers(origin).items():
                response.headers[k] = v
        else:
            response.headers["Vary"] = "Origin"
        return response


def _headers(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def _allowed_origin(request: Request, connection_id: str) -> str | None:
    ctx = request.app.state.api
    try:
        rt = await ctx.runtime()
        config = await rt.store.get_config(connection_id)
    except Exception:  # noqa: BLE001 - CORS must not turn a request into a 500; the route reports the failure
        return None
    return origin_of(config.dynamics.environment_url) if config is not None else None
