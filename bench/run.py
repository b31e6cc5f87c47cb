"""The scenarios: a seeded sandbox process, a store in Azurite, the sync process run to idle.

Every measured run is a separate ``python -m bench.worker`` process (the sync process); the
sandboxes are another process and Azurite a third, so the sync process's CPU and RSS are its own.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import budget_use
from bench.dataverse import Census, advance, census, edit_contacts
from bench.simclock import SimClock
from bench.stack import AC_KEY, DV_TOKEN, Sandboxes, process_cpu_seconds, running_sandboxes
from devtools.azurite import ROOT

CONNECTION = "bench"
EDIT_AFTER = 1800.0
"""Simulated seconds after the initial sync when the Dynamics edits happen; the next hourly
timer fires as long again after them."""


@dataclass
class Measured:
    """One run of the sync process."""

    label: str
    result: dict[str, Any]
    sandbox_requests: dict[str, int]
    sandbox_cpu: float
    checks: list[str] = field(default_factory=list)
    budget_use: list[str] = field(default_factory=list)
    """``bench.budget_use.profile`` of the run's AC requests: where the 5/s sat idle."""

    @property
    def sim(self) -> float:
        return float(self.result["sim_seconds"])

    @property
    def ac_calls(self) -> dict[str, int]:
        return dict(self.result["ac_calls"])

    @property
    def ac_total(self) -> int:
        return sum(self.ac_calls.values())


@dataclass
class DatasetResult:
    census: Census
    initial: Measured
    delta: Measured | None = None
    changes: int = 0


def connection_doc(sb: Sandboxes, *, accounts: bool) -> dict[str, Any]:
    return {
        "connection_id": CONNECTION,
        "activecampaign": {"api_url": sb.ac_url},
        "dynamics": {"environment_url": sb.dv_url, "auth": {"kind": "static_token"}},
        "sync": {"global_enabled": True, "frequency": "1h"},
        "push": {"list_ids": [], "exclude_automations": True},
        "entities": {"contacts": {"enabled": True, "direction": "push"}, "leads": {"enabled": False},
                     "accounts": {"enabled": accounts, "direction": "push"}},
    }


async def _setup(storage: str, prefix: str, secrets_path: Path, sb: Sandboxes, *, accounts: bool) -> None:
    from sync_core.model.config import ConnectionConfig
    from sync_core.store import LocalSecretStore, SyncStore

    store = SyncStore.from_connection_string(storage, table_prefix=prefix)
    try:
        await store.create_tables()
        from sync_core.model.secrets import secret_names

        secrets = LocalSecretStore(secrets_path)
        config = ConnectionConfig.model_validate(connection_doc(sb, accounts=accounts))
        names = secret_names(config)
        await secrets.set_secret(names["activecampaign_api_key"], AC_KEY)
        await secrets.set_secret(names["dynamics_secret"], DV_TOKEN)
        await store.save_config(config)
    finally:
        await store.close()


async def _link_state(storage: str, prefix: str) -> tuple[int, int]:
    """(links, links still pending) of contacts in the store."""
    from sync_core.store import SyncStore

    store = SyncStore.from_connection_string(storage, table_prefix=prefix)
    total = pending = 0
    try:
        async for link in store.iter_links(CONNECTION, "contact"):
            total += 1
            pending += link.ac_id is None
    finally:
        await store.close()
    return total, pending


async def _ac_first_names(sb: Sandboxes, emails: list[str]) -> dict[str, str]:
    """First names in AC, through the API with a simulated-time budget (after the measurement)."""
    from sync_core.activecampaign import ActiveCampaignClient

    clock = await SimClock.attach(sb.ac_url)
    ac = ActiveCampaignClient(sb.ac_url, AC_KEY, clock=clock)
    out: dict[str, str] = {}
    try:
        for email in emails:
            found = await ac.find_contact_by_email(email)
            out[email] = str(found.get("firstName")) if found else ""
    finally:
        await ac.aclose()
        await clock.aclose()
    return out


def _request_rows(sb: Sandboxes, *, clear: bool = False) -> list[dict[str, Any]]:
    import httpx

    with httpx.Client(timeout=60) as http:
        if clear:
            http.delete(f"{sb.ac_url}/_sandbox/requests").raise_for_status()
            return []
        rows: list[dict[str, Any]] = http.get(f"{sb.ac_url}/_sandbox/requests").json()["requests"]
    return rows


