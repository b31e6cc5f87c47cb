"""Record-level security: privileges with depths, owners, business units, teams (no sharing).

Sources (MS-docs repos):
- power-platform ``admin/security-roles-privileges.md`` (12/16/2021): Global = every record, Deep = the
  user's business unit and the units below it, Local = the user's business unit, Basic = records the
  user owns; privileges of several roles add up; the eight record privileges (Create, Read, Write,
  Delete, Append, Append To, Assign, Share); "Team privileges": a team member gets access to records
  owned by the team; a role whose member's privilege inheritance is "Direct User (Basic) access level
  and Team privileges" (``isinherited`` 1) also gives each member Basic access to records they own
  themselves; inheritance applies to owner teams and Entra (AAD) group teams.
- powerapps-docs ``security-roles.md``, ``verifying-access-in-code.md`` (06/05/2023): a query returns only
  the records the user may read; ``RetrievePrincipalAccess`` answers ``AccessRights`` as a flags string
  ("ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess, DeleteAccess, ShareAccess,
  AssignAccess"); privilege names are "prv+Verb+Table SchemaName"; the System Administrator role "is
  all powerful and can't be edited".
- ``data-service-error-codes.md``: CannotAssignRolesOrProfilesToAccessTeam 0x80048331,
  AadGroupTeamsCanOnlyAssignInheritableRoles 0x80048350, CannotAssignToAccessTeam 0x80048340.

Readings (register): depths of a team's role count from the team's business unit (switch
``team_role_scope``); a principal without a role has no access; non-owned tables (users, teams, roles,
business units…) are readable by everyone.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .dataverse import LLN, Dataverse, Row
from .errors import DataverseError
from .roles import SYSTEM_ADMINISTRATOR_TEMPLATE, root_role_id

DEPTHS = ("Basic", "Local", "Deep", "Global")
RANK = {name: i for i, name in enumerate(DEPTHS)}
# Tables with user/team ownership, by their SchemaName (the privilege names use it).
OWNED = {"contact": "Contact", "lead": "Lead", "account": "Account", "opportunity": "Opportunity"}
VERBS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")
# AccessRights members in the order (and spelling) verifying-access-in-code.md prints them.
RIGHTS = (
    ("ReadAccess", "Read"),
    ("WriteAccess", "Write"),
    ("AppendAccess", "Append"),
    ("AppendToAccess", "AppendTo"),
    ("CreateAccess", "Create"),
    ("DeleteAccess", "Delete"),
    ("ShareAccess", "Share"),
    ("AssignAccess", "Assign"),
)
ACT_ON_BEHALF = "prvActOnBehalfOfAnotherUser"
ROLE_TEAM_TYPES = (0, 2, 3)  # owner, Entra security group, Microsoft 365 group (access teams take no roles)
PRIVILEGE_NS = uuid.UUID("6a1d0f52-0000-4000-8000-00000000d365")

PRIVILEGE_DENIED = "0x80040220"  # PrivilegeDenied, 403 (compose-http-requests-handle-errors.md)
ACCESS_TEAM_ROLE = "0x80048331"
GROUP_TEAM_NEEDS_INHERITABLE = "0x80048350"
ASSIGN_TO_ACCESS_TEAM = "0x80048340"


def privilege_name(verb: str, logical: str) -> str:
    return f"prv{verb}{OWNED[logical]}"


def all_privileges() -> list[str]:
    return [privilege_name(v, t) for t in OWNED for v in VERBS] + [ACT_ON_BEHALF]


def privilege_id(name: str) -> str:
    """The sandbox's own privilege GUIDs (stable per name; real ones differ — match privileges by name)."""
    return str(uuid.uuid5(PRIVILEGE_NS, name))


# ------------------------------------------------------------------ role privileges


def role_privileges(dv: Dataverse, role: Row) -> dict[str, str]:
    """privilege name -> depth of a role (a business unit's copy shares its root role's privileges)."""
    if role.get("_roletemplateid_value") == SYSTEM_ADMINISTRATOR_TEMPLATE:
        return dict.fromkeys(all_privileges(), "Global")
    return dv.role_privileges.get(root_role_id(role), {})


def set_role_privileges(dv: Dataverse, role_id: str, changes: dict[str, Any]) -> dict[str, str]:
    """Control surface: ``{"prvReadContact": "Local", "prvWriteContact": null}`` on a role (any copy)."""
    role = dv.require("role", role_id)
    if role.get("_roletemplateid_value") == SYSTEM_ADMINISTRATOR_TEMPLATE:
        raise DataverseError(400, "sandbox", "the System Administrator role can't be edited")
    known = set(all_privileges())
    current = dict(dv.role_privileges.get(root_role_id(role), {}))
    for name, depth in changes.items():
        if name not in known:
            raise DataverseError(400, "sandbox", f"unknown privilege {name!r} (prv<Verb><Table> or {ACT_ON_BEHALF})")
        if depth is None:
            current.pop(name, None)
        elif depth in RANK:
            current[name] = str(depth)
        else:
            raise DataverseError(400, "sandbox", f"depth of {name!r} must be one of {list(DEPTHS)} or null")
    dv.role_privileges[root_role_id(role)] = current
    return current


# ------------------------------------------------------------------ grants


