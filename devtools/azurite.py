"""Install (from npm) and start Azurite on free loopback ports, in memory.

Used by the test harness, the demo and the benchmarks. Real Azurite, never an imitation.
``AZURITE_CONNECTION_STRING`` in the environment points everything at an Azurite that is
already running instead.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devtools.ports import free_port
from sync_core.settings import AZURITE_KEY

AZURITE_VERSION = "3.37.0"
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = AZURITE_KEY
ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"


@dataclass(frozen=True)
class Azurite:
    table_port: int
    queue_port: int
    blob_port: int
    host: str = "127.0.0.1"

    @property
    def connection_string(self) -> str:
        base = f"http://{self.host}"
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={base}:{self.blob_port}/{ACCOUNT};"
            f"QueueEndpoint={base}:{self.queue_port}/{ACCOUNT};"
            f"TableEndpoint={base}:{self.table_port}/{ACCOUNT};"
        )


def azurite_binary() -> Path:
    """The azurite executable, installed into .tools/ from npm when missing."""
    exe = TOOLS / "node_modules" / ".bin" / "azurite"
    if exe.exists():
        return exe
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to install Azurite (npm install azurite)")
    TOOLS.mkdir(exist_ok=True)
    subprocess.run(
        [npm, "install", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error",
         f"azurite@{AZURITE_VERSION}"],
        check=True,
    )
    if not exe.exists():
        raise RuntimeError(f"npm install azurite did not produce {exe}")
    return exe


_STARTS = 4  # Azurite starts tried on fresh ports when a picked port was taken meanwhile


class AzuriteExited(RuntimeError):
    """Azurite stopped before it listened (a port taken is the usual cause)."""


def _wait_listening(port: int, service: str, proc: subprocess.Popen[bytes], deadline: float) -> None:
    """Until this Azurite answers on ``port`` as ``service``: a foreign server there does not count."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AzuriteExited(f"azurite exited with code {proc.returncode}")
        if _answers_as(port, service):
            return
        time.sleep(0.1)
    raise RuntimeError(f"azurite did not listen on port {port} in time")


def _answers_as(port: int, service: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", f"/{ACCOUNT}")
        server = conn.getresponse().getheader("server") or ""
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return server.startswith(f"Azurite-{service}/")


@contextlib.contextmanager
def running_azurite(*, timeout: float = 60.0, ports: Azurite | None = None) -> Iterator[Azurite]:
    """Start Azurite (table, queue, blob) in memory on ``ports`` (default: free ones); stop it on exit.

    With no ports given, a start that fails (another server took a port since it was picked) is
    retried on fresh ports; ports given are the caller's to choose, so that failure is raised."""
    exe = azurite_binary()
    workdir = TOOLS / "azurite-work"
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1 if ports else _STARTS):
        chosen = ports or Azurite(free_port(), free_port(), free_port())
        proc = _start(exe, chosen, workdir)
        try:
            deadline = time.monotonic() + timeout
            for port, service in ((chosen.table_port, "Table"), (chosen.queue_port, "Queue"),
                                  (chosen.blob_port, "Blob")):
                _wait_listening(port, service, proc, deadline)
        except AzuriteExited as e:
            stop_group(proc)
            if ports or attempt == _STARTS - 1:
                raise AzuriteExited(f"{e} (ports {chosen.blob_port}, {chosen.queue_port}, {chosen.table_port}: "
                                    "is one of them in use?)") from None
            continue
        except BaseException:
            stop_group(proc)
            raise
        try:
            yield chosen
        finally:
            stop_group(proc)
        return


def _start(exe: Path, ports: Azurite, workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(exe), "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry", "--silent",
         "--loose",
         "--tableHost", "127.0.0.1", "--tablePort", str(ports.table_port),
         "--queueHost", "127.0.0.1", "--queuePort", str(ports.queue_port),
         "--blobHost", "127.0.0.1", "--blobPort", str(ports.blob_port)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: stopped whole, whatever node starts under it
    )


def stop_group(proc: subprocess.Popen[bytes], *, grace: float = 10.0) -> None:
    """SIGTERM the process group ``proc`` leads, then SIGKILL what is left after ``grace`` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def stop_on_sigterm() -> None:
    """SIGTERM ends the process as Ctrl-C does, so every ``finally`` (stopping children) runs."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def connection_string_from_env() -> str | None:
    return os.environ.get("AZURITE_CONNECTION_STRING") or None


if __name__ == "__main__":
    # `python -m devtools.azurite`: run Azurite in the foreground and print its connection string.
    stop_on_sigterm()
    with contextlib.suppress(KeyboardInterrupt), running_azurite() as az:
        print(az.connection_string, flush=True)
        while True:
            time.sleep(3600)
