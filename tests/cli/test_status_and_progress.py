"""``status`` shows only the directions that exist, with conflicts; ``sync`` draws live progress on a terminal
and nothing but its summary otherwise."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time

from tests.cli.conftest import ROOT, SECRETS, Cli


def _directions(cli: Cli) -> list[tuple[str, str]]:
    out = cli.run("status", "--connection", "demo", "--json")
    assert out.returncode == 0, out.stderr
    return [(r["entity"], r["direction"]) for r in json.loads(out.stdout)["reads"]]


def test_status_rows_follow_the_configured_directions(cli: Cli) -> None:
    doc = cli.config()
    assert cli.apply(doc, SECRETS, "--offline").returncode == 0
    assert _directions(cli) == [("contact", "push")]
    assert json.loads(cli.run("status", "--connection", "demo", "--json").stdout)["awaiting_import"] == 0
    doc["entities"]["contacts"]["direction"] = "bidirectional"
    doc["entities"]["accounts"] = {"enabled": True, "direction": "pull"}
    assert cli.apply(doc, None, "--offline").returncode == 0
    assert _directions(cli) == [("account", "pull"), ("contact", "push"), ("contact", "pull")]
    table = cli.run("status", "--connection", "demo")
    assert "conflicts" in table.stdout and "not started" in table.stdout and "{" not in table.stdout, table.stdout


def _read_pty(fd: int, proc: subprocess.Popen[str], timeout: float) -> str:
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    return b"".join(chunks).decode(errors="replace")


def test_sync_draws_progress_on_a_terminal_only(cli: Cli) -> None:
    assert cli.apply(cli.config(), SECRETS).returncode == 0
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "sync_core", "sync", "--connection", "demo", "--until-idle"],
                            cwd=ROOT, env={**cli.env, "COLUMNS": "120"}, stdout=subprocess.PIPE, stderr=slave,
                            text=True)
    os.close(slave)
    drawn = _read_pty(master, proc, 120)
    os.close(master)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0 and '"passes"' in out
    assert "entity" in drawn and "contact" in drawn and ("initial read" in drawn or "changes" in drawn), drawn
    plain = cli.run("sync", "--connection", "demo", "--until-idle")
    assert plain.returncode == 0 and "\x1b[" not in plain.stderr and "\x1b[" not in plain.stdout, plain.stderr
