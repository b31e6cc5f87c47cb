"""``record show|activities|add-to-automation|send-campaign``: the seller routes from the command line.

The same code as ``GET …/marketing``, ``GET …/activities`` and the two POSTs (``api/routes_sales.py``), run by
the operator with the connection's stored credentials: there is no Dynamics user behind a command line, so no
record-level check is made (the operator already holds every secret), and the audit log names the actor
``command line``. Refusals come back as the API's message with an exit code (``Exit``), never a traceback.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from sync_core.api import routes_sales
from sync_core.api.auth import Caller
from sync_core.api.context import ApiContext
from sync_core.api.errors import ApiError
from sync_core.api.roles import AC_ADMIN, CallerRoles
from sync_core.api.schemas_sales import AC_ID, AddToAutomation, SendCampaign
from sync_core.api.seller import Seller, SellerRecord
from sync_core.cli._errors import CliError, Exit
from sync_core.cli._parsers import Subcommands, connection_arg, group
from sync_core.cli._run import connection
from sync_core.dynamics import is_guid
from sync_core.engine.mapping import utc_text
from sync_core.runtime import Runtime

ENTITIES = ("lead", "contact")
OPERATOR = Caller(object_id="cli", tenant_id="", name="command line")
EXIT_OF = {403: Exit.NOT_FOUND, 404: Exit.NOT_FOUND, 409: Exit.FAILED, 422: Exit.USAGE, 502: Exit.REFUSED,
           503: Exit.UNREACHABLE}


def register(sub: Subcommands) -> None:
    records = group(sub, "record", "one record's sync state")
    _command(records, "show", "the person's ActiveCampaign contact, lists, tags, score and automations", _show)
    acts = _command(records, "activities", "the marketing timeline, newest first", _activities)
    acts.add_argument("--limit", type=int, default=20, help="items per page (1-100)")
    acts.add_argument("--cursor", help="next_cursor of the previous page")
    add = _command(records, "add-to-automation", "add the person to an automation (syncing it first)", _add)
    add.add_argument("automation_id", help="an active automation's id")
    send = _command(records, "send-campaign", "send the person a campaign (v1 campaign_send)", _send)
    send.add_argument("campaign_id", help="a sent campaign's id")


def _command(records: Subcommands, name: str, help: str,
             handler: Callable[[Runtime, argparse.Namespace], Awaitable[int]]) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = records.add_parser(name, help=help)
    p.add_argument("entity", choices=ENTITIES)
    p.add_argument("dynamics_id", help="the record's GUID in Dynamics")
    connection_arg(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=handler)
    return p


async def _record(runtime: Runtime, args: argparse.Namespace) -> SellerRecord:
    config = await connection(runtime, args.connection)
    if not is_guid(args.dynamics_id):
        raise CliError(f"dynamics_id: {args.dynamics_id} is not a GUID (the record's id in Dynamics)", Exit.USAGE)

    async def rt() -> Runtime:
        return runtime

    ctx = ApiContext(rt, auth=None, clients=runtime.clients.interactive(), preview_wait_seconds=0.0)
    seller = Seller(caller=OPERATOR, config=config, roles=CallerRoles(None, frozenset({AC_ADMIN})), user_id="",
                    runtime=runtime, ctx=ctx)
    return SellerRecord(seller=seller, entity=args.entity, dynamics_id=args.dynamics_id.strip("{}").lower())


async def _call(step: Awaitable[BaseModel], args: argparse.Namespace, human: Callable[[Any], None]) -> int:
    try:
        out = await step
    except ApiError as e:
        where = f" ({e.field})" if e.field else ""
        raise CliError(f"{e.code}{where}: {e.message}", EXIT_OF.get(e.status, Exit.FAILED)) from None
    if args.json:
        print(out.model_dump_json(indent=2))
    else:
        human(out)
    return 0


def _id(value: str, name: str) -> str:
    if not re.match(AC_ID, value):
        raise CliError(f"{name}: {value!r} is not an ActiveCampaign id (digits)", Exit.USAGE)
    return value


async def _show(runtime: Runtime, args: argparse.Namespace) -> int:
    r = await _record(runtime, args)

    def human(m: Any) -> None:
        if not m.synced:
            print(f"not in ActiveCampaign: {m.reason}" + (f" ({m.error.message})" if m.error else ""))
            return
        c = m.contact
        print(f"{c.first_name} {c.last_name} <{c.email}>  ActiveCampaign contact {c.id}  {c.url}")
        print("  lists: " + (", ".join(f"{x.name} ({x.status})" for x in m.lists) or "none"))
        print("  tags: " + (", ".join(m.tags) or "none") + (f"; score {m.score:g}" if m.score is not None else ""))
        for a in m.automations:
            print(f"  automation {a.name} ({a.id}): {a.status} since "
                  + (utc_text(a.started_at) if a.started_at else "-"))

    return await _call(routes_sales.marketing(r), args, human)


async def _activities(runtime: Runtime, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise CliError("--limit is 1 to 100", Exit.USAGE)
    r = await _record(runtime, args)

    def human(page: Any) -> None:
        for a in page.items:
            print(f"{a.at:%Y-%m-%d %H:%M:%S} UTC {a.type:<20} {a.title}" + (f"  {a.url}" if a.url else ""))
        if page.next_cursor:
            print(f"more: --cursor '{page.next_cursor}'")

    return await _call(routes_sales.activities(r, args.cursor, args.limit), args, human)


async def _add(runtime: Runtime, args: argparse.Namespace) -> int:
    body = AddToAutomation(automation_id=_id(args.automation_id, "automation_id"))
    r = await _record(runtime, args)
    return await _call(routes_sales.add_to_automation(r, body), args,
                       lambda o: print(f"added ActiveCampaign contact {o.contact_id}"
                                       + (" (synced now)" if o.synced_now else "")))


async def _send(runtime: Runtime, args: argparse.Namespace) -> int:
    body = SendCampaign(campaign_id=_id(args.campaign_id, "campaign_id"))
    r = await _record(runtime, args)
    return await _call(routes_sales.send_campaign(r, body), args,
                       lambda o: print(f"sent to ActiveCampaign contact {o.contact_id}"))
