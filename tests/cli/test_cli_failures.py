"""Every expected failure of the command line: a short message naming the system and the remedy, its own
exit code, never a traceback (issue 20)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from sync_core.cli._errors import Exit
from tests.cli.conftest import ROOT, SECRETS, Cli, assert_refused, bare_env


def test_an_unknown_connection_says_how_to_create_one(cli: Cli) -> None:
    for command in (["dynamics", "setup"], ["status"], ["sync"], ["config", "show"]):
        out = cli.run(*command, "--connection", "nope")
        assert_refused(out, Exit.NOT_FOUND, "no connection nope", "config apply")


def test_a_missing_secrets_file_and_a_missing_secret(cli: Cli) -> None:
    out = cli.run("config", "apply", cli.write("c.json", cli.config()), "--secrets", str(cli.tmp / "nope.json"))
    assert_refused(out, Exit.USAGE, "nope.json", "No such file")
    out = cli.apply(cli.config())  # no --secrets, nothing stored yet
    assert_refused(out, Exit.USAGE, "c.json", "activecampaign_api_key", "--secrets")


def test_a_secret_gone_from_the_store_is_a_setting_to_fix(cli: Cli) -> None:
    assert cli.apply(cli.config(), SECRETS).returncode == 0
    (cli.tmp / "secrets.json").unlink()
    out = cli.run("sync", "--connection", "demo")
    assert_refused(out, Exit.NOT_CONFIGURED, "key")


def test_an_invalid_file_names_each_field_without_pydantic_urls(cli: Cli) -> None:
    out = cli.run("config", "apply", cli.write("c.json", {"schema_version": 3, "connection_id": "demo"}))
    assert_refused(out, Exit.USAGE, "activecampaign: Field required", "dynamics: Field required")
    out = cli.run("config", "apply", cli.write("c.json", cli.config(sync={"frequency": "7m"})))
    assert_refused(out, Exit.USAGE, "sync.frequency")
    out = cli.run("config", "apply", str(cli.tmp / "absent.json"))
    assert_refused(out, Exit.USAGE, "absent.json")


def test_no_storage_names_the_setting_and_the_quick_start(tmp_path: Path) -> None:
    env = bare_env(tmp_path)
    out = subprocess.run([sys.executable, "-m", "sync_core", "status", "--connection", "demo"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert_refused(out, Exit.NOT_CONFIGURED, "SYNC_STORAGE_ACCOUNT_URL", "local up")
    env["SYNC_STORAGE_CONNECTION_STRING"] = "AccountName=nope"
    out = subprocess.run([sys.executable, "-m", "sync_core", "status", "--connection", "demo"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert_refused(out, Exit.NOT_CONFIGURED, "SYNC_STORAGE_CONNECTION_STRING")


def test_unreachable_storage_says_so(tmp_path: Path) -> None:
    env = bare_env(tmp_path)
    env["SYNC_STORAGE_CONNECTION_STRING"] = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;")
    out = subprocess.run([sys.executable, "-m", "sync_core", "status", "--connection", "demo"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert_refused(out, Exit.UNREACHABLE, "storage cannot be reached", "127.0.0.1:9")


def test_a_host_that_does_not_answer_fails_soon_naming_system_and_url(cli: Cli) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    started = time.monotonic()
    out = cli.apply(cli.config(dynamics={"environment_url": dead, "auth": {"kind": "static_token"}}), SECRETS)
    assert_refused(out, Exit.UNREACHABLE, f"Dynamics at {dead}", "reachable")
    assert time.monotonic() - started < 30
    assert cli.apply(cli.config(dynamics={"environment_url": dead, "auth": {"kind": "static_token"}}), SECRETS,
                     "--offline").returncode == 0
    out = cli.run("sync", "--connection", "demo")
    assert_refused(out, Exit.UNREACHABLE, f"Dynamics at {dead}")
    assert time.monotonic() - started < 60


def test_a_wrong_key_is_refused_and_is_the_connection_error_in_status(cli: Cli) -> None:
    wrong = {**SECRETS, "activecampaign_api_key": "wrong-key"}
    out = cli.apply(cli.config(), wrong)
    assert_refused(out, Exit.REFUSED, f"ActiveCampaign at {cli.ac_url}", "403", "--secrets")
    assert cli.apply(cli.config(), wrong, "--offline").returncode == 0
    out = cli.run("sync", "--connection", "demo")
    assert_refused(out, Exit.REFUSED, f"ActiveCampaign at {cli.ac_url}", "403", "--secrets", max_lines=1)
    status = cli.run("status", "--connection", "demo")
    assert status.returncode == 0, status.stderr
    assert "connection error: ActiveCampaign at" in status.stdout and "403" in status.stdout, status.stdout
    assert '"connection_error": "ActiveCampaign at' in cli.run("status", "--connection", "demo", "--json").stdout


def test_the_demo_refuses_zero_seed_contacts(tmp_path: Path) -> None:
    env = {**bare_env(tmp_path), "DEMO_SEED_CONTACTS": "0"}
    out = subprocess.run([sys.executable, "-m", "devtools.demo"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert "DEMO_SEED_CONTACTS" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_serve_refuses_to_start_without_storage_or_sign_in(tmp_path: Path, storage_connection_string: str) -> None:
    env = bare_env(tmp_path)
    out = subprocess.run([sys.executable, "-m", "sync_core", "serve", "--port", "1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert_refused(out, Exit.NOT_CONFIGURED, "cannot serve", "SYNC_STORAGE_ACCOUNT_URL")
    env["SYNC_STORAGE_CONNECTION_STRING"] = storage_connection_string
    out = subprocess.run([sys.executable, "-m", "sync_core", "serve", "--port", "1"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert_refused(out, Exit.NOT_CONFIGURED, "cannot serve", "SYNC_AUTH_TENANT_ID", "SYNC_LOCAL_AUTH")


def test_a_local_token_is_refused_outside_local_mode(cli: Cli) -> None:
    out = cli.run("auth", "token", "--role", "admin", SYNC_LOCAL_AUTH="0")
    assert_refused(out, Exit.NOT_CONFIGURED, "SYNC_LOCAL_AUTH=1")
