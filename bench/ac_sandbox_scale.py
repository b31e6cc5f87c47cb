"""``python -m bench.ac_sandbox_scale [--contacts 1000000] [--samples 100]``: the AC stand-in's request cost at scale.

Seeds an account (contacts with a tag, a list membership and a field value each; accounts linked to a fifth of
them; a few unsubscribed and a small "D365: Create Lead" tag), then sends each of the product's main requests
``--samples`` times in-process (httpx ASGI transport, rate limit off) and prints CPU milliseconds per request
(p50, p99, max) and the seconds the seeding took. Not a test (about 25 minutes at 1,000,000 on 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from sandbox.activecampaign import create_app
from sandbox.activecampaign.seed import seed_account
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock

TOKEN = "bench-ac-key"  # noqa: S105 - the stand-in's own key
Request = Callable[[int], tuple[str, str, dict[str, Any] | None, Any]]  # sample -> method, url, params, json


def build(contacts: int) -> tuple[Any, ACState, dict[str, Any]]:
    app = create_app(clock=SandboxClock(frozen_at=1_780_000_000.0), api_token=TOKEN, enforce_rate_limit=False)
    ac: ACState = app.state.ac
    started = time.process_time()
    seed_account(ac, contacts)
    ids = ac.contact_ids.get()
    for n in range(0, len(ids), 10):  # accounts: one per 10 contacts, two contacts linked each
        account = ac.create_account(f"Company {n:07d}")
        for cid in ids[n:n + 2]:
            ac.link_account(cid, account["id"], "Buyer")
    news = min(ac.lists)
    for cid in ids[:: max(1, len(ids) // 1000)]:  # about a thousand unsubscribed
        ac.set_list_status(ac.contacts[cid], news, 2, source=None)
    create_lead = ac.create_tag("D365: Create Lead")
    for cid in ids[-100:]:
        ac.add_contact_tag(ac.contacts[cid], create_lead["id"], source=None)
    ac.clock.advance(60)  # type: ignore[attr-defined]
    for cid in ids[-1000:]:  # the recently updated
        ac.update_contact(ac.contacts[cid], {"lastName": "Changed"}, source=None)
    seeded = time.process_time() - started
    return app, ac, {"seconds": seeded, "ids": ids, "list": news, "tag": min(ac.tags), "create_lead": create_lead["id"],
                     "since": ac.now() - 30}


def requests(ac: ACState, ctx: dict[str, Any]) -> dict[str, Request]:
    ids: list[int] = ctx["ids"]

    def some(n: int) -> int:
        return ids[(n * 7919) % len(ids)]

    def email(n: int) -> str:
        return ac.contacts[some(n)].email

    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ctx["since"]))
    rows = [{"email": f"import.{i}@bench.example", "first_name": "Imp", "tags": ["imported"]} for i in range(250)]
    return {
        "GET contacts?email=": lambda n: ("GET", "/api/3/contacts", {"email": email(n)}, None),
        "GET contacts?filters[updated_after]&orders[id]": lambda n: (
            "GET", "/api/3/contacts", {"filters[updated_after]": since, "orders[id]": "ASC", "limit": 100}, None),
        "GET contacts?id_greater&orders[id]": lambda n: (
            "GET", "/api/3/contacts", {"id_greater": some(n), "orders[id]": "ASC", "limit": 100}, None),
        "GET contacts (default order, all)": lambda n: ("GET", "/api/3/contacts", {"limit": 100}, None),
        "GET contacts?tagid (a quarter of all)": lambda n: (
            "GET", "/api/3/contacts", {"tagid": ctx["tag"], "orders[id]": "ASC", "limit": 100}, None),
        "GET contacts?tagid (100 tagged)": lambda n: (
            "GET", "/api/3/contacts", {"tagid": ctx["create_lead"], "limit": 100}, None),
        "GET contacts?listid&status=2": lambda n: (
            "GET", "/api/3/contacts", {"listid": ctx["list"], "status": 2, "limit": 100}, None),
        "GET contacts/{id}": lambda n: ("GET", f"/api/3/contacts/{some(n)}", None, None),
        "GET contacts/{id}/fieldValues": lambda n: ("GET", f"/api/3/contacts/{some(n)}/fieldValues", None, None),
        "GET contacts/{id}/contactLists": lambda n: ("GET", f"/api/3/contacts/{some(n)}/contactLists", None, None),
        "POST contact/sync (update)": lambda n: (
            "POST", "/api/3/contact/sync", None, {"contact": {"email": email(n), "lastName": f"S{n}"}}),
        "PUT contacts/{id}": lambda n: ("PUT", f"/api/3/contacts/{some(n)}", None, {"contact": {"firstName": f"P{n}"}}),
        "POST contactTags": lambda n: (
            "POST", "/api/3/contactTags", None, {"contactTag": {"contact": some(n), "tag": ctx["create_lead"]}}),
        "GET accounts?search=": lambda n: ("GET", "/api/3/accounts", {"search": f"Company {n * 10:07d}"}, None),
        "GET accountContacts?filters[contact]": lambda n: (
            "GET", "/api/3/accountContacts", {"filters[contact]": some(n)}, None),
        "GET fieldValues?filters[fieldid]": lambda n: (
            "GET", "/api/3/fieldValues", {"filters[fieldid]": min(ac.fields), "limit": 100, "offset": n}, None),
        "GET activities?contact=": lambda n: ("GET", "/api/3/activities", {"contact": some(n)}, None),
        "POST import/bulk_import (250 rows)": lambda n: ("POST", "/api/3/import/bulk_import", None, {
            "contacts": [{**row, "email": f"b{n}.{row['email']}"} for row in rows]}),
        "GET import/info (processes a due batch)": lambda n: ("GET", "/api/3/users/me", None, None),
        "DELETE contacts/{id}": lambda n: ("DELETE", f"/api/3/contacts/{ids[-2000 + n]}", None, None),
    }


async def measure(app: Any, ac: ACState, ctx: dict[str, Any], samples: int) -> list[tuple[str, list[float]]]:
    out = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://bench.api-us1.com",
                                 headers={"Api-Token": TOKEN}, timeout=120) as client:
        for name, make in requests(ac, ctx).items():
            cost = []
            for n in range(samples):
                if name.startswith("GET import/info"):
                    ac.clock.advance(10)  # type: ignore[attr-defined]  # the batch submitted above is now due
                    await client.post("/api/3/import/bulk_import", json={"contacts": [
                        {"email": f"due{n}.{i}@bench.example"} for i in range(250)]})
                    ac.clock.advance(10)  # type: ignore[attr-defined]
                method, url, params, body = make(n)
                started = time.process_time()
                r = await client.request(method, url, params=params, json=body)
                cost.append((time.process_time() - started) * 1000)
                if r.status_code >= 500:
                    raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
            out.append((name, cost))
            report(name, cost)
    return out


def report(name: str, cost: list[float]) -> None:
    ordered = sorted(cost)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    print(f"{name:52} {statistics.median(ordered):8.2f} {p99:8.2f} {ordered[-1]:8.2f}", flush=True)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args(argv)
    app, ac, ctx = build(args.contacts)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"AC stand-in at {len(ac.contacts):,} contacts, {len(ac.accounts):,} accounts: seeded in "
          f"{ctx['seconds']:.0f} s CPU, peak RSS {rss:,.0f} MB; {args.samples} requests each, CPU ms per request",
          flush=True)
    print(f"{'request':52} {'p50':>8} {'p99':>8} {'max':>8}   (max: the first call, which builds lazy indexes)",
          flush=True)
    asyncio.run(measure(app, ac, ctx, args.samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
