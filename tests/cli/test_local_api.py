"""The local API end to end (issue 20): ``serve`` in local mode, a token from ``auth token``, a connection
applied with the command line and read through the API; one validation and one history for both."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from devtools.ports import free_port
from sync_core.cli._errors import Exit
from tests.cli.conftest import ROOT, SECRETS, Cli, assert_refused

DV_HEADERS = {"Authorization": "Bearer sandbox-dynamics-token", "Accept": "application/json"}


@pytest.fixture
def served(cli: Cli) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync_core", "serve", "--port", str(port)], cwd=ROOT, env=cli.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become healthy"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _token(cli: Cli, role: str) -> str:
    out = cli.run("auth", "token", "--role", role)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_connection_applied_with_the_cli_is_read_through_the_api(cli: Cli, served: str) -> None:
    assert cli.apply(cli.config(display_name="Applied from the CLI"), SECRETS).returncode == 0
    admin = {"Authorization": f"Bearer {_token(cli, 'admin')}"}
    r = httpx.get(f"{served}/api/connections/demo/config", headers=admin, timeout=30)
    assert r.status_code == 200 and r.json()["connection_id"] == "demo", r.text
    r = httpx.get(f"{served}/api/connections/demo/status", headers=admin, timeout=30)
    assert r.status_code == 200, r.text
    seller = {"Authorization": f"Bearer {_token(cli, 'user')}"}
    r = httpx.get(f"{served}/api/connections/demo/config", headers=seller, timeout=30)
    assert r.status_code == 403, r.text  # the role checks apply to a local token as to any
    assert httpx.get(f"{served}/api/docs", timeout=30).status_code == 200


def test_the_cli_refuses_fields_and_criteria_the_api_would(cli: Cli) -> None:
    doc = cli.config()
    doc["entities"]["contacts"].update(scope="criteria", criteria=[{"field": "jobtitel", "operator": "eq",
                                                                    "value": "CEO"}],
                                       standard={"first_name": False},
                                       custom=[{"dynamics": "fristname", "activecampaign": "firstName"}])
    out = cli.apply(doc, SECRETS)
    assert_refused(out, Exit.USAGE, "fristname", "jobtitel", "entities.contacts.criteria[0].field", max_lines=6)
    out = cli.apply(doc, SECRETS, "--offline")
    assert out.returncode == 0 and "--offline" in out.stderr, out.stderr


def test_record_history_is_the_api_history(cli: Cli, served: str) -> None:
    assert cli.apply(cli.config(), SECRETS).returncode == 0
    assert cli.run("sync", "--connection", "demo", "--until-idle").returncode == 0
    contacts = httpx.get(f"{cli.dv_url}/api/data/v9.2/contacts?$select=contactid,emailaddress1", headers=DV_HEADERS,
                         timeout=30).json()["value"]
    target = next(c for c in contacts if c.get("emailaddress1"))
    out = cli.run("record", "history", "contact", target["contactid"], "--connection", "demo", "--json")
    assert out.returncode == 0, out.stderr
    mine: dict[str, Any] = json.loads(out.stdout)
    admin = {"Authorization": f"Bearer {_token(cli, 'admin')}"}
    r = httpx.get(f"{served}/api/connections/demo/records/contact/{target['contactid']}/history", headers=admin,
                  timeout=30)
    assert r.status_code == 200 and r.json() == mine and mine["items"], (r.text, mine)
    table = cli.run("record", "history", "contact", target["contactid"], "--connection", "demo")
    assert table.returncode == 0 and target["contactid"] in table.stdout
    missing = cli.run("record", "history", "contact", "00000000-0000-0000-0000-000000000001", "--connection", "demo")
    assert_refused(missing, Exit.NOT_FOUND, "has not synced")
