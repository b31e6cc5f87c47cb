"""The caller's Dynamics security roles: its own and its teams', cached briefly.

The product's two roles exist once per business unit (Dataverse copies every role into each
unit); a user holds the copy of its own unit. Names are what the seed calls them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sync_core.clock import Clock

if TYPE_CHECKING:
    from sync_core.dynamics import DataverseClient

SYSTEM_ADMINISTRATOR = "System Administrator"
AC_ADMIN = "ActiveCampaign Admin"
AC_USER = "ActiveCampaign User"
PRODUCT_ROLES = (AC_USER, AC_ADMIN)
ADMIN_ROLES = frozenset({SYSTEM_ADMINISTRATOR, AC_ADMIN})
ROLE_CACHE_SECONDS = 120.0


@dataclass(frozen=True)
class CallerRoles:
    user_id: str | None
    """The systemuser with the caller's object id (``None``: not a user of that environment)."""
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return bool(self.roles & ADMIN_ROLES)


async def roles_of(dv: DataverseClient, object_id: str) -> CallerRoles:
    user = await dv.get_user_by_object_id(object_id)
    if user is None or user.get("isdisabled"):
        return CallerRoles(None, frozenset())
    uid = str(user["systemuserid"])
    names = {str(r.get("name")) for r in await dv.user_roles(uid)}
    for team in await dv.user_teams(uid):
        names |= {str(r.get("name")) for r in await dv.team_roles(str(team["teamid"]))}
    return CallerRoles(uid, frozenset(names))


class RoleCache:
    """Roles per (environment, object id) for a short while: one lookup serves a burst of requests."""

    def __init__(self, clock: Clock, ttl: float = ROLE_CACHE_SECONDS) -> None:
        self._clock = clock
        self._ttl = ttl
        self._entries: dict[tuple[str, str], tuple[float, CallerRoles]] = {}
        self._lock = asyncio.Lock()

    def get(self, environment_url: str, object_id: str) -> CallerRoles | None:
        hit = self._entries.get((environment_url, object_id))
        if hit is None or self._clock.monotonic() - hit[0] > self._ttl:
            return None
        return hit[1]

    def put(self, environment_url: str, object_id: str, roles: CallerRoles) -> None:
        if len(self._entries) > 10_000:
            self._entries.clear()
        self._entries[(environment_url, object_id)] = (self._clock.monotonic(), roles)

    def forget(self, environment_url: str) -> None:
        """After a role change in that environment: the next request looks again."""
        for k in [k for k in self._entries if k[0] == environment_url]:
            del self._entries[k]
