"""Shared argparse helpers: a command group other modules may add subcommands to, and the handlers' kinds."""

from __future__ import annotations

import argparse
from typing import Any

Subcommands = Any
"""``argparse._SubParsersAction`` (private in typeshed): what ``add_subparsers`` returns."""


def group(sub: Subcommands, name: str, help: str) -> Subcommands:
    """The subcommands of group ``name`` (``record``, ``config``…), created on first use: modules share groups."""
    parser: argparse.ArgumentParser | None = sub.choices.get(name)
    if parser is None:
        parser = sub.add_parser(name, help=help)
        parser.set_defaults(_group=parser.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND"))
    return parser.get_default("_group")


def connection_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--connection", required=True, help="the connection's id (connection_id in its file)")
