"""What the third-party HTTP loggers may print: no query string, no bearer token, no API key."""

from __future__ import annotations

import logging

import pytest

from sync_core.clock import FakeClock
from sync_core.http import install_redaction, scrub
from sync_core.http._redaction import THIRD_PARTY_LOGGERS
from tests.http.conftest import AC_KEY, DV_TOKEN, ScriptedApp, ac_client, dv_client


def _capture(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "sync_core.activecampaign", "sync_core.dynamics"):
        caplog.set_level(logging.DEBUG, logger=name)


async def test_httpx_request_lines_lose_their_query_and_ours_show_method_path_status(
        clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    _capture(caplog)
    app = ScriptedApp(clock)
    async with ac_client(app, clock) as ac, dv_client(app, clock) as dv:
        await ac.find_contact_by_email("private.person@example.com")
        await dv.query_all("contacts", select=["lastname"], filter="lastname eq 'Zq-secret-value'")
    assert "email=private.person" in app.seen[0].query  # the query did go out...
    lines = [(r.name, r.getMessage()) for r in caplog.records]
    text = "\n".join(m for _, m in lines)
    assert "HTTP Request: GET https://acct.api-us1.com/api/3/contacts " in text  # ...httpx logged, without it
    assert "HTTP Request: GET https://org.crm.dynamics.com/api/data/v9.2/contacts " in text
    assert ("sync_core.activecampaign", "GET /api/3/contacts -> 200") in lines
    assert ("sync_core.dynamics", "GET /api/data/v9.2/contacts -> 200") in lines
    for forbidden in ("?", "private.person", "Zq-secret", "$select", "$filter", AC_KEY, DV_TOKEN):
        assert forbidden not in text, forbidden


@pytest.mark.parametrize("name", THIRD_PARTY_LOGGERS)
def test_every_httpx_and_httpcore_logger_scrubs_tokens_keys_and_queries(caplog: pytest.LogCaptureFixture,
                                                                        name: str) -> None:
    install_redaction()
    caplog.set_level(logging.DEBUG, logger=name)
    logging.getLogger(name).debug("send_request_headers.started request=%s headers=%s",
                                  "GET https://org.crm.dynamics.com/api/data/v9.2/contacts?$filter=x%20eq%20'y'",
                                  [("Authorization", f"Bearer {DV_TOKEN}"), ("Api-Token", AC_KEY)])
    (record,) = [r for r in caplog.records if r.name == name]
    message = record.getMessage()
    assert "https://org.crm.dynamics.com/api/data/v9.2/contacts " in message
    for forbidden in ("?", "$filter", DV_TOKEN, AC_KEY):
        assert forbidden not in message, forbidden
    assert "Bearer <redacted>" in message


@pytest.mark.parametrize(("line", "clean"), [
    ('HTTP Request: GET https://a.api-us1.com/api/3/contacts?email=a%40b.c "HTTP/1.1 200 OK"',
     'HTTP Request: GET https://a.api-us1.com/api/3/contacts "HTTP/1.1 200 OK"'),
    ("GET /api/webhooks/ac/c1?secret=s3cr3t -> 200", "GET /api/webhooks/ac/c1 -> 200"),
    ("request target contacts?email=x@y.z", "request target contacts"),
    ("Authorization: bearer eyJ0.abc-def_g==", "Authorization: bearer <redacted>"),
    ("{'Api-Token': 'k-123'}", "{'Api-Token': '<redacted>'}"),
    ("api_key=k-123&email=x", "api_key=<redacted>&email=x"),
    ("[(b'Api-Token', b'k-123')]", "[(b'Api-Token', b'<redacted>')]"),
    ("is this a question?", "is this a question?"),
])
def test_scrub(line: str, clean: str) -> None:
    assert scrub(line) == clean
