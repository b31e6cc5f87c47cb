"""The stand-ins for the inbound bench, seeded in process: ``python -m bench.inbound_stand_ins ...``.

    python -m bench.inbound_stand_ins --ac-port P --dynamics-port P --seed-contacts N --linked-at EPOCH

Both stand-ins as ``python -m sandbox`` serves them (one process, one clock, the documented limits), and
the AC side seeded as a settled two-way connection leaves it: one AC contact per Dynamics contact with an
email (same names and phone) and two custom text fields with a value each, all last changed at
``--linked-at``. Seeding 100,000 pairs through the API would take hours at 5 requests/s, so it is done
on the stand-ins' state, as ``bench.ac_sandbox_scale`` does. Two routes of the bench's own, beside the
stand-in's (which are untouched):

- ``GET /_bench/pairs``: ``{"fields": [id, id], "contacts": [{contact as the API renders it, "fieldValues":
  {id: value}}], "accounts": [account as rendered]}`` — what the driver seeds the link table from (an AC
  account per Dynamics account too, same name and website);
- ``POST /_bench/edit {"count": C, "tag": T}``: the first C mirrored contacts get a new last name and new
  values in both custom fields, as an edit in AC's UI would (``udate`` moves, an ``update`` event);
- ``POST /_bench/unlinked {"count": R}``: R more AC contacts with no Dynamics twin (``asked.<n>@bench.example``,
  no custom-field value, so the delta's field scans read what they read without them), last changed now;
- ``POST /_bench/tag {"tag": T}``: those contacts get the tag T, as an automation's "add tag" step does (the
  stand-in's tag write: ``udate`` moves only under ``udate_on_tag_change``); ``GET /_bench/tag?id=N``: how
  many contacts carry the tag N (read on the state, outside the API's rate limit).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.activecampaign import create_app as create_ac_app
from sandbox.activecampaign.render import Renderer
from sandbox.activecampaign.routes_fields import create_field_record
from sandbox.activecampaign.state import ACState
from sandbox.clock import SandboxClock
from sandbox.dynamics import create_app as create_dynamics_app

AC_KEY = "sandbox-ac-key"  # the stand-in's documented demo key, not a secret
DYNAMICS_TOKEN = "sandbox-dynamics-token"  # noqa: S105 - the stand-in's fixed token, not a secret
FIELDS = ("Region", "Segment")
_BY_ID = re.compile(r"^\s*(\w+) eq ([0-9a-fA-F-]{36})\s*$")


def index_reads_by_id() -> None:
    """A set in front of the Dataverse stand-in's ``$filter=<pk> eq <id> or …`` (the pull's reads by id): it
    evaluates the 50-term ``or`` on every row, ~1 s of CPU a query at 100,000 contacts. The rows matched are
    the same (any other filter goes to the stand-in's own evaluation, which also raises its errors)."""
    from sandbox.dynamics import query

    original = query.predicate

    def predicate(dv: Any, table: Any, req: Any) -> Any:
        ids: set[str] = set()
        for term in (req.param("$filter") or "").split(" or "):
            m = _BY_ID.match(term)
            if m is None or m.group(1) != table.pk:
                return original(dv, table, req)
            ids.add(m.group(2).lower())
        visible = req.caller.visible(dv, table.logical) if req.caller is not None else None
        return lambda row: str(row.get(table.pk) or "").lower() in ids and (visible is None or bool(visible(row)))

    query.predicate = predicate


def mirror(ac: ACState, dv_rows: dict[str, dict[str, Any]]) -> tuple[list[int], list[int]]:
    """AC contacts for the Dynamics contacts with an email; returns (field ids, contact ids in Dynamics order)."""
    field_ids = [int(create_field_record(ac, title, "text")["id"]) for title in FIELDS]
    ids: list[int] = []
    for n, row in enumerate(dv_rows.values()):
        email = str(row.get("emailaddress1") or "").strip()
        if not email or ac.contact_by_email(email) is not None:
            continue
        contact = ac.create_contact({"email": email, "firstName": row.get("firstname") or "",
                                     "lastName": row.get("lastname") or "", "phone": row.get("telephone1") or ""})
        for fid, title in zip(field_ids, FIELDS, strict=True):
            ac.set_field_value(contact, fid, f"{title} {n % 17}")
        ids.append(contact.id)
    return field_ids, ids


def mirror_accounts(ac: ACState, dv_rows: dict[str, dict[str, Any]]) -> list[int]:
    """An AC account (same name and website) for each Dynamics account with a name not seen yet."""
    out = []
    for row in dv_rows.values():
        name = str(row.get("name") or "").strip()
        if name and ac.account_named(name) is None:
            out.append(int(ac.create_account(name, row.get("websiteurl") or None)["id"]))
    return out


def bench_routes(ac: ACState, field_ids: list[int], ids: list[int], account_ids: list[int]) -> list[Route]:
    render = Renderer(ac, "http://127.0.0.1")

    async def pairs(request: Request) -> Response:
        out = []
        for cid in ids:
            c = ac.contacts[cid]
            values = {str(ac.field_values[fv]["field"]): ac.field_values[fv]["value"]
                      for fv in c.field_values.values()}
            out.append({**render.contact(c), "fieldValues": values})
        accounts = [render.account(ac.accounts[a], counted=False) for a in account_ids]
        return Response(json.dumps({"fields": field_ids, "contacts": out, "accounts": accounts}),
                        media_type="application/json")

    async def edit(request: Request) -> Response:
        body = await request.json()
        count, tag = int(body["count"]), str(body["tag"])
        for n, cid in enumerate(ids[:count]):
            ac.update_contact(ac.contacts[cid], {"lastName": f"{tag} {n}", "fieldValues": [
                {"field": fid, "value": f"{tag} {title} {n}"} for fid, title in zip(field_ids, FIELDS, strict=True)]})
        return JSONResponse({"edited": min(count, len(ids))})

    unlinked: list[int] = []

    async def add_unlinked(request: Request) -> Response:
        count = int((await request.json())["count"])
        for n in range(len(unlinked), len(unlinked) + count):
            c = ac.create_contact({"email": f"asked.{n}@bench.example", "firstName": "Asked", "lastName": f"Lead {n}"})
            unlinked.append(c.id)
        return JSONResponse({"ids": unlinked})

    async def tag(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse({"tagged": len(ac.contacts_with_tag(int(request.query_params["id"])))})
        tag_id = int(ac.find_or_create_tag(str((await request.json())["tag"]))["id"])
        for cid in unlinked:
            ac.add_contact_tag(ac.contacts[cid], tag_id)
        return JSONResponse({"tagged": len(unlinked), "tag": tag_id})

    return [Route("/_bench/pairs", pairs), Route("/_bench/edit", edit, methods=["POST"]),
            Route("/_bench/unlinked", add_unlinked, methods=["POST"]),
            Route("/_bench/tag", tag, methods=["GET", "POST"])]


async def _serve(args: argparse.Namespace) -> None:
    index_reads_by_id()
    clock = SandboxClock(frozen_at=float(args.linked_at))
    dynamics = create_dynamics_app(clock=clock, tokens=[DYNAMICS_TOKEN], seed=1, seed_contacts=args.seed_contacts,
                                   rate_limit=6000, rate_window=300.0, execution_ms=1_200_000.0, concurrency=52)
    ac_app = create_ac_app(clock=clock, api_token=AC_KEY, seed=1, seed_contacts=0)
    field_ids, ids = mirror(ac_app.state.ac, dynamics.state.dataverse.rows["contact"])
    account_ids = mirror_accounts(ac_app.state.ac, dynamics.state.dataverse.rows["account"])
    ours = Starlette(routes=bench_routes(ac_app.state.ac, field_ids, ids, account_ids))

    async def front(scope: Any, receive: Any, send: Any) -> None:
        app = ours if scope.get("path", "").startswith("/_bench/") else ac_app
        await app(scope, receive, send)

    servers = [uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
               for app, port in ((front, args.ac_port), (dynamics, args.dynamics_port))]
    await asyncio.gather(*(s.serve() for s in servers))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.inbound_stand_ins", description=__doc__.split("\n\n")[0])
    p.add_argument("--ac-port", type=int, required=True)
    p.add_argument("--dynamics-port", type=int, required=True)
    p.add_argument("--seed-contacts", type=int, required=True)
    p.add_argument("--linked-at", type=float, required=True, help="the stand-ins' time while seeding (epoch s)")
    asyncio.run(_serve(p.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
