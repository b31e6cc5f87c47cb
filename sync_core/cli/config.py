"""``config apply`` and ``config show``: one validation with the API (shape, hosts, secrets, metadata)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from sync_core.cli._errors import CliError, Exit, explain
from sync_core.cli._parsers import Subcommands, connection_arg, group
from sync_core.cli._run import connection, urls_of
from sync_core.cli.config_parse import ApplyRefused, parse_config, parse_secrets
from sync_core.engine.validation import validate_connection_config
from sync_core.model.config import ConnectionConfig
from sync_core.model.errors import ConfigurationError, SyncError, TransientError
from sync_core.model.secrets import SecretPurpose, mask, secret_names
from sync_core.runtime import Runtime


def register(sub: Subcommands) -> None:
    csub = group(sub, "config", "apply or show a connection's configuration")
    apply = csub.add_parser("apply", help="validate and save a connection configuration file")
    apply.add_argument("file", type=Path)
    apply.add_argument("--secrets", type=Path,
                       help='JSON of the connection\'s secrets by purpose: {"activecampaign_api_key": "…", '
                            '"dynamics_secret": "…"} (stored under names the server derives, kept out of the config)')
    apply.add_argument("--offline", "-o", action="store_true",
                       help="skip the check against both systems' metadata (fields, criteria): the shape, hosts "
                            "and secrets are still checked")
    apply.set_defaults(run=_apply)
    show = csub.add_parser("show", help="print a connection's configuration as JSON (the key masked)")
    connection_arg(show)
    show.set_defaults(run=_show)


async def _check_hosts(runtime: Runtime, config: ConnectionConfig) -> None:
    try:
        await runtime.clients.guard(config)
    except ConfigurationError as e:
        raise ApplyRefused(e.message) from None
    except TransientError as e:  # the host cannot be resolved
        raise ApplyRefused(e.message) from None


async def _read(path: Path) -> str:
    try:
        return await asyncio.to_thread(path.read_text, encoding="utf-8")
    except OSError as e:
        raise CliError(f"{path}: {e.strerror or e}", Exit.USAGE) from None


async def _secrets_for(runtime: Runtime, config: ConnectionConfig, supplied: dict[SecretPurpose, str]
                       ) -> dict[SecretPurpose, str | None]:
    """Each secret the connection uses: supplied now, else the one stored for its host and sign-in."""
    out: dict[SecretPurpose, str | None] = {}
    for purpose, name in secret_names(config).items():
        out[purpose] = supplied.get(purpose)
        if out[purpose] is None and not await runtime.secrets.has_secret(name):
            raise ApplyRefused(f"{purpose}: nothing is stored for this connection's host and sign-in (new, or "
                               f"changed): pass it in --secrets as {purpose}", in_secrets=True)
    return out


async def _metadata_issues(runtime: Runtime, config: ConnectionConfig, secrets: dict[SecretPurpose, str | None]
                           ) -> list[str]:
    """The API's metadata validation (``validate_connection_config``), with the secrets about to be stored."""
    factory = runtime.clients.interactive()
    names = secret_names(config)
    key = secrets.get("activecampaign_api_key") or await runtime.secrets.get_secret(names["activecampaign_api_key"])
    dv_secret = secrets.get("dynamics_secret")
    if dv_secret is None and "dynamics_secret" in names:
        dv_secret = await runtime.secrets.get_secret(names["dynamics_secret"])
    async with AsyncExitStack() as stack:
        dv = await stack.enter_async_context(factory.dynamics(config.dynamics.environment_url,
                                                              factory.credential(config.dynamics.auth, dv_secret)))
        ac = await stack.enter_async_context(factory.activecampaign(runtime.store, config.activecampaign.api_url,
                                                                    key or ""))
        found = await validate_connection_config(config, dv=dv, ac=ac)
    return [f"{i.field}: {i.message}" for i in found]


async def _apply(runtime: Runtime, args: argparse.Namespace) -> int:
    file: Path = args.file
    secrets_file: Path | None = args.secrets
    text = await _read(file)
    secrets_text = await _read(secrets_file) if secrets_file is not None else None
    try:
        config = parse_config(text, tenant=runtime.settings.connection_tenant)
        await _check_hosts(runtime, config)
        supplied = parse_secrets(secrets_text, config)
        secrets = await _secrets_for(runtime, config, supplied)
    except ApplyRefused as e:
        raise CliError(f"{secrets_file if e.in_secrets and secrets_file else file}: {e}", Exit.USAGE) from None
    if args.offline:
        print("note: --offline: the fields and criteria were not checked against either system's metadata",
              file=sys.stderr)
    else:
        try:
            issues = await _metadata_issues(runtime, config, secrets)
        except SyncError as e:  # a system refused or did not answer: say which, where, and what to do
            failure = explain(e, urls=urls_of(config), cid=config.connection_id)
            raise (failure or e) from None
        if issues:
            raise CliError(f"{file}: refused by the metadata check:\n  " + "\n  ".join(issues), Exit.USAGE)
    etag = await _save(runtime, config, supplied)
    print(f"applied {config.connection_id} (etag {etag})")
    return 0


async def _save(runtime: Runtime, config: ConnectionConfig, supplied: dict[SecretPurpose, str]) -> str:
    names = secret_names(config)
    previous = await runtime.store.get_config(config.connection_id)
    for purpose, value in supplied.items():
        await runtime.secrets.set_secret(names[purpose], value)
    etag = await runtime.store.save_config(config)
    if previous is not None and not previous.reconnect_required:
        for purpose, old in secret_names(previous).items():
            if names.get(purpose) != old:  # the secret of the previous host or sign-in
                await runtime.secrets.delete_secret(old)
    return etag


async def _show(runtime: Runtime, args: argparse.Namespace) -> int:
    config = await connection(runtime, args.connection)
    doc: dict[str, Any] = config.model_dump(mode="json")
    key = await runtime.secrets.get_secret(secret_names(config)["activecampaign_api_key"])
    doc["activecampaign"]["api_key"] = mask(key)
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0
