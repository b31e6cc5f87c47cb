"""Routing and record operations under ``/api/data/v9.2/`` (framework-free; $batch reuses it).

Writes follow dynamics-webapi.md §4: POST → 204 + ``OData-EntityId`` (201 + body with
``Prefer: return=representation``); PATCH is an upsert unless ``If-Match`` is sent; ``If-Match: *``
→ 404 on a missing row; ``If-Match: W/"v"`` → 412 on a version mismatch; ``If-None-Match: *``
→ create only (412 if the row exists). Lookups are set with ``<nav>@odata.bind``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from . import actions, functions, metadata, roles
from .dataverse import Dataverse, Row
from .errors import DUPLICATE_KEY, DataverseError, bad_request, not_found
from .http import ApiRequest, ApiResponse
from .query import annotations_wanted, count_only, expand_rows, parse_select, read_collection, shape
from .schema import RELATIONSHIPS, Table

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$][\w.$]*)(?:\((?P<key>.*)\))?$")


def split_path(path: str) -> list[str]:
    """Split on '/' outside quotes and parentheses."""
    parts: list[str] = []
    current = ""
    quoted = False
    depth = 0
    for ch in path:
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "/" and not quoted and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p for p in parts if p != ""]


def resource_not_found(segment: str) -> DataverseError:
    return DataverseError(404, "0x80060888", f"Resource not found for the segment '{segment}'.")


def dispatch(dv: Dataverse, req: ApiRequest) -> ApiResponse:
    """Answer one Web API request (never raises DataverseError: it becomes an OData error body)."""
    try:
        return _route(dv, req)
    except DataverseError as exc:
        return ApiResponse.error(exc)


def _route(dv: Dataverse, req: ApiRequest) -> ApiResponse:
    segments = split_path(req.path)
    if not segments:
        if req.method != "GET":
            raise DataverseError(405, "0x80060888", "The requested resource does not support this method.")
        sets = sorted(t.entity_set for t in dv.tables.values())
        return ApiResponse.json(
            200,
            {
                "@odata.context": f"{req.base}$metadata",
                "value": [{"name": s, "kind": "EntitySet", "url": s} for s in sets],
            },
        )
    head = segments[0]
    if head in ("WhoAmI", "WhoAmI()"):
        return _who_am_i(dv, req)
    if head.startswith("EntityDefinitions"):
        return metadata.handle(dv, req, segments)
    if head in ("Merge", "Microsoft.Dynamics.CRM.Merge"):
        _method(req, "POST")
        return actions.merge(dv, req)
    match = _SEGMENT.match(head)
    if not match or match.group("name") not in dv.by_set:
        raise resource_not_found(head)
    table = dv.by_set[match.group("name")]
    key = match.group("key")
    rest = segments[1:]
    if key is None:
        if rest == ["$count"]:
            _method(req, "GET")
            return count_only(dv, req, table)
        if rest:
            raise resource_not_found(rest[0])
        if req.method == "GET":
            return read_collection(dv, req, table)
        if req.method == "POST":
            return create(dv, req, table)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{req.method}'."
        )
    if not rest:
        if req.method == "GET":
            return read_one(dv, req, table, key)
        if req.method == "PATCH":
            return patch(dv, req, table, key)
        if req.method == "DELETE":
            return delete(dv, req, table, key)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{req.method}'."
        )
    nav = rest[0]
    if nav in ("Microsoft.Dynamics.CRM.QualifyLead", "QualifyLead") and table.logical == "lead":
        _method(req, "POST")
        return actions.qualify_lead(dv, req, resolve_key(dv, table, key))
    if nav.startswith(functions.NAMESPACE) and table.logical in ("systemuser", "team"):
        return functions.handle(dv, req, table, resolve_key(dv, table, key), nav)
    nav_match = _SEGMENT.match(nav)
    if nav_match and nav_match.group("name") in RELATIONSHIPS:
        return _relationship(dv, req, table, key, nav_match.group("name"), nav_match.group("key"), rest[1:])
    raise resource_not_found(nav)


def _method(req: ApiRequest, method: str) -> None:
    if req.method != method:
        raise DataverseError(405, "0x80060888", f"The requested resource does not support http method '{req.method}'.")


def _who_am_i(dv: Dataverse, req: ApiRequest) -> ApiResponse:
    _method(req, "GET")
    user_id = req.caller.user_id if req.caller is not None else dv.token_users.get(req.token, dv.app_user)
    user = dv.rows["systemuser"][user_id]
    return ApiResponse.json(
        200,
        {
            "@odata.context": f"{req.base}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
            "BusinessUnitId": user["_businessunitid_value"],
            "UserId": user_id,
            "OrganizationId": dv.org_id,
        },
        {"x-ms-dop-hint": "4"},
    )


# ------------------------------------------------------------------ keys


def parse_key(table: Table, key: str) -> str | dict[str, Any]:
    """A GUID, or {column: value} for an alternate key such as ``azureactivedirectoryobjectid=<guid>``."""
    key = unquote(key).strip()
    if GUID.match(key):
        return key.lower()
    parts: dict[str, Any] = {}
    for piece in re.findall(r"(\w+)=('(?:[^']|'')*'|[^,]+)", key):
        name, raw = piece
        value: Any = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw.strip()
        if isinstance(value, str) and not raw.startswith("'") and GUID.match(value):
            value = value.lower()
        parts[name] = value
    invalid = not parts or set(parts) not in [set(k) for k in table.alternate_keys]
    if invalid:
        raise bad_request(
            f"The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.{table.logical}'. "
            "Ensure that the names and number of key properties match the declared or alternate key properties "
            "for the resource "
            f"'Microsoft.Dynamics.CRM.{table.logical}'."
        )
    return parts


def find(dv: Dataverse, table: Table, key: str) -> tuple[Row | None, str | dict[str, Any]]:
    parsed = parse_key(table, key)
    if isinstance(parsed, str):
        return dv.get(table.logical, parsed), parsed
    return dv.find_by_key(table.logical, parsed), parsed


def _missing(table: Table, parsed: str | dict[str, Any]) -> DataverseError:
    if isinstance(parsed, str):
        return not_found(table.logical, parsed)
    return DataverseError(
        404, "0x80040217", f"A record with the specified key values does not exist in {table.logical} entity"
    )


def resolve_key(dv: Dataverse, table: Table, key: str) -> Row:
    row, parsed = find(dv, table, key)
    if row is None:
        raise _missing(table, parsed)
    return row


def entity_ref(dv: Dataverse, url: str) -> tuple[Table, Row]:
    """Resolve "/accounts(<id>)", "accounts(<id>)" or an absolute ".../api/data/v9.2/accounts(<id>)"."""
    text = url.split("/api/data/v9.2/", 1)[-1].lstrip("/")
    match = _SEGMENT.match(text)
    if not match or match.group("key") is None or match.group("name") not in dv.by_set:
        raise bad_request(f"The entity reference '{url}' is not valid.")
    table = dv.by_set[match.group("name")]
    return table, resolve_key(dv, table, match.group("key"))


# ------------------------------------------------------------------ body parsing


def split_body(dv: Dataverse, table: Table, body: Any) -> tuple[dict[str, Any], dict[str, tuple[str, str | None]]]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    binds: dict[str, tuple[str, str | None]] = {}
    for name, value in body.items():
        if name.endswith("@odata.bind"):
            nav = name[: -len("@odata.bind")]
            if nav not in table.nav:
                raise bad_request(
                    f"An undeclared property '{nav}' which only has property annotations in the payload but no "
                    "property value was found in the payload. In OData, only declared navigation properties and "
                    "declared named streams can be represented as properties without values."
                )
            column, target = table.nav[nav]
            if value is None:
                binds[column] = (target, None)
                continue
            if not isinstance(value, str):
                raise bad_request(f"The value of '{name}' must be an entity reference string.")
            ref_table, ref_row = entity_ref(dv, value)
            if nav == "ownerid" and ref_table.logical in ("systemuser", "team"):
                target = ref_table.logical
            if ref_table.logical != target:
                raise bad_request(
                    f"The navigation property '{nav}' expects a reference to '{target}', not '{ref_table.logical}'."
                )
            binds[column] = (target, ref_row[ref_table.pk])
        elif name.startswith("@") or "@" in name:
            continue  # instance annotations (@odata.type, ...) carry no data
        elif isinstance(value, dict | list):
            raise bad_request(f"Deep insert of '{name}' is not supported by the sandbox.")
        else:
            values[name] = value
    return values, binds


def _state_guard(dv: Dataverse, table: Table, values: dict[str, Any]) -> None:
    if table.logical in ("lead", "opportunity") and "statecode" in values and dv.switches["state_patch"] == "refuse":
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


def _check(req: ApiRequest, dv: Dataverse, logical: str, verb: str, row: Row) -> None:
    if req.caller is not None:
        req.caller.require_row(dv, logical, verb, row)


def _default_owner(req: ApiRequest, dv: Dataverse, table: Table, binds: dict[str, tuple[str, str | None]]) -> None:
    """A record created without an owner is owned by the user the request runs as."""
    if "ownerid" in table.columns and "ownerid" not in binds:
        binds["ownerid"] = ("systemuser", req.caller.user_id if req.caller is not None else dv.app_user)


def _prospective(binds: dict[str, tuple[str, str | None]]) -> Row:
    target, owner = binds.get("ownerid", ("systemuser", None))
    return {"_ownerid_value": owner, "_ownerid_value@Microsoft.Dynamics.CRM.lookuplogicalname": target}


def read_one(dv: Dataverse, req: ApiRequest, table: Table, key: str) -> ApiResponse:
    row = resolve_key(dv, table, key)
    _check(req, dv, table.logical, "Read", row)
    if_none = req.headers.get("if-none-match")
    if if_none and if_none != "null" and if_none == dv.etag(row) and not req.param("$expand"):
        return ApiResponse.empty(304)
    select = parse_select(table, req.param("$select"))
    sel = f"({','.join(select)})" if select else ""
    shaped = shape(dv, table, row, select, annotations_wanted(req))
    expand_rows(dv, req, table, [row], [shaped])
    body = {"@odata.context": f"{req.base}$metadata#{table.entity_set}{sel}/$entity", **shaped}
    return ApiResponse.json(200, body)


def create(dv: Dataverse, req: ApiRequest, table: Table) -> ApiResponse:
    values, binds = split_body(dv, table, req.json())
    if table.logical == "role" and "businessunitid" not in binds:
        raise bad_request("'businessunitid' is required to create a role (use businessunitid@odata.bind).")
    _default_owner(req, dv, table, binds)
    _check(req, dv, table.logical, "Create", _prospective(binds))
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
            raise _missing(table, parsed)
        if isinstance(parsed, str):
            values.setdefault(table.pk, parsed)
        else:
            for name, value in parsed.items():
                values.setdefault(name, value)
        _default_owner(req, dv, table, binds)
        _check(req, dv, table.logical, "Create", _prospective(binds))
        created = dv.create(table.logical, values, binds)
        if req.prefer().get("return") == "representation":
            return _representation(dv, req, table, created, 201)
        return ApiResponse.empty(204, {"OData-EntityId": _entity_id(req, table, created)})
    if if_none == "*":
        raise DataverseError(412, DUPLICATE_KEY, "A record with matching key values already exists.")
    _check_if_match(dv, req, row)
    _check(req, dv, table.logical, "Write", row)
    if "ownerid" in binds and binds["ownerid"][1] != row.get("_ownerid_value"):
        _check(req, dv, table.logical, "Assign", row)
    values.pop(table.pk, None)
    updated = dv.update(table.logical, row[table.pk], values, binds)
    if req.prefer().get("return") == "representation":
        return _representation(dv, req, table, updated, 200)
    return ApiResponse.empty(204, {"OData-EntityId": _entity_id(req, table, updated)})


def delete(dv: Dataverse, req: ApiRequest, table: Table, key: str) -> ApiResponse:
    row = resolve_key(dv, table, key)
    _check_if_match(dv, req, row)
    _check(req, dv, table.logical, "Delete", row)
    if table.logical == "role":
        roles.delete_role(dv, row)
        return ApiResponse.empty(204)
    dv.delete(table.logical, row[table.pk])
    return ApiResponse.empty(204)


# ------------------------------------------------------------------ N:N navigation and $ref


def _relationship(
    dv: Dataverse, req: ApiRequest, table: Table, key: str, name: str, other_key: str | None, rest: list[str]
) -> ApiResponse:
    row = resolve_key(dv, table, key)
    row_id = row[table.pk]
    other = dv.tables[dv.other_side(name, table.logical)]
    if rest == ["$ref"]:
        if req.method == "POST" and other_key is None:
            body = req.json()
            ref = body.get("@odata.id") if isinstance(body, dict) else None
            if not isinstance(ref, str):
                raise bad_request("The request body must contain an '@odata.id' entity reference.")
            ref_table, ref_row = entity_ref(dv, ref)
            if ref_table.logical != other.logical:
                raise bad_request(f"'{name}' links '{table.logical}' to '{other.logical}', not '{ref_table.logical}'.")
            dv.associate(name, table.logical, row_id, ref_row[other.pk])
            return ApiResponse.empty(204)
        if req.method == "DELETE":
            if other_key is None:
                ref = req.param("$id")
                if not ref:
                    raise bad_request("Give the related record as <nav>(<id>)/$ref or $ref?$id=<url>.")
                ref_table, ref_row = entity_ref(dv, ref)
                other_id = ref_row[ref_table.pk]
            else:
                other_id = resolve_key(dv, other, other_key)[other.pk]
            dv.disassociate(name, table.logical, row_id, other_id)
            return ApiResponse.empty(204)
        raise DataverseError(405, "0x80060888", f"The requested resource does not support http method '{req.method}'.")
    if rest or other_key is not None:
        raise resource_not_found("/".join(rest) or name)
    _method(req, "GET")
    ids = set(dv.related(name, table.logical, row_id))
    return read_collection(dv, req, other, restrict=ids)
