"""``record history <entity> <dynamics_id>``: what changed on a linked record, as GET …/records/…/history."""

from __future__ import annotations

import argparse
from typing import get_args

from sync_core.api.routes_health import record_history
from sync_core.cli._errors import CliError, Exit
from sync_core.cli._parsers import Subcommands, connection_arg, group
from sync_core.cli._run import connection
from sync_core.dynamics import is_guid
from sync_core.model.state import EntityName
from sync_core.runtime import Runtime


def register(sub: Subcommands) -> None:
    history = group(sub, "record", "one record's sync state").add_parser(
        "history", help="what changed on a linked record, on which side, when and why (newest first)")
    history.add_argument("entity", choices=get_args(EntityName))
    history.add_argument("dynamics_id", help="the record's GUID in Dynamics")
    connection_arg(history)
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=_history)


async def _history(runtime: Runtime, args: argparse.Namespace) -> int:
    config = await connection(runtime, args.connection)
    if not is_guid(args.dynamics_id):
        raise CliError(f"dynamics_id: {args.dynamics_id} is not a GUID (the record's id in Dynamics)", Exit.USAGE)
    found = await record_history(runtime.store, config.connection_id, args.entity, args.dynamics_id)
    if found is None:
        raise CliError(f"no linked {args.entity} {args.dynamics_id} in {config.connection_id}: it has not synced",
                       Exit.NOT_FOUND)
    if args.json:
        print(found.model_dump_json(indent=2, by_alias=True))
        return 0
    print(f"{found.entity} {found.dynamics_id} ⇄ ActiveCampaign {found.ac_id or '-'} ({found.email or 'no email'})")
    if not found.items:
        print("  no changes recorded yet")
    for h in found.items:
        changes = ", ".join(f"{c.field}: {c.from_!r} → {c.to!r}" for c in h.changes) or "no field changes"
        print(f"  {h.at:%Y-%m-%d %H:%M:%S} {h.direction:<4} run {h.run_id or '-'}: {h.why}; {changes}")
    return 0
