"""Bound security functions on ``systemusers(id)`` / ``teams(id)``.

- ``RetrievePrincipalAccess(Target=@p1)?@p1={'@odata.id':'contacts(<id>)'}`` (use-web-api-functions.md,
  verifying-access-in-code.md): bound to systemuser and team; answers
  ``{"@odata.context": "…$metadata#Microsoft.Dynamics.CRM.RetrievePrincipalAccessResponse",
  "AccessRights": "ReadAccess, WriteAccess, …"}``. The caller needs the Read privilege on the target's
  table (CRM 2015 "RetrievePrincipalAccess message privileges").
- ``RetrieveUserPrivileges`` and ``RetrieveUserPrivilegeByPrivilegeName(PrivilegeName='…')`` (systemuser
  only): ``RolePrivileges`` of ``{Depth, PrivilegeId, BusinessUnitId, PrivilegeName}``; privileges a user
  has through a team come back at Basic depth (RetrieveUserPrivileges reference, Remarks).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .dataverse import Dataverse, Row
from .errors import DataverseError, bad_request
from .http import ApiRequest, ApiResponse
from .records import entity_ref
from .schema import Table
from .security import RANK, access_rights, principal, privilege_id, role_privileges

NAMESPACE = "Microsoft.Dynamics.CRM."
_CALL = re.compile(r"^(?P<name>[A-Za-z]+)(?:\((?P<args>.*)\))?$")


def _arguments(req: ApiRequest, text: str) -> dict[str, Any]:
    """``Target=@p1,PrivilegeName='x'`` with aliases from the query string."""
    out: dict[str, Any] = {}
    for piece in re.findall(r"(\w+)=('(?:[^']|'')*'|@\w+|\{.*?\}|[^,]+)", text):
        name, raw = piece
        if raw.startswith("@"):
            alias = req.param(raw)
            if alias is None:
                raise bad_request(f"The parameter alias '{raw}' has no value in the query string.")
            raw = alias
        out[name] = _literal(raw)
    return out


def _literal(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("'") and raw.endswith("'"):
        return raw[1:-1].replace("''", "'")
    if raw.startswith("{"):
        for text in (raw, raw.replace("'", '"')):  # the documented example quotes with '
            try:
                return json.loads(text)
            except ValueError:
                continue
        raise bad_request(f"The value '{raw}' is not a valid entity reference.")
    return raw


def handle(dv: Dataverse, req: ApiRequest, table: Table, row: Row, segment: str) -> ApiResponse:
    match = _CALL.match(segment[len(NAMESPACE) :])
    if req.method != "GET" or not match or match.group("name") not in _FUNCTIONS:
        raise DataverseError(404, "0x80060888", f"Resource not found for the segment '{segment}'.")
    name = match.group("name")
    if table.logical not in _FUNCTIONS[name][1]:
        raise bad_request(f"The function '{name}' is not bound to '{table.logical}'.")
    body = _FUNCTIONS[name][0](dv, req, table, row, _arguments(req, match.group("args") or ""))
    context = f"{req.base}$metadata#Microsoft.Dynamics.CRM.{name}Response"
    return ApiResponse.json(200, {"@odata.context": context, **body})


def _principal_access(dv: Dataverse, req: ApiRequest, table: Table, row: Row, args: dict[str, Any]) -> dict[str, Any]:
    target = args.get("Target")
    if not isinstance(target, dict) or not isinstance(target.get("@odata.id"), str):
        raise bad_request("RetrievePrincipalAccess needs Target={'@odata.id':'<entityset>(<id>)'}.")
    target_table, target_row = entity_ref(dv, target["@odata.id"])
    if req.caller is not None:
        req.caller.require_privilege(dv, target_table.logical, "Read")
    who = principal(dv, table.logical, row[table.pk])
    rights = access_rights(dv, [who], target_table.logical, target_row)
    return {"AccessRights": ", ".join(rights) if rights else "None"}


def _role_privileges(dv: Dataverse, user: Row, only: str | None) -> list[dict[str, Any]]:
    best: dict[str, tuple[str, str]] = {}  # privilege -> (depth, business unit)
    bu = str(user.get("_businessunitid_value") or "")

    def offer(name: str, depth: str, unit: str) -> None:
        if (only is None or name == only) and (name not in best or RANK[depth] > RANK[best[name][0]]):
            best[name] = (depth, unit)

    for role_id in dv.related("systemuserroles_association", "systemuser", user["systemuserid"]):
        for name, depth in role_privileges(dv, dv.rows["role"][role_id]).items():
            offer(name, depth, bu)
    for team_id in dv.related("teammembership_association", "systemuser", user["systemuserid"]):
        for role_id in dv.related("teamroles_association", "team", team_id):
            for name in role_privileges(dv, dv.rows["role"][role_id]):
                offer(name, "Basic", bu)  # team privileges come back at Basic depth (Remarks)
    return [
        {"Depth": depth, "PrivilegeId": privilege_id(name), "BusinessUnitId": unit, "PrivilegeName": name}
        for name, (depth, unit) in sorted(best.items())
    ]


def _user_privileges(dv: Dataverse, req: ApiRequest, table: Table, row: Row, args: dict[str, Any]) -> dict[str, Any]:
    return {"RolePrivileges": _role_privileges(dv, row, None)}


def _user_privilege_by_name(
    dv: Dataverse, req: ApiRequest, table: Table, row: Row, args: dict[str, Any]
) -> dict[str, Any]:
    name = args.get("PrivilegeName")
    if not isinstance(name, str) or not name:
        raise bad_request("RetrieveUserPrivilegeByPrivilegeName needs PrivilegeName='<name>'.")
    return {"RolePrivileges": _role_privileges(dv, row, name)}


_FUNCTIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "RetrievePrincipalAccess": (_principal_access, ("systemuser", "team")),
    "RetrieveUserPrivileges": (_user_privileges, ("systemuser",)),
    "RetrieveUserPrivilegeByPrivilegeName": (_user_privilege_by_name, ("systemuser",)),
}
