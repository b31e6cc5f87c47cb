"""Where AC's 5/s budget sat idle in a run: the sandbox's request log (arrival times, simulated) by phase.

A profile in simulated time: the run is cut into buckets of ``BUCKET`` seconds from its first AC request, and
each bucket shows how many of its ``5 x BUCKET`` slots were used and by which kind of call (``I`` bulk import,
``i`` import/info, ``l`` contacts list, ``o`` other). The idle slots before the last request are the budget
the run left unspent.
"""

from __future__ import annotations

from typing import Any

BUCKET = 2.0
RATE = 5


def _kind(row: dict[str, Any]) -> str:
    path = str(row.get("path", ""))
    if "import/bulk_import" in path:
        return "I"
    if "import/info" in path:
        return "i"
    if row.get("method") == "GET" and path.rstrip("/").endswith("/contacts"):
        return "l"
    return "o"


def profile(rows: list[dict[str, Any]]) -> list[str]:
    times = [(float(r["time"]), _kind(r)) for r in rows if r.get("time") is not None]
    if not times:
        return []
    times.sort()
    t0, t_end = times[0][0], times[-1][0]
    n_buckets = int((t_end - t0) // BUCKET) + 1
    buckets: list[dict[str, int]] = [{} for _ in range(n_buckets)]
    for t, k in times:
        b = buckets[int((t - t0) // BUCKET)]
        b[k] = b.get(k, 0) + 1
    slots = int(RATE * BUCKET)
    idle = sum(max(0, slots - sum(b.values())) for b in buckets)
    cells = [f"{sum(b.values()):>2}" + "".join(k for k, _ in sorted(b.items(), key=lambda kv: -kv[1])[:2])
             for b in buckets]
    out = [f"AC budget use, calls a {BUCKET:.0f} s of {slots} from the first request (I import, i import/info, "
           f"l contacts list, o other; most first): {len(times)} calls over {t_end - t0:.1f} s, {idle} slots idle "
           f"= {idle / RATE:.1f} s of the budget"]
    for i in range(0, len(cells), 15):
        out.append(f"  +{i * BUCKET:5.0f} s  " + " ".join(f"{c:<5}" for c in cells[i:i + 15]))
    return out
