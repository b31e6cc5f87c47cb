"""`make bench`: throughput against the documented limits, delta cost, time and memory.

    python -m bench [--quick] [--contacts N] [--small N] [--changes N] [--sample N]
                    [--accounts auto|on|off] [--readings default|all]
                    [--only all|outbound|inbound|latency] [--inbound N] [--inbound-changes N]
                    [--inbound-requests N] [--latency-contacts N] [--latency-workloads plain,b2b]
                    [--only sales] [--sales-contacts N]

Runs (each sync run is its own process, see bench/README.md): the initial sync of N Dynamics
contacts (10 per account) until idle; a delta pass of ``--changes`` edits at N and at ``--small``
records; one ``contact/sync`` per contact on a ``--sample``; the ActiveCampaign → Dynamics delta of
``--inbound-changes`` AC edits at ``--inbound`` linked pairs, the account scan and ``--inbound-requests``
creates on request (``bench.inbound``, ``bench.inbound_requests``); the initial sync of
``--latency-contacts`` contacts, plain and B2B, at zero and at realistic latency (``bench.latency``); the
latency of 200 sellers' add-to-automation actions during an initial sync of ``--sales-contacts``
(``bench.sales_latency``, also ``make bench-sales``).
Prints the arithmetic of the bound
under each reading of the register, every run's calls and times, and a summary table.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.bound import Reading, Workload
from bench.report import Row, print_bounds, print_run, print_table, summarize
from bench.run import DatasetResult, dataset, generic
from bench.stack import running_azurite_logged
from devtools.azurite import connection_string_from_env


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10k contacts, 2k small, 1k changes, 200 sample")
    p.add_argument("--contacts", type=int, help="Dynamics contacts of the large data set (default 100,000)")
    p.add_argument("--small", type=int, help="contacts of the small data set for the delta (default 10,000)")
    p.add_argument("--changes", type=int, help="Dynamics edits before the delta pass (default 10,000)")
    p.add_argument("--sample", type=int, help="contacts for the per-record path (default 500)")
    p.add_argument("--accounts", choices=("auto", "on", "off"), default="auto",
                   help="sync accounts too (auto: when the engine supports them)")
    p.add_argument("--readings", choices=("default", "all"), default=None,
                   help="run the large initial sync under the sandbox's default reading only, or under every "
                        "reading that changes the bound (default: all with --quick, else default)")
    p.add_argument("--only", choices=("all", "outbound", "inbound", "latency", "sales"), default="all",
                   help="the Dynamics -> AC runs, the AC -> Dynamics delta, the latency runs, the sales-action "
                        "latency, or all (default)")
    p.add_argument("--sales-contacts", type=int,
                   help="contacts of the initial sync the sales actions run during (default 10,000)")
    p.add_argument("--latency-contacts", type=int,
                   help="contacts of the latency runs, both workloads at zero and realistic latency (default 10,000)")
    p.add_argument("--latency-workloads", default="plain,b2b",
                   help="workloads of --only latency, comma-separated: plain, b2b (default both)")
    p.add_argument("--inbound", type=int, help="linked pairs of the AC -> Dynamics delta (default 100,000)")
    p.add_argument("--inbound-changes", type=int, help="AC edits of that delta (default 10,000)")
    p.add_argument("--inbound-requests", type=int, default=200,
                   help="AC contacts tagged to be created in Dynamics after that delta (default 200; 0: none)")
    return p


def _revision() -> str:
    """The commit measured, and whether the product's code differs from it."""
    import subprocess

    from devtools.azurite import ROOT

    def git(*a: str) -> str:
        out = subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True, check=False)
        return out.stdout.strip()

    dirty = git("status", "--porcelain", "--", "sync_core")
    return f"commit {git('rev-parse', '--short', 'HEAD')}" + (" + uncommitted sync_core changes" if dirty else "")


def _accounts_enabled(choice: str) -> bool:
    from sync_core.engine.runner import ENGINE_ENTITIES

    supported = "account" in ENGINE_ENTITIES
    if choice == "on" and not supported:
        print("warning: the engine does not sync accounts yet; --accounts on configures them anyway", file=sys.stderr)
    return supported if choice == "auto" else choice == "on"


