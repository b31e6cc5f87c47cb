"""Seeded privileges, and the users, team and owners that exercise record-level access.

Everything here draws GUIDs from its own generator (``security-<seed>``), so adding it moved no
GUID, name or email the rest of the seed produces.

- "ActiveCampaign Admin": Global Create/Read/Write/Append/AppendTo on contact, lead, account, opportunity.
- "ActiveCampaign User" (the seller role): Basic Create/Read/Write/Append/AppendTo on contact and lead,
  Basic Read on account and opportunity.
- "Regional Sales Manager" (new, both units): Local Read/Write on the four tables; held by "Lou Local"
  (root unit).
- Owner team "Key Accounts" (root unit) holds "ActiveCampaign User"; "Sam Seller" is its member; it owns
  every 35th contact and lead (index 4, 39, …), none of them Sam's own.
- "Dana Disabled" (root unit, "ActiveCampaign User", ``isdisabled`` true) and the access team "Deal room"
  (teamtype 1, Sam a member): owners a create-on-request configuration must be refused.
"""

from __future__ import annotations

import random
from typing import Any

from .dataverse import LLN, Dataverse, random_guid
from .roles import role_system_columns, root_reference
from .security import OWNED, all_privileges, privilege_id, privilege_name

_ALL_FOUR = tuple(OWNED)
KEY_ACCOUNTS_EVERY = 35
KEY_ACCOUNTS_AT = 4


def _grant(verbs: tuple[str, ...], tables: tuple[str, ...], depth: str) -> dict[str, str]:
    return {privilege_name(v, t): depth for t in tables for v in verbs}


AC_ADMIN = _grant(("Create", "Read", "Write", "Append", "AppendTo"), _ALL_FOUR, "Global")
AC_USER = {
    **_grant(("Create", "Read", "Write", "Append", "AppendTo"), ("contact", "lead"), "Basic"),
    **_grant(("Read",), ("account", "opportunity"), "Basic"),
}
REGIONAL = _grant(("Read", "Write"), _ALL_FOUR, "Local")


# AccessRights values of the verbs (AccessRights enum); task privileges such as prvActOnBehalfOfAnotherUser: 0.
ACCESS_RIGHT = {"Read": 1, "Write": 2, "Append": 4, "AppendTo": 16, "Create": 32, "Delete": 65536,
                "Share": 262144, "Assign": 524288}  # fmt: skip


def seed_base_privileges(dv: Dataverse, roles: dict[tuple[str, str], str], stamp: str) -> None:
    """The privilege rows, and the privileges of the two custom roles (keyed by their root role)."""
    for name in all_privileges():
        tables = OWNED.values()
        verb = next((v for v in ACCESS_RIGHT if name.startswith(f"prv{v}") and name[3 + len(v) :] in tables), "")
        task = not verb
        _row(dv, "privilege", {
            "privilegeid": privilege_id(name), "name": name, "accessright": ACCESS_RIGHT.get(verb, 0),
            "canbebasic": not task, "canbelocal": not task, "canbedeep": not task, "canbeglobal": True,
        }, stamp)  # fmt: skip
    dv.role_privileges[roles[("ActiveCampaign Admin", dv.root_bu)]] = dict(AC_ADMIN)
    dv.role_privileges[roles[("ActiveCampaign User", dv.root_bu)]] = dict(AC_USER)


def _row(dv: Dataverse, logical: str, row: dict[str, Any], stamp: str) -> dict[str, Any]:
    row.update(createdon=stamp, modifiedon=stamp, versionnumber=dv.next_version())
    dv.rows[logical][row[dv.tables[logical].pk]] = row
    return row


def seed_security(dv: Dataverse, base: dict[str, Any], stamp: str) -> dict[str, str]:
    """The Local-depth user, the seller's owner team and its records; returns their ids by name."""
    rng = random.Random(f"security-{dv.seed_value}")
    root, child = base["root"]["businessunitid"], base["child"]["businessunitid"]
    regional_id = random_guid(rng)
    for bu, role_id, parent in ((root, regional_id, None), (child, random_guid(rng), regional_id)):
        _row(dv, "role", {
            "roleid": role_id, "name": "Regional Sales Manager", "_businessunitid_value": bu,
            "_parentrootroleid_value": parent or root_reference(dv, role_id), "_parentroleid_value": parent,
            "isinherited": 1, **role_system_columns(None),
        }, stamp)  # fmt: skip
    dv.role_privileges[regional_id] = dict(REGIONAL)
    lou = _row(dv, "systemuser", {
        "systemuserid": random_guid(rng), "firstname": "Lou", "lastname": "Local", "fullname": "Lou Local",
        "domainname": "lou.local@sandbox.onmicrosoft.com", "internalemailaddress": "lou.local@sandbox.example.com",
        "azureactivedirectoryobjectid": random_guid(rng), "applicationid": None, "isdisabled": False,
        "accessmode": 0, "_businessunitid_value": root,
    }, stamp)  # fmt: skip
    dv.links["systemuserroles_association"].add((lou["systemuserid"], regional_id))
    dv.links["teammembership_association"].add((lou["systemuserid"], base["teams"][root]))
    team = _row(dv, "team", {
        "teamid": random_guid(rng), "name": "Key Accounts", "teamtype": 0, "membershiptype": 0, "isdefault": False,
        "azureactivedirectoryobjectid": None, "_businessunitid_value": root,
    }, stamp)  # fmt: skip
    dv.links["teamroles_association"].add((team["teamid"], base["roles"][("ActiveCampaign User", root)]))
    sam = next(u for u in dv.rows["systemuser"].values() if u.get("fullname") == "Sam Seller")
    dv.links["teammembership_association"].add((sam["systemuserid"], team["teamid"]))
    for logical in ("contact", "lead"):
        for i, row in enumerate(dv.rows[logical].values()):
            if i % KEY_ACCOUNTS_EVERY == KEY_ACCOUNTS_AT:
                row["_ownerid_value"] = team["teamid"]
                row["_ownerid_value" + LLN] = "team"
    dana = _row(dv, "systemuser", {
        "systemuserid": random_guid(rng), "firstname": "Dana", "lastname": "Disabled", "fullname": "Dana Disabled",
        "domainname": "dana.disabled@sandbox.onmicrosoft.com",
        "internalemailaddress": "dana.disabled@sandbox.example.com",
        "azureactivedirectoryobjectid": random_guid(rng), "applicationid": None, "isdisabled": True,
        "accessmode": 0, "_businessunitid_value": root,
    }, stamp)  # fmt: skip
    dv.links["systemuserroles_association"].add((dana["systemuserid"], base["roles"][("ActiveCampaign User", root)]))
    deal_room = _row(dv, "team", {
        "teamid": random_guid(rng), "name": "Deal room", "teamtype": 1, "membershiptype": 0, "isdefault": False,
        "azureactivedirectoryobjectid": None, "_businessunitid_value": root,
    }, stamp)  # fmt: skip
    dv.links["teammembership_association"].add((sam["systemuserid"], deal_room["teamid"]))
    return {"Lou Local": lou["systemuserid"], "Key Accounts": team["teamid"], "Regional Sales Manager": regional_id}
