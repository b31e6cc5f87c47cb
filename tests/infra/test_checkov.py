"""checkov's Bicep scan over infra/: zero parsing errors and zero failed checks. Every suppression is an
inline ``checkov:skip`` with a reason, and each one must still match a check that would otherwise run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.infra.bicep import INFRA, ROOT

CHECKOV_VENV = ROOT / ".tools" / "checkov"


def _checkov_binary() -> str | None:
    explicit = os.environ.get("CHECKOV_BIN")
    if explicit:
        return explicit
    local = CHECKOV_VENV / "bin" / "checkov"
    if local.exists():
        return str(local)
    return shutil.which("checkov")


@cache
def _scan() -> dict[str, Any]:
    binary = _checkov_binary()
    if binary is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("checkov is not installed; CI must run `make checkov` (requirements-infra.txt)")
        pytest.skip("checkov is not installed: run `make checkov` (requirements-infra.txt into .tools/checkov)")
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE")
    run = subprocess.run([binary, "-d", str(INFRA), "--framework", "bicep", "--skip-download", "-o", "json",
                          "--compact"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.stdout.strip(), f"checkov printed nothing (exit {run.returncode}): {run.stderr[-2000:]}"
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    (bicep,) = [r for r in reports if r.get("check_type") == "bicep"]
    assert isinstance(bicep, dict)
    return bicep


def test_checkov_scan_has_no_parsing_errors_and_scans_every_file() -> None:
    summary = _scan()["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["passed"] > 0 and summary["resource_count"] > 0


def test_checkov_scan_has_no_failed_checks() -> None:
    report = _scan()
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for c in report["results"]["failed_checks"]]
    assert report["summary"]["failed"] == 0, "\n".join(failed)


SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::\s*(.*))?")


def _inline_skips() -> list[tuple[Path, str, str]]:
    return [(p, m.group(1), (m.group(2) or "").strip())
            for p in sorted(INFRA.rglob("*.bicep")) for m in SKIP.finditer(p.read_text(encoding="utf-8"))]


def test_every_inline_skip_carries_a_reason() -> None:
    for path, check, reason in _inline_skips():
        assert len(reason) >= 40, f"{path.name}: skip of {check} needs a reason a reviewer can judge"


def test_every_inline_skip_is_used() -> None:
    skipped = {(Path(c["file_path"]).name, c["check_id"]) for c in _scan()["results"]["skipped_checks"]}
    for path, check, _ in _inline_skips():
        assert (path.name, check) in skipped, f"{path.name}: skip of {check} matches no check; remove it"
