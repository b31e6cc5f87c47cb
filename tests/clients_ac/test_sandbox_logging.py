"""All log output of a client run (httpx/httpcore included, DEBUG) holds no API key and no query string."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette

from sync_core.activecampaign import AuthenticationError, NotFoundError
from sync_core.clock import FakeClock
from tests.clients_ac.conftest import SANDBOX_KEY, client_for

QUERYISH = re.compile(r"\?\S*=|email=|api_key|filters%5B|filters\[|id_greater=|batchId=")


def assert_clean(records: list[logging.LogRecord], *secrets: str) -> str:
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in records)
    for secret in secrets:
        assert secret not in text
    assert not QUERYISH.search(text), QUERYISH.search(text)
    return text


async def test_a_run_logs_no_key_and_no_query(ac_app: Starlette, ac_state: Any, clock: FakeClock,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sync_core.activecampaign"):
        caplog.set_level(logging.DEBUG, logger=name)
    ac_state.reset(seed_contacts=120)
    client = client_for(ac_app, clock)
    await client.get_me()
    await client.create_contact({"email": "private.person@example.com"})
    assert await client.find_contact_by_email("private.person@example.com") is not None
    _ = [c async for c in client.iter_contacts(updated_after=clock.now() - timedelta(days=400))]
    outcome = await client.import_contacts([{"email": "secret.one@example.com"}, {"email": "bad"},
                                            {"email": "secret.two@example.com"}])
    await client.import_info(outcome.batch_ids[0])
    ac_state.inject_fault(force_429=2)
    await client.get_me()
    ac_state.clear_faults()
    campaigns = [c async for c in client.iter_campaigns()]
    messages = await client.list_messages()
    await client.send_campaign(email="private.person@example.com", campaign_id=str(campaigns[0]["id"]),
                               message_id=str(messages[0]["id"]))
    with pytest.raises(NotFoundError):
        await client.get_contact("999999")
    bad = client_for(ac_app, clock, key="wrong-key-5d1f")
    with pytest.raises(AuthenticationError):
        await bad.find_contact_by_email("private.person@example.com")
    await client.aclose()
    await bad.aclose()

    text = assert_clean(caplog.records, SANDBOX_KEY, "wrong-key-5d1f", "private.person", "secret.one")
    assert "/api/3/contacts -> 200" in text  # the client does log method, path and status
    assert "HTTP Request:" in text  # and httpx's own lines are there, redacted
    assert "429" in text