def _switches(r: Reading, accounts: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """Sandbox switches and AC client options that put the run under reading ``r``."""
    switches: dict[str, Any] = {"bulk_import_spends_rps": r.bulk_spends_rps}
    if accounts:
        switches["customer_acct_name"] = "link_or_create" if r.import_links_accounts else "ignore"
    # The product's client is told the reading (its documented option): with imports outside the
    # 5/s it does not hold the budget back for them.
    options: dict[str, Any] = {} if r.bulk_spends_rps else {"bulk_import_spends_request_budget": False}
    return switches, options


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    big_n = args.contacts or (10_000 if args.quick else 100_000)
    small_n = args.small or (2_000 if args.quick else 10_000)
    changes = args.changes or (1_000 if args.quick else 10_000)
    sample = args.sample or (200 if args.quick else 500)
    readings_mode = args.readings or ("all" if args.quick else "default")
    accounts = _accounts_enabled(args.accounts)
    default_reading = Reading(bulk_spends_rps=True, import_links_accounts=True)
    inbound_sizes = _inbound_sizes(args) if args.only in ("all", "inbound") else None
    started = time.perf_counter()
    print(f"engine: {_revision()}", flush=True)
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.python_version()})"
    if args.only in ("all", "outbound"):
        print(f"bench: {big_n:,} contacts (delta {changes:,} changes at {big_n:,} and {small_n:,}), per-record "
              f"sample {sample:,}; accounts {'on' if accounts else 'off'}; {when}", flush=True)
    if inbound_sizes is not None:
        print(f"bench: AC -> Dynamics delta of {inbound_sizes[1]:,} changes at {inbound_sizes[0]:,} linked; {when}",
              flush=True)
    # Kept after the run: jobs, results and the sandboxes' and Azurite's logs.
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    print(f"work directory (logs, results): {workdir}", flush=True)
    env_conn = connection_string_from_env()
    if args.only == "inbound":
        return _inbound_only(env_conn, workdir, args, started)
    if args.only == "latency":
        return _latency_only(env_conn, workdir, args, started)
    if args.only == "sales":
        return _sales_only(env_conn, args, started)
    latency_sales_n = (_latency_contacts(args), _sales_contacts(args)) if args.only == "all" else None
    if env_conn:
        return _run(env_conn, workdir, big_n, small_n, changes, sample, accounts, default_reading,
                    readings_mode, started, inbound_sizes, latency_sales_n)
    with running_azurite_logged(workdir / "azurite.log") as conn:
        return _run(conn, workdir, big_n, small_n, changes, sample, accounts, default_reading,
                    readings_mode, started, inbound_sizes, latency_sales_n)


def _latency_contacts(args: argparse.Namespace) -> int:
    return int(args.latency_contacts or (2_000 if args.quick else 10_000))


def _sales_contacts(args: argparse.Namespace) -> int:
    return int(args.sales_contacts or (2_000 if args.quick else 10_000))


def _sales_rows(storage: str | None, contacts: int) -> list[Row]:
    from bench.sales_latency import measure, sales_rows, summary_line

    print(f"\n== Sales-action latency (simulated): 200 adds to automation during an initial sync of {contacts:,}",
          flush=True)
    out = measure(storage, contacts=contacts)
    print(summary_line(out))
    return sales_rows(out)


def _sales_only(env_conn: str | None, args: argparse.Namespace, started: float) -> int:
    print_table(_sales_rows(env_conn, _sales_contacts(args)))
    print(f"\nbench finished in {time.perf_counter() - started:,.0f} s wall")
    return 0


def _latency_only(env_conn: str | None, workdir: Path, args: argparse.Namespace, started: float) -> int:
    from bench.latency import latency_rows, latency_runs, print_latency

    n = _latency_contacts(args)
    workloads = tuple(w.strip() for w in args.latency_workloads.split(",") if w.strip())
    if not workloads or set(workloads) - {"plain", "b2b"}:
        raise SystemExit(f"--latency-workloads: plain and/or b2b, not {args.latency_workloads!r}")
    print(f"bench: latency runs at {n:,} contacts ({', '.join(workloads)}; zero and realistic latency)", flush=True)
    if env_conn:
        runs = latency_runs(env_conn, workdir, contacts=n, workloads=workloads)
    else:
        with running_azurite_logged(workdir / "azurite.log") as conn:
            runs = latency_runs(conn, workdir, contacts=n, workloads=workloads)
    print_latency(runs)
    print_table(latency_rows(runs))
    print(f"\nbench finished in {time.perf_counter() - started:,.0f} s wall")
    return 0


