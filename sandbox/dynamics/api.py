"""Routing under ``/api/data/v9.2/`` (framework-free; $batch reuses it): reads here, writes in writes.py."""

from __future__ import annotations

from . import actions, functions, metadata, writes
from .dataverse import Dataverse
from .errors import DataverseError, bad_request
from .http import ApiRequest, ApiResponse
from .query import annotations_wanted, count_only, expand_rows, parse_select, read_collection, shape
from .records import SEGMENT, entity_ref, resolve_key
from .schema import RELATIONSHIPS, Table


def split_path(path: str) -> list[str]:
    """Split on '/' outside quotes and parentheses."""
    if "'" not in path:  # fast path: no quoted key, so only a '/' inside parentheses needs the slow scan
        fast = [p for p in path.split("/") if p != ""]
        if all(p.count("(") == p.count(")") for p in fast):
            return fast
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
    match = SEGMENT.match(head)
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
            return writes.create(dv, req, table)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{req.method}'."
        )
    if not rest:
        if req.method == "GET":
            return read_one(dv, req, table, key)
        if req.method == "PATCH":
            return writes.patch(dv, req, table, key)
        if req.method == "DELETE":
            return writes.delete(dv, req, table, key)
        raise DataverseError(
            405, "0x80060888", f"The requested resource does not support http method '{req.method}'."
        )
    nav = rest[0]
    if nav in ("Microsoft.Dynamics.CRM.QualifyLead", "QualifyLead") and table.logical == "lead":
        _method(req, "POST")
        return actions.qualify_lead(dv, req, resolve_key(dv, table, key))
    if nav.startswith(functions.NAMESPACE) and table.logical in ("systemuser", "team"):
        return functions.handle(dv, req, table, resolve_key(dv, table, key), nav)
    nav_match = SEGMENT.match(nav)
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


def read_one(dv: Dataverse, req: ApiRequest, table: Table, key: str) -> ApiResponse:
    row = resolve_key(dv, table, key)
    writes.check(req, dv, table.logical, "Read", row)
    if_none = req.headers.get("if-none-match")
    if if_none and if_none != "null" and if_none == dv.etag(row) and not req.param("$expand"):
        return ApiResponse.empty(304)
    select = parse_select(table, req.param("$select"))
    sel = f"({','.join(select)})" if select else ""
    shaped = shape(dv, table, row, select, annotations_wanted(req))
    expand_rows(dv, req, table, [row], [shaped])
    body = {"@odata.context": f"{req.base}$metadata#{table.entity_set}{sel}/$entity", **shaped}
    return ApiResponse.json(200, body)


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
