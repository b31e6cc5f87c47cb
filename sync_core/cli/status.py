"""``status``: a readable table (``--json`` for machines) of a connection's reads, runs, errors and conflicts."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from sync_core.api.progress import entity_progress
from sync_core.cli._errors import pass_failure
from sync_core.cli._parsers import Subcommands, connection_arg
from sync_core.cli._run import connection, urls_of
from sync_core.cli.progress import duration, reading, written
from sync_core.model.config import ConnectionConfig
from sync_core.model.secrets import secret_names
from sync_core.model.state import Cursor, EntityName
from sync_core.runtime import Runtime

ENTITIES: tuple[EntityName, ...] = ("account", "contact", "lead", "opportunity")
CONFLICTS_SHOWN = 1000


def register(sub: Subcommands) -> None:
    status = sub.add_parser("status", help="progress, last runs, errors and conflicts of a connection")
    connection_arg(status)
    status.add_argument("--json", action="store_true", help="one JSON document instead of tables")
    status.set_defaults(run=_status)


def _read_row(entity: EntityName, way: str, c: Cursor | None, now: datetime) -> dict[str, Any]:
    if c is None:
        return {"entity": entity, "direction": way, "reading": "not started", "done": 0, "total": None,
                "percent": None, "eta_seconds": None}
    p = entity_progress(c, now)
    return {"entity": entity, "direction": way, "reading": reading(c), "done": c.done, "total": c.total,
            "percent": p.percent, "eta_seconds": p.eta_seconds}


async def _reads(runtime: Runtime, config: ConnectionConfig, now: datetime) -> list[dict[str, Any]]:
    """One row per direction that exists: a push reads Dynamics, a pull reads ActiveCampaign's changes."""
    cid, rows = config.connection_id, []
    for entity in ENTITIES:
        m = config.entities.of(entity)
        if not m.enabled:
            continue
        conflicts = len(await runtime.store.list_conflicts(cid, entity=entity, limit=CONFLICTS_SHOWN))
        if m.pushes:
            row = _read_row(entity, "push", await runtime.store.get_dynamics_cursor(cid, entity), now)
            rows.append({**row, "conflicts": conflicts})
        if m.pulls:
            row = _read_row(entity, "pull", await runtime.store.get_ac_cursor(cid, entity, stream="changes"), now)
            rows.append({**row, "conflicts": conflicts})
    return rows


async def status_document(runtime: Runtime, config: ConnectionConfig) -> dict[str, Any]:
    cid, now = config.connection_id, runtime.clock.now()
    runs = await runtime.store.list_runs(cid, limit=5)
    errors = await runtime.store.list_errors(cid, limit=1000)
    key_set = await runtime.secrets.has_secret(secret_names(config)["activecampaign_api_key"])
    problem = None if key_set else "no ActiveCampaign key is stored: config apply --secrets"
    if runs and runs[0].status == "failed":
        problem = pass_failure(runs[0].message, urls_of(config)).message if runs[0].message else \
            "the last run failed (no reason recorded)"
    return {
        "connection_id": cid, "global_enabled": config.sync.global_enabled, "frequency": config.sync.frequency,
        "connection_error": problem,
        "reads": await _reads(runtime, config, now),
        "last_runs": [{"run_id": r.run_id, "status": r.status, "reason": r.reason,
                       "started_at": r.started_at.isoformat(), "message": r.message,
                       "written": {e: written(c) for e, c in r.counts.items()},
                       "api_calls": {s: sum(v.values()) for s, v in r.api_calls.items()}} for r in runs],
        "record_errors": len(errors),
        "awaiting_import": await runtime.store.count_awaiting_import(cid),
        "errors": [{"entity": e.entity, "side": e.side, "record_id": e.record_id, "code": e.code,
                    "cause": e.cause[:300], "attempts": e.attempts,
                    "next_retry": e.next_retry.isoformat() if e.next_retry else None} for e in errors[:10]],
    }


def _print(doc: dict[str, Any]) -> None:
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    console.print(f"connection [bold]{doc['connection_id']}[/]: global sync "
                  f"{'on' if doc['global_enabled'] else 'off'}, every {doc['frequency']}")
    if doc["connection_error"]:
        console.print(f"[red]connection error:[/] {doc['connection_error']}", markup=True)
    reads = Table("entity", "direction", "reading", "done", "%", "ETA", "conflicts", box=None, title_justify="left",
                  title="reads")
    for r in doc["reads"]:
        done = f"{r['done']}/{r['total']}" if r["total"] else str(r["done"])
        reads.add_row(r["entity"], r["direction"], r["reading"], done,
                      "" if r["percent"] is None else f"{r['percent']:.1f}",
                      duration(r["eta_seconds"]) if r["reading"] != "changes" else "",
                      str(r["conflicts"]))
    console.print(reads)
    runs = Table("run", "status", "reason", "written", "calls AC/Dynamics", "message", box=None,
                 title="last runs", title_justify="left")
    for r in doc["last_runs"]:
        calls = f"{r['api_calls'].get('activecampaign', 0)}/{r['api_calls'].get('dynamics', 0)}"
        message = r["message"] or ""
        runs.add_row(r["run_id"], r["status"], r["reason"], str(sum(r["written"].values())), calls,
                     message if len(message) <= 60 else message[:59] + "…")
    console.print(runs)
    if doc["awaiting_import"]:
        console.print(f"waiting for ActiveCampaign to process bulk imports: {doc['awaiting_import']} records")
    console.print(f"record errors: {doc['record_errors']}")
    for e in doc["errors"]:
        console.print(f"  {e['entity']} {e['record_id']}: {e['code']}: {e['cause']} (attempts {e['attempts']}, "
                      f"next {e['next_retry'] or '-'})", markup=False)


async def _status(runtime: Runtime, args: argparse.Namespace) -> int:
    doc = await status_document(runtime, await connection(runtime, args.connection))
    if args.json:
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _print(doc)
    return 0