def _inbound_sizes(args: argparse.Namespace) -> tuple[int, int, int]:
    """Linked pairs, AC edits and creates on request of the AC -> Dynamics runs."""
    return (args.inbound or (10_000 if args.quick else 100_000),
            args.inbound_changes or (1_000 if args.quick else 10_000), args.inbound_requests)


def _inbound_only(env_conn: str | None, workdir: Path, args: argparse.Namespace, started: float) -> int:
    from bench.inbound import inbound
    from bench.inbound_report import inbound_rows, print_inbound

    linked, changes, requests = _inbound_sizes(args)
    if env_conn:
        result = inbound(env_conn, workdir, contacts=linked, changes=changes, requests=requests)
    else:
        with running_azurite_logged(workdir / "azurite.log") as conn:
            result = inbound(conn, workdir, contacts=linked, changes=changes, requests=requests)
    print_inbound(result)
    print_table(inbound_rows(result))
    print(f"\nbench finished in {time.perf_counter() - started:,.0f} s wall")
    return 0


def _run(storage: str, workdir: Path, big_n: int, small_n: int, changes: int, sample: int, accounts: bool,
         reading: Reading, readings_mode: str, started: float,
         inbound_sizes: tuple[int, int, int] | None = None, latency_sales_n: tuple[int, int] | None = None) -> int:
    sw, opts = _switches(reading, accounts)
    big = dataset(storage, workdir, name="large", contacts=big_n, accounts=accounts, switches=sw, ac_options=opts,
                  changes=changes)
    small = dataset(storage, workdir, name="small", contacts=small_n, accounts=accounts, switches=sw,
                    ac_options=opts, changes=min(changes, small_n))
    gen = generic(workdir, sample=sample)
    extra: list[tuple[Reading, DatasetResult]] = []
    if readings_mode == "all":
        others = [Reading(False, True)] + ([Reading(True, False), Reading(False, False)] if accounts else [])
        for i, r in enumerate(others):
            sw, opts = _switches(r, accounts)
            extra.append((r, dataset(storage, workdir, name=f"reading{i}", contacts=big_n, accounts=accounts,
                                     switches=sw, ac_options=opts, changes=0, verify_links=False)))

    n = big.census.with_email
    full = Workload(n, big.census.accounts, big.census.linked, big.census.titled)
    print("\n== Arithmetic of the bound (limits: AC 5 req/s shared; bulk import <= 250 rows, 100 calls/min; "
          "Dataverse 6000/300 s)")
    if accounts:
        print_bounds("the run (job titles mapped to the association, as by default)", full)
        print_bounds("the same without job titles", Workload(n, full.accounts, full.linked))
    else:
        print_bounds("the run (contacts only)", Workload(n))
        print_bounds("the issue's workload once accounts sync", full)
    print("\n== Runs (sync process measured on its own; the sandboxes and Azurite are other processes)")
    print(f"\n[large: {n:,} contacts, reading: {reading.label}]")
    print_run(big.initial, records=n)
    if big.delta:
        print_run(big.delta, records=big.changes)
    print(f"\n[small: {small.census.with_email:,} contacts]")
    print_run(small.initial, records=small.census.with_email)
    if small.delta:
        print_run(small.delta, records=small.changes)
    print("\n[per-record path: one contact/sync per contact]")
    print_run(gen, records=int(gen.result["counts"]["contact"]["created"]))
    for r, ds in extra:
        print(f"\n[large under reading: {r.label}]")
        print_run(ds.initial, records=ds.census.with_email)
    rows = summarize(big, small, gen, reading=reading, accounts=accounts, extra_readings=extra)
    if inbound_sizes is not None:
        from bench.inbound import inbound
        from bench.inbound_report import inbound_rows, print_inbound

        result = inbound(storage, workdir, contacts=inbound_sizes[0], changes=inbound_sizes[1],
                         requests=inbound_sizes[2])
        print_inbound(result)
        rows.extend(inbound_rows(result))
    if latency_sales_n:
        from bench.latency import latency_rows, latency_runs, print_latency

        runs = latency_runs(storage, workdir, contacts=latency_sales_n[0])
        print_latency(runs)
        rows.extend(latency_rows(runs))
        rows.extend(_sales_rows(storage, latency_sales_n[1]))
    print_table(rows)
    print(f"\nbench finished in {time.perf_counter() - started:,.0f} s wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
