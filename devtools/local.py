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
from sync_core.cli.local import add_up_arguments

NEXT = """next, in another terminal (the settings above are read from the file):
  .venv/bin/python -m sync_core config apply sandbox/connection.example.json \\
      --secrets sandbox/connection.secrets.example.json
  .venv/bin/python -m sync_core sync --connection demo --until-idle
  .venv/bin/python -m sync_core status --connection demo"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sync_core local up", description=__doc__)
    add_up_arguments(p)
    return p


def _check_free(ports: dict[str, int]) -> None:
    for what, port in ports.items():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                raise DemoFailed(f"port {port} ({what}) is in use: another `local up`? stop it, or pass "
                                 f"--{what.split()[0]}-port")


def _write_settings(path: Path, az: Azurite) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {"SYNC_STORAGE_CONNECTION_STRING": az.connection_string, "SYNC_LOCAL_AUTH": "1",
              "SYNC_LOCAL_SECRETS_PATH": str(path.parent / "secrets.json"), "SYNC_TABLE_PREFIX": ""}
    path.write_text(json.dumps(values, indent=2) + "\n", encoding="utf-8")


def _summary(az: Azurite, ac_url: str, dv_url: str, seed: int, settings: Path, log: Path, default_ports: bool) -> str:
    lines = [
        f"started (pid {os.getpid()}; stop with Ctrl-C or `kill {os.getpid()}`: every child stops with it):",
        f"  Azurite, in memory       blobs :{az.blob_port}, queues :{az.queue_port}, tables :{az.table_port}",
        f"  ActiveCampaign sandbox   {ac_url}  (API key {AC_KEY})",
        f"  Dynamics sandbox         {dv_url}  (token {DV_TOKEN}; {seed} contacts seeded)",
        f"  sandbox log              {log}",
        f"settings for the other commands: {settings} (local mode; removed on stop)",
    ]
    if not default_ports:
        lines.append("note: other ports than 8081/8082: set activecampaign.api_url and dynamics.environment_url "
                     "in your copy of sandbox/connection.example.json")
    return "\n".join([*lines, NEXT])


def up(args: argparse.Namespace) -> int:
    az_ports = Azurite(table_port=args.storage_port + 2, queue_port=args.storage_port + 1, blob_port=args.storage_port)
    _check_free({"ac sandbox": args.ac_port, "dynamics sandbox": args.dynamics_port,
                 "storage (Azurite blobs)": az_ports.blob_port, "storage (Azurite queues)": az_ports.queue_port,
                 "storage (Azurite tables)": az_ports.table_port})
    settings: Path = args.settings
    log_path = settings.parent / "sandboxes.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(log_path, "wb") as log, running_azurite(ports=az_ports) as az, \
                running_sandboxes(args.seed_contacts, (args.ac_port, args.dynamics_port), log) as (ac_url, dv_url):
            _write_settings(settings, az)
            default = (args.ac_port, args.dynamics_port) == (8081, 8082)
            print(_summary(az, ac_url, dv_url, args.seed_contacts, settings, log_path, default), flush=True)
            while True:
                time.sleep(3600)
    finally:
        with contextlib.suppress(FileNotFoundError):
            settings.unlink()


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
