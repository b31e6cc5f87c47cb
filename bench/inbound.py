"""ActiveCampaign → Dynamics: a delta of C changed AC contacts at N linked pairs, and the account scan.

The stand-ins (``bench.inbound_stand_ins``) hold N Dynamics contacts (1 account per 10) and their AC
twins with two custom fields, all last changed at :data:`LINKED_AT`; the driver seeds the link table
directly from both sides' values (as ``pull_linking`` would have linked them) and the cursors a settled
connection has, a day later. Then C AC contacts get a new last name and new values in both custom fields,
and 30 simulated minutes later the timer's pass runs until idle (contacts ``direction: pull``, so only
the AC → Dynamics path is measured). After it, with accounts pulling instead, two passes of the account
scan (it reads at most ``ac_accounts.SCAN_PER_PASS`` accounts a pass). Then, contacts pulling again, R
creates on request (``bench.inbound_requests``): R unlinked AC contacts tagged ``D365: Create Contact``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench import inbound_requests
from bench.dataverse import advance
from bench.run import CONNECTION, EDIT_AFTER, Measured, measure
from bench.simclock import SimClock
from bench.stack import AC_KEY, DV_TOKEN, Sandboxes, running_sandboxes

LINKED_AT = 1_780_000_000.0
SETTLED = 86_400.0
"""The connection's last pass ran this long after the pairs were linked (its AC watermark is then)."""
CONTACT_COLUMNS = ["contactid", "emailaddress1", "firstname", "lastname", "telephone1", "mobilephone",
                   "address1_line1"]
ACCOUNT_COLUMNS = ["accountid", "name", "websiteurl"]


@dataclass
class InboundResult:
    linked: int
    accounts: int
    changes: int
    field_totals: list[int]
    """Contacts holding a value of each mapped custom field (what a scan of that field reads)."""
    delta: Measured
    scans: list[Measured]
    requests: int = 0
    """AC contacts asking for a Dynamics contact by the request tag (``bench.inbound_requests``)."""
    request_pass: Measured | None = None


def config_doc(sb: Sandboxes, field_ids: list[int], *, accounts: bool, owner: str = "") -> dict[str, Any]:
    contacts: dict[str, Any] = {"enabled": not accounts, "direction": "pull", "custom": [
        {"dynamics": "mobilephone", "activecampaign": f"field:{field_ids[0]}"},
        {"dynamics": "address1_line1", "activecampaign": f"field:{field_ids[1]}"}]}
    doc: dict[str, Any] = {
        "connection_id": CONNECTION,
        "activecampaign": {"api_url": sb.ac_url},
        "dynamics": {"environment_url": sb.dv_url, "auth": {"kind": "static_token"}},
        "sync": {"global_enabled": True, "frequency": "1h"},
        "push": {"list_ids": [], "exclude_automations": True},
        "entities": {"contacts": contacts, "leads": {"enabled": False},
                     "accounts": {"enabled": accounts, "direction": "pull"}},
    }
    if not accounts:  # creates on request on, nobody tagged in the delta: it pays the request-tag read's idle cost
        contacts["constants"] = {"lastname": "(no last name)"}
        doc["create_requests"] = {"enabled": True, "tag_create_lead": None,
                                  "owner": {"kind": "systemuser", "id": owner}}
    return doc


async def _dynamics_rows(sb: Sandboxes, entity_set: str, columns: list[str]) -> dict[str, dict[str, Any]]:
    """Every record of a table with its etag, by email (contacts) or name (accounts), lower-cased."""
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    key = columns[1]
    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    out: dict[str, dict[str, Any]] = {}
    try:
        async for page in dv.query(entity_set, select=columns):
            for r in page.records:
                if r.get(key):
                    out.setdefault(str(r[key]).strip().lower(), r)
    finally:
        await dv.aclose()
        await clock.aclose()
    return out


