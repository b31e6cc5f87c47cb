"""``python -m sync_core local up`` (and ``make dev``): Azurite and both sandboxes in the foreground.

Azurite keeps everything in memory on its default ports (so ``UseDevelopmentStorage=true`` reaches
it), the sandboxes listen where ``sandbox/connection.example.json`` expects them, and the settings
the other commands need are written to ``.local/settings.json`` (removed again on stop). Ctrl-C or
SIGTERM stops every child: each runs in its own process group, stopped whole.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from devtools.azurite import ROOT, Azurite, running_azurite, stop_on_sigterm
from devtools.demo import AC_KEY, DV_TOKEN, DemoFailed, running_sandboxes
from devtools.ports import free_port
from sync_core.cli.local import add_up_arguments

NEXT = """next, in another terminal (the commands read the settings from the file):
  .venv/bin/python -m sync_core config apply .local/connection.json --secrets sandbox/connection.secrets.example.json
  .venv/bin/python -m sync_core sync --connection demo --until-idle
  .venv/bin/python -m sync_core status --connection demo"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sync_core local up", description=__doc__)
    add_up_arguments(p)
    return p


def _taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _ports(args: argparse.Namespace) -> tuple[Azurite, int, int, list[str]]:
    """The ports asked for, or free ones where those are taken (said in the notes)."""
    notes: list[str] = []

    def pick(port: int, what: str) -> int:
        if not _taken(port):
            return port
        other = free_port()
        notes.append(f"port {port} is in use: {what} listens on {other} instead")
        return other

    storage = args.storage_port
    if any(_taken(storage + i) for i in range(3)):
        blob, queue, table = free_port(), free_port(), free_port()
        notes.append(f"ports {storage}-{storage + 2} are in use: Azurite listens on {blob}, {queue}, {table} "
                     "instead (UseDevelopmentStorage=true will not reach it; the settings file does)")
        az = Azurite(table_port=table, queue_port=queue, blob_port=blob)
    else:
        az = Azurite(table_port=storage + 2, queue_port=storage + 1, blob_port=storage)
    return az, pick(args.ac_port, "the ActiveCampaign sandbox"), pick(args.dynamics_port, "the Dynamics sandbox"), notes


def _write_settings(path: Path, az: Azurite, ac_url: str, dv_url: str) -> Path:
    """The settings file, and next to it the example connection pointed at these sandboxes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {"SYNC_STORAGE_CONNECTION_STRING": az.connection_string, "SYNC_LOCAL_AUTH": "1",
              "SYNC_LOCAL_SECRETS_PATH": str(path.parent / "secrets.json"), "SYNC_TABLE_PREFIX": ""}
    path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")
    connection = json.loads((ROOT / "sandbox" / "connection.example.json").read_text(encoding="utf-8"))
    connection["activecampaign"]["api_url"] = ac_url
    connection["dynamics"]["environment_url"] = dv_url
    target = path.parent / "connection.json"
    target.write_text(json.dumps(connection, indent=2) + "\n", encoding="utf-8")
    return target


def _summary(az: Azurite, urls: tuple[str, str], seed: int, files: tuple[Path, Path, Path], notes: list[str]) -> str:
    settings, connection, log = files
    lines = [
        f"started (pid {os.getpid()}; stop with Ctrl-C or `kill {os.getpid()}`: every child stops with it):",
        f"  Azurite, in memory       blobs :{az.blob_port}, queues :{az.queue_port}, tables :{az.table_port}",
        f"  ActiveCampaign sandbox   {urls[0]}  (API key {AC_KEY})",
        f"  Dynamics sandbox         {urls[1]}  (token {DV_TOKEN}; {seed} contacts seeded)",
        f"  sandbox log              {log}",
        f"settings for the other commands: {settings} (local mode; removed on stop)",
        f"the example connection, pointed at these sandboxes: {connection}",
        *(f"note: {n}" for n in notes),
    ]
    return "\n".join([*lines, NEXT])


def up(args: argparse.Namespace) -> int:
    az_ports, ac_port, dv_port, notes = _ports(args)
    settings: Path = args.settings
    log_path = settings.parent / "sandboxes.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_path, "wb") as log, running_azurite(ports=az_ports) as az, \
                running_sandboxes(args.seed_contacts, (ac_port, dv_port), log) as urls:
            connection = _write_settings(settings, az, *urls)
            print(_summary(az, urls, args.seed_contacts, (settings, connection, log_path), notes), flush=True)
            while True:
                time.sleep(3600)
    finally:
        for path in (settings, settings.parent / "connection.json"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def main(argv: list[str] | None = None) -> int:
    stop_on_sigterm()
    os.chdir(ROOT)
    args = _parser().parse_args(argv)
    try:
        return up(args)
    except KeyboardInterrupt:
        print("stopped: Azurite and the sandboxes", flush=True)
        return 0
    except DemoFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 5


if __name__ == "__main__":
    sys.exit(main())
