"""The sandboxes as their own process (``python -m sandbox`` on loopback), seeded, clock frozen."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from devtools.azurite import ROOT
from devtools.ports import free_port

AC_KEY = "sandbox-ac-key"  # the sandbox's documented demo key, not a secret
DV_TOKEN = "sandbox-dynamics-token"  # noqa: S105 - the sandbox's fixed token, not a secret


@dataclass(frozen=True)
class Sandboxes:
    ac_url: str
    dv_url: str
    pid: int

    def control(self, path: str, body: dict[str, Any] | None = None, *, dv: bool = False) -> Any:
        base = self.dv_url if dv else self.ac_url
        with httpx.Client(timeout=60) as http:
            r = http.post(f"{base}/_sandbox/{path}", json=body) if body is not None else http.get(
                f"{base}/_sandbox/{path}")
            r.raise_for_status()
            return r.json()


@contextlib.contextmanager
def running_sandboxes(seed_contacts: int, log_path: Path, *, ac_switches: dict[str, Any] | None = None,
                      module: str = "sandbox", extra_args: tuple[str, ...] = (), start_seconds: float = 120
                      ) -> Iterator[Sandboxes]:
    """Both stand-ins in one process sharing one clock, which is frozen before any product call
    (``module``: ``sandbox``, or the inbound bench's ``bench.inbound_stand_ins``)."""
    ac_port, dv_port = free_port(), free_port()
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "--ac-port", str(ac_port), "--dynamics-port", str(dv_port),
             "--seed-contacts", str(seed_contacts), *extra_args],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
        )
    try:
        deadline = time.monotonic() + start_seconds
        for port in (ac_port, dv_port):
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"the sandboxes exited ({proc.returncode}); see {log_path}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the sandboxes did not start in time")
                time.sleep(0.1)
        sb = Sandboxes(f"http://127.0.0.1:{ac_port}", f"http://127.0.0.1:{dv_port}", proc.pid)
        sb.control("clock", {"freeze": True})
        if ac_switches:
            sb.control("switches", ac_switches)
        yield sb
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def running_azurite_logged(log_path: Path) -> Iterator[str]:
    """Azurite (the devtools binary, in memory) with its output kept in a file: a crash under load
    leaves its reason there. Yields the connection string."""
    from devtools.azurite import Azurite, azurite_binary

    az = Azurite(free_port(), free_port(), free_port())
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [str(azurite_binary()), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry",
             "--loose", "--tableHost", "127.0.0.1", "--tablePort", str(az.table_port),
             "--queueHost", "127.0.0.1", "--queuePort", str(az.queue_port),
             "--blobHost", "127.0.0.1", "--blobPort", str(az.blob_port)],
            cwd=log_path.parent, stdout=log, stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"azurite exited ({proc.returncode}); see {log_path}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", az.table_port), timeout=0.5):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("azurite did not start in time")
            time.sleep(0.1)
        yield az.connection_string
        if proc.poll() is not None:
            print(f"warning: azurite exited during the run ({proc.returncode}); see {log_path}", flush=True)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def process_cpu_seconds(pid: int) -> float:
    """user + system CPU of a live process (Linux /proc), 0.0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        import os

        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0