def _links(cfg: Any, pairs: dict[str, Any], contacts: dict[str, dict[str, Any]],
           accounts: dict[str, dict[str, Any]]) -> list[Any]:
    """The links ``pull_linking`` makes: both sides' values as they are, AC's time, Dynamics' etag."""
    from sync_core.engine.ac_values import account_ac_values, contact_ac_values
    from sync_core.engine.mapping import ASSOCIATION_KEYS, dynamics_values, parse_ac_time
    from sync_core.model.state import RecordLink

    at = datetime.fromtimestamp(LINKED_AT, UTC)
    out = []
    people = [f for f in cfg.entities.of("contact").fields_for("pull") if f.activecampaign not in ASSOCIATION_KEYS]
    for c in pairs["contacts"]:
        r = contacts[c["email"].lower()]
        out.append(RecordLink(
            entity="contact", dynamics_id=str(r["contactid"]), ac_id=str(c["id"]), email=c["email"].lower(),
            dynamics_values=dynamics_values(r, people), ac_values=contact_ac_values(c, c["fieldValues"], people),
            ac_modified=parse_ac_time(c["udate"]), synced_at=at, dynamics_etag=str(r.get("@odata.etag") or "")))
    firms = cfg.entities.of("account").fields_for("pull")
    for a in pairs["accounts"]:
        r = accounts[a["name"].strip().lower()]
        out.append(RecordLink(
            entity="account", dynamics_id=str(r["accountid"]), ac_id=str(a["id"]),
            dynamics_values=dynamics_values(r, firms), ac_values=account_ac_values(a, None, firms),
            ac_modified=parse_ac_time(a["updatedTimestamp"]), synced_at=at,
            dynamics_etag=str(r.get("@odata.etag") or "")))
    return out


async def _seed(storage: str, prefix: str, secrets_path: Path, doc: dict[str, Any], links: list[Any]) -> None:
    from sync_core.model.config import ConnectionConfig
    from sync_core.model.secrets import secret_names
    from sync_core.model.state import AcCursor
    from sync_core.store import LocalSecretStore, SyncStore

    store = SyncStore.from_connection_string(storage, table_prefix=prefix)
    try:
        await store.create_tables()
        config = ConnectionConfig.model_validate(doc)
        names = secret_names(config)
        secrets = LocalSecretStore(secrets_path)
        await secrets.set_secret(names["activecampaign_api_key"], AC_KEY)
        await secrets.set_secret(names["dynamics_secret"], DV_TOKEN)
        await store.save_config(config)
        sem = asyncio.Semaphore(8)

        async def chunk(part: list[Any]) -> None:
            async with sem:
                await store.save_links(CONNECTION, part)

        await asyncio.gather(*(chunk(links[i:i + 2000]) for i in range(0, len(links), 2000)))
        settled = datetime.fromtimestamp(LINKED_AT + SETTLED, UTC)
        for entity in ("contact", "account"):  # linked by email (name) once: the link read is done
            await store.save_cursor(CONNECTION, AcCursor(entity=entity, stream="link", phase="delta",
                                                         finished_at=settled))
        await store.save_cursor(CONNECTION, AcCursor(entity="contact", stream="changes", phase="delta",
                                                     watermark=settled, run_started_at=settled))
    finally:
        await store.close()


async def _save_config(storage: str, prefix: str, doc: dict[str, Any]) -> None:
    from sync_core.model.config import ConnectionConfig
    from sync_core.store import SyncStore

    store = SyncStore.from_connection_string(storage, table_prefix=prefix)
    try:
        await store.save_config(ConnectionConfig.model_validate(doc))
    finally:
        await store.close()


async def _pulled(sb: Sandboxes, ids: list[str]) -> dict[str, dict[str, Any]]:
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    try:
        return {i: dict(await dv.get("contacts", i, select=["lastname", "mobilephone", "address1_line1"]) or {})
                for i in ids}
    finally:
        await dv.aclose()
        await clock.aclose()


