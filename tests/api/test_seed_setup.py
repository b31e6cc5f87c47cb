"""The seed's setup, end to end against the sandboxes, and the AC key kept out of everything but the vault.

connect → add a user → configure leads with criteria → preview → global sync on → progress while the
initial sync runs, up to 100 % → an error is listed, retried, and clears.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx
import pytest

from sync_core.engine.scheduling import PassRequest, handle_request
from tests.api.conftest import CID, Api

P = f"/api/connections/{CID}"
LEADS: dict[str, Any] = {"contacts": {"enabled": False},
         "leads": {"enabled": True, "direction": "push", "scope": "criteria",
                   "criteria": [{"field": "emailaddress1", "operator": "contains", "value": "@PROSPECTS."}]}}


class Recorder:
    def __init__(self) -> None:
        self.seen: list[str] = []

    async def request(self, request: httpx.Request) -> None:
        self.seen.append(str(request.url))

    async def response(self, response: httpx.Response) -> None:
        await response.aread()
        self.seen.append(str(response.url))
        self.seen.append(str(dict(response.headers)))
        self.seen.append(response.text)


async def test_seed_setup_end_to_end(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder()
    api.client.event_hooks = {"request": [rec.request], "response": [rec.response]}
    h = api.auth()
    # 1. Connect.
    await api.connect()
    # 2. Add a user.
    sam = (await api.client.get(f"{P}/users/search", params={"q": "Sam"}, headers=h)).json()[0]
    r = await api.client.post(f"{P}/users", json={"user_id": sam["user_id"], "role": "ActiveCampaign Admin"},
                              headers=h)
    assert r.status_code == 200, r.text
    # 3. Leads with criteria: a bad criterion is refused with its field, the good one saved after a preview.
    bad = {**LEADS, "leads": {**LEADS["leads"], "criteria": [{"field": "nosuchcolumn", "operator": "eq",
                                                               "value": 1}]}}
    r = await api.client.put(f"{P}/config", json={"config": {"entities": bad}}, headers=h)
    assert r.status_code == 422 and "criteria" in r.json()["error"]["field"], r.text
    # 4. Preview (dry run): counts of what would happen, nothing written.
    r = await api.client.post(f"{P}/config/preview", json={"config": {"entities": LEADS}}, headers=h)
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["status"] == "done", job
    counts = {c["entity"]: c["counts"] for c in job["counts"]}
    outside = sum(1 for x in api.dv.rows["lead"].values() if "@prospects." not in x["emailaddress1"])
    assert outside > 0
    assert counts["lead"]["skipped_criteria"] == outside  # case-insensitive, as Dataverse compares
    assert counts["lead"].get("would_create", 0) + counts["lead"].get("would_update", 0) > 0
    assert any(c["path"] == "entities.leads.enabled" for c in job["changes"])
    by_outcome: dict[str, list[str]] = {}
    for sample in job["samples"]:
        assert sample["entity"] == "lead"
        by_outcome.setdefault(sample["outcome"], []).append(sample["email"].lower())
    assert by_outcome["skipped_criteria"] and all("@prospects." not in e for e in by_outcome["skipped_criteria"])
    assert by_outcome["would_create"] and all("@prospects." in e for e in by_outcome["would_create"])
    assert not api.ac.contacts or all("prospects" not in str(c.email) for c in api.ac.contacts.values())
    r = await api.client.put(f"{P}/config", json={"config": {"entities": LEADS}}, headers=h)
    assert r.status_code == 200, r.text
    # 5. Global sync on: the initial sync is queued.
    # A lead whose email ActiveCampaign refuses: it will fail alone, the rest goes on.
    broken = api.dv.create("lead", {"subject": "Broken", "lastname": "Broken",
                                    "emailaddress1": "broken@@prospects.example.com"})
    r = await api.client.put(f"{P}/sync", json={"global_enabled": True, "frequency": "4h"}, headers=h)
    assert r.status_code == 200 and r.json()["initial_sync"] == "not_started", r.text
    # 6. The worker's passes, one page each; progress is visible in between and reaches 100 %.
    percents: list[float] = []
    request = PassRequest(connection_id=CID, reason="initial", requested_at=api.clock.now())
    for _ in range(40):
        handled = await handle_request(api.rt.engine, api.rt.queue, request, clock=api.clock, time_budget=0.0)
        status = (await api.client.get(f"{P}/status", headers=h)).json()
        lead = next(p for p in status["progress"] if p["entity"] == "lead" and p["side"] == "dynamics")
        percents.append(lead["percent"])
        if handled.requeued is None:
            break
        api.clock.advance(60)
        request = handled.requeued
    assert any(0 < p < 100 for p in percents if p is not None), percents
    assert percents[-1] == 100.0
    sync = (await api.client.get(f"{P}/sync", headers=h)).json()
    assert sync["initial_sync"] == "done" and sync["frequency"] == "4h"
    assert status["last_runs"] and status["last_runs"][0]["counts"]["lead"]
    assert status["api_calls_24h"]["activecampaign"] > 0 and status["api_calls_24h"]["dynamics"] > 0
    assert status["last_success"]["lead"] is not None
    # 7. An error is listed; once the cause is gone, a retry clears it.
    errors = (await api.client.get(f"{P}/errors", params={"entity": "lead"}, headers=h)).json()
    assert [e["record_id"] for e in errors] == [broken["leadid"]]
    failing = errors[0]
    assert failing["side"] == "activecampaign" and failing["attempts"] >= 1
    # Refused by AC: not retried on its own (or not yet), so only the retry below brings it back.
    assert failing["next_retry"] is None or datetime.fromisoformat(failing["next_retry"]) > api.clock.now()
    api.dv.update("lead", broken["leadid"], {"emailaddress1": "fixed@prospects.example.com"})
    r = await api.client.post(f"{P}/errors/retry", json={"entity": "lead", "side": failing["side"],
                                                         "record_id": failing["record_id"]}, headers=h)
    assert r.status_code == 200 and r.json()["scheduled"] == 1
    again = (await api.client.get(f"{P}/errors", params={"entity": "lead"}, headers=h)).json()
    mine = next(e for e in again if e["record_id"] == failing["record_id"])
    assert mine["retriable"] and datetime.fromisoformat(mine["next_retry"]) <= api.clock.now()
    r = await api.client.post(f"{P}/sync/now", headers=h)
    assert r.status_code == 202
    request = PassRequest(connection_id=CID, reason="sync_now", requested_at=api.clock.now())
    handled = await handle_request(api.rt.engine, api.rt.queue, request, clock=api.clock, time_budget=60.0)
    assert handled.result.run is not None and handled.result.run.counts["lead"].get("retried") == 1
    left = {e["record_id"] for e in (await api.client.get(f"{P}/errors", headers=h)).json()}
    assert failing["record_id"] not in left
    audit = (await api.client.get(f"{P}/audit", headers=h)).json()
    assert {"connect", "assign_role", "update_config", "update_sync", "retry_errors"} <= {a["action"] for a in audit}
    change = next(a for a in audit if a["action"] == "update_config")
    assert change["before"]["entities"]["leads"]["enabled"] is False
    assert change["after"]["entities"]["leads"]["enabled"] is True
    # 8. The key: in the secret store, and nowhere else.
    assert api.ac_key in api.secrets_path.read_text()
    await assert_key_nowhere(api, caplog, rec)


async def assert_key_nowhere(api: Api, caplog: pytest.LogCaptureFixture, rec: Recorder) -> None:
    key = api.ac_key
    assert rec.seen and all(key not in s for s in rec.seen)
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key not in repr(record.args)
    scanned = 0
    for name in api.rt.store.tables.full_names():
        table = api.rt.store.tables.service.get_table_client(name)
        async for entity in table.list_entities():
            scanned += 1
            assert key not in repr(dict(entity)), name
            assert key not in repr(getattr(entity, "metadata", {}))
    assert scanned > 10


def _unused(*_: Any) -> None:
    return None
