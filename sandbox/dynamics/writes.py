"""Writes (dynamics-webapi.md §4): POST → 204 + ``OData-EntityId`` (201 + body with
``Prefer: return=representation``); PATCH is an upsert unless ``If-Match`` is sent; ``If-Match: *``
→ 404 on a missing row; ``If-Match: W/"v"`` → 412 on a version mismatch (404 when the row is gone);
``If-None-Match: *`` → create only (412 if the row exists). Lookups are set with ``<nav>@odata.bind``.
"""

from __future__ import annotations

from typing import Any

from . import required, roles, states
from .dataverse import Dataverse, Row
from .errors import DUPLICATE_KEY, VALIDATION, DataverseError, bad_request
from .http import ApiRequest, ApiResponse
from .query import annotations_wanted, parse_select, shape
from .records import find, missing, resolve_key, split_body
from .schema import Table
from .security import OWNED, principal, privilege_name

PRINCIPAL_PRIVILEGE_DENIED = "0x80040231"  # data-service-error-codes.md; 403 per compose-http-requests…md


# States with a message of their own (QualifyLead; Win/LoseOpportunity). Disqualifying a lead (2) is an update under
# both readings: SetState is deprecated for Update (special-update-operation-behavior.md) and no Web API message
# disqualifies.
_MESSAGE_STATES = {"lead": (1,), "opportunity": (1, 2)}


def _state_guard(dv: Dataverse, table: Table, values: dict[str, Any]) -> None:
    closing = values.get("statecode") in _MESSAGE_STATES.get(table.logical, ())
    if closing and dv.switches["state_patch"] == "refuse":
        message = "QualifyLead" if table.logical == "lead" else "WinOpportunity or LoseOpportunity"
        raise bad_request(
            f"The statecode of a {table.logical} cannot be changed by an update; use {message}.", code="0x80040203"
        )


# ------------------------------------------------------------------ single-record operations


def _entity_id(req: ApiRequest, table: Table, row: Row) -> str:
    return f"{req.base}{table.entity_set}({row[table.pk]})"


def _representation(dv: Dataverse, req: ApiRequest, table: Table, row: Row, status: int) -> ApiResponse:
    select = parse_select(table, req.param("$select"))
    body = {
        "@odata.context": f"{req.base}$metadata#{table.entity_set}/$entity",
        **shape(dv, table, row, select, annotations_wanted(req)),
    }
    return ApiResponse.json(status, body, {"Preference-Applied": "return=representation"})


def check(req: ApiRequest, dv: Dataverse, logical: str, verb: str, row: Row) -> None:
    if req.caller is not None:
        req.caller.require_row(dv, logical, verb, row)


def _default_owner(req: ApiRequest, dv: Dataverse, table: Table, binds: dict[str, tuple[str, str | None]]) -> None:
    """A record created without an owner is owned by the user the request runs as."""
    if "ownerid" in table.columns and "ownerid" not in binds:
        binds["ownerid"] = ("systemuser", req.caller.user_id if req.caller is not None else dv.app_user)


def _check_owner(dv: Dataverse, table: Table, binds: dict[str, tuple[str, str | None]]) -> None:
    """The owner a create or an assignment names: set, enabled, not an access team, able to read the record."""
    if "ownerid" not in table.columns or "ownerid" not in binds:
        return
    kind, owner_id = binds["ownerid"]
    if owner_id is None:
        raise bad_request("'ownerid' is required and cannot be set to null.", VALIDATION)
    owner = dv.rows[kind][owner_id]
    if kind == "systemuser" and owner.get("isdisabled"):
        raise bad_request("The specified owner has been disabled.", dv.switches["disabled_owner_code"])
    if kind == "team" and owner.get("teamtype") == 1:
        raise bad_request(
            "You cannot assign a record to the access team. You can assign a record to the owner team.", "0x80048340"
        )
    needs_read = dv.switches["owner_needs_read"] and table.logical in OWNED
    if needs_read and not principal(dv, kind, owner_id).has(privilege_name("Read", table.logical)):
        message = "Target user or team does not hold required privileges."
        raise DataverseError(403, PRINCIPAL_PRIVILEGE_DENIED, message)


