"""Live check (never run in CI): import the solution zip into a trial Dynamics 365 environment and look.

    python solution/live_check.py --env https://yourorg.crm.dynamics.com [--zip solution/out/…zip]
        [--api-url https://…] [--connection-id …] [--client-id …] [--scope api://…/access_as_user]
        [--authority https://login.microsoftonline.com/<tenant>]

Written from the Dataverse Web API documentation, for the first release: it signs in with
azure-identity (device code; the account needs System Administrator or System Customizer), calls
the ``ImportSolution`` action with the zip (``CustomizationFile``, base64, and an ``ImportJobId`` it
then polls in ``importjobs``), publishes (``PublishAllXml``), sets the environment variables given
on the command line (``environmentvariablevalues``), then reads back what the import should have
made: the web resources, the two roles, the app module, the definitions. The seller's story in the
real org — open a contact, the "ActiveCampaign" command, the side pane, sign in, add to an
automation, send a campaign — is then walked by hand with the printed checklist, as the sandboxes'
live checks do for the API register. Exit 0 only when every read-back matched.
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
API = "/api/data/v9.2"
SETTINGS = {"api_url": "acds_ApiUrl", "connection_id": "acds_ConnectionId", "client_id": "acds_ApiClientId",
            "scope": "acds_ApiScope", "authority": "acds_Authority"}
EXPECTED_ROLES = ("ActiveCampaign User", "ActiveCampaign Admin")


def token(env: str) -> str:
    from azure.identity import DeviceCodeCredential

    return DeviceCodeCredential().get_token(f"{env.rstrip('/')}/.default").token


def import_solution(http: httpx.Client, zip_path: Path, timeout: float = 900.0) -> None:
    job = str(uuid.uuid4())
    body = {"OverwriteUnmanagedCustomizations": True, "PublishWorkflows": True, "ImportJobId": job,
            "CustomizationFile": base64.b64encode(zip_path.read_bytes()).decode()}
    r = http.post(f"{API}/ImportSolution", json=body, timeout=timeout)
    if r.status_code >= 400:
        raise SystemExit(f"ImportSolution failed ({r.status_code}): {r.text[:2000]}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = http.get(f"{API}/importjobs({job})", params={"$select": "progress,completedon"})
        if j.status_code == 200 and j.json().get("completedon"):
            print(f"import job {job}: completed, progress {j.json().get('progress')}%")
            return
        time.sleep(5)
    raise SystemExit(f"import job {job} did not complete in {timeout:.0f}s")


def set_variables(http: httpx.Client, values: dict[str, str]) -> None:
    for schema, value in values.items():
        found = http.get(f"{API}/environmentvariabledefinitions", params={
            "$select": "environmentvariabledefinitionid", "$filter": f"schemaname eq '{schema}'",
            "$expand": "environmentvariabledefinition_environmentvariablevalue($select=environmentvariablevalueid)"})
        found.raise_for_status()
        rows = found.json()["value"]
        if not rows:
            raise SystemExit(f"{schema}: no such environment variable definition after the import")
        current = rows[0]["environmentvariabledefinition_environmentvariablevalue"]
        if current:
            r = http.patch(f"{API}/environmentvariablevalues({current[0]['environmentvariablevalueid']})",
                           json={"value": value})
        else:
            r = http.post(f"{API}/environmentvariablevalues", json={
                "schemaname": schema, "value": value,
                "EnvironmentVariableDefinitionId@odata.bind":
                    f"/environmentvariabledefinitions({rows[0]['environmentvariabledefinitionid']})"})
        r.raise_for_status()
        print(f"{schema} = {value}")


def read_back(http: httpx.Client) -> list[str]:
    problems: list[str] = []

    def rows(path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        r = http.get(f"{API}/{path}", params=params)
        r.raise_for_status()
        return list(r.json()["value"])

    for name in ("acds_/panel/index.html", "acds_/commands/commands.js", "acds_/auth/redirect.html",
                 "acds_/app/index.html"):
        if not rows("webresourceset", {"$select": "name", "$filter": f"name eq '{name}'"}):
            problems.append(f"web resource {name} missing")
    for role in EXPECTED_ROLES:
        if not rows("roles", {"$select": "name", "$filter": f"name eq '{role}'"}):
            problems.append(f"security role {role} missing")
    if not rows("appmodules", {"$select": "uniquename", "$filter": "uniquename eq 'acds_ActiveCampaign'"}):
        problems.append("app module acds_ActiveCampaign missing")
    for schema in SETTINGS.values():
        query = {"$select": "schemaname", "$filter": f"schemaname eq '{schema}'"}
        if not rows("environmentvariabledefinitions", query):
            problems.append(f"environment variable {schema} missing")
    return problems


CHECKLIST = """
By hand, in the org (the seller's story; note each result in the release notes):
  1. Give a test user "ActiveCampaign User" and a Sales role; open the ActiveCampaign app, then a contact.
  2. The command bar shows "ActiveCampaign"; it opens a side pane (~340 px) with the panel.
  3. "Sign in" opens a popup (no redirect of the form); after it, the marketing view and timeline load.
  4. Add to automation → pick by typing → confirm → the outcome is announced; Send campaign likewise.
  5. The timeline shows both; each item links into ActiveCampaign.
  6. A user without the role sees the explanation, no data; a user without read access sees nothing of the record.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python solution/live_check.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", required=True, help="https://yourorg.crm.dynamics.com")
    parser.add_argument("--zip", type=Path, default=HERE / "out" / "acds_ActiveCampaignSync.zip")
    for option in SETTINGS:
        parser.add_argument(f"--{option.replace('_', '-')}", dest=option)
    args = parser.parse_args(argv)
    if not args.zip.is_file():
        print(f"{args.zip} not found: run `make solution` first", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer {token(args.env)}", "OData-Version": "4.0", "OData-MaxVersion": "4.0",
               "Accept": "application/json"}
    with httpx.Client(base_url=args.env.rstrip("/"), headers=headers, timeout=120.0) as http:
        import_solution(http, args.zip)
        http.post(f"{API}/PublishAllXml", json={}).raise_for_status()
        set_variables(http, {SETTINGS[k]: v for k in SETTINGS if (v := getattr(args, k))})
        problems = read_back(http)
    for p in problems:
        print(f"MISSING: {p}", file=sys.stderr)
    print(CHECKLIST)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
