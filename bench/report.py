"""Printing: the arithmetic of the bound, what each run made and took, and the summary table."""

from __future__ import annotations

from dataclasses import dataclass

from bench.bound import READINGS, Bound, Reading, Workload, bulk_bound, per_record_bound
from bench.run import DatasetResult, Measured

RATE_TARGET = 0.80
RSS_TARGET_MB = 300.0
CPU_MS_TARGET = 1.0
DELTA_SPREAD_TARGET = 0.10
"""Delta cost follows the changes: calls per changed record at the large size within 10 % of the small."""


@dataclass
class Row:
    figure: str
    value: str
    target: str = ""
    met: bool | None = None


def readings_for(w: Workload) -> list[Reading]:
    """Readings that change this workload's arithmetic (the account-name reading needs accounts)."""
    return list(READINGS) if w.accounts else [r for r in READINGS if r.import_links_accounts]


def print_bounds(title: str, w: Workload) -> list[Bound]:
    print(f"\n  Bound for {title}: {w.label}")
    out = []
    for r in readings_for(w):
        b = bulk_bound(w, r)
        out.append(b)
        print(f"    [{r.label if w.accounts else r.label.split(',')[0]}] {b.arithmetic()}")
    return out


def print_run(m: Measured, *, records: int | None = None) -> None:
    res = m.result
    calls = ", ".join(f"{k} {v:,}" for k, v in sorted(m.ac_calls.items()))
    dv = ", ".join(f"{k} {v:,}" for k, v in sorted(res["dv_calls"].items()))
    print(f"  {m.label}: {m.sim:,.1f} s simulated, {res['wall_seconds']:,.1f} s wall, {res['cpu_seconds']:,.1f} s CPU "
          f"(sync process), peak RSS {res['peak_rss_mb']:,.0f} MB; sandboxes' CPU {m.sandbox_cpu:,.1f} s")
    if records:
        print(f"    {records:,} records -> {records / m.sim:,.1f} records/s simulated")
    print(f"    passes {len(res['passes'])}; AC calls {m.ac_total:,} ({calls}); Dataverse calls ({dv})")
    print(f"    AC requests seen by the sandbox: {m.sandbox_requests}")
    if tables := res.get("table_calls"):
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(tables.items(), key=lambda kv: -kv[1]))
        print(f"    Table Storage requests (sync process) {sum(tables.values()):,}: {kinds}")
    for p in res["passes"]:
        print(f"      pass {p['reason']:<12} at +{p['sim_start']:7.0f} s: {p['outcome']:<9} {p['sim_seconds']:7.1f} s, "
              f"AC {sum(p['ac_calls'].values()):,} {p['ac_calls']}")
    for c in m.checks:
        print(f"    check: {c}")


def summarize(big: DatasetResult, small: DatasetResult | None, generic: Measured, *, reading: Reading,
              accounts: bool, extra_readings: list[tuple[Reading, DatasetResult]]) -> list[Row]:
    n = big.census.with_email
    scope = "contacts + accounts + links" if accounts else "contacts only"
    w = Workload(n, big.census.accounts, big.census.linked, big.census.titled) if accounts else Workload(n)
    rows: list[Row] = []
    rate = n / big.initial.sim
    for r, ds in [(reading, big), *extra_readings]:
        bound = bulk_bound(w, r)
        got = n / ds.initial.sim
        frac = got / bound.records_per_second
        rows.append(Row(f"initial sync {n:,}, {scope} [{r.label if accounts else r.label.split(',')[0]}]",
                        f"{got:,.1f} rec/s = {frac:.0%} of {bound.records_per_second:,.1f}",
                        f">= {RATE_TARGET:.0%}", frac >= RATE_TARGET))
    g_n = int(generic.result["counts"]["contact"]["created"])
    g_rate = g_n / generic.sim
    g_bound = g_n / per_record_bound(g_n)
    rows.append(Row(f"per-record path, {g_n:,} contacts", f"{g_rate:,.2f} rec/s ({g_rate / g_bound:.0%} of 5.00)"))
    rows.append(Row(f"per-record extrapolated to {n:,}", f"{n / g_rate / 3600:,.1f} h vs bulk "
                    f"{big.initial.sim / 3600:,.2f} h"))
    rows.append(Row("bulk / per-record speed", f"{rate / g_rate:,.1f} x"))
    per_change: list[float] = []
    for sized in (small, big):
        if sized is None or sized.delta is None:
            continue
        pc = sized.delta.ac_total / sized.changes
        per_change.append(pc)
        rows.append(Row(f"delta {sized.changes:,} changes at {sized.census.with_email:,} records",
                        f"{pc:.3f} AC calls/change ({sized.delta.ac_total:,} calls, {sized.delta.sim:,.0f} s sim)"))
    if len(per_change) == 2:
        spread = per_change[1] / per_change[0] - 1 if per_change[0] else float("inf")
        rows.append(Row("delta cost, large vs small data", f"{spread:+.0%}", f"within {DELTA_SPREAD_TARGET:.0%}",
                        abs(spread) <= DELTA_SPREAD_TARGET))
    res = big.initial.result
    rows.append(Row(f"initial sync {n:,}: wall / CPU / simulated", f"{res['wall_seconds']:,.0f} s / "
                    f"{res['cpu_seconds']:,.0f} s / {big.initial.sim:,.0f} s"))
    cpu_ms = 1000 * res["cpu_seconds"] / n
    rows.append(Row(f"initial sync {n:,}: CPU per record (sync process)", f"{cpu_ms:.2f} ms", "<= 1 ms",
                    cpu_ms <= CPU_MS_TARGET))
    if tables := res.get("table_calls"):
        total = sum(tables.values())
        rows.append(Row(f"initial sync {n:,}: Table Storage requests", f"{total:,} = {total / n:.2f} a record "
                        f"({tables.get('links get', 0):,} link reads by key, {tables.get('links query', 0):,} "
                        "link queries)"))
    peaks = [big.initial, generic, *(d.delta for d in (big, small) if d and d.delta),
             *((small.initial,) if small else ()), *(d.initial for _, d in extra_readings)]
    peak = max(float(m.result["peak_rss_mb"]) for m in peaks if m is not None)
    rows.append(Row("sync process peak RSS (all runs)", f"{peak:,.0f} MB", f"< {RSS_TARGET_MB:.0f} MB",
                    peak < RSS_TARGET_MB))
    return rows


def print_table(rows: list[Row]) -> None:
    w1 = max(len(r.figure) for r in rows)
    w2 = max(len(r.value) for r in rows)
    print(f"\n{'figure':<{w1}}  {'value':<{w2}}  target     met")
    print("-" * (w1 + w2 + 18))
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        print(f"{r.figure:<{w1}}  {r.value:<{w2}}  {r.target:<9}  {met}")