def _prospective(binds: dict[str, tuple[str, str | None]]) -> Row:
    target, owner = binds.get("ownerid", ("systemuser", None))
    return {"_ownerid_value": owner, "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": target}


def create(dv: Dataverse, req: ApiRequest, table: Table) -> ApiResponse:
    values, binds = split_body(dv, table, req.json())
    if table.logical == "role" and "businessunitid" not in binds:
        raise bad_request("'businessunitid' is required to create a role (use businessunitid@odata.bind).")
    _default_owner(req, dv, table, binds)
    check(req, dv, table.logical, "Create", _prospective(binds))
    _check_owner(dv, table, binds)
    required.check(dv, table, None, values, binds)
    states.apply(dv, table, None, values)
    row = dv.create(table.logical, values, binds)
    if table.logical == "role":
        row = roles.set_up_created_role(dv, row)
    if req.prefer().get("return") == "representation":
        return _representation(dv, req, table, row, 201)
    return ApiResponse.empty(204, {"OData-EntityId": _entity_id(req, table, row)})


def _check_if_match(dv: Dataverse, req: ApiRequest, row: Row) -> None:
    if_match = req.headers.get("if-match")
    if if_match and if_match != "*" and if_match != dv.etag(row):
        raise DataverseError(
            412,
            dv.switches["concurrency_code"],
            "The version of the existing record doesn't match the RowVersion property provided.",
        )


def patch(dv: Dataverse, req: ApiRequest, table: Table, key: str) -> ApiResponse:
    row, parsed = find(dv, table, key)
    values, binds = split_body(dv, table, req.json())
    _state_guard(dv, table, values)
    if_match = req.headers.get("if-match")
    if_none = req.headers.get("if-none-match")
    if row is None:
        if if_match:
            raise missing(table, parsed)
        if isinstance(parsed, str):
            values.setdefault(table.pk, parsed)
        else:
            for name, value in parsed.items():
                values.setdefault(name, value)
        _default_owner(req, dv, table, binds)
        check(req, dv, table.logical, "Create", _prospective(binds))
        _check_owner(dv, table, binds)
        required.check(dv, table, None, values, binds)
        states.apply(dv, table, None, values)
        created = dv.create(table.logical, values, binds)
        if req.prefer().get("return") == "representation":
            return _representation(dv, req, table, created, 201)
        return ApiResponse.empty(204, {"OData-EntityId": _entity_id(req, table, created)})
    if if_none == "*":
        raise DataverseError(412, DUPLICATE_KEY, "A record with matching key values already exists.")
    _check_if_match(dv, req, row)
    check(req, dv, table.logical, "Write", row)
    if "ownerid" in binds and binds["ownerid"][1] != row.get("_ownerid_value"):
        check(req, dv, table.logical, "Assign", row)
        _check_owner(dv, table, binds)
    values.pop(table.pk, None)
    required.check(dv, table, row, values, binds)
    states.apply(dv, table, row, values)
    updated = dv.update(table.logical, row[table.pk], values, binds)
    if req.prefer().get("return") == "representation":
        return _representation(dv, req, table, updated, 200)
    return ApiResponse.empty(204, {"OData-EntityId": _entity_id(req, table, updated)})


def delete(dv: Dataverse, req: ApiRequest, table: Table, key: str) -> ApiResponse:
    row = resolve_key(dv, table, key)
    _check_if_match(dv, req, row)
    check(req, dv, table.logical, "Delete", row)
    if table.logical == "role":
        roles.delete_role(dv, row)
        return ApiResponse.empty(204)
    dv.delete(table.logical, row[table.pk])
    return ApiResponse.empty(204)
