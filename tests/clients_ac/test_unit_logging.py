"""Log lines name method, path and status; never the key or a query string (emails live there)."""

from __future__ import annotations

import logging

import httpx
import pytest

from sync_core.activecampaign import ActiveCampaignClient
from sync_core.clock import FakeClock

KEY = "k-log-test-secret-value"


async def test_httpx_info_lines_lose_their_query(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"contacts": [], "meta": {"total": "0"}})

    caplog.set_level(logging.DEBUG)
    async with ActiveCampaignClient("https://acct.api-us1.com", KEY, clock=clock,
                                    transport=httpx.MockTransport(handler)) as ac:
        assert await ac.find_contact_by_email("secret.person@example.com") is None
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: GET https://acct.api-us1.com/api/3/contacts" in text  # httpx still logs, redacted
    assert "/api/3/contacts -> 200" in text
    assert "secret.person" not in text and "?" not in text and KEY not in text
