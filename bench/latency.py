"""The fraction of the bound at zero and at realistic latency, both workloads (issue 23, item 2).

For each workload — contacts only, and contacts + accounts + links (B2B) — the initial sync of N
Dynamics contacts runs twice on fresh stand-ins and a fresh store: without latency, and with both
stand-ins answering at their ``realistic`` profile (AC 150-300 ms, Dataverse 50-150 ms, each with a
tail), waited on the sync process's simulated clock (``bench/simclock.py``). Reported: records/s as a
fraction of the API-limit bound (``bench/bound.py``; latency does not change it) and the AC requests
the sandbox refused (429) — none is the target on the bulk path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.bound import Reading, Workload, bulk_bound
from bench.report import Row, print_run
from bench.run import DatasetResult, dataset

LATENCY_TARGET = 0.90
PROFILES = ("off", "realistic")


@dataclass
class LatencyRun:
    workload: str
    latency: str
    result: DatasetResult

    def workload_of(self) -> Workload:
        c = self.result.census
        return Workload(c.with_email, c.accounts, c.linked, c.titled) if self.workload == "b2b" else Workload(
            c.with_email)

    @property
    def fraction(self) -> float:
        n = self.result.census.with_email
        bound = bulk_bound(self.workload_of(), Reading(bulk_spends_rps=True, import_links_accounts=True))
        return n / self.result.initial.sim / bound.records_per_second

    @property
    def refused(self) -> int:
        return sum(v for k, v in self.result.initial.sandbox_requests.items() if k.startswith("refused"))


def latency_runs(storage: str, workdir: Path, *, contacts: int, workloads: tuple[str, ...] = ("plain", "b2b"),
                 switches: dict[str, Any] | None = None) -> list[LatencyRun]:
    out: list[LatencyRun] = []
    for workload in workloads:
        for profile in PROFILES:
            name = f"lat{workload}{profile}"
            sw = {"bulk_import_spends_rps": True, **(switches or {})}
            if workload == "b2b":
                sw["customer_acct_name"] = "link_or_create"
            ds = dataset(storage, workdir, name=name, contacts=contacts, accounts=workload == "b2b", switches=sw,
                         ac_options={}, changes=0, latency=profile)
            out.append(LatencyRun(workload, profile, ds))
    return out


def print_latency(runs: list[LatencyRun]) -> None:
    print("\n== Latency (simulated: the stand-ins announce it, the sync process's clock waits it)")
    for r in runs:
        print(f"\n[{r.workload}, latency {r.latency}: {r.result.census.with_email:,} contacts]")
        print_run(r.result.initial, records=r.result.census.with_email)
        res = r.result.initial.result
        print(f"    latency waited (sum over calls) {res.get('latency_waited', 0):,.1f} s; clock moves "
              f"{res.get('clock_moves', 0):,}; fraction of the bound {r.fraction:.1%}")
        if r.workload == "plain":  # B2B's 7,000 calls would fill pages; its budget is full (98 %)
            for line in r.result.initial.budget_use:
                print(f"    {line}")


def latency_rows(runs: list[LatencyRun]) -> list[Row]:
    rows: list[Row] = []
    for r in runs:
        n = r.result.census.with_email
        scope = "contacts + accounts + links" if r.workload == "b2b" else "contacts only"
        bound = bulk_bound(r.workload_of(), Reading(bulk_spends_rps=True, import_links_accounts=True))
        got = n / r.result.initial.sim
        target = f">= {LATENCY_TARGET:.0%}"
        rows.append(Row(f"latency {r.latency:<9} initial sync {n:,}, {scope}",
                        f"{got:,.1f} rec/s = {r.fraction:.0%} of {bound.records_per_second:,.1f}", target,
                        r.fraction >= LATENCY_TARGET))
        rows.append(Row(f"latency {r.latency:<9} AC requests refused (429/503), {scope}", f"{r.refused:,}", "0",
                        r.refused == 0))
    return rows
