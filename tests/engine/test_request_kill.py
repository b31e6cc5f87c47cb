"""A create on request SIGKILLed between the Dynamics create and the link write (issue 18), in a real process.

``python -m tests.engine.killed_sync`` is the command line's ``sync`` that kills itself with SIGKILL right after
Dataverse answered the create; the next ``python -m sync_core sync`` finds the record by the id the request
gave it and links it: one record, one link, the AC tags swapped. The request is a tag, a webhook's queued row,
or both for the same person; in two cases the email changes in AC between the kill and the next run, so only
the request's id (not the email match) can find the record: with the id left out of the create these two
fail with two records. Real Azurite, the sandboxes on loopback.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
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
    with httpx.Client(base_url=f"{ac_url}/api/3", headers={"Api-Token": AC_KEY}, timeout=30) as c:
        return _call(c, method, path, json=body)


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


def _call(c: httpx.Client, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """A call as an AC client makes it: the sync may just have spent this second's 5 requests, so a 429 (or
    AC's 503 for it) is waited out."""
    for _ in range(10):
        r = c.request(method, path, **kwargs)
        if r.status_code not in (429, 503):
            break
        time.sleep(float(r.headers.get("Retry-After", "1")))
    assert r.status_code < 300, r.text
    return dict(r.json())


def _tags(ac_url: str, ac_id: str) -> set[str]:
    with httpx.Client(base_url=f"{ac_url}/api/3", headers={"Api-Token": AC_KEY}, timeout=30) as c:
        names = {str(t["id"]): t["tag"] for t in _call(c, "GET", "tags", params={"limit": 100})["tags"]}
        rows = _call(c, "GET", f"contacts/{ac_id}/contactTags")["contactTags"]
    return {names[str(r["tag"])] for r in rows}


def _ask(lb: dict[str, Any], source: str, entity: EntityName, ac_id: str) -> None:
    """The automation's request: the tag, the row the webhook route queues (tests/api/test_hooks.py tests the
    route itself), or both for the same person."""
    if source in ("tag", "both"):
        name = "D365: Create Lead" if entity == "lead" else "D365: Create Contact"
        tag = _ac(lb["ac"], "POST", "tags", {"tag": {"tag": name, "tagType": "contact", "description": ""}})["tag"]
        _ac(lb["ac"], "POST", "contactTags", {"contactTag": {"contact": ac_id, "tag": str(tag["id"])}})
    if source in ("webhook", "both"):
        asyncio.run(_queue(lb, entity, ac_id))


async def _queue(lb: dict[str, Any], entity: EntityName, ac_id: str) -> None:
    async with await _store(lb) as store:
        await store.save_request(lb["cid"], CreateRequest(
            entity=entity, ac_id=ac_id, dynamics_id=record_id(lb["cid"], entity, ac_id), source="webhook"))


async def _after(lb: dict[str, Any], entity: EntityName, ac_id: str) -> tuple[list[Any], CreateRequest | None]:
    async with await _store(lb) as store:
        return (await store.get_links_by_ac(lb["cid"], "contact", ac_id),
                await store.get_request(lb["cid"], entity, ac_id))


@pytest.mark.parametrize(("source", "entity", "new_email"), [
    ("tag", "lead", False), ("webhook", "contact", True), ("both", "lead", True)])
def test_a_sigkill_between_the_create_and_the_link_write_gives_one_record(
        requesting: dict[str, Any], source: str, entity: EntityName, new_email: bool) -> None:
    """With ``new_email`` the person's email changes in AC between the kill and the next run, so the email match
    cannot find the killed pass's record: only the id the request gave it does."""
    lb, email = requesting, f"killed.{source}@example.com"
    ac_id = str(_ac(lb["ac"], "POST", "contacts", {"contact": {"email": email, "lastName": "Killed"}})["contact"]["id"])
    _ask(lb, source, entity, ac_id)

    killed = _sync(lb["env"], lb["cid"], "tests.engine.killed_sync")
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert len(_records(lb["dv"], entity, email)) == 1  # created, and killed before its link
    assert asyncio.run(_after(lb, entity, ac_id))[0] == []
    emails = [email]
    if new_email:
        emails.append(f"renamed.{source}@example.com")
        _ac(lb["ac"], "PUT", f"contacts/{ac_id}", {"contact": {"email": emails[-1]}})

    again = _sync(lb["env"], lb["cid"], "sync_core")
    assert again.returncode == 0, again.stderr[-2000:]
    found = [r for e in emails for r in _records(lb["dv"], entity, e)]
    assert len(found) == 1, found  # two when the retry did not find the killed pass's record by its id
    record = found[0]
    links, request = asyncio.run(_after(lb, entity, ac_id))
    assert [(lk.entity, lk.dynamics_id) for lk in links] == [(entity, record[f"{entity}id"])]
    assert request is not None and (request.status, request.outcome) == ("done", "linked")
    kind = "D365: Lead" if entity == "lead" else "D365: Contact"
    assert _tags(lb["ac"], ac_id) == {kind, "D365: Pulled from ActiveCampaign"}  # the request tag gone
