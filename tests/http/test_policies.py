"""The service decisions the clients plug into the loop: Dataverse's token and cookies per attempt."""

from __future__ import annotations

from typing import Any

import httpx
from azure.core.credentials import AccessToken

from sync_core.clock import FakeClock
from sync_core.dynamics import DataverseClient, StaticTokenCredential
from tests.http.conftest import DV_URL, Answer, ScriptedApp


class CountingCredential(StaticTokenCredential):
    """Hands out a new token each time it is asked, so the test sees which attempt used which."""

    def __init__(self) -> None:
        super().__init__("unused")
        self.asked = 0

    async def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                        enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        self.asked += 1
        return AccessToken(f"token-{self.asked}", 2_000_000_000)


async def test_dataverse_asks_a_token_per_attempt_and_sends_no_affinity_cookie(clock: FakeClock) -> None:
    affinity = {"set-cookie": "ARRAffinity=web-7; Path=/; HttpOnly"}
    app = ScriptedApp(clock, script=[Answer(503, affinity), Answer(200, affinity), Answer(200, affinity)])
    credential = CountingCredential()
    async with DataverseClient(DV_URL, credential, clock=clock, transport=httpx.ASGITransport(app=app)) as dv:
        await dv.who_am_i()
        await dv.who_am_i()
    assert [s.headers["authorization"] for s in app.seen] == ["Bearer token-1", "Bearer token-2", "Bearer token-3"]
    assert all("cookie" not in s.headers for s in app.seen)
