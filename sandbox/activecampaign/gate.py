"""ASGI middleware in front of the real routes: deferred import processing, faults, auth, rate limit, request log.

``/_sandbox/...`` passes straight through (no auth, no limits, not logged).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import AUTH_FAILED_BODY
from .imports import process_due_imports
from .latency import LATENCY_HEADER, wait_until
from .state import ACState, RequestRecord
from .webhooks import deliver_pending

API_PREFIX = "/api/3/"
V1_PATH = "/admin/api.php"


class Gate:
    def __init__(self, app: ASGIApp, *, ac: ACState, routes: list[Route]) -> None:
        self.app = app
        self.ac = ac
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sandbox/") or path == "/_sandbox":
            await self.app(scope, receive, send)
            await deliver_pending(self.ac)  # what the control route made happen (opens, bounces, ...)
            return
        ac = self.ac
        method = scope["method"]
        record = RequestRecord(method=method, path=path, route=self._template(scope), status=0, time=ac.now())
        ac.requests.append(record)
        process_due_imports(ac)

        delay: list[float] = []  # the latency to announce in ``x-sandbox-latency`` (answer "header")

        async def send_logged(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                if delay:
                    message = {**message, "headers": [*message.get("headers", []),
                                                      (LATENCY_HEADER, f"{delay[0]:.6f}".encode())]}
            await send(message)

        if not (path.startswith(API_PREFIX) or path == V1_PATH):
            await _json(send_logged, 404, {"message": "Not Found"})
            return
        if await self._fault(send_logged, record):
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path.startswith(API_PREFIX) and headers.get("api-token") != ac.api_token:
            await _json(send_logged, 403, AUTH_FAILED_BODY)
            return
        is_import = method == "POST" and path == API_PREFIX + "import/bulk_import"
        if ac.enforce_rate_limit and not (is_import and not ac.switches["bulk_import_spends_rps"]):
            now = ac.now()
            if not ac.rps.try_admit(now):
                await _over_limit(send_logged, ac, ac.rps.retry_after(now))
                return
        if ac.latency is not None:  # answers latency seconds after arrival on the sandbox clock, never sleeping
            drawn = ac.latency.draw(method, record.route)
            if ac.latency_answer == "header":  # the caller owns simulated time and waits it (bench/simclock.py)
                delay.append(drawn)
                ac.latency_waited += drawn
            else:
                ac.latency_waited += await wait_until(ac.clock, record.time + drawn)
        await self.app(scope, receive, send_logged)
        await deliver_pending(ac)  # webhook events of this request, after its answer

    async def _fault(self, send: Send, record: RequestRecord) -> bool:
        faults = self.ac.faults
        if faults.drop_next > 0:
            faults.drop_next -= 1
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")]})
            record.status = -1  # logged as dropped
            raise httpx.RemoteProtocolError("sandbox fault: connection dropped before the response body")
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if faults.force_429 > 0:  # answers exactly as the limiter would (status from ``rate_limit_status``)
            faults.force_429 -= 1
            await _over_limit(send, self.ac, 1)
            return True
        if faults.error_rate > 0 and self.ac.rng.random() < faults.error_rate:
            await _json(send, faults.error_status, {"message": "Sandbox injected error"})
            return True
        return False

    def _template(self, scope: Scope) -> str | None:
        partial = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return route.path
            if match == Match.PARTIAL and partial is None:
                partial = route.path
        return partial


async def _over_limit(send: Send, ac: ACState, retry_after: int) -> None:
    """The rate limiter's answer: 429 or 503 per the ``rate_limit_status`` switch, with ``Retry-After``."""
    status = int(ac.switches["rate_limit_status"])
    body = {"message": "Too Many Requests"} if status == 429 else {"message": "Service Unavailable"}
    await _json(send, status, body,
                {"Retry-After": str(retry_after), "RateLimit-Limit": "5", "RateLimit-Remaining": "0"})


async def _json(send: Send, status: int, body: Any, extra: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
