"""The command line: ``python -m sync_core serve | config apply | config show | sync | status``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sync_core.api import create_app
from sync_core.api.roles_setup import setup_connection_roles
from sync_core.clock import SYSTEM_CLOCK
from sync_core.engine import PassResult
from sync_core.model.config import SCHEMA_VERSION, ConnectionConfig
from sync_core.model.errors import ConfigurationError
from sync_core.model.hosts import HostRefused
from sync_core.model.secrets import PURPOSES, SECRET_KINDS, SecretPurpose, mask, secret_names, secret_problem
from sync_core.model.state import EntityName, Side
from sync_core.runtime import Runtime, build_runtime
from sync_core.store import migrate_document

IDLE_WAIT_SECONDS = 2.0
MAX_IDLE_PASSES = 500


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API under uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=7071)
    config = sub.add_parser("config", help="apply or show a connection's configuration")
    csub = config.add_subparsers(dest="config_command", required=True)
    apply = csub.add_parser("apply", help="validate and save a connection configuration file")
    apply.add_argument("file", type=Path)
    apply.add_argument("--secrets", type=Path,
                       help='JSON of the connection\'s secrets by purpose: {"activecampaign_api_key": "…", '
                            '"dynamics_secret": "…"} (stored under names the server derives, kept out of the config)')
    show = csub.add_parser("show", help="print a connection's configuration as JSON")
    show.add_argument("--connection", required=True)
    sync = sub.add_parser("sync", help="run passes for a connection")
    sync.add_argument("--connection", required=True)
    sync.add_argument("--until-idle", action="store_true", help="repeat passes until no work is left")
    sync.add_argument("--dry-run", action="store_true", help="plan only: write nothing anywhere")
    status = sub.add_parser("status", help="progress, last runs and errors of a connection")
    status.add_argument("--connection", required=True)
    dyn = sub.add_parser("dynamics", help="Dynamics-side setup")
    dsub = dyn.add_subparsers(dest="dynamics_command", required=True)
    setup = dsub.add_parser("setup", help="create the ActiveCampaign User/Admin security roles if missing")
    setup.add_argument("--connection", required=True)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.host, args.port)
    return asyncio.run(_run(args))


def _serve(host: str, port: int) -> int:
    import uvicorn

    uvicorn.run(create_app(), host=host, port=port, log_level="info")
    return 0


async def _run(args: argparse.Namespace) -> int:
    runtime = build_runtime()
    try:
        await runtime.ready()
        if args.command == "config" and args.config_command == "apply":
            return await _apply(runtime, args.file, args.secrets)
        if args.command == "config":
            return await _show(runtime, args.connection)
        if args.command == "dynamics":
            created = await setup_connection_roles(runtime, args.connection)
            print("created: " + (", ".join(created) or "nothing (both roles exist)"))
            return 0
        if args.command == "sync":
            return await _sync(runtime, args.connection, until_idle=args.until_idle, dry_run=args.dry_run)
        return await _status(runtime, args.connection)
    except (ConfigurationError, LookupError) as e:  # a connection that cannot be used: say why, no traceback
        print(f"error: {getattr(e, 'message', None) or e}", file=sys.stderr)
        return 1
    finally:
        await runtime.close()


class ApplyRefused(Exception):
    """``config apply`` refuses the file (or, ``in_secrets``, the secrets file); the message names the field."""

    def __init__(self, message: str, *, in_secrets: bool = False) -> None:
        super().__init__(message)
        self.in_secrets = in_secrets


def _parse_config(text: str) -> ConnectionConfig:
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ApplyRefused(f"not JSON: {e}") from None
    if isinstance(doc, dict) and doc.get("schema_version") == 1:
        raise ApplyRefused("schema_version 1 named its secrets: drop activecampaign.api_key_secret and "
                           "dynamics.auth.secret_name, set schema_version 3, and pass the secrets with --secrets "
                           'keyed by purpose ({"activecampaign_api_key": …, "dynamics_secret": …})')
    notes: list[str] = []
    if isinstance(doc, dict) and isinstance(doc.get("schema_version"), int) and 1 < doc["schema_version"] < \
            SCHEMA_VERSION:
        doc = migrate_document(doc, notes=notes)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    try:
        return ConnectionConfig.model_validate(doc)
    except ValueError as e:
        raise ApplyRefused(str(e)) from None


def _parse_secrets(text: str | None, config: ConnectionConfig) -> dict[SecretPurpose, str]:
    if text is None:
        return {}
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ApplyRefused(f"not JSON: {e}", in_secrets=True) from None
    if not isinstance(doc, dict):
        raise ApplyRefused("must be a JSON object keyed by purpose", in_secrets=True)
    kind = config.dynamics.auth.kind
    out: dict[SecretPurpose, str] = {}
    for key, value in doc.items():
        if key not in PURPOSES:
            raise ApplyRefused(f"{key}: unknown key (the keys are {', '.join(PURPOSES)}; secret names are derived "
                               "by the server)", in_secrets=True)
        purpose: SecretPurpose = key
        if purpose == "dynamics_secret" and kind not in SECRET_KINDS:
            raise ApplyRefused(f"dynamics_secret: dynamics.auth.kind {kind} takes no secret", in_secrets=True)
        problem = secret_problem(purpose, kind, value) if isinstance(value, str) else "must be a string"
        if problem:
            raise ApplyRefused(f"{purpose} {problem}", in_secrets=True)
        out[purpose] = value
    return out


async def _check_hosts(runtime: Runtime, config: ConnectionConfig) -> None:
    policy = runtime.settings.host_policy()
    if config.dynamics.auth.kind == "static_token" and not policy.local:
        raise ApplyRefused("dynamics.auth.kind: static_token works only in local mode (SYNC_LOCAL_AUTH=1)")
    for url, service, field in ((config.activecampaign.api_url, "activecampaign", "activecampaign.api_url"),
                                (config.dynamics.environment_url, "dynamics", "dynamics.environment_url")):
        try:
            await policy.check(url, service, field)  # type: ignore[arg-type]
        except HostRefused as e:
            raise ApplyRefused(f"{e.field}: {e.message}") from None
        except OSError:
            raise ApplyRefused(f"{field}: the host cannot be resolved") from None


async def _apply(runtime: Runtime, file: Path, secrets_file: Path | None) -> int:
    try:
        text = await asyncio.to_thread(file.read_text)
        secrets_text = await asyncio.to_thread(secrets_file.read_text) if secrets_file is not None else None
        config = _parse_config(text)
        if config.reconnect_required:
            raise ApplyRefused("reconnect_required: set by the server only")
        await _check_hosts(runtime, config)
        supplied = _parse_secrets(secrets_text, config)
        names = secret_names(config)
        for purpose, name in names.items():
            if purpose not in supplied and not await runtime.secrets.has_secret(name):
                raise ApplyRefused(f"{purpose}: nothing is stored for this connection's host and sign-in (new, or "
                                   f"changed): pass it in --secrets as {purpose}", in_secrets=True)
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ApplyRefused as e:
        print(f"error: {secrets_file if e.in_secrets else file}: {e}", file=sys.stderr)
        return 2
    previous = await runtime.store.get_config(config.connection_id)
    for purpose, value in supplied.items():
        await runtime.secrets.set_secret(names[purpose], value)
    etag = await runtime.store.save_config(config)
    if previous is not None and not previous.reconnect_required:
        for purpose, old in secret_names(previous).items():
            if names.get(purpose) != old:  # the secret of the previous host or sign-in
                await runtime.secrets.delete_secret(old)
    print(f"applied {config.connection_id} (etag {etag})")
    return 0


async def _show(runtime: Runtime, connection_id: str) -> int:
    config = await runtime.store.get_config(connection_id)
    if config is None:
        print(f"error: no connection {connection_id}", file=sys.stderr)
        return 1
    doc: dict[str, Any] = config.model_dump(mode="json")
    key = await runtime.secrets.get_secret(secret_names(config)["activecampaign_api_key"])
    doc["activecampaign"]["api_key"] = mask(key)
    print(json.dumps(doc, indent=2))
    return 0


def _progress_line(cursor: Any) -> str:
    total = cursor.total
    pct = f" {100 * cursor.done / total:5.1f}%" if total else ""
    of = f"/{total}" if total else ""
    return f"{cursor.entity:<12} {cursor.side:<15} {cursor.phase:<8} {cursor.done}{of}{pct}"


async def _sync(runtime: Runtime, connection_id: str, *, until_idle: bool, dry_run: bool) -> int:
    tty = sys.stdout.isatty()
    passes = 0
    totals: dict[str, dict[str, int]] = {}
    calls: dict[str, int] = {"activecampaign": 0, "dynamics": 0}
    start = SYSTEM_CLOCK.monotonic()
    waiting_for: datetime | None = None
    while True:
        result = await runtime.engine.run_pass(connection_id, reason="cli", dry_run=dry_run)
        passes += 1
        if result.run is not None:
            for entity, counts in result.run.counts.items():
                per = totals.setdefault(entity, {})
                for k, v in counts.items():
                    per[k] = per.get(k, 0) + v
            for side, by_kind in result.run.api_calls.items():
                calls[side] = calls.get(side, 0) + sum(by_kind.values())
        if result.outcome in ("missing", "skipped", "failed"):
            print(f"pass {passes}: {result.outcome}: {result.message}", file=sys.stderr)
            return 1
        people: tuple[EntityName, ...] = ("contact", "lead")
        for entity in people:
            cursor = await runtime.store.get_cursor(connection_id, entity, "dynamics")
            if cursor is not None:
                line = _progress_line(cursor)
                print(("\r" + line) if tty else line, end="" if tty else "\n", flush=True)
        if result.outcome == "lease_held":
            if not until_idle:
                print(f"another pass holds {connection_id}: {_lease_text(result)}", file=sys.stderr)
                return 3
            if result.held_until != waiting_for:
                waiting_for = result.held_until
                print(f"waiting for the lease of {connection_id}: {_lease_text(result)}", file=sys.stderr)
            await asyncio.sleep(_until(result.held_until))
            continue
        if not until_idle or dry_run:
            break
        if not result.more_work and result.open_imports:
            await asyncio.sleep(IDLE_WAIT_SECONDS)
        elif not result.more_work:
            break
        if passes >= MAX_IDLE_PASSES:
            print("stopping: too many passes", file=sys.stderr)
            return 1
    if tty:
        print()
    elapsed = SYSTEM_CLOCK.monotonic() - start
    print(json.dumps({"passes": passes, "counts": totals, "api_calls": calls,
                      "seconds": round(elapsed, 2)}, indent=2))
    return 0


def _lease_text(result: PassResult) -> str:
    until = f" until {result.held_until:%H:%M:%S} UTC" if result.held_until else ""
    who = f"held by {result.held_by}" if result.held_by else "held"
    return f"{who}{until} unless it renews (a stopped worker's lease runs out by then)"


def _until(when: datetime | None) -> float:
    """Seconds until just after ``when`` (a lease's expiry), between 1 and 60."""
    if when is None:
        return IDLE_WAIT_SECONDS
    return min(60.0, max(1.0, (when - SYSTEM_CLOCK.now()).total_seconds() + 0.5))


async def _status(runtime: Runtime, connection_id: str) -> int:
    config = await runtime.store.get_config(connection_id)
    if config is None:
        print(f"error: no connection {connection_id}", file=sys.stderr)
        return 1
    print(f"connection {connection_id}: global sync {'on' if config.sync.global_enabled else 'off'}, "
          f"every {config.sync.frequency}")
    entities: tuple[EntityName, ...] = ("account", "contact", "lead", "opportunity")
    sides: tuple[Side, ...] = ("dynamics", "activecampaign")
    for entity in entities:
        for side in sides:
            cursor = await runtime.store.get_cursor(connection_id, entity, side)
            if cursor is not None:
                print("  " + _progress_line(cursor))
    for run in await runtime.store.list_runs(connection_id, limit=5):
        calls = {side: sum(v.values()) for side, v in run.api_calls.items()}
        print(f"  run {run.run_id} {run.status:<9} {run.reason:<12} counts={run.counts} calls={calls}")
    errors = await runtime.store.list_errors(connection_id)
    print(f"  errors: {len(errors)}")
    for err in errors[:10]:
        print(f"    {err.entity} {err.record_id}: {err.cause} (attempts {err.attempts}, next {err.next_retry})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
