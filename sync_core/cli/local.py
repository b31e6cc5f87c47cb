"""``local up``: Azurite and the sandboxes for local use (``devtools/local.py``, run in this process's place)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sync_core.cli._errors import CliError, Exit
from sync_core.cli._parsers import Subcommands, group
from sync_core.cli._run import LOCAL_SETTINGS


def register(sub: Subcommands) -> None:
    up = group(sub, "local", "the local stand-ins (Azurite, the two sandboxes)").add_parser(
        "up", help="start Azurite and both sandboxes, write the settings the other commands read; Ctrl-C stops all")
    add_up_arguments(up)
    up.set_defaults(plain=_up)


def add_up_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed-contacts", type=int, default=200, help="contacts seeded in the Dynamics sandbox")
    p.add_argument("--ac-port", type=int, default=8081)
    p.add_argument("--dynamics-port", type=int, default=8082)
    p.add_argument("--storage-port", type=int, default=10000, help="Azurite's blob port; queues +1, tables +2")
    p.add_argument("--settings", type=Path, default=Path(os.environ.get("SYNC_LOCAL_SETTINGS") or LOCAL_SETTINGS),
                   help=f"where the settings for the other commands go (default {LOCAL_SETTINGS})")


OPTIONS = ("seed_contacts", "ac_port", "dynamics_port", "storage_port", "settings")


def _up(args: argparse.Namespace) -> int:
    if os.environ.get("WEBSITE_INSTANCE_ID") or os.environ.get("WEBSITE_SITE_NAME"):
        raise CliError("local up is for a development machine, not Azure", Exit.NOT_CONFIGURED)
    # Replaced, not wrapped: Ctrl-C and SIGTERM reach the process that owns the children.
    argv = [f"--{name.replace('_', '-')}={getattr(args, name)}" for name in OPTIONS]
    os.execv(sys.executable, [sys.executable, "-m", "devtools.local", *argv])  # noqa: S606 (our own interpreter)
    return 0
