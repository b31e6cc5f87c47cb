"""What `make pages` seeds for the seller's story on the real API (devtools/pages.py).

The records are chosen by who owns them, because the API asks Dynamics whether *the seller* may read a
record (``RetrievePrincipalAccess``) and Sam Seller's role (ActiveCampaign User) reads contacts and leads at
Basic depth: records he owns (or his team "Key Accounts" owns), nothing else (sandbox/dynamics/seed_security.py).

- the seller's contact: the first contact Sam owns with a valid email. Before the pages open it has a
  marketing history in the ActiveCampaign sandbox (on the Newsletter list, tagged prospect, site
  visits, an earlier campaign sent and opened) and is
  linked: it was added to the automation "Re-engagement" through the real command
  (``python -m sync_core record add-to-automation``, which syncs it on request first), so its timeline has
  more than one page when the seller opens it.
- the seller's lead: the first lead Sam owns with a valid email (leads are not synced in the demo config).
- a contact the seller cannot read: the first one with an email that Tom Teamonly owns (another business
  unit, no team of Sam's).
- the ActiveCampaign catalogue: the sandbox's automations, campaigns, lists and tags (``seed_account``, no
  contacts), which the seller's pickers list.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sandbox.activecampaign.seed import seed_account
from sync_core.engine.sales_view import PAGE_VISIT

DAY = 86_400.0
EMAIL = re.compile(r"^[a-z0-9._-]+@[a-z0-9.-]+\.[a-z]{2,}$")  # plain addresses only: the story is not about odd ones
SITE_VISITS = 24  # with the automation and the campaign, more than the panel's first page of 20
EARLIER_AUTOMATION = "2"  # "Re-engagement" in the sandbox catalogue
EARLIER_CAMPAIGN = 2  # "Win-back campaign", sent 10 days ago in the sandbox catalogue


def _owned(dataverse: Any, logical: str, owner_name: str) -> dict[str, Any]:
    users = {u["systemuserid"]: u.get("fullname") for u in dataverse.rows["systemuser"].values()}
    rows = sorted(dataverse.rows[logical].values(), key=lambda r: (str(r.get("createdon")), r[f"{logical}id"]))
    return next(r for r in rows if users.get(r.get("_ownerid_value")) == owner_name
                and EMAIL.match(str(r.get("emailaddress1") or "")))


def choose_records(dataverse: Any) -> dict[str, dict[str, Any]]:
    return {"seller_contact": _owned(dataverse, "contact", "Sam Seller"),
            "seller_lead": _owned(dataverse, "lead", "Sam Seller"),
            "unreadable_contact": _owned(dataverse, "contact", "Tom Teamonly")}


def seed_history(ac: Any, person: Mapping[str, Any]) -> None:
    """The catalogue, and the person's earlier marketing life in ActiveCampaign (before any link to Dynamics)."""
    seed_account(ac, 0)
    now = ac.now()
    contact = ac.create_contact({"email": person["emailaddress1"], "firstName": person.get("firstname") or "",
                                 "lastName": person.get("lastname") or ""}, at=now - 60 * DAY)
    newsletter = next(i for i, row in ac.lists.items() if row.get("name") == "Newsletter")
    ac.set_list_status(contact, newsletter, 1, at=now - 60 * DAY)
    prospect = next(i for i, row in ac.tags.items() if row.get("tag") == "prospect")
    ac.add_contact_tag(contact, prospect, at=now - 60 * DAY)
    pages = ("/pricing", "/features", "/blog/sync-your-crm", "/customers", "/pricing#enterprise", "/contact-sales")
    for i in range(SITE_VISITS):  # site tracking's page visits: the tracked event ``__pagevisit``, the page its value
        log = ac.add_tracking_log(contact.id, PAGE_VISIT, f"https://example.com{pages[i % len(pages)]}")
        log["tstamp"] = now - (SITE_VISITS - i) * 2 * DAY
    for kind, days in (("CampaignSend", 10.0), ("CampaignOpen", 9.5)):
        act = ac.add_activity(contact.id, kind, EARLIER_CAMPAIGN)
        act["tstamp"] = now - days * DAY


def link_seller_contact(env: Mapping[str, str], root: Path, connection_id: str, contact_id: str) -> None:
    """Synced on request and added to an automation, by the command an operator would run."""
    done = subprocess.run([sys.executable, "-m", "sync_core", "record", "add-to-automation", "--connection",
                           connection_id, "--json", "contact", contact_id, EARLIER_AUTOMATION],
                          cwd=root, env=dict(env), check=True, capture_output=True, text=True)
    outcome = json.loads(done.stdout)
    if outcome.get("outcome") != "added":
        raise RuntimeError(f"the seller's contact was not added to the automation: {done.stdout[-500:]}")
