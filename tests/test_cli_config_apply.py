"""``config apply``: secrets keyed by purpose, stored under derived names; the host policy; clear refusals."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from sync_core.cli import main
from sync_core.cli._errors import Exit
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names
from sync_core.settings import LOCAL_TENANT
from sync_core.store import LocalSecretStore

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
SECRETS = json.loads((ROOT / "sandbox" / "connection.secrets.example.json").read_text())


@pytest.fixture
def cli(storage_connection_string: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SYNC_STORAGE_CONNECTION_STRING", storage_connection_string)
    monkeypatch.setenv("SYNC_TABLE_PREFIX", "c" + uuid.uuid4().hex[:8])
    monkeypatch.setenv("SYNC_LOCAL_SECRETS_PATH", str(tmp_path / "secrets.json"))
    monkeypatch.setenv("SYNC_LOCAL_AUTH", "1")
    for name in ("WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def write(tmp: Path, name: str, doc: Any) -> str:
    path = tmp / name
    path.write_text(json.dumps(doc))
    return str(path)


def stored(tmp: Path) -> dict[str, str]:
    path = tmp / "secrets.json"
    return json.loads(path.read_text()) if path.exists() else {}


def names(doc: dict[str, Any]) -> dict[str, str]:
    """The derived names: a connection applied in local mode belongs to the local tenant."""
    config = ConnectionConfig.model_validate({**doc, "tenant_id": doc.get("tenant_id") or LOCAL_TENANT})
    return {str(k): v for k, v in secret_names(config).items()}


def test_the_example_applies_with_secrets_keyed_by_purpose(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE), "--secrets", write(cli, "s.json", SECRETS)]
                ) == 0
    want = names(EXAMPLE)
    assert stored(cli) == {want["activecampaign_api_key"]: SECRETS["activecampaign_api_key"],
                           want["dynamics_secret"]: SECRETS["dynamics_secret"]}
    assert main(["config", "show", "--connection", "demo"]) == 0
    out = capsys.readouterr().out
    assert SECRETS["activecampaign_api_key"] not in out and "api_key" in out
    # Applied again without --secrets: the ones stored for this host and sign-in are still the connection's.
    assert main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE)]) == 0


@pytest.mark.parametrize(("secrets", "message"), [
    ({"ac-api-key-demo": "x"}, "ac-api-key-demo: unknown key"),
    ({**SECRETS, "dynamics-token-demo": "x"}, "dynamics-token-demo: unknown key"),
    ({"activecampaign_api_key": "clé"}, "activecampaign_api_key must be visible ASCII"),
    ({"activecampaign_api_key": "a\r\nb", "dynamics_secret": "t"}, "activecampaign_api_key must be visible ASCII"),
    ({"activecampaign_api_key": 7}, "must be a string"),
    (["activecampaign_api_key"], "JSON object keyed by purpose"),
    ({"dynamics_secret": "t"}, "activecampaign_api_key: nothing is stored"),
])
def test_bad_secrets_files_are_refused(cli: Path, capsys: pytest.CaptureFixture[str], secrets: Any,
                                       message: str) -> None:
    code = main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE), "--secrets", write(cli, "s.json", secrets)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err, err
    assert stored(cli) == {}


def test_a_schema_1_file_is_refused_with_what_to_change(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = {**EXAMPLE, "schema_version": 1,
           "activecampaign": {**EXAMPLE["activecampaign"], "api_key_secret": "ac-api-key-demo"}}
    assert main(["config", "apply", "-o", write(cli, "c.json", old), "--secrets", write(cli, "s.json", SECRETS)]) == 2
    assert "schema_version 1 named its secrets" in capsys.readouterr().err
    named = {**EXAMPLE, "dynamics": {**EXAMPLE["dynamics"], "auth": {"kind": "static_token", "secret_name": "x"}}}
    assert main(["config", "apply", "-o", write(cli, "c.json", named), "--secrets", write(cli, "s.json", SECRETS)]) == 2
    assert "secret_name" in capsys.readouterr().err


def test_a_changed_host_needs_its_secret_and_drops_the_old_one(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE), "--secrets", write(cli, "s.json", SECRETS)]
                ) == 0
    moved = {**EXAMPLE, "dynamics": {**EXAMPLE["dynamics"], "environment_url": "http://127.0.0.1:9999"}}
    assert main(["config", "apply", "-o", write(cli, "m.json", moved)]) == 2
    assert "dynamics_secret: nothing is stored" in capsys.readouterr().err
    assert main(["config", "apply", "-o", write(cli, "m.json", moved), "--secrets",
                 write(cli, "s2.json", {"dynamics_secret": "new-token"})]) == 0
    got = stored(cli)
    assert names(EXAMPLE)["dynamics_secret"] not in got  # the previous host's token is gone
    assert got[names(moved)["dynamics_secret"]] == "new-token"
    assert got[names(moved)["activecampaign_api_key"]] == SECRETS["activecampaign_api_key"]


def test_an_identity_kind_takes_no_secret(cli: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = {**EXAMPLE, "dynamics": {**EXAMPLE["dynamics"], "auth": {"kind": "managed_identity"}}}
    assert main(["config", "apply", "-o", write(cli, "c.json", doc), "--secrets", write(cli, "s.json", SECRETS)]) == 2
    assert "dynamics_secret: dynamics.auth.kind managed_identity takes no secret" in capsys.readouterr().err


def test_outside_local_mode_the_deployed_host_rules_hold(cli: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SYNC_LOCAL_AUTH")
    assert main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE), "--secrets", write(cli, "s.json", SECRETS)]
                ) == 2
    assert "static_token works only in local mode" in capsys.readouterr().err
    doc = {**EXAMPLE, "dynamics": {**EXAMPLE["dynamics"], "auth": {"kind": "managed_identity"}}}
    assert main(["config", "apply", "-o", write(cli, "c.json", doc)]) == 2
    assert "activecampaign.api_url: only https on port 443" in capsys.readouterr().err
    doc["activecampaign"] = {"api_url": "https://acme.example.com"}
    assert main(["config", "apply", "-o", write(cli, "c.json", doc)]) == 2
    assert "SYNC_AC_ALLOWED_HOSTS" in capsys.readouterr().err
    assert stored(cli) == {}
    assert asyncio.run(LocalSecretStore(cli / "secrets.json").get_secret("x")) is None


def test_a_connection_that_cannot_be_used_is_a_message_not_a_traceback(cli: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "apply", "-o", write(cli, "c.json", EXAMPLE), "--secrets", write(cli, "s.json", SECRETS)]
                ) == 0
    (cli / "secrets.json").write_text("{}")  # the secrets went missing
    assert main(["sync", "--connection", "demo"]) == Exit.NOT_CONFIGURED
    err = capsys.readouterr().err
    assert "no ActiveCampaign API key" in err and "Traceback" not in err
    assert main(["dynamics", "setup", "--connection", "nosuch"]) == Exit.NOT_FOUND
    assert "no connection nosuch" in capsys.readouterr().err
