"""Creates on request in the inbound bench (issue 18): what R requests cost on each side, measured.

Before the delta, R AC contacts with no Dynamics twin are added (``/_bench/unlinked``), last changed
before the connection's watermark, so neither the delta nor the account scan reads them. After the scans
an automation's "add tag" step tags all of them ``D365: Create Contact`` (``/_bench/tag``; under the
default reading a tag change does not move ``udate``, so only the request-tag read finds them), and an hour
later the timer's pass runs until idle with contacts pulling and creates on request on. Every AC and
Dataverse call of that pass is the requests' own but for the pass's fixed reads (the changes read's one
empty page, ``metadata``); the run checks that R owned contacts exist and no contact keeps the tag.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.dataverse import advance
from bench.run import Measured, measure
from bench.simclock import SimClock
from bench.stack import DV_TOKEN, Sandboxes

TAG = "D365: Create Contact"
OWNER = "Sam Seller"
"""The stand-in's seller the requests' records are owned by (``create_requests.owner``)."""


def owner_id(sb: Sandboxes) -> str:
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {DV_TOKEN}"}) as http:
        users = http.get(f"{sb.dv_url}/api/data/v9.2/systemusers",
                         params={"$select": "systemuserid,fullname"}).json()["value"]
    return next(str(u["systemuserid"]) for u in users if u.get("fullname") == OWNER)


def add_unlinked(sb: Sandboxes, count: int) -> None:
    """R AC contacts without a Dynamics twin, last changed now (the seeding time, before the watermark)."""
    with httpx.Client(timeout=600) as http:
        http.post(f"{sb.ac_url}/_bench/unlinked", json={"count": count}).raise_for_status()


def request_pass(sb: Sandboxes, job: dict[str, Any], workdir: Path, count: int, owner: str,
                 save_config: Callable[[], None]) -> Measured:
    """Tag the R contacts, restore the contacts-pulling configuration (creates on request on), an hour later
    the timer's pass until idle; the checks raise when a request was not carried out."""
    with httpx.Client(timeout=600) as http:
        tag_id = http.post(f"{sb.ac_url}/_bench/tag", json={"tag": TAG}).json()["tag"]
    save_config()
    asyncio.run(advance(sb, 3600))
    print(f"[inbound] creates on request: {count:,} AC contacts tagged {TAG!r}", flush=True)
    m = measure(sb, job, workdir, "inbound-requests", f"creates on request, {count:,} tagged AC contacts")
    created = asyncio.run(_asked_in_dynamics(sb))
    owned = sum(1 for r in created if str(r.get("_ownerid_value")) == owner)
    m.checks.append(f"Dynamics contacts created on request: {len(created):,} of {count:,}, owned by {OWNER}: "
                    f"{owned:,}")
    with httpx.Client(timeout=60) as http:
        left = int(http.get(f"{sb.ac_url}/_bench/tag", params={"id": tag_id}).json()["tagged"])
    m.checks.append(f"AC contacts still tagged {TAG!r}: {left:,}")
    if len(created) != count or owned != count or left:
        raise RuntimeError(f"[inbound] requests not carried out: {'; '.join(m.checks[-2:])}")
    return m


async def _asked_in_dynamics(sb: Sandboxes) -> list[dict[str, Any]]:
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    out: list[dict[str, Any]] = []
    try:
        async for page in dv.query("contacts", select=["contactid", "emailaddress1", "_ownerid_value"],
                                   filter="startswith(emailaddress1,'asked.')"):
            out.extend(dict(r) for r in page.records)
    finally:
        await dv.aclose()
        await clock.aclose()
    return out
