"""CORS decided per connection: only the connection's own Dynamics origin may call from a browser.

The platform's CORS is off (DESIGN.md §6); this middleware looks at ``Origin`` on requests to
``/api/connections/{id}/…`` and answers preflights itself. An origin that is no Dynamics origin
under the host policy gets the same refusal whether the connection exists or not, and costs no
read. A Dynamics origin may read the connection: it is allowed when it is the connection's own
environment, and for ``PUT …/connection`` (creating a connection from the Dynamics page, before
any exists) any Dynamics origin is — that route judges the caller by their role in the target
environment, not by the origin.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from azure.core.exceptions import AzureError
from fastapi import FastAPI, Request, Response

from sync_core.model.hosts import HostPolicy, HostRefused

_PATH = re.compile(r"^/api/connections/([a-z0-9][a-z0-9-]{1,62})(/[^?]*)?$")
ALLOW_METHODS = "GET, PUT, POST, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type"
MAX_AGE = "600"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def dynamics_origin(origin: str, policy: HostPolicy) -> bool:
    """A bare ``scheme://host[:port]`` the policy allows as a Dynamics environment."""
    try:
        policy.check_url(origin, "dynamics", "origin")
    except HostRefused:
        return False
    return origin_of(origin) == origin.lower() and urlsplit(origin).path == ""


def install_cors(app: FastAPI) -> None:
    @app.middleware("http")
    async def per_connection_cors(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        origin = request.headers.get("origin")
        m = _PATH.match(request.url.path)
        if not origin or m is None:
            return await call_next(request)
        is_preflight = request.method == "OPTIONS" and "access-control-request-method" in request.headers
        method = request.headers.get("access-control-request-method", "") if is_preflight else request.method
        allowed = await _allowed(request, origin, m.group(1), m.group(2) or "", method.upper())
        if is_preflight:
            if not allowed:
                return Response(status_code=403)
            return Response(status_code=204, headers=_headers(origin) | {
                "Access-Control-Allow-Methods": ALLOW_METHODS, "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": MAX_AGE})
        response = await call_next(request)
        if allowed:
            for k, v in _headers(origin).items():
                response.headers[k] = v
        else:
            response.headers["Vary"] = "Origin"
        return response


def _headers(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


async def _allowed(request: Request, origin: str, connection_id: str, rest: str, method: str) -> bool:
    ctx = request.app.state.api
    if not dynamics_origin(origin, ctx.clients.host_policy):
        return False  # decided without a read: nothing about the connection shows
    if rest == "/connection" and method == "PUT":
        return True
    try:
        rt = await ctx.runtime()
        config = await rt.store.get_config(connection_id)
    except (AzureError, ValueError):  # CORS must not turn a request into a 500; the route reports the failure
        return False
    return config is not None and origin_of(config.dynamics.environment_url) == origin.lower()
