"""``sync``: run passes for a connection until idle (or once), with progress on a terminal."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime

from sync_core.cli._errors import CliError, Exit, pass_failure
from sync_core.cli._parsers import Subcommands, connection_arg
from sync_core.cli._run import connection, urls_of
from sync_core.cli.progress import Progress
from sync_core.engine import PassResult
from sync_core.runtime import Runtime

IDLE_WAIT_SECONDS = 2.0
MAX_IDLE_PASSES = 500


def register(sub: Subcommands) -> None:
    sync = sub.add_parser("sync", help="run passes for a connection")
    connection_arg(sync)
    sync.add_argument("--until-idle", action="store_true", help="repeat passes until no work is left")
    sync.add_argument("--dry-run", action="store_true", help="plan only: write nothing anywhere")
    sync.add_argument("--no-progress", action="store_true", help="no live progress (off anyway when not a terminal)")
    sync.set_defaults(run=_sync)


class _Totals:
    def __init__(self) -> None:
        self.passes = 0
        self.counts: dict[str, dict[str, int]] = {}
        self.calls: dict[str, int] = {"activecampaign": 0, "dynamics": 0}

    def add(self, result: PassResult) -> None:
        self.passes += 1
        if result.run is None:
            return
        for entity, counts in result.run.counts.items():
            per = self.counts.setdefault(entity, {})
            for k, v in counts.items():
                per[k] = per.get(k, 0) + v
        for side, by_kind in result.run.api_calls.items():
            self.calls[side] = self.calls.get(side, 0) + sum(by_kind.values())


async def _sync(runtime: Runtime, args: argparse.Namespace) -> int:
    cid: str = args.connection
    config = await connection(runtime, cid)
    totals = _Totals()
    start = runtime.clock.monotonic()
    waiting_for: datetime | None = None
    with Progress(enabled=sys.stderr.isatty() and not args.no_progress) as progress:
        while True:
            task = asyncio.create_task(runtime.engine.run_pass(cid, reason="cli", dry_run=args.dry_run))
            result = await progress.follow(task, runtime, cid, totals.counts, totals.calls, totals.passes)
            totals.add(result)
            if result.outcome in ("missing", "skipped", "failed"):
                raise pass_failure(result.message or result.outcome, urls_of(config))
            if result.outcome == "lease_held":
                if not args.until_idle:
                    raise CliError(f"another pass holds {cid}: {_lease_text(result)}", Exit.BUSY)
                if result.held_until != waiting_for:
                    waiting_for = result.held_until
                    progress.note(f"waiting for the lease of {cid}: {_lease_text(result)}")
                await asyncio.sleep(_until(result.held_until, runtime))
                continue
            if not args.until_idle or args.dry_run or not (result.more_work or result.open_imports):
                break
            if not result.more_work:
                progress.note(f"waiting for {result.open_imports} ActiveCampaign import(s) to complete")
                await asyncio.sleep(IDLE_WAIT_SECONDS)
            if totals.passes >= MAX_IDLE_PASSES:
                raise CliError("stopping: too many passes", Exit.FAILED)
    print(json.dumps({"passes": totals.passes, "counts": totals.counts, "api_calls": totals.calls,
                      "seconds": round(runtime.clock.monotonic() - start, 2)}, indent=2))
    return 0


def _lease_text(result: PassResult) -> str:
    until = f" until {result.held_until:%H:%M:%S} UTC" if result.held_until else ""
    who = f"held by {result.held_by}" if result.held_by else "held"
    return f"{who}{until} unless it renews (a stopped worker's lease runs out by then)"


def _until(when: datetime | None, runtime: Runtime) -> float:
    """Seconds until just after ``when`` (a lease's expiry), between 1 and 60."""
    if when is None:
        return IDLE_WAIT_SECONDS
    return min(60.0, max(1.0, (when - runtime.clock.now()).total_seconds() + 0.5))
