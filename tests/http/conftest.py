"""A tiny scripted ASGI app both clients can talk to, a guard that records, and client factories.

The app answers from a script (:class:`Answer`) in order, then 200, with a body both clients'
identity calls accept (AC ``users/me``, Dataverse ``WhoAmI``). It notes every request's path,
headers and arrival time on the test's clock, and how many requests were inside it at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import FakeClock
from sync_core.dynamics import DataverseClient, StaticTokenCredential

AC_URL = "https://acct.api-us1.com"
AC_KEY = "ac-key-7f3c9e21a4-secret"
DV_URL = "https://org.crm.dynamics.com"
DV_TOKEN = "dv-token-5d1f0b9e-secret"

BODY = {"user": {"id": "1"}, "UserId": "u", "BusinessUnitId": "b", "OrganizationId": "o",
        "contacts": [], "meta": {"total": "0"}, "value": []}

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Seen:
    path: str
    query: str
    headers: dict[str, str]
    at: float


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    """JSON to answer (default: :data:`BODY`)."""


@dataclass
class ScriptedApp:
    clock: FakeClock
    script: list[Answer] = field(default_factory=list)
    hold: int = 0
    """Event-loop turns each request stays inside the app (to overlap concurrent calls)."""
    seen: list[Seen] = field(default_factory=list)
    inside: int = 0
    peak: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.seen.append(Seen(scope["path"], scope["query_string"].decode(), headers, self.clock.time()))
        self.inside += 1
        self.peak = max(self.peak, self.inside)
        for _ in range(self.hold):
            await asyncio.sleep(0)
        self.inside -= 1
        answer = self.script.pop(0) if self.script else Answer(200)
        out = {"content-type": "application/json", **answer.headers}
        await send({"type": "http.response.start", "status": answer.status,
                    "headers": [(k.encode(), v.encode()) for k, v in out.items()]})
        body = BODY if answer.body is None else answer.body
        await send({"type": "http.response.body", "body": json.dumps(body).encode()})


class RecordingGuard:
    """A pass's guard as the clients see it: notes every question and every wait, in order."""

    def __init__(self, clock: FakeClock, *, during_wait: Callable[[], Awaitable[None]] | None = None,
                 sleeps: bool = True) -> None:
        self.clock = clock
        self.events: list[tuple[str, float]] = []
        self._during_wait = during_wait
        self._sleeps = sleeps

    async def before_call(self) -> None:
        self.events.append(("before_call", self.clock.time()))

    def on_the_wire(self) -> None:
        self.events.append(("on_the_wire", self.clock.time()))

    async def wait(self, seconds: float) -> None:
        self.events.append(("wait", seconds))
        if self._during_wait is not None:
            await self._during_wait()
        if self._sleeps:
            await self.clock.sleep(seconds)

    @property
    def waits(self) -> list[float]:
        return [s for e, s in self.events if e == "wait"]

    @property
    def questions(self) -> int:
        return sum(1 for e, _ in self.events if e == "before_call")


def ac_client(app: Any, clock: FakeClock, **kw: Any) -> ActiveCampaignClient:
    transport = kw.pop("transport", None) or httpx.ASGITransport(app=app)
    return ActiveCampaignClient(kw.pop("url", AC_URL), AC_KEY, clock=clock, transport=transport, **kw)


def dv_client(app: Any, clock: FakeClock, **kw: Any) -> DataverseClient:
    transport = kw.pop("transport", None) or httpx.ASGITransport(app=app)
    return DataverseClient(kw.pop("url", DV_URL), StaticTokenCredential(DV_TOKEN), clock=clock,
                           transport=transport, **kw)


Client = ActiveCampaignClient | DataverseClient


def make_client(service: str, app: Any, clock: FakeClock, **kw: Any) -> Client:
    return ac_client(app, clock, **kw) if service == "ac" else dv_client(app, clock, **kw)


async def identity(client: Client) -> None:
    """One identity call: AC ``users/me``, Dataverse ``WhoAmI``."""
    if isinstance(client, ActiveCampaignClient):
        await client.get_me()
    else:
        await client.who_am_i()
