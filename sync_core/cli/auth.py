"""``auth token --role admin|user``: a bearer token for the local API, signed with the local key.

Local mode only (``SYNC_LOCAL_AUTH=1``, never in Azure). The token is for a real user of the
connection's Dynamics environment that holds the role, so the API's role checks apply to it as to
anyone; it is printed alone on stdout (``TOKEN=$(python -m sync_core auth token --role admin)``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sync_core.api.auth import LOCAL_KEY_PATH, LocalSigner
from sync_core.api.roles import AC_USER, roles_of
from sync_core.cli._errors import CliError, Exit
from sync_core.cli._parsers import Subcommands, group
from sync_core.cli._run import connection
from sync_core.dynamics import DataverseClient, quote_string
from sync_core.model.config import ConnectionConfig
from sync_core.runtime import Runtime

USERS_LOOKED_AT = 50
USER_COLUMNS = ("systemuserid", "fullname", "domainname", "azureactivedirectoryobjectid")


def register(sub: Subcommands) -> None:
    token = group(sub, "auth", "local sign-in").add_parser(
        "token", help="print a local API token for a Dynamics user with the role (local mode only)")
    token.add_argument("--role", choices=("admin", "user"), required=True,
                       help="admin: System Administrator or ActiveCampaign Admin; user: ActiveCampaign User")
    token.add_argument("--connection", help="whose Dynamics users to pick from (default: the only connection)")
    token.add_argument("--login", help="this user (domain name / UPN) instead of the first that holds the role")
    token.add_argument("--hours", type=float, default=8.0, help="lifetime (default 8)")
    token.set_defaults(run=_token)


async def _only_connection(runtime: Runtime) -> ConnectionConfig:
    configs = await runtime.store.list_configs()
    if len(configs) != 1:
        names = ", ".join(sorted(c.connection_id for c in configs)) or "none yet: config apply one first"
        raise CliError(f"--connection: name one (connections: {names})", Exit.USAGE)
    return configs[0]


def _holds(roles: Any, role: str) -> bool:
    return bool(roles.is_admin) if role == "admin" else AC_USER in roles.roles


async def _pick(dv: DataverseClient, role: str, login: str | None) -> dict[str, Any]:
    flt = "isdisabled eq false and applicationid eq null and azureactivedirectoryobjectid ne null"  # people only
    if login:
        flt += f" and domainname eq {quote_string(login)}"
    users = await dv.query_all("systemusers", select=list(USER_COLUMNS), filter=flt, orderby="fullname asc",
                               top=USERS_LOOKED_AT)
    for user in users:
        oid = user.get("azureactivedirectoryobjectid")
        if oid and _holds(await roles_of(dv, str(oid)), role):
            return user
    who = f"user {login}" if login else "enabled user"
    raise CliError(f"no {who} of this Dynamics environment holds the {role} role (run `python -m sync_core "
                   "dynamics setup` and assign the role in Dynamics)", Exit.NOT_FOUND)


async def _token(runtime: Runtime, args: argparse.Namespace) -> int:
    settings = runtime.settings
    if not settings.local_mode:
        raise CliError("auth token issues local tokens only: set SYNC_LOCAL_AUTH=1 (refused in Azure; there, "
                       "sign in with Entra ID)", Exit.NOT_CONFIGURED)
    config = await (connection(runtime, args.connection) if args.connection else _only_connection(runtime))
    async with runtime.clients.interactive().stored_dynamics(runtime.secrets, config) as dv:
        user = await _pick(dv, args.role, args.login)
    signer = LocalSigner.load_or_create(LOCAL_KEY_PATH)
    token = signer.issue(object_id=str(user["azureactivedirectoryobjectid"]).lower(),
                         name=str(user.get("domainname") or user.get("fullname") or "local user"),
                         now=runtime.clock.time(), lifetime=max(60.0, args.hours * 3600))
    print(f"token for {user.get('fullname')} ({user.get('domainname')}), {args.role}, connection "
          f"{config.connection_id}, valid {args.hours:g} h", file=sys.stderr)
    print(token)
    return 0
