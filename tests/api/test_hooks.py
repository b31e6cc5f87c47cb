"""The ActiveCampaign webhook step (issue 18): a wrong token is a 404 decided with no storage read, a right
one queues a create request, a burst is queued without a 5xx, rotating retires old URLs, and the token
appears in no log line nor in the host's request telemetry."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.data.tables.aio import TableClient

from sync_core import telemetry
from sync_core.engine.scheduling import PassRequest, handle_request
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"
ROOT = Path(__file__).resolve().parents[2]
TABLE_CALLS = ("get_entity", "query_entities", "list_entities", "upsert_entity", "create_entity", "update_entity",
               "delete_entity", "submit_transaction")


async def requesting(api: Api) -> str:
    """A connected connection with lead requests on; the hook path an admin gives the automation."""
    await api.connect()
    sam = api.user("Sam Seller")["systemuserid"]
    config = {"entities": {"contacts": {"enabled": True, "direction": "push"},
                           "leads": {"enabled": True, "direction": "bidirectional",
                                     "constants": {"subject": "From ActiveCampaign", "lastname": "(none)"}}},
              "create_requests": {"enabled": True, "tag_create_contact": None,
                                  "owner": {"kind": "systemuser", "id": sam}}}
    r = await api.client.put(f"{P}/config", json={"config": config}, headers=api.auth())
    assert r.status_code == 200, r.text
    r = await api.client.get(f"{P}/hooks/ac", headers=api.auth())
    assert r.status_code == 200, r.text
    return str(r.json()["path"])


def form(ac_id: str) -> dict[str, str]:
    return {"contact[id]": ac_id, "contact[email]": f"p{ac_id}@example.com", "type": "automation"}


async def test_a_wrong_token_is_a_404_with_no_storage_read(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    path = await requesting(api)
    good = path.rsplit("/", 1)[1]
    calls: list[str] = []
    for name in TABLE_CALLS:
        original = getattr(TableClient, name)

        def counting(self: Any, *a: Any, _name: str = name, _orig: Any = original, **k: Any) -> Any:
            calls.append(_name)
            return _orig(self, *a, **k)

        monkeypatch.setattr(TableClient, name, counting)
    wrong = [f"/api/hooks/{CID}/ac/{'0' * len(good)}", f"/api/hooks/{CID}/ac/{good[:-1]}x",
             f"/api/hooks/other-connection/ac/{good}", f"/api/hooks/{CID}/ac/short"]
    for url in wrong:
        r = await api.client.post(url, data=form("1"))
        assert r.status_code == 404, (url, r.status_code, r.text)
    assert calls == []  # decided from the key alone
    r = await api.client.post(path, data=form("1"))
    assert r.status_code == 202 and calls  # the right one reads and writes the store


async def test_a_right_token_queues_a_request_and_a_burst_is_queued_without_a_5xx(api: Api) -> None:
    path = await requesting(api)
    r = await api.client.post(path, data=form("7"))
    assert r.status_code == 202, r.text
    queued = await api.rt.store.get_request(CID, "lead", "7")
    assert queued is not None and (queued.status, queued.source) == ("pending", "webhook")
    statuses = [(await api.client.post(path, data=form(str(1000 + i % 250)))).status_code for i in range(500)]
    assert set(statuses) == {202}
    pending = await api.rt.store.list_requests(CID, status="pending", limit=5000)
    assert len(pending) == 251  # one request per (table, AC contact), however often AC calls
    r = await api.client.get(f"{P}/status", headers=api.auth())
    assert r.json()["create_requests"]["pending"] == 251
    # No body AC could send gets a 5xx or a 410; a body without a contact id is a 4xx naming the field.
    r = await api.client.post(path, data={"contact[email]": "x@example.com"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "contact[id]"
    r = await api.client.post(f"{path}?create=contact", data=form("8"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "create"


async def test_rotating_the_key_retires_the_old_url(api: Api) -> None:
    path = await requesting(api)
    r = await api.client.post(f"{P}/hooks/ac/rotate", headers=api.auth())
    assert r.status_code == 200 and r.json()["key_version"] == 2
    new = str(r.json()["path"])
    assert new != path
    assert (await api.client.post(path, data=form("3"))).status_code == 404
    assert (await api.client.post(new, data=form("3"))).status_code == 202


async def test_the_token_appears_in_no_log_line(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    path = await requesting(api)
    token = path.rsplit("/", 1)[1]
    caplog.set_level(logging.DEBUG)
    for url in (path, path[:-2] + "zz"):
        await api.client.post(url, data=form("5"))
    # The test's own client stands in for ActiveCampaign: its request lines are AC's side, not the app's.
    app_records = [r for r in caplog.records
                   if not (r.name == "httpx" and r.getMessage().startswith("HTTP Request: POST http://api.test/"))]
    assert any("create request queued" in r.getMessage() for r in app_records)
    for record in app_records:
        text = record.getMessage() + " " + " ".join(map(str, record.__dict__.values()))
        assert token not in text and token[:16] not in text, record.getMessage()


def test_the_host_records_no_request_url_and_the_app_instruments_no_requests() -> None:
    host = json.loads((ROOT / "host.json").read_text(encoding="utf-8"))
    logging_cfg = host["logging"]
    # Host.Results is the host's request telemetry (the requests table, with the URL): not recorded at all.
    assert logging_cfg["logLevel"]["Host.Results"] == "None"
    # What stays: the host's aggregates per function (count, successes, failures, durations, no URL) — every
    # HTTP route is one catch-all function, so no per-function setting could keep the others' request rows.
    assert logging_cfg["logLevel"]["Host.Aggregator"] == "Information"
    auto = logging_cfg["applicationInsights"]["httpAutoCollectionOptions"]
    assert auto["enableHttpTriggerExtendedInfoCollection"] is False
    # The app's own exporter sends only custom events: no request or client instrumentation.
    assert {"fastapi", "httpx", "requests", "urllib", "urllib3", "azure_sdk"} <= set(
        telemetry._DISABLED_INSTRUMENTATIONS)


async def test_request_settings_the_engine_cannot_carry_out_are_a_422_naming_the_field(api: Api) -> None:
    await api.connect()
    leads = {"enabled": True, "direction": "bidirectional", "constants": {"subject": "s", "lastname": "l"}}
    base = {"entities": {"contacts": {"enabled": True, "direction": "push"}, "leads": leads}}
    app_user = api.dv.app_user
    for requests, field in [({"enabled": True, "tag_create_contact": None}, "create_requests.owner"),
                            ({"enabled": True, "tag_create_contact": None,
                              "owner": {"kind": "systemuser", "id": app_user}}, "create_requests.owner.id")]:
        r = await api.client.put(f"{P}/config", json={"config": {**base, "create_requests": requests}},
                                 headers=api.auth())
        assert r.status_code == 422, r.text
        assert r.json()["error"]["field"] == field, r.text


async def test_a_webhook_request_asks_for_a_pass_now_and_that_pass_creates_the_record(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Near real time: the route asks the queue worker for a pass (not the next timer, hours away); a repeat of a
    pending request asks for nothing more; the worker's pass (``handle_request``, what ``function_app.sync_worker``
    runs) creates the lead."""
    path = await requesting(api)
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True}, headers=api.auth())
    assert r.status_code == 200, r.text
    sent: list[PassRequest] = []

    async def send(request: PassRequest, *, delay_seconds: int = 0) -> None:
        sent.append(request)

    monkeypatch.setattr(api.rt.queue, "send", send)
    api.clock.advance(5)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.ac_app), base_url=api.ac_url,
                                 headers={"Api-Token": api.ac_key}) as ac:
        r = await ac.post("/api/3/contacts", json={"contact": {"email": "hooked@example.com", "lastName": "Hook"}})
    ac_id = str(r.json()["contact"]["id"])
    assert (await api.client.post(path, data=form(ac_id))).status_code == 202
    assert (await api.client.post(path, data=form(ac_id))).status_code == 202  # AC's at-least-once: still pending
    assert [(s.connection_id, s.reason) for s in sent] == [(CID, "create_request")]
    api.clock.advance(1)
    handled = await handle_request(api.rt.engine, api.rt.queue, sent[0], clock=api.clock, time_budget=60.0)
    assert handled.result.outcome == "finished"
    request = await api.rt.store.get_request(CID, "lead", ac_id)
    assert request is not None and request.status == "done", request
    links = await api.rt.store.get_links_by_ac(CID, "contact", ac_id)
    assert [lk.entity for lk in links] == ["lead"]