def inbound(storage: str, workdir: Path, *, contacts: int, changes: int, scans: int = 2,
            requests: int = 0) -> InboundResult:
    name, prefix = "inbound", "benchinbound"
    print(f"[{name}] stand-ins with {contacts:,} Dynamics contacts and their AC twins", flush=True)
    with running_sandboxes(contacts, workdir / f"sandbox-{name}.log", module="bench.inbound_stand_ins",
                           extra_args=("--linked-at", str(LINKED_AT)), start_seconds=1800) as sb:
        with httpx.Client(timeout=600) as http:
            pairs = http.get(f"{sb.ac_url}/_bench/pairs").json()
        dv_contacts = asyncio.run(_dynamics_rows(sb, "contacts", CONTACT_COLUMNS))
        dv_accounts = asyncio.run(_dynamics_rows(sb, "accounts", ACCOUNT_COLUMNS))
        owner = inbound_requests.owner_id(sb)
        doc = config_doc(sb, pairs["fields"], accounts=False, owner=owner)
        if requests:
            inbound_requests.add_unlinked(sb, requests)
        from sync_core.model.config import ConnectionConfig

        links = _links(ConnectionConfig.model_validate(config_doc(sb, pairs["fields"], accounts=True)), pairs,
                       dv_contacts, dv_accounts)
        secrets_path = workdir / f"secrets-{name}.json"
        print(f"[{name}] seeding {len(links):,} links", flush=True)
        asyncio.run(_seed(storage, prefix, secrets_path, doc, links))
        asyncio.run(advance(sb, SETTLED + EDIT_AFTER))
        with httpx.Client(timeout=600) as http:
            http.post(f"{sb.ac_url}/_bench/edit", json={"count": changes, "tag": "Edited"}).raise_for_status()
        asyncio.run(advance(sb, EDIT_AFTER))
        job = {"mode": "engine", "storage": storage, "prefix": prefix, "secrets_path": str(secrets_path),
               "connection_id": CONNECTION, "ac_options": {}, "reason": "timer"}
        print(f"[{name}] delta pass after {changes:,} AC edits at {len(pairs['contacts']):,} linked", flush=True)
        delta = measure(sb, job, workdir, f"{name}-delta", f"AC -> Dynamics delta, {changes:,} changes")
        edited = [lk for lk in links if lk.entity == "contact"][:changes]
        step = max(1, len(edited) // 20)
        got = asyncio.run(_pulled(sb, [lk.dynamics_id for lk in edited[::step]]))
        wrong = [k for k in range(0, len(edited), step)  # the k-th twin's edit (inbound_stand_ins.edit)
                 if (got[edited[k].dynamics_id].get("lastname"), got[edited[k].dynamics_id].get("mobilephone"),
                     got[edited[k].dynamics_id].get("address1_line1"))
                 != (f"Edited {k}", f"Edited Region {k}", f"Edited Segment {k}")]
        delta.checks.append(f"AC edits in Dynamics (last name, both custom fields): {len(got) - len(wrong)} of "
                            f"{len(got)} sampled")
        if wrong:
            raise RuntimeError(f"[{name}] delta incomplete: {delta.checks[-1]}")
        asyncio.run(_save_config(storage, prefix, config_doc(sb, pairs["fields"], accounts=True)))
        runs = []
        for i in range(scans):
            asyncio.run(advance(sb, 3600))
            print(f"[{name}] account scan pass {i + 1} at {len(pairs['accounts']):,} linked accounts", flush=True)
            runs.append(measure(sb, job, workdir, f"{name}-scan{i + 1}", f"account scan pass {i + 1}"))
        asked = inbound_requests.request_pass(sb, job, workdir, requests, owner, lambda: asyncio.run(
            _save_config(storage, prefix, doc))) if requests else None
    totals = [len(pairs["contacts"])] * len(pairs["fields"])  # every twin holds a value of both fields
    return InboundResult(len(pairs["contacts"]), len(pairs["accounts"]), changes, totals, delta, runs,
                         requests, asked)
