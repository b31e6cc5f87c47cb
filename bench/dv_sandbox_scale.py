"""CPU time of the Dataverse stand-in's main routes at scale (not a test; nothing here runs in CI).

    .venv/bin/python -m bench.dv_sandbox_scale [--sizes 100000 1000000] [--samples 20] [--json out.json]

Per size: seed an organisation of N contacts in process, then measure the CPU (``time.process_time``) of
each request through the in-process ASGI transport (sandbox + transport + httpx; the body is read, not
parsed):

- ``ct_page``: a change-tracking initial-read page of 5,000 contacts (``Prefer: odata.track-changes,
  odata.maxpagesize=5000``, nine columns), following ``@odata.nextLink`` (the first ``samples`` pages, then the
  rest of the read unmeasured to reach the delta link);
- ``batch_patch``: a ``$batch`` of 1,000 ``PATCH contacts(id)`` with ``If-Match: *`` (``samples`` batches, so
  ``samples`` × 1,000 changed contacts);
- ``delta_page``: a page (≤ 5,000) of the delta read that follows, repeated ``samples`` times.

Prints p50/p99 milliseconds per route, seed CPU and peak RSS; ``--json`` writes the same figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import sys
import time
from typing import Any

import httpx

from sandbox.clock import SandboxClock
from sandbox.dynamics import create_app

TOKEN = "bench-token"  # noqa: S105 - the in-process sandbox's own bearer token, not a secret
API = "/api/data/v9.2/"
SELECT = "firstname,lastname,emailaddress1,jobtitle,telephone1,address1_city,donotbulkemail,statecode,modifiedon"
TRACK = {"Prefer": "odata.track-changes,odata.maxpagesize=5000"}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(call: Any) -> tuple[httpx.Response, float]:
    start = time.process_time()
    response = await call
    await response.aread()
    return response, (time.process_time() - start) * 1000.0


def _batch_body(ids: list[str], tag: str) -> bytes:
    parts = []
    for i, cid in enumerate(ids):
        body = json.dumps({"jobtitle": f"{tag} {i}"})
        parts.append(
            "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            f"PATCH {API}contacts({cid}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: *\r\n\r\n{body}\r\n"
        )
    return ("".join(parts) + "--b--\r\n").encode()


async def measure(size: int, samples: int) -> dict[str, Any]:
    cpu0 = time.process_time()
    app = create_app(clock=SandboxClock(frozen_at=1_780_000_000.0), tokens=(TOKEN,), seed=1, seed_contacts=size)
    seed_cpu = time.process_time() - cpu0
    dv = app.state.dataverse
    figures: dict[str, list[float]] = {"ct_page": [], "batch_patch": [], "delta_page": []}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://bench.crm.dynamics.com",
                                 headers={"Authorization": f"Bearer {TOKEN}"}, timeout=600) as http:  # fmt: skip
        url: str | None = API + f"contacts?$select={SELECT}"
        link, pages, read_cpu = "", 0, 0.0
        while url:
            r, ms = await _timed(http.get(url, headers=TRACK))
            read_cpu += ms
            if pages < samples:
                figures["ct_page"].append(ms)
            pages += 1
            body = r.json()
            url, link = body.get("@odata.nextLink"), body.get("@odata.deltaLink", link)
        ids = dv.sorted_ids("contact")
        for b in range(samples):
            chunk = ids[(b * 1000) % len(ids) :][:1000]
            content = _batch_body(chunk, f"bench{b}")
            r, ms = await _timed(http.post(API + "$batch", content=content,
                                           headers={"Content-Type": "multipart/mixed; boundary=b",
                                                    "Prefer": "odata.continue-on-error"}))  # fmt: skip
            assert r.status_code == 200, r.text[:300]
            figures["batch_patch"].append(ms)
        for _ in range(samples):
            r, ms = await _timed(http.get(link, headers=TRACK))
            figures["delta_page"].append(ms)
            assert r.status_code == 200, r.text[:300]
    out: dict[str, Any] = {
        "contacts": size,
        "seed_cpu_s": round(seed_cpu, 2),
        "initial_read": {"pages": pages, "cpu_s": round(read_cpu / 1000, 2)},
        "delta_rows_per_page": min(5000, samples * 1000),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    for route, values in figures.items():
        out[route] = {
            "n": len(values),
            "p50_ms": round(statistics.median(values), 1),
            "p99_ms": round(_percentile(values, 0.99), 1),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.samples < 1 or any(s < 5000 for s in args.sizes):
        print("--samples must be ≥ 1 and every size ≥ 5,000", file=sys.stderr)
        return 2
    results = []
    for size in args.sizes:
        result = asyncio.run(measure(size, args.samples))
        results.append(result)
        read = result["initial_read"]
        print(f"{size:>9,} contacts  seed {result['seed_cpu_s']} s CPU  peak RSS {result['peak_rss_mb']} MB  "
              f"initial read {read['pages']} pages {read['cpu_s']} s CPU")  # fmt: skip
        for route in ("ct_page", "batch_patch", "delta_page"):
            f = result[route]
            print(f"    {route:<12} n={f['n']:<4} p50 {f['p50_ms']:>8.1f} ms   p99 {f['p99_ms']:>8.1f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
