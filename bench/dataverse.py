"""What the benchmark does on the Dynamics side as a user would: count the data, edit contacts.

Both go through the Dataverse Web API of the sandbox (the product's own client is used as an
ordinary API client here), with the benchmark's :class:`SimClock`, so the sandbox's request
limit and ``modifiedon`` follow simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.simclock import SimClock
from bench.stack import DV_TOKEN, Sandboxes


@dataclass(frozen=True)
class Census:
    contacts: int
    with_email: int
    linked: int
    """Contacts whose parent customer is an account."""
    accounts: int
    titled: int
    """Contacts with an account and a job title (AC keeps the title on the association)."""
    contact_ids: list[str]


async def census(sb: Sandboxes) -> Census:
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    ids: list[str] = []
    with_email = linked = titled = 0
    try:
        async for page in dv.query("contacts", select=["contactid", "emailaddress1", "_parentcustomerid_value",
                                                        "jobtitle"]):
            for r in page.records:
                ids.append(str(r["contactid"]))
                with_email += bool(r.get("emailaddress1"))
                linked += bool(r.get("_parentcustomerid_value"))
                titled += bool(r.get("_parentcustomerid_value") and r.get("jobtitle"))
        accounts = 0
        async for page in dv.query("accounts", select=["accountid"]):
            accounts += len(page.records)
    finally:
        await dv.aclose()
        await clock.aclose()
    return Census(len(ids), with_email, linked, accounts, titled, ids)


async def edit_contacts(sb: Sandboxes, ids: list[str], *, tag: str) -> None:
    """Change the first name of each contact, 1,000 per ``$batch`` call."""
    from sync_core.dynamics import BatchOperation, DataverseClient, StaticTokenCredential

    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    try:
        ops = [BatchOperation("PATCH", f"contacts({cid})", body={"firstname": f"Edited{tag}{i}"},
                              headers={"If-Match": "*"}) for i, cid in enumerate(ids)]
        results = await dv.execute_batch(ops)
        failed = [r for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(ops)} edits failed: {failed[0].status}")
    finally:
        await dv.aclose()
        await clock.aclose()


async def advance(sb: Sandboxes, seconds: float) -> None:
    clock = await SimClock.attach(sb.ac_url)
    try:
        await clock.sleep(seconds)
    finally:
        await clock.aclose()
