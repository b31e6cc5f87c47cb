"""``record show|activities|add-to-automation|send-campaign``: the seller routes from the command line."""

from __future__ import annotations

import json
import re

import httpx

from sync_core.cli._errors import Exit
from tests.cli.conftest import SECRETS, Cli, assert_refused

DV_HEADERS = {"Authorization": "Bearer " + SECRETS["dynamics_secret"]}
AC_HEADERS = {"Api-Token": SECRETS["activecampaign_api_key"]}


def _catalogue(cli: Cli) -> tuple[str, str, str]:
    """An active automation, a sent campaign and a draft one, from the AC sandbox's seeded catalogue."""
    httpx.post(f"{cli.ac_url}/_sandbox/seed", json={"contacts": 0}, timeout=30).raise_for_status()
    autos = httpx.get(f"{cli.ac_url}/api/3/automations", headers=AC_HEADERS, timeout=30).json()["automations"]
    camps = httpx.get(f"{cli.ac_url}/api/3/campaigns", headers=AC_HEADERS, timeout=30).json()["campaigns"]
    active = next(a["id"] for a in autos if a["status"] == "1")
    sent = next(c["id"] for c in camps if c["status"] == "5")
    draft = next(c["id"] for c in camps if c["status"] == "0")
    return active, sent, draft


def test_the_seller_commands_do_what_the_routes_do(cli: Cli) -> None:
    assert cli.apply(cli.config(), SECRETS).returncode == 0
    automation, campaign, draft_campaign = _catalogue(cli)
    contacts = httpx.get(f"{cli.dv_url}/api/data/v9.2/contacts?$select=contactid,emailaddress1", headers=DV_HEADERS,
                         timeout=30).json()["value"]
    target = next(c for c in contacts if c.get("emailaddress1"))["contactid"]
    record = ("contact", target, "--connection", "demo")
    shown = cli.run("record", "show", *record, "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["synced"] is False  # no pass has run
    added = cli.run("record", "add-to-automation", *record, automation)
    assert added.returncode == 0 and "synced now" in added.stdout, added.stderr
    again = cli.run("record", "add-to-automation", *record, automation)
    assert_refused(again, Exit.FAILED, "already_in_automation")
    assert re.search(r"\(active since \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", again.stderr), again.stderr
    shown_now = cli.run("record", "show", *record)
    assert re.search(r": active since \d{4}-\d\d-\d\d \d\d:\d\d UTC$", shown_now.stdout, re.M), shown_now.stdout
    sent = cli.run("record", "send-campaign", *record, campaign, "--json")
    assert sent.returncode == 0 and json.loads(sent.stdout)["outcome"] == "sent", sent.stderr
    draft = cli.run("record", "send-campaign", *record, draft_campaign)
    assert_refused(draft, Exit.USAGE, "campaign_id")
    view = json.loads(cli.run("record", "show", *record, "--json").stdout)
    assert view["synced"] is True and [a["id"] for a in view["automations"]] == [automation]
    table = cli.run("record", "activities", *record)
    assert table.returncode == 0 and "automation_entered" in table.stdout, table.stderr
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC automation_entered ", table.stdout, re.M), table.stdout
    assert_refused(cli.run("record", "show", "contact", "not-a-guid", "--connection", "demo"), Exit.USAGE, "GUID")
    assert_refused(cli.run("record", "add-to-automation", *record, "one"), Exit.USAGE, "automation_id")
    assert_refused(cli.run("record", "activities", *record, "--limit", "0"), Exit.USAGE, "--limit")