@dataclass(frozen=True)
class Grant:
    """One privilege at one depth, anchored at a principal: owners for Basic, a business unit above."""

    depth: str
    business_unit: str
    owners: frozenset[str]


@dataclass
class Principal:
    """A user or team with every grant its roles give (directly and through teams)."""

    kind: str  # "systemuser" | "team"
    id: str
    business_unit: str
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    role_count: int = 0

    def has(self, privilege: str) -> bool:
        return bool(self.grants.get(privilege))


def _add(grants: dict[str, list[Grant]], privileges: dict[str, str], grant_for: Any) -> None:
    for name, depth in privileges.items():
        grants.setdefault(name, []).append(grant_for(depth))


def principal(dv: Dataverse, kind: str, principal_id: str) -> Principal:
    row = dv.require(kind, principal_id)
    pid = row[dv.tables[kind].pk]
    bu = str(row.get("_businessunitid_value") or "")
    out = Principal(kind, pid, bu)
    if kind == "team":
        for role_id in dv.related("teamroles_association", "team", pid):
            out.role_count += 1
            _add(out.grants, role_privileges(dv, dv.rows["role"][role_id]), lambda d: Grant(d, bu, frozenset({pid})))
        return out
    for role_id in dv.related("systemuserroles_association", "systemuser", pid):
        out.role_count += 1
        _add(out.grants, role_privileges(dv, dv.rows["role"][role_id]), lambda d: Grant(d, bu, frozenset({pid})))
    member_scope = dv.switches["team_role_scope"] == "member_bu"
    for team_id in dv.related("teammembership_association", "systemuser", pid):
        team = dv.rows["team"].get(team_id)
        if team is None or team.get("teamtype") not in ROLE_TEAM_TYPES:
            continue
        team_bu = bu if member_scope else str(team.get("_businessunitid_value") or "")
        for role_id in dv.related("teamroles_association", "team", team_id):
            role = dv.rows["role"][role_id]
            privileges = role_privileges(dv, role)
            out.role_count += 1
            owners = frozenset({team_id})
            _add(out.grants, privileges, lambda d, owners=owners, team_bu=team_bu: Grant(d, team_bu, owners))
            root = dv.rows["role"].get(root_role_id(role), role)  # the setting lives on the root role
            if root.get("isinherited", 1) == 1:  # "Direct User (Basic) access level and Team privileges"
                _add(out.grants, privileges, lambda _d: Grant("Basic", bu, frozenset({pid})))
    return out


def business_units_below(dv: Dataverse, bu: str) -> set[str]:
    """``bu`` and every business unit under it."""
    children: dict[str, list[str]] = {}
    for row in dv.rows["businessunit"].values():
        parent = row.get("_parentbusinessunitid_value")
        if parent:
            children.setdefault(parent, []).append(row["businessunitid"])
    out, todo = set(), [bu]
    while todo:
        current = todo.pop()
        if current not in out:
            out.add(current)
            todo.extend(children.get(current, []))
    return out


@dataclass(frozen=True)
class Reach:
    """Which records one privilege reaches: every record, or those whose owner is in ``owners``."""

    everything: bool
    owners: frozenset[str]

    def covers(self, row: Mapping[str, Any]) -> bool:
        return self.everything or row.get("_ownerid_value") in self.owners


def reach(dv: Dataverse, who: Principal, privilege: str) -> Reach:
    grants = who.grants.get(privilege, [])
    if any(g.depth == "Global" for g in grants):
        return Reach(True, frozenset())
    owners: set[str] = set()
    units: set[str] = set()
    for g in grants:
        owners |= g.owners
        if g.depth == "Local":
            units.add(g.business_unit)
        elif g.depth == "Deep":
            units |= business_units_below(dv, g.business_unit)
    if units:
        owners |= {pid for kind in ("systemuser", "team") for pid, row in dv.rows[kind].items()
                   if row.get("_businessunitid_value") in units}  # fmt: skip
    return Reach(False, frozenset(owners))


def access_rights(dv: Dataverse, who: Iterable[Principal], logical: str, row: Row) -> list[str]:
    """AccessRights members every principal in ``who`` holds on ``row`` (impersonation intersects)."""
    principals = list(who)
    out = []
    for member, verb in RIGHTS:
        name = privilege_name(verb, logical)
        if all(reach(dv, p, name).covers(row) for p in principals):
            out.append(member)
    return out


def owning_business_unit(dv: Dataverse, row: Mapping[str, Any]) -> str | None:
    owner = row.get("_ownerid_value")
    if not owner:
        return None
    kind = row.get("_ownerid_value" + LLN) or "systemuser"
    principal_row = dv.rows.get(kind, {}).get(owner)
    return principal_row.get("_businessunitid_value") if principal_row else None


def derived_value(dv: Dataverse, column: str, row: Mapping[str, Any]) -> str | None:
    """owninguser / owningteam / owningbusinessunit of a row, from its owner (read-only, derived)."""
    owner = row.get("_ownerid_value")
    if column == "owningbusinessunit":
        return owning_business_unit(dv, row)
    kind = row.get("_ownerid_value" + LLN) or "systemuser"
    wanted = "systemuser" if column == "owninguser" else "team"
    return owner if owner and kind == wanted else None
