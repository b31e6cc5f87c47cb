"""The command line as an operator meets it: ``python -m sync_core`` in a subprocess, real Azurite and sandboxes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import running_sandboxes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE: dict[str, Any] = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
SECRETS: dict[str, str] = json.loads((ROOT / "sandbox" / "connection.secrets.example.json").read_text())
SETTING_NAMES = ("SYNC_STORAGE_ACCOUNT_URL", "SYNC_QUEUE_ACCOUNT_URL", "SYNC_STORAGE_CONNECTION_STRING",
                 "SYNC_AUTH_TENANT_ID", "SYNC_AUTH_AUDIENCE", "SYNC_LOCAL_AUTH", "SYNC_KEY_VAULT_URI",
                 "WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME", "AZURITE_CONNECTION_STRING")


@dataclass
class Cli:
    env: dict[str, str]
    tmp: Path
    ac_url: str
    dv_url: str

    def run(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "sync_core", *args], cwd=ROOT, env={**self.env, **env},
                              capture_output=True, text=True, timeout=timeout)

    def write(self, name: str, doc: Any) -> str:
        path = self.tmp / name
        path.write_text(json.dumps(doc))
        return str(path)

    def config(self, **changes: Any) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(json.dumps(EXAMPLE))
        doc["activecampaign"]["api_url"] = self.ac_url
        doc["dynamics"]["environment_url"] = self.dv_url
        doc.update(changes)
        return doc

    def apply(self, doc: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
              *extra: str) -> subprocess.CompletedProcess[str]:
        args = ["config", "apply", self.write("c.json", doc or self.config())]
        if secrets is not None:
            args += ["--secrets", self.write("s.json", secrets)]
        return self.run(*args, *extra)


def bare_env(tmp: Path) -> dict[str, str]:
    """The environment without any of the product's settings (nor a `local up` settings file)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES and not k.startswith("SYNC_")}
    env["SYNC_LOCAL_SETTINGS"] = str(tmp / "no-local-settings.json")
    return env


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[tuple[str, str]]:
    with running_sandboxes(20) as urls:
        yield urls


@pytest.fixture
def cli(storage_connection_string: str, tmp_path: Path, sandboxes: tuple[str, str]) -> Cli:
    env = {**bare_env(tmp_path), "SYNC_STORAGE_CONNECTION_STRING": storage_connection_string,
           "SYNC_TABLE_PREFIX": "k" + uuid.uuid4().hex[:8], "SYNC_LOCAL_SECRETS_PATH": str(tmp_path / "secrets.json"),
           "SYNC_LOCAL_AUTH": "1"}
    return Cli(env, tmp_path, *sandboxes)


def assert_refused(out: subprocess.CompletedProcess[str], code: int, *needles: str, max_lines: int = 4) -> None:
    """A short message on stderr naming what is wrong, no traceback, the expected exit code."""
    err = out.stderr
    assert "Traceback" not in err and "Traceback" not in out.stdout, err
    assert out.returncode == code, (out.returncode, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) <= max_lines, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert "errors.pydantic.dev" not in err
