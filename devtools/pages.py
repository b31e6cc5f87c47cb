"""`make pages`: the app inside Dynamics, locally — the panel on a seeded contact, in a browser.

    python -m devtools.pages [--seed-contacts 60] [--json]

Starts Azurite, the two sandboxes, the org stand-in (``devtools.org_host``: the Dataverse Web API,
``/WebResources/…`` from ``solution/dist``, a record page with the Xrm stub), the local sign-in
authority (``devtools.oidc_stub``, HTTPS), the real API (``python -m sync_core serve`` with
``SYNC_LOCAL_AUTH=1``) with the sandbox connection applied, which the pages call directly, and the
queue worker. The seller's records and their marketing history are seeded by ``devtools.pages_seed``.
Prints the pages to open, then serves until interrupted. ``--json`` prints one line
``ACDS_PAGES {…}`` with every URL, for the browser tests.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

from devtools.azurite import ROOT, running_azurite
from devtools.demo import AC_KEY, DV_TOKEN
from devtools.oidc_stub import API_SCOPE, StubConfig, User, local_signing_key, self_signed_certificate
from devtools.oidc_stub import create_app as create_stub
from devtools.org_host import DIST, create_org_host
from devtools.pages_seed import choose_records, link_seller_contact, seed_history
from devtools.ports import free_port
from sync_core.api.auth import LOCAL_AUDIENCE, LOCAL_KEY_PATH, LOCAL_TENANT

CONNECTION_ID = "demo"
CLIENT_ID = "5e1d0c4b-0000-4000-8000-00000000ac0d"  # the stub's registered SPA; not a secret
REDIRECT = "/WebResources/acds_/auth/redirect.html"
USERS = {"seller": "samseller@sandbox.onmicrosoft.com", "admin": "alexadmin@sandbox.onmicrosoft.com",
         "ac_admin": "mariemuller@sandbox.onmicrosoft.com", "norole": "ninanorole@sandbox.onmicrosoft.com",
         "team_seller": "emiledubois@sandbox.onmicrosoft.com"}


def _server(app: Any, port: int, **ssl: str) -> uvicorn.Server:
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **ssl)  # type: ignore[arg-type]
    return uvicorn.Server(config)


def _directory(dataverse: Any) -> Any:
    def find(login: str) -> User | None:
        row = next((u for u in dataverse.rows["systemuser"].values()
                    if str(u.get("domainname", "")).lower() == login.lower() and not u.get("applicationid")), None)
        if row is None:
            return None
        return User(str(row["domainname"]), str(row["azureactivedirectoryobjectid"]).lower(), str(row["fullname"]))
    return find


def _apply_connection(env: dict[str, str], tmp: Path, ac_url: str, org_url: str) -> None:
    config = json.loads((ROOT / "sandbox" / "connection.example.json").read_text())
    config.update(connection_id=CONNECTION_ID, tenant_id=LOCAL_TENANT)
    config["activecampaign"]["api_url"] = ac_url
    config["dynamics"]["environment_url"] = org_url
    path = tmp / "connection.json"
    path.write_text(json.dumps(config))
    subprocess.run([sys.executable, "-m", "sync_core", "config", "apply", str(path), "--secrets",
                    str(ROOT / "sandbox" / "connection.secrets.example.json")], cwd=ROOT, env=env, check=True,
                   capture_output=True, text=True)


def _log_sink(name: str) -> int | IO[bytes]:
    """The child's output: a file under ACDS_PAGES_LOGS when set (to diagnose a failing browser test), else none."""
    folder = os.environ.get("ACDS_PAGES_LOGS")
    if not folder:
        return subprocess.DEVNULL
    Path(folder).mkdir(parents=True, exist_ok=True)
    return (Path(folder) / f"{name}.log").open("ab")


