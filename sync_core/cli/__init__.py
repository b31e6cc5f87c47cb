"""The command line: ``python -m sync_core <command>``; one module per command group.

A module registers its commands with ``register(sub)``: ``set_defaults(run=…)`` for a command that
needs the runtime (an ``async (runtime, args) -> int``), ``set_defaults(plain=…)`` for one that does
not. Groups (``config``, ``record``…) are shared through ``_parsers.group``, so a new module adds a
subcommand to a group without touching the others.
"""

from __future__ import annotations

import argparse

from sync_core.cli import auth, config, dynamics, history, local, record_sales, serve, status, sync
from sync_core.cli._errors import Exit
from sync_core.cli._run import run

COMMANDS = (local, serve, config, sync, status, history, record_sales, dynamics, auth)
"""The command modules, in the order ``--help`` lists them."""

EPILOG = "exit codes: " + ", ".join(f"{int(e)} {e.name.lower().replace('_', ' ')}" for e in Exit)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sync_core", description="ActiveCampaign ⇄ Dynamics 365 sync",
                                     epilog=EPILOG)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the clients and engine do")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))
