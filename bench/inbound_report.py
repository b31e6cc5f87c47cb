"""The bound of the ActiveCampaign → Dynamics delta, its printing and its rows of the summary table.

The fewest calls the design's reads need for C changed contacts at N linked, with F mapped custom fields:

- AC (5 requests/s, shared): ceil(C/100) ``contacts.list`` pages (``filters[updated_after]``); the custom-field
  values cost nothing when the list side-loads them (register ``contacts_list_include=honoured``), else the
  cheaper of one ``contact.fieldValues`` per change and a scan of each field (1 count + ceil(N_f/100) pages);
  echoes cost nothing.
- Dataverse (6,000 requests per 300 s per user; a ``$batch`` is one request, its operations count against
  the 20 minutes of execution time, which 10,000 PATCHes stay far below): ceil(C/50) reads by id (the
  design's 50 ids a query) and ceil(C/1000) ``$batch`` calls.

The limits are separate services, so the slower one sets the time: bound = C / max(AC s, Dataverse s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.bound import AC_PAGE, AC_RPS, DV_REQUESTS, DV_WINDOW
from bench.inbound import InboundResult
from bench.report import RATE_TARGET, Row

DV_IDS_PER_READ = 50
DV_BATCH = 1000


@dataclass(frozen=True)
class InboundBound:
    changes: int
    list_pages: int
    field_reads: int
    dv_reads: int
    dv_batches: int
    field_way: str

    @property
    def ac_calls(self) -> int:
        return self.list_pages + self.field_reads

    @property
    def ac_seconds(self) -> float:
        return self.ac_calls / AC_RPS

    @property
    def dv_seconds(self) -> float:
        return (self.dv_reads + self.dv_batches) / (DV_REQUESTS / DV_WINDOW)

    @property
    def seconds(self) -> float:
        return max(self.ac_seconds, self.dv_seconds)

    @property
    def records_per_second(self) -> float:
        return self.changes / self.seconds

    def arithmetic(self) -> str:
        return (f"AC {self.list_pages:,} contacts.list + {self.field_reads:,} field-value reads ({self.field_way}) "
                f"= {self.ac_calls:,} calls / 5 per s = {self.ac_seconds:,.1f} s; Dataverse {self.dv_reads:,} reads "
                f"by id + {self.dv_batches:,} $batch = {self.dv_reads + self.dv_batches:,} requests / 20 per s = "
                f"{self.dv_seconds:,.1f} s -> {self.changes:,} changes in {self.seconds:,.1f} s = "
                f"{self.records_per_second:,.1f} changes/s")


def inbound_bound(changes: int, field_totals: list[int], *, include_honoured: bool) -> InboundBound:
    if include_honoured:
        reads, way = 0, "side-loaded by include=fieldValues"
    else:
        scan = sum(1 + math.ceil(t / AC_PAGE) for t in field_totals)
        reads, way = (scan, "a scan of each field") if scan < changes else (changes, "one per contact")
    return InboundBound(changes, math.ceil(changes / AC_PAGE), reads, math.ceil(changes / DV_IDS_PER_READ),
                        math.ceil(changes / DV_BATCH), way)


def print_inbound(r: InboundResult) -> None:
    from bench.report import print_run

    print(f"\n== ActiveCampaign -> Dynamics: {r.changes:,} changed AC contacts at {r.linked:,} linked, "
          f"{len(r.field_totals)} custom fields mapped ({r.accounts:,} linked accounts)")
    for honoured in (False, True):
        b = inbound_bound(r.changes, r.field_totals, include_honoured=honoured)
        print(f"  Bound [contacts_list_include={'honoured' if honoured else 'ignored'}]: {b.arithmetic()}")
    print_run(r.delta, records=r.changes)
    for m in r.scans:
        print_run(m)
    if r.request_pass is not None:
        print_run(r.request_pass, records=r.requests)


def inbound_rows(r: InboundResult) -> list[Row]:
    """Under the sandbox's default reading (``contacts_list_include=ignored``: the field values cost reads)."""
    d = r.delta
    bound = inbound_bound(r.changes, r.field_totals, include_honoured=False)
    dv_calls = sum(int(v) for v in d.result["dv_calls"].values())
    got = r.changes / d.sim if d.sim else float("inf")
    frac = got / bound.records_per_second
    reads = d.ac_calls.get("fieldValues.list", 0) + d.ac_calls.get("contact.fieldValues", 0)
    rows = [
        Row(f"AC -> Dynamics delta, {r.changes:,} changes at {r.linked:,} linked ({len(r.field_totals)} custom fields)",
            f"{got:,.1f} changes/s = {frac:.0%} of {bound.records_per_second:,.1f}", f">= {RATE_TARGET:.0%}",
            frac >= RATE_TARGET),
        Row("  calls per change, AC (field-value reads included)",
            f"{d.ac_total / r.changes:.3f} ({d.ac_total:,} calls, {reads:,} field-value reads; minimal "
            f"{bound.ac_calls:,})"),
        Row("  calls per change, Dataverse",
            f"{dv_calls / r.changes:.3f} ({dv_calls:,} calls: {_kinds(d.result['dv_calls'])})"),
        Row("  request-tag read in that pass (creates on request on, nobody tagged)",
            f"{d.ac_calls.get('tags.list', 0):,} tags.list, "
            f"{int(d.result['counts'].get('contact', {}).get('request_tag_pages', 0)):,} tag pages "
            f"(contacts.list?tagid, at most create_requests.pages_per_pass a kind)"),
        Row("  wall / CPU / simulated", f"{d.result['wall_seconds']:,.0f} s / {d.result['cpu_seconds']:,.0f} s / "
                                        f"{d.sim:,.0f} s"),
    ]
    for i, m in enumerate(r.scans, start=1):
        dv = sum(int(v) for v in m.result["dv_calls"].values())
        rows.append(Row(f"account scan pass {i} at {r.accounts:,} linked accounts",
                        f"{m.ac_total:,} AC calls ({_kinds(m.ac_calls)})"
                        f", {dv:,} Dataverse, {m.sim:,.0f} s sim"))
    return rows + request_rows(r)


def request_rows(r: InboundResult) -> list[Row]:
    """Calls per request on each side: the request pass's calls over the requests it carried out."""
    m, n = r.request_pass, r.requests
    if m is None or not n:
        return []
    dv_calls = sum(int(v) for v in m.result["dv_calls"].values())
    created = int(m.result["counts"].get("contact", {}).get("requests_created", 0))
    return [
        Row(f"creates on request, {n:,} tagged AC contacts (contacts pulling, 2 custom fields)",
            f"{created:,} created in {m.sim:,.0f} s simulated = {n / m.sim if m.sim else float('inf'):,.2f} "
            f"requests/s; wall {m.result['wall_seconds']:,.0f} s, CPU {m.result['cpu_seconds']:,.0f} s"),
        Row("  calls per request, AC", f"{m.ac_total / n:.2f} ({m.ac_total:,} calls: {_kinds(m.ac_calls)})"),
        Row("  calls per request, Dataverse", f"{dv_calls / n:.2f} ({dv_calls:,} calls: "
                                              f"{_kinds(m.result['dv_calls'])})"),
    ]


def _kinds(calls: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(calls.items()))