def _start_api(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    sink = _log_sink("api")
    return subprocess.Popen([sys.executable, "-m", "sync_core", "serve", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=sink, stderr=subprocess.STDOUT)


def _start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """The queue worker the Functions host would be: passes for "Sync now", global sync on, retries."""
    sink = _log_sink("worker")
    return subprocess.Popen([sys.executable, "-m", "devtools.queue_worker"], cwd=ROOT, env=env,
                            stdout=sink, stderr=subprocess.STDOUT)


async def _wait_http(url: str, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    async with httpx.AsyncClient(verify=False, timeout=2.0) as http:  # noqa: S501 - the stub's own self-signed cert
        while True:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the API exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(url)).status_code < 500:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer in time")
            await asyncio.sleep(0.2)


async def serve(args: argparse.Namespace, azurite_conn: str, tmp: Path) -> None:
    from sandbox.activecampaign import create_app as create_ac
    from sandbox.clock import SandboxClock
    from sandbox.dynamics import create_app as create_dv

    ports = {k: free_port() for k in ("org", "ac", "stub", "api")}
    url = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
    url["stub"] = f"https://127.0.0.1:{ports['stub']}"
    clock = SandboxClock()
    dv_app = create_dv(clock=clock, tokens=[DV_TOKEN], seed=1, seed_contacts=args.seed_contacts)
    dataverse = dv_app.state.dataverse
    ac_app = create_ac(clock=clock, api_token=AC_KEY, seed=1)
    records = choose_records(dataverse)
    seed_history(ac_app.state.ac, records["seller_contact"])
    settings = {"acds_ApiUrl": url["api"], "acds_ConnectionId": CONNECTION_ID, "acds_ApiClientId": CLIENT_ID,
                "acds_ApiScope": f"{LOCAL_AUDIENCE}/{API_SCOPE}", "acds_Authority": f"{url['stub']}/{LOCAL_TENANT}"}
    org = create_org_host(dv_app, dataverse, settings=settings, token=DV_TOKEN)
    key = local_signing_key(ROOT / LOCAL_KEY_PATH)
    stub = create_stub(StubConfig(client_id=CLIENT_ID, redirect_uris=frozenset({url["org"] + REDIRECT}),
                                  directory=_directory(dataverse), key=key))
    cert, cert_key = self_signed_certificate(ROOT / ".local")
    servers = [_server(org, ports["org"]), _server(ac_app, ports["ac"]),
               _server(stub, ports["stub"], ssl_certfile=str(cert), ssl_keyfile=str(cert_key))]
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    env = {**os.environ, "SYNC_STORAGE_CONNECTION_STRING": azurite_conn, "SYNC_TABLE_PREFIX": "pages",
           "SYNC_LOCAL_SECRETS_PATH": str(tmp / "secrets.json"), "SYNC_LOCAL_AUTH": "1"}
    await asyncio.to_thread(_apply_connection, env, tmp, url["ac"], url["org"])
    api = _start_api(env, ports["api"])
    worker = _start_worker(env)
    try:
        deadline = time.monotonic() + 60
        await _wait_http(f"{url['api']}/api/health", deadline, api)
        for k in ("org", "stub"):
            await _wait_http(url[k] + ("/" if k != "org" else "/WebResources/acds_/panel/index.html"), deadline)
        await asyncio.to_thread(link_seller_contact, env, ROOT, CONNECTION_ID, records["seller_contact"]["contactid"])
        _announce(args, url, dataverse, records)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for s in servers:
            s.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for proc in (api, worker):
            proc.terminate()
        for proc in (api, worker):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _announce(args: argparse.Namespace, url: dict[str, str], dataverse: Any,
              records: dict[str, dict[str, Any]]) -> None:
    contacts = sorted(dataverse.rows["contact"].values(), key=lambda r: str(r.get("createdon")))
    with_email = next(r for r in contacts if r.get("emailaddress1"))
    without = next((r for r in contacts if not r.get("emailaddress1")), None)
    mine, lead, unreadable = records["seller_contact"], records["seller_lead"], records["unreadable_contact"]

    def page(user: str, entity: str, rid: str, layout: str = "pane") -> str:
        return f"{url['org']}/main.aspx?pagetype=entityrecord&etn={entity}&id={rid}&user={USERS[user]}&layout={layout}"

    def person(row: dict[str, Any], key: str) -> dict[str, Any]:
        return {"id": row[key], "email": row["emailaddress1"], "name": row.get("fullname")}

    pages = {"seller_pane": page("seller", "contact", mine["contactid"]),
             "seller_section": page("seller", "contact", mine["contactid"], "section"),
             "seller_lead": page("seller", "lead", lead["leadid"], "section"),
             "seller_unreadable": page("seller", "contact", unreadable["contactid"]),
             "norole_pane": page("norole", "contact", mine["contactid"]),
             "admin_home": f"{url['org']}/main.aspx?pagetype=webresource&webresource=acds_/app/index.html"
                           f"&user={USERS['admin']}"}
    info = {"urls": url, "connection_id": CONNECTION_ID, "users": USERS, "pages": pages,
            "contact": person(with_email, "contactid"), "seller_contact": person(mine, "contactid"),
            "seller_lead": person(lead, "leadid"), "unreadable_contact": person(unreadable, "contactid"),
            "contact_without_email": without["contactid"] if without else None}
    if args.json:
        print("ACDS_PAGES " + json.dumps(info), flush=True)
        return
    print(f"""
The app inside Dynamics, locally (the pages call the local API).
First open the sign-in stub once and accept its self-signed certificate: {url['stub']}/
Then, as Sam Seller (ActiveCampaign User), on his contact {mine.get('fullname')}:
  side pane (click "ActiveCampaign"): {pages['seller_pane']}
  in a form section:                  {pages['seller_section']}
  his lead, in a form section:        {pages['seller_lead']}
  a contact he cannot read:           {pages['seller_unreadable']}
As Nina Norole (no role):             {pages['norole_pane']}
The app's home page as Alex Admin:    {pages['admin_home']}
API {url['api']}  Dataverse sandbox {url['org']}/api/data/v9.2/  AC sandbox {url['ac']}
Ctrl+C stops everything.""", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-contacts", type=int, default=60)
    parser.add_argument("--json", action="store_true", help="print the URLs as one JSON line (browser tests)")
    args = parser.parse_args(argv)
    if not (DIST / "acds_" / "panel" / "index.html").exists():
        print("solution/dist is not built: run `make solution-build` (npm ci && npm run build) first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, running_azurite() as azurite:
        try:
            asyncio.run(serve(args, azurite.connection_string, Path(tmp)))
        except (RuntimeError, subprocess.CalledProcessError) as e:
            detail = getattr(e, "stderr", "") or ""
            print(f"the local pages could not start: {e} {detail[-1500:]}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
