"""User management: who may use the product (the seed's User Management page).

Assigning gives the user the copy of the role that lives in the user's own business unit,
through ``systemuserroles_association/$ref``; listing shows holders directly and through teams.
A product role is its root role and that root's copies (``_parentrootroleid_value``), never a
role that merely has the name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from sync_core.api import audit_log
from sync_core.api.context import AdminDep
from sync_core.api.errors import STANDARD, WITH_CONFLICT, ApiError, documented
from sync_core.api.roles import AC_ADMIN, AC_USER, product_roots, root_of
from sync_core.api.schemas import AssignRole, DynamicsUser, RoleGrant, RoleHolder
from sync_core.dynamics import is_guid, normalize_guid

router = APIRouter(tags=["users"])
ERRORS = documented(*STANDARD)
ROLE_KEYS = {"user": AC_USER, "admin": AC_ADMIN}
_USER_FIELDS = ["systemuserid", "fullname", "internalemailaddress", "domainname", "isdisabled"]


def _copies_filter(root_id: str, business_unit_id: str | None = None) -> str:
    root = normalize_guid(root_id)
    flt = f"(_parentrootroleid_value eq {root} or roleid eq {root})"
    return flt if business_unit_id is None else f"_businessunitid_value eq {normalize_guid(business_unit_id)} and {flt}"


def _root_id(roots: dict[str, str], name: str) -> str:
    found = [rid for rid, n in roots.items() if n == name]
    if not found:
        raise ApiError(409, "role_missing", f"the {name} role does not exist in the root business unit: "
                       "run `python -m sync_core dynamics setup`", field="role")
    return found[0]


def _user(row: dict[str, Any]) -> DynamicsUser:
    return DynamicsUser(user_id=str(row["systemuserid"]), full_name=row.get("fullname"),
                        email=row.get("internalemailaddress"), domain_name=row.get("domainname"))


@router.get("/api/connections/{connection_id}/users/search", response_model=list[DynamicsUser], responses=ERRORS,
            summary="Enabled Dynamics users whose name or email contains the text (top 10)")
async def search_users(a: AdminDep, q: Annotated[str, Query(min_length=1, max_length=100)]) -> list[DynamicsUser]:
    if not q.strip():
        return []
    async with a.ctx.dynamics(a.config) as dv:
        rows = await dv.search_users(q, top=10)
    return [_user(r) for r in rows if not r.get("isdisabled")][:10]


@router.get("/api/connections/{connection_id}/users", response_model=list[RoleHolder], responses=ERRORS,
            summary="Who holds ActiveCampaign User or ActiveCampaign Admin, directly or through a team")
async def list_role_holders(a: AdminDep) -> list[RoleHolder]:
    holders: dict[str, RoleHolder] = {}

    def grant(row: dict[str, Any], g: RoleGrant) -> None:
        if row.get("isdisabled"):
            return
        h = holders.setdefault(str(row["systemuserid"]), RoleHolder(user=_user(row), roles=[]))
        if g not in h.roles:
            h.roles.append(g)

    async with a.ctx.dynamics(a.config) as dv:
        for root_id, name in sorted((await product_roots(dv)).items(), key=lambda x: x[1], reverse=True):
            for role in await dv.query_all("roles", select=["roleid"], filter=_copies_filter(root_id)):
                role_path = dv.record_path("roles", str(role["roleid"]))
                for row in await dv.query_all(f"{role_path}/systemuserroles_association", select=_USER_FIELDS):
                    grant(row, RoleGrant(role=name, via="direct"))
                for team in await dv.query_all(f"{role_path}/teamroles_association", select=["teamid", "name"]):
                    team_path = dv.record_path("teams", str(team["teamid"]))
                    for row in await dv.query_all(f"{team_path}/teammembership_association", select=_USER_FIELDS):
                        grant(row, RoleGrant(role=name, via="team", team=team.get("name")))
    return sorted(holders.values(), key=lambda h: ((h.user.full_name or "").lower(), h.user.user_id))


@router.post("/api/connections/{connection_id}/users", response_model=RoleHolder,
             responses=documented(*WITH_CONFLICT),
             summary="Give a user an ActiveCampaign role (their business unit's copy)")
async def assign_role(a: AdminDep, body: AssignRole) -> RoleHolder:
    async with a.ctx.dynamics(a.config) as dv:
        user = await dv.get_user(body.user_id)
        if user is None or user.get("isdisabled"):
            raise ApiError(404, "user_not_found", "no enabled Dynamics user with this id", field="user_id")
        bu = user.get("_businessunitid_value")
        root_id = _root_id(await product_roots(dv), body.role)
        roles = await dv.query_all("roles", select=["roleid"], filter=_copies_filter(root_id, str(bu) if bu else None))
        if not roles:
            raise ApiError(409, "role_missing", f"the {body.role} role does not exist in the user's business unit: "
                           "run `python -m sync_core dynamics setup`", field="role")
        role_id = str(roles[0]["roleid"])
        held = {str(r.get("roleid")) for r in await dv.user_roles(body.user_id)}
        if role_id not in held:
            await dv.associate_role(body.user_id, role_id)
    (await a.ctx.role_cache()).forget(a.config.dynamics.environment_url)
    await audit_log.record(a.runtime, a.config.connection_id, a.caller, "assign_role", target=body.user_id,
                           after={"role": body.role})
    return RoleHolder(user=_user(user), roles=[RoleGrant(role=body.role, via="direct")])


@router.delete("/api/connections/{connection_id}/users/{user_id}/roles/{role}", status_code=204,
               response_class=Response, responses=ERRORS, summary="Take a directly assigned ActiveCampaign role away")
async def remove_role(a: AdminDep, user_id: str, role: str) -> Response:
    name = ROLE_KEYS.get(role)
    if name is None:
        raise ApiError(404, "role_not_found", "role must be 'user' or 'admin'", field="role")
    async with a.ctx.dynamics(a.config) as dv:
        if not is_guid(user_id):
            raise ApiError(404, "user_not_found", "no Dynamics user with this id", field="user_id")
        root_id = _root_id(await product_roots(dv), name)
        path = f"{dv.record_path('systemusers', user_id)}/systemuserroles_association"
        for r in await dv.query_all(path, select=["roleid", "_parentrootroleid_value"]):
            if root_of(r) == root_id:
                await dv.disassociate_role(user_id, str(r["roleid"]))
    (await a.ctx.role_cache()).forget(a.config.dynamics.environment_url)
    await audit_log.record(a.runtime, a.config.connection_id, a.caller, "remove_role", target=user_id,
                           before={"role": name})
    return Response(status_code=204)