def _requests(rows: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {"total": len(rows)}
    for r in rows:
        if r["status"] in (429, 503) or r["status"] < 0 or (r["status"] == 400 and "import" in r["path"]):
            key = f"refused {r['status']}"
            out[key] = out.get(key, 0) + 1
    return out


def run_worker(job: dict[str, Any], workdir: Path, name: str) -> dict[str, Any]:
    job_file, result_file = workdir / f"{name}.job.json", workdir / f"{name}.result.json"
    job_file.write_text(json.dumps(job))
    subprocess.run([sys.executable, "-m", "bench.worker", str(job_file), str(result_file)], cwd=ROOT, check=True)
    result: dict[str, Any] = json.loads(result_file.read_text())
    return result


def set_latency(sb: Sandboxes, profile: str) -> None:
    """``realistic``: AC 150-300 ms, Dataverse 50-150 ms, each with a tail (the stand-ins' register entries
    "Latency"), announced in ``x-sandbox-latency`` for the sync process's clock to wait; ``off``: none."""
    on = profile == "realistic"
    sb.control("latency", {"profile": "realistic" if on else "none", "answer": "header"})
    sb.control("latency", {"mode": "header" if on else "off"}, dv=True)


def measure(sb: Sandboxes, job: dict[str, Any], workdir: Path, name: str, label: str) -> Measured:
    _request_rows(sb, clear=True)
    cpu0 = process_cpu_seconds(sb.pid)
    result = run_worker({**job, "ac_url": sb.ac_url, "dv_url": sb.dv_url}, workdir, name)
    rows = _request_rows(sb)
    return Measured(label, result, _requests(rows), process_cpu_seconds(sb.pid) - cpu0,
                    budget_use=budget_use.profile(rows))


def dataset(storage: str, workdir: Path, *, name: str, contacts: int, accounts: bool, switches: dict[str, Any],
            ac_options: dict[str, Any], changes: int, verify_links: bool = True, latency: str = "off"
            ) -> DatasetResult:
    """Seed, initial sync until idle, then (``changes`` > 0) edits and one timer pass until idle.

    ``latency`` ``realistic``: both stand-ins announce each answer's latency during the initial sync
    (their ``realistic`` profiles), which the sync process waits on its simulated clock."""
    print(f"[{name}] sandboxes with {contacts:,} Dynamics contacts, switches {switches or 'default'}", flush=True)
    with running_sandboxes(contacts, workdir / f"sandbox-{name}.log", ac_switches=switches) as sb:
        cen = asyncio.run(census(sb))
        prefix = f"bench{name}"
        secrets_path = workdir / f"secrets-{name}.json"
        asyncio.run(_setup(storage, prefix, secrets_path, sb, accounts=accounts))
        job = {"mode": "engine", "storage": storage, "prefix": prefix, "secrets_path": str(secrets_path),
               "connection_id": CONNECTION, "ac_options": ac_options}
        print(f"[{name}] initial sync of {cen.with_email:,} contacts ({cen.accounts:,} accounts in Dynamics)",
              flush=True)
        set_latency(sb, latency)
        initial = measure(sb, {**job, "reason": "initial"}, workdir, f"{name}-initial", "initial sync")
        set_latency(sb, "off")
        in_ac = int(sb.control("state")["counts"]["contacts"])
        initial.checks.append(f"AC contacts {in_ac:,} of {cen.with_email:,} Dynamics contacts with an email")
        if in_ac != cen.with_email:
            raise RuntimeError(f"[{name}] initial sync incomplete: {initial.checks[-1]}")
        if verify_links:
            total, pending = asyncio.run(_link_state(storage, prefix))
            initial.checks.append(f"links {total:,}, pending {pending:,}")
            if total != cen.with_email or pending:
                raise RuntimeError(f"[{name}] links incomplete: {initial.checks[-1]}")
        out = DatasetResult(cen, initial)
        if changes:
            edited = cen.contact_ids[:changes]
            asyncio.run(advance(sb, EDIT_AFTER))
            asyncio.run(edit_contacts(sb, edited, tag=name))
            asyncio.run(advance(sb, EDIT_AFTER))
            print(f"[{name}] delta pass after {len(edited):,} Dynamics edits", flush=True)
            delta = measure(sb, {**job, "reason": "timer"}, workdir, f"{name}-delta", "delta")
            out.delta, out.changes = delta, len(edited)
            sample = asyncio.run(_sample_emails(sb, edited[:: max(1, len(edited) // 20)]))
            names = asyncio.run(_ac_first_names(sb, list(sample)))
            wrong = [e for e, first in names.items() if first != sample[e]]
            delta.checks.append(f"edits arrived in AC: {len(names) - len(wrong)} of {len(names)} sampled")
            if wrong:
                raise RuntimeError(f"[{name}] delta incomplete: {delta.checks[-1]}")
    return out


async def _sample_emails(sb: Sandboxes, ids: list[str]) -> dict[str, str]:
    """email -> first name now in Dynamics, for a few contact ids."""
    from sync_core.dynamics import DataverseClient, StaticTokenCredential

    clock = await SimClock.attach(sb.ac_url)
    dv = DataverseClient(sb.dv_url, StaticTokenCredential(DV_TOKEN), clock=clock)
    out: dict[str, str] = {}
    try:
        for cid in ids:
            r = await dv.get("contacts", cid, select=["emailaddress1", "firstname"])
            if r is not None:
                out[str(r["emailaddress1"])] = str(r["firstname"])
    finally:
        await dv.aclose()
        await clock.aclose()
    return out


def generic(workdir: Path, *, sample: int) -> Measured:
    print(f"[generic] one contact/sync per contact for {sample:,} contacts", flush=True)
    with running_sandboxes(sample, workdir / "sandbox-generic.log") as sb:
        m = measure(sb, {"mode": "generic", "sample": sample}, workdir, "generic", "per-record path")
        in_ac = int(sb.control("state")["counts"]["contacts"])
        m.checks.append(f"AC contacts {in_ac:,} of {sample:,}")
        if in_ac != sample:
            raise RuntimeError(f"[generic] {m.checks[-1]}")
    return m
