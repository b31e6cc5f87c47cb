"""``local up``: Azurite and the sandboxes start, the settings file lets the other commands work with nothing
set, and SIGTERM leaves no child behind (Azurite's node process included) and removes the settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from devtools.ports import free_port
from sync_core.cli._errors import Exit
from tests.cli.conftest import ROOT, bare_env


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_local_up_serves_the_other_commands_and_sigterm_stops_every_child(tmp_path: Path) -> None:
    settings = tmp_path / "local" / "settings.json"
    storage = free_port()
    while any(_port_taken(storage + i) for i in (1, 2)):
        storage = free_port()
    env = {**bare_env(tmp_path), "SYNC_LOCAL_SETTINGS": str(settings)}
    up = subprocess.Popen([sys.executable, "-m", "sync_core", "local", "up", "--seed-contacts", "3",
                           "--ac-port", str(free_port()), "--dynamics-port", str(free_port()),
                           "--storage-port", str(storage), "--settings", str(settings)],
                          cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not settings.exists():
            assert up.poll() is None, up.communicate()
            assert time.monotonic() < deadline, "local up did not write its settings in time"
            time.sleep(0.5)
        children = _descendants(up.pid)
        commands = " ".join((Path("/proc") / str(p) / "cmdline").read_text().replace("\0", " ") for p in children)
        assert "azurite" in commands and "-m sandbox" in commands, commands
        # Nothing set in the environment: the command reads the file, reaches Azurite, finds no connection.
        status = subprocess.run([sys.executable, "-m", "sync_core", "status", "--connection", "demo"], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == Exit.NOT_FOUND and "no connection demo" in status.stderr, status.stderr
        up.send_signal(signal.SIGTERM)
        out, _ = up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0 and "stopped" in out, out
    assert "Ctrl-C" in out and "config apply" in out  # what it started, how to stop it, what next
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in children if _alive(p)] == []
    assert not settings.exists()


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_sigterm_of_the_azurite_helper_stops_its_node_process(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "devtools.azurite"], cwd=ROOT, env=bare_env(tmp_path),
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and "TableEndpoint" in proc.stdout.readline()
        children = _descendants(proc.pid)
        assert children
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in children) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [p for p in children if _alive(p)] == []
