"""A create on request SIGKILLed between the Dynamics create and the link write (issue 18), in a real process.

``python -m tests.engine.killed_sync`` is the command line's ``sync`` that kills itself with SIGKILL right after
Dataverse answered the create; the next ``python -m sync_core sync`` finds the record by the id the request
gave it and links it: one record, one link. Real Azurite, the sandboxes on loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.azurite import ROOT
from devtools.demo import AC_KEY, running_sandboxes
from sync_core.engine.create_requests import record_id
from sync_core.model.state import CreateRequest, EntityName
from sync_core.store import SyncStore
from tests.engine.test_processes import apply_config

DV_HEADERS = {"Authorization": "Bearer sandbox-dynamics-token"}
LEASE = {"SYNC_LEASE_SECONDS": "5"}  # the killed pass's lease runs out fast


def _seller(dv_url: str) -> str:
    users = httpx.get(f"{dv_url}/api/data/v9.2/systemusers", params={"$select": "systemuserid,fullname"},
                      headers=DV_HEADERS, timeout=30).json()["value"]
    return next(str(u["systemuserid"]) for u in users if u.get("fullname") == "Sam Seller")


def _request_config(ac_url: str, dv_url: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
    config["activecampaign"]["api_url"] = ac_url
    config["dynamics"]["environment_url"] = dv_url
    config["entities"]["contacts"] = {"enabled": True, "direction": "bidirectional",
                                      "constants": {"lastname": "(no last name)"}}
    config["entities"]["leads"] = {"enabled": True, "direction": "bidirectional",
                                   "constants": {"subject": "Asked for in ActiveCampaign", "lastname": "(none)"}}
    config["create_requests"] = {"enabled": True, "owner": {"kind": "systemuser", "id": _seller(dv_url)}}
    return config


@pytest.fixture
def requesting(storage_connection_string: str, table_prefix: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_sandboxes(10) as (ac_url, dv_url):
        env = {**os.environ, "SYNC_STORAGE_CONNECTION_STRING": storage_connection_string,
               "SYNC_LOCAL_SECRETS_PATH": str(tmp_path / "secrets.json"), "SYNC_TABLE_PREFIX": table_prefix,
               "PYTHONUNBUFFERED": "1", "SYNC_LOCAL_AUTH": "1", **LEASE}
        config = _request_config(ac_url, dv_url)
        apply_config(env, config, tmp_path)
        yield {"env": env, "ac": ac_url, "dv": dv_url, "cid": config["connection_id"],
               "conn": storage_connection_string, "prefix": table_prefix}


def _ac(ac_url: str, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.request(method, f"{ac_url}/api/3/{path}", json=body, headers={"Api-Token": AC_KEY}, timeout=30)
    assert r.status_code < 300, r.text
    return dict(r.json())


def _sync(env: dict[str, str], cid: str, module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, "sync", "--connection", cid, "--until-idle"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def _records(dv_url: str, entity: EntityName, email: str) -> list[dict[str, Any]]:
    rows = httpx.get(f"{dv_url}/api/data/v9.2/{entity}s", headers=DV_HEADERS, timeout=30,
                     params={"$select": f"{entity}id,emailaddress1",
                             "$filter": f"emailaddress1 eq '{email}'"}).json()["value"]
    return list(rows)


async def _store(lb: dict[str, Any]) -> SyncStore:
    return SyncStore.from_connection_string(lb["conn"], table_prefix=lb["prefix"])


@pytest.mark.parametrize(("source", "entity"), [("tag", "lead"), ("webhook", "contact")])
async def test_a_sigkill_between_the_create_and_the_link_write_gives_one_record(
        requesting: dict[str, Any], source: str, entity: EntityName) -> None:
    lb, email = requesting, f"killed.{source}@example.com"
    ac_id = str(_ac(lb["ac"], "POST", "contacts", {"contact": {"email": email, "lastName": "Killed"}})["contact"]["id"])
    if source == "tag":
        tag = _ac(lb["ac"], "POST", "tags", {"tag": {"tag": "D365: Create Lead", "tagType": "contact",
                                                     "description": ""}})["tag"]["id"]
        _ac(lb["ac"], "POST", "contactTags", {"contactTag": {"contact": ac_id, "tag": str(tag)}})
    else:  # the row the webhook route queues (tests/api/test_hooks.py tests the route itself)
        async with await _store(lb) as store:
            await store.save_request(lb["cid"], CreateRequest(
                entity=entity, ac_id=ac_id, dynamics_id=record_id(lb["cid"], entity, ac_id), source="webhook"))

    killed = _sync(lb["env"], lb["cid"], "tests.engine.killed_sync")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert len(_records(lb["dv"], entity, email)) == 1  # created, and killed before its link
    async with await _store(lb) as store:
        assert await store.get_links_by_ac(lb["cid"], "contact", ac_id) == []

    again = _sync(lb["env"], lb["cid"], "sync_core")
    assert again.returncode == 0, again.stderr[-2000:]
    (record,) = _records(lb["dv"], entity, email)
    assert record[f"{entity}id"] == record_id(lb["cid"], entity, ac_id)
    async with await _store(lb) as store:
        links = await store.get_links_by_ac(lb["cid"], "contact", ac_id)
        request = await store.get_request(lb["cid"], entity, ac_id)
    assert [(lk.entity, lk.dynamics_id) for lk in links] == [(entity, record[f"{entity}id"])]
    assert request is not None and (request.status, request.outcome) == ("done", "linked")
