"""The caller's Dynamics security roles: its own and its teams', recognised by identity, cached briefly.

A role's name proves nothing: anyone who may create roles can call one "System Administrator".
System Administrator is recognised by its role template (the GUID Dataverse documents as constant
in every environment); the product's roles by their root role — Dataverse copies a role into every
business unit and each copy points at the root one (``_parentrootroleid_value``) — and the root
copies are the roles of that name in the root business unit (where ``dynamics setup`` creates
them). Roles are cached per environment and caller for at most a minute, so a revocation holds
within a minute.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sync_core.clock import Clock
from sync_core.dynamics import DataverseClient, normalize_guid, quote_string

SYSTEM_ADMINISTRATOR = "System Administrator"
AC_ADMIN = "ActiveCampaign Admin"
AC_USER = "ActiveCampaign User"
PRODUCT_ROLES = (AC_USER, AC_ADMIN)
ADMIN_ROLES = frozenset({SYSTEM_ADMINISTRATOR, AC_ADMIN})
# https://learn.microsoft.com/power-apps/developer/data-platform/security-roles (standard role templates)
SYSTEM_ADMINISTRATOR_TEMPLATE = "627090ff-40a3-4053-8790-584edc5be201"
ROLE_CACHE_SECONDS = 60.0
_ROLE_SELECT = ["roleid", "name", "_businessunitid_value", "_parentrootroleid_value", "_roletemplateid_value"]


@dataclass(frozen=True)
class CallerRoles:
    user_id: str | None
    """The systemuser with the caller's object id (``None``: not a user of that environment)."""
    roles: frozenset[str]
    """Which of System Administrator, ActiveCampaign Admin, ActiveCampaign User the caller holds."""

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)


def _guid(v: Any) -> str:
    return str(v or "").strip("{}").lower()


def root_of(role: dict[str, Any]) -> str:
    """The root role of a business-unit copy (a root role points at itself, or at nothing)."""
    return _guid(role.get("_parentrootroleid_value") or role.get("roleid"))


async def root_business_unit(dv: DataverseClient) -> str:
    rows = await dv.query_all("businessunits", select=["businessunitid"], filter="_parentbusinessunitid_value eq null",
                              top=1)
    if rows:
        return str(rows[0]["businessunitid"])
    return (await dv.who_am_i()).business_unit_id


async def product_roots(dv: DataverseClient) -> dict[str, str]:
    """Root role id → product role name: the roles of those names in the root business unit — the oldest of
    each name, so a role created later under the same name does not become the product's."""
    root = await root_business_unit(dv)
    names = " or ".join(f"name eq {quote_string(n)}" for n in PRODUCT_ROLES)
    rows = await dv.query_all("roles", select=[*_ROLE_SELECT, "createdon"], orderby="createdon asc",
                              filter=f"_businessunitid_value eq {normalize_guid(root)} and ({names})")
    out: dict[str, str] = {}
    for r in rows:
        name = str(r.get("name"))
        if name in PRODUCT_ROLES and name not in out.values():
            out[_guid(r["roleid"])] = name
    return out


async def held_roles(dv: DataverseClient, user_id: str) -> list[dict[str, Any]]:
    """The user's roles, directly and through its teams, with their template and root role."""
    user_path = dv.record_path("systemusers", user_id)
    rows = await dv.query_all(f"{user_path}/systemuserroles_association", select=_ROLE_SELECT)
    for team in await dv.user_teams(user_id):
        team_path = dv.record_path("teams", str(team["teamid"]))
        rows += await dv.query_all(f"{team_path}/teamroles_association", select=_ROLE_SELECT)
    return rows


def recognised(rows: list[dict[str, Any]], roots: dict[str, str]) -> frozenset[str]:
    out: set[str] = set()
    for r in rows:
        if _guid(r.get("_roletemplateid_value")) == SYSTEM_ADMINISTRATOR_TEMPLATE:
            out.add(SYSTEM_ADMINISTRATOR)
        name = roots.get(root_of(r))
        if name is not None:
            out.add(name)
    return frozenset(out)


async def roles_of(dv: DataverseClient, object_id: str, roots: dict[str, str] | None = None) -> CallerRoles:
    user = await dv.get_user_by_object_id(object_id)
    if user is None or user.get("isdisabled"):
        return CallerRoles(None, frozenset())
    uid = str(user["systemuserid"])
    if roots is None:
        roots = await product_roots(dv)
    return CallerRoles(uid, recognised(await held_roles(dv, uid), roots))


class RoleCache:
    """Roles per (environment, object id) and product roots per environment, for at most ``ttl`` seconds."""

    def __init__(self, clock: Clock, ttl: float = ROLE_CACHE_SECONDS) -> None:
        self._clock = clock
        self._ttl = min(ttl, ROLE_CACHE_SECONDS)
        self._entries: dict[tuple[str, str], tuple[float, CallerRoles]] = {}
        self._roots: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = asyncio.Lock()

    def _fresh(self, at: float) -> bool:
        return self._clock.monotonic() - at < self._ttl

    def get(self, environment_url: str, object_id: str) -> CallerRoles | None:
        hit = self._entries.get((environment_url, object_id))
        return hit[1] if hit is not None and self._fresh(hit[0]) else None

    def put(self, environment_url: str, object_id: str, roles: CallerRoles) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[(environment_url, object_id)] = (self._clock.monotonic(), roles)

    def roots(self, environment_url: str) -> dict[str, str] | None:
        hit = self._roots.get(environment_url)
        return hit[1] if hit is not None and self._fresh(hit[0]) else None

    def put_roots(self, environment_url: str, roots: dict[str, str]) -> None:
        if len(self._roots) > 1_000:
            self._roots.clear()
        self._roots[environment_url] = (self._clock.monotonic(), roots)

    def forget(self, environment_url: str) -> None:
        """After a role change in that environment: the next request looks again."""
        for k in [k for k in self._entries if k[0] == environment_url]:
            del self._entries[k]
        self._roots.pop(environment_url, None)


RECORD_ACCESS_SECONDS = 30.0


class RecordAccessCache:
    """Whether a user may read a record (``RetrievePrincipalAccess``), per environment, for ``ttl`` seconds:
    a seller opening a record and acting on it costs one check, and a revoked share holds within the ttl."""

    def __init__(self, clock: Clock, ttl: float = RECORD_ACCESS_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[tuple[str, str, str, str], tuple[float, bool]] = {}

    def get(self, environment_url: str, user_id: str, entity: str, record_id: str) -> bool | None:
        hit = self._entries.get((environment_url, user_id, entity, record_id))
        return hit[1] if hit is not None and self._clock.monotonic() - hit[0] < self._ttl else None

    def put(self, environment_url: str, user_id: str, entity: str, record_id: str, readable: bool) -> None:
        if len(self._entries) > 50_000:
            self._entries.clear()
        self._entries[(environment_url, user_id, entity, record_id)] = (self._clock.monotonic(), readable)
