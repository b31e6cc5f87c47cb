"""`make demo`: the whole path on one machine, from a fresh clone.

Starts Azurite and the two sandboxes (seeded), applies the example connection in local mode (its
keys go to the local secret store under names derived from the connection, not the config
document), runs the initial sync until idle, edits
a contact in the Dynamics sandbox, runs a delta pass, then checks that every seeded Dynamics
contact with an email is in the ActiveCampaign sandbox and the edit arrived. Exits non-zero
if anything is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

from devtools.azurite import ROOT, running_azurite, stop_group, stop_on_sigterm
from devtools.ports import free_port

DEFAULT_SEED_CONTACTS = 500
AC_KEY = "sandbox-ac-key"  # the sandbox's documented demo key, not a secret
DV_TOKEN = "sandbox-dynamics-token"


class DemoFailed(Exception):
    """The demo cannot go on; the message says why (printed without a traceback)."""


def seed_contacts_from_env() -> int:
    raw = os.environ.get("DEMO_SEED_CONTACTS", str(DEFAULT_SEED_CONTACTS))
    if not raw.strip().isdigit() or int(raw) < 1:
        raise DemoFailed(f"DEMO_SEED_CONTACTS={raw!r}: must be a whole number of at least 1 (the demo syncs the "
                         f"seeded contacts and edits one of them; default {DEFAULT_SEED_CONTACTS})")
    return int(raw)


@contextlib.contextmanager
def running_sandboxes(seed_contacts: int, ports: tuple[int, int] | None = None,
                      log: IO[bytes] | None = None) -> Iterator[tuple[str, str]]:
    """Both sandboxes in one child process (``ports``: AC's and Dynamics', default free ones; ``log``:
    where their output goes, else kept to report a failed start)."""
    ac_port, dv_port = ports or (free_port(), free_port())
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--ac-port", str(ac_port), "--dynamics-port", str(dv_port),
         "--seed-contacts", str(seed_contacts)],
        cwd=ROOT, stdout=log or subprocess.DEVNULL, stderr=log or subprocess.PIPE, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        for port in (ac_port, dv_port):
            while True:
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise DemoFailed(f"the sandboxes exited: {err[-2000:]}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
                if time.monotonic() > deadline:
                    raise DemoFailed("the sandboxes did not start in time")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{ac_port}", f"http://127.0.0.1:{dv_port}"
    finally:
        stop_group(proc)


def _run_cli(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "sync_core", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise DemoFailed(f"`python -m sync_core {' '.join(args)}` exited {out.returncode}: {out.stderr.strip()}")
    return out.stdout


async def _dynamics_contacts(dv_url: str) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {DV_TOKEN}", "Prefer": "odata.maxpagesize=5000",
               "Accept": "application/json", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}
    out: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=60) as client:
        url: str | None = f"{dv_url}/api/data/v9.2/contacts?$select=contactid,emailaddress1,firstname"
        while url:
            r = await client.get(url, headers=headers)
            r.raise_for_status()
            body = r.json()
            out.extend(body["value"])
            url = body.get("@odata.nextLink")
    return out


async def _ac_contacts(ac_url: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    async with httpx.AsyncClient(timeout=60, headers={"Api-Token": AC_KEY}) as client:
        last = 0
        while True:
            r = await client.get(f"{ac_url}/api/3/contacts",
                                 params={"orders[id]": "ASC", "id_greater": last, "limit": 100})
            if r.status_code == 429:
                await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            r.raise_for_status()
            rows = r.json()["contacts"]
            if not rows:
                return out
            for c in rows:
                out[str(c["email"]).lower()] = c
            last = int(rows[-1]["id"])


async def _edit_contact(dv_url: str, contact_id: str, first_name: str) -> None:
    headers = {"Authorization": f"Bearer {DV_TOKEN}", "Content-Type": "application/json",
               "If-Match": "*", "OData-Version": "4.0", "OData-MaxVersion": "4.0"}
    async with httpx.AsyncClient(timeout=60) as client:
        r = await client.patch(f"{dv_url}/api/data/v9.2/contacts({contact_id})", headers=headers,
                               json={"firstname": first_name})
        r.raise_for_status()


def main() -> int:
    stop_on_sigterm()
    try:
        return _demo(seed_contacts_from_env())
    except DemoFailed as e:
        print(f"demo: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("demo: interrupted", file=sys.stderr)
        return 130


def _demo(seed: int) -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, running_azurite() as azurite, \
            running_sandboxes(seed) as (ac_url, dv_url):
        print(f"Azurite and the sandboxes are up (AC {ac_url}, Dynamics {dv_url}, {seed} contacts)")
        env = {**os.environ, "SYNC_STORAGE_CONNECTION_STRING": azurite.connection_string,
               "SYNC_LOCAL_SECRETS_PATH": str(Path(tmp) / "secrets.json"), "SYNC_TABLE_PREFIX": "demo",
               "SYNC_LOCAL_AUTH": "1"}  # local mode: the stand-ins' http/loopback URLs and static token
        config = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
        config["activecampaign"]["api_url"] = ac_url
        config["dynamics"]["environment_url"] = dv_url
        cfg_file = Path(tmp) / "connection.json"
        cfg_file.write_text(json.dumps(config))
        print(_run_cli("config", "apply", str(cfg_file), "--secrets",
                       str(ROOT / "sandbox" / "connection.secrets.example.json"), env=env).strip())
        print("initial sync ...")
        print(_run_cli("sync", "--connection", "demo", "--until-idle", env=env))
        contacts = asyncio.run(_dynamics_contacts(dv_url))
        target = next((c for c in contacts if c.get("emailaddress1")), None)
        if target is None:
            raise DemoFailed("no seeded Dynamics contact has an email: raise DEMO_SEED_CONTACTS")
        asyncio.run(_edit_contact(dv_url, target["contactid"], "Edited-By-Demo"))
        print(f"edited Dynamics contact {target['emailaddress1']}: firstname = Edited-By-Demo")
        print("delta pass ...")
        print(_run_cli("sync", "--connection", "demo", "--until-idle", env=env))
        print(_run_cli("status", "--connection", "demo", env=env))
        ac = asyncio.run(_ac_contacts(ac_url))
        with_email = {str(c["emailaddress1"]).lower() for c in contacts if c.get("emailaddress1")}
        missing = sorted(with_email - set(ac))
        edited = ac.get(str(target["emailaddress1"]).lower(), {})
        print(f"Dynamics contacts with an email: {len(with_email)}; in ActiveCampaign: "
              f"{len(with_email) - len(missing)}; missing: {len(missing)}")
        print(f"edited contact in ActiveCampaign: firstName = {edited.get('firstName')!r}")
        print(f"demo finished in {time.monotonic() - started:.1f}s")
        if missing:
            print(f"MISSING in ActiveCampaign: {missing[:10]}", file=sys.stderr)
            return 1
        if edited.get("firstName") != "Edited-By-Demo":
            print("the edit did not arrive in ActiveCampaign", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
