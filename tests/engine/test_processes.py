"""One writer per connection across real processes (issue 13): SIGSTOP and SIGKILL of `python -m sync_core sync`.

Real Azurite, the sandboxes on loopback (real time), the command line as an operator runs it.
"""

from __future__ import annotations

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
from sync_core.store import SyncStore

WRITES = ("POST", "PUT", "DELETE")


@pytest.fixture
def loopback(storage_connection_string: str, table_prefix: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    with running_sandboxes(2000) as (ac_url, dv_url):
        env = {**os.environ, "SYNC_STORAGE_CONNECTION_STRING": storage_connection_string,
               "SYNC_LOCAL_SECRETS_PATH": str(tmp_path / "secrets.json"), "SYNC_TABLE_PREFIX": table_prefix,
               "PYTHONUNBUFFERED": "1", "SYNC_LOCAL_AUTH": "1"}
        config = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
        config["activecampaign"]["api_url"] = ac_url
        config["dynamics"]["environment_url"] = dv_url
        apply_config(env, config, tmp_path)
        yield {"env": env, "ac": ac_url, "dv": dv_url, "cid": config["connection_id"],
               "conn": storage_connection_string, "prefix": table_prefix}


def apply_config(env: dict[str, str], config: dict[str, Any], tmp_path: Path) -> None:
    """``sync_core config apply`` of ``config`` with the sandbox's secrets, as an operator runs it."""
    (tmp_path / "connection.json").write_text(json.dumps(config))
    applied = subprocess.run([sys.executable, "-m", "sync_core", "config", "apply", str(tmp_path / "connection.json"),
                              "--secrets", str(ROOT / "sandbox" / "connection.secrets.example.json")],
                             cwd=ROOT, env=env, capture_output=True, text=True)
    assert applied.returncode == 0, applied.stderr


def _sync(env: dict[str, str], cid: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "sync_core", "sync", "--connection", cid, "--until-idle"],
                            cwd=ROOT, env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _ac_requests(ac_url: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{ac_url}/_sandbox/requests", timeout=30).json()["requests"])


def _ac_writes(ac_url: str, since: float = 0.0) -> list[dict[str, Any]]:
    return [r for r in _ac_requests(ac_url) if r["method"] in WRITES and r["time"] >= since]


def _wait_for(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _ac_emails(ac_url: str) -> list[str]:
    out: list[str] = []
    last = 0
    with httpx.Client(headers={"Api-Token": AC_KEY}, timeout=30) as c:
        while True:
            r = c.get(f"{ac_url}/api/3/contacts", params={"orders[id]": "ASC", "id_greater": last, "limit": 100})
            if r.status_code in (429, 503):
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            rows = r.json()["contacts"]
            if not rows:
                return out
            out.extend(str(row["email"]).lower() for row in rows)
            last = int(rows[-1]["id"])


def _dv_emails(dv_url: str) -> set[str]:
    headers = {"Authorization": "Bearer sandbox-dynamics-token", "Prefer": "odata.maxpagesize=5000"}
    out: set[str] = set()
    url: str | None = f"{dv_url}/api/data/v9.2/contacts?$select=emailaddress1"
    with httpx.Client(timeout=60) as c:
        while url:
            body = c.get(url, headers=headers).json()
            out |= {str(r["emailaddress1"]).lower() for r in body["value"] if r.get("emailaddress1")}
            url = body.get("@odata.nextLink")
    return out


async def _runs(lb: dict[str, Any]) -> list[Any]:
    async with SyncStore.from_connection_string(lb["conn"], table_prefix=lb["prefix"]) as store:
        return await store.list_runs(lb["cid"], limit=50)


def _assert_synced_once(lb: dict[str, Any]) -> None:
    emails = _ac_emails(lb["ac"])
    assert len(emails) == len(set(emails)), "an email has two AC contacts"
    assert _dv_emails(lb["dv"]) <= set(emails)


async def test_a_sync_killed_inside_its_first_pass_is_finished_by_the_next_within_two_minutes(
        loopback: dict[str, Any]) -> None:
    first = _sync(loopback["env"], loopback["cid"])
    _wait_for("the first AC write", lambda: _ac_writes(loopback["ac"]))
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    first.communicate()

    started = time.monotonic()
    second = _sync(loopback["env"], loopback["cid"])  # the default lease: 60 s
    _, err = second.communicate(timeout=170)
    took = time.monotonic() - started
    assert second.returncode == 0, err[-2000:]
    assert took < 120, f"resumed and finished in {took:.0f}s"
    assert "waiting for the lease" in err and "Traceback" not in err
    _assert_synced_once(loopback)
    runs = await _runs(loopback)
    assert not [r for r in runs if r.status == "running"]
    assert any(r.status == "failed" and "stopped without finishing" in (r.message or "") for r in runs)


async def test_a_frozen_worker_loses_its_lease_and_writes_nothing_after_it_wakes(loopback: dict[str, Any]) -> None:
    fast = {"SYNC_LEASE_SECONDS": "8"}
    a = _sync(loopback["env"], loopback["cid"], **fast)
    _wait_for("the first AC write", lambda: _ac_writes(loopback["ac"]))
    os.kill(a.pid, signal.SIGSTOP)  # frozen mid-pass, its lease lapses
    try:
        b = _sync(loopback["env"], loopback["cid"], **fast)
        _, b_err = b.communicate(timeout=300)
        assert b.returncode == 0, b_err[-2000:]
        woke = time.time()
    finally:
        os.kill(a.pid, signal.SIGCONT)
    _, a_err = a.communicate(timeout=120)
    assert "Traceback" not in a_err
    assert _ac_writes(loopback["ac"], since=woke) == [], "the woken worker wrote to ActiveCampaign"
    _assert_synced_once(loopback)
    runs = await _runs(loopback)
    assert any("stopped" in (r.message or "") and r.status == "failed" for r in runs), [r.message for r in runs]
