"""``dynamics setup``: the product's two security roles in the connection's environment."""

from __future__ import annotations

import argparse

from sync_core.api.roles import PRODUCT_ROLES
from sync_core.api.roles_setup import ensure_roles
from sync_core.cli._parsers import Subcommands, connection_arg, group
from sync_core.cli._run import connection
from sync_core.runtime import Runtime


def register(sub: Subcommands) -> None:
    setup = group(sub, "dynamics", "Dynamics-side setup").add_parser(
        "setup", help="create the ActiveCampaign User/Admin security roles if missing")
    connection_arg(setup)
    setup.set_defaults(run=_setup)


async def _setup(runtime: Runtime, args: argparse.Namespace) -> int:
    config = await connection(runtime, args.connection)
    async with runtime.clients.interactive().stored_dynamics(runtime.secrets, config) as dv:
        created = await ensure_roles(dv)
    for name in PRODUCT_ROLES:
        print(f"{name}: {'created' if name in created else 'already there'}")
    return 0
