"""Contact custom fields: fields, fieldOption/bulk, fieldValues."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from . import attrs
from .errors import ACError, jsonapi, no_result
from .events import emit
from .render import Renderer
from .state import FIELD_TYPES, ACState, Contact, as_int
from .web import api, body_json, page_meta, paging, wrapped


def perstag_of(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def create_field_record(ac: ACState, title: str, ftype: str, perstag: str | None = None,
                        **extra: Any) -> dict[str, Any]:
    tag = perstag_of(perstag or title)
    if any(f["title"].lower() == title.lower() for f in ac.fields.values()):
        raise jsonapi(422, "There is already a field with this title", "duplicate",
                      detail=f"There is already a field named '{title}' -- choose another name")
    if any(f["perstag"] == tag for f in ac.fields.values()):
        raise jsonapi(422, "There is already a field with this personalization tag", "field_invalid",
                      "/data/attributes/perstag")
    fid = ac.next_id("field")
    now = ac.now()
    record = {"id": fid, "title": title, "type": ftype, "perstag": tag, "cdate": now, "udate": now, **extra}
    ac.fields[fid] = record
    return record


def _field(ac: ACState, raw: object) -> dict[str, Any]:
    fid = as_int(raw)
    if fid is None or fid not in ac.fields:
        raise no_result("Field", raw)
    return ac.fields[fid]


async def list_fields(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request, default=100)
    fields = sorted(ac.fields.values(), key=lambda f: f["id"])
    if (perstag := request.query_params.get("filters[perstag]")) is not None:
        fields = [f for f in fields if f["perstag"] == perstag.upper()]
    page = fields[offset:offset + limit]
    ids = {f["id"] for f in page}
    options = [r.field_option(o) for o in ac.field_options.values() if o["field"] in ids]
    rels = [r.field_rel(x) for x in ac.field_rels.values() if x["field"] in ids]
    return 200, {"fieldOptions": options, "fieldRels": rels, "fields": [r.field(f) for f in page],
                 "meta": page_meta(len(fields))}


async def create_field(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "field")
    title, ftype = (attrs.text(data, "title") or "").strip(), attrs.text(data, "type") or ""
    if not title:
        raise jsonapi(422, "Field title is required", "field_missing", "/data/attributes/title")
    if ftype not in FIELD_TYPES:
        raise jsonapi(422, f"Invalid field type {ftype!r}", "field_invalid", "/data/attributes/type")
    record = create_field_record(ac, title, ftype, attrs.text(data, "perstag"), **_field_attrs(data))
    rendered = r.field(record)
    # The doc's 201 example is a copy of the list shape; the singular key is served as well (ASSUMPTIONS.md).
    return 201, {"field": rendered, "fieldOptions": [], "fieldRels": [], "fields": [rendered],
                 "meta": page_meta(len(ac.fields))}


async def get_field(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    """The doc's example: ``fieldOptions`` and ``fieldRels`` of this field beside ``field``."""
    record = _field(ac, request.path_params["id"])
    options = [r.field_option(o) for o in ac.field_options.values() if o["field"] == record["id"]]
    rels = [r.field_rel(x) for x in ac.field_rels.values() if x["field"] == record["id"]]
    return 200, {"fieldOptions": options, "fieldRels": rels, "field": r.field(record)}


def _field_attrs(data: dict[str, Any], *, update: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"descript": attrs.text(data, "descript"), "defval": attrs.text(data, "defval"),
                           "visible": attrs.integer(data, "visible", default=0, minimum=0),
                           "ordernum": attrs.integer(data, "ordernum", default=1, minimum=0)}
    if update:  # only what was sent changes
        out = {k: v for k, v in out.items() if data.get(k) is not None}
        if data.get("title") is not None:
            title = (attrs.text(data, "title") or "").strip()
            if not title:
                raise jsonapi(422, "Field title is required", "field_missing", "/data/attributes/title")
            out["title"] = title
    return out


async def update_field(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _field(ac, request.path_params["id"])
    data = await wrapped(request, "field")
    record.update(_field_attrs(data, update=True))
    record["udate"] = ac.now()
    return 200, {"field": r.field(record)}


async def delete_field(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _field(ac, request.path_params["id"])
    for fv_id in [k for k, v in ac.field_values.items() if v["field"] == record["id"]]:
        fv = ac.field_values.pop(fv_id)
        contact = ac.contacts.get(fv["contact"])
        if contact is not None:
            contact.field_values.pop(record["id"], None)
    for oid in [k for k, v in ac.field_options.items() if v["field"] == record["id"]]:
        del ac.field_options[oid]
    for rid in [k for k, v in ac.field_rels.items() if v["field"] == record["id"]]:
        del ac.field_rels[rid]
    del ac.fields[record["id"]]
    return 200, {}


async def bulk_field_options(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    body = await body_json(request)
    items = body.get("fieldOptions") if isinstance(body, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ACError(422, {"errors": "Bulk operation failed. Request must contain an array of fieldOption objects."})
    checked = []
    for item in items:
        checked.append({"field": _field(ac, item.get("field"))["id"], "label": attrs.text(item, "label") or "",
                        "value": attrs.text(item, "value") or "",
                        "orderid": attrs.integer(item, "orderid", default=1, minimum=0),
                        "isdefault": bool(attrs.integer(item, "isdefault", default=0))})
    created = []
    now = ac.now()
    for values in checked:
        oid = ac.next_id("fieldOption")
        record = {"id": oid, **values, "cdate": now, "udate": now}
        ac.field_options[oid] = record
        created.append(r.field_option(record))
    return 201, {"fieldOptions": created}


FORBIDDEN = {"message": "Forbidden"}  # the only error the doc shows for fieldRels (ASSUMPTIONS.md)


async def create_field_rel(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    """``{"fieldRel":{"field":8,"relid":2}}``; relid 0 makes the field available on all lists."""
    data = await wrapped(request, "fieldRel")
    field_id, relid = as_int(data.get("field")), as_int(data.get("relid", 0))
    if field_id is None or field_id not in ac.fields or relid is None or (relid != 0 and relid not in ac.lists):
        raise ACError(403, FORBIDDEN)
    for rel in ac.field_rels.values():
        if rel["field"] == field_id and rel["relid"] == relid:
            return 201, {"fieldRel": r.field_rel(rel, numeric_ids=True)}  # already related: same relation
    rid = ac.next_id("fieldRel")
    rel = {"id": rid, "field": field_id, "relid": relid, "dorder": 0, "cdate": ac.now()}
    ac.field_rels[rid] = rel
    return 201, {"fieldRel": r.field_rel(rel, numeric_ids=True)}


async def delete_field_rel(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    rid = as_int(request.path_params["id"])
    if rid is None or rid not in ac.field_rels:
        raise ACError(403, FORBIDDEN)
    del ac.field_rels[rid]
    return 200, {}


def _field_value(ac: ACState, raw: object) -> dict[str, Any]:
    fv_id = as_int(raw)
    if fv_id is None or fv_id not in ac.field_values:
        raise no_result("FieldValue", raw, status=403)  # AC answers "not found" here with 403 (reference §13.4)
    return ac.field_values[fv_id]


def _changed(ac: ACState, contact: Contact, changed: bool) -> None:
    """A field-value write: udate as registered, and an ``update`` webhook event when the value changed."""
    ac.touch(contact, changed)
    if changed:
        emit(ac, "update", "api", contact=contact)


async def create_field_value(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "fieldValue")
    contact = ac.get_contact(data.get("contact"))
    field = _field(ac, data.get("field"))
    _changed(ac, contact, ac.set_field_value(contact, field["id"], attrs.scalar_or_list(data.get("value"), "value")))
    fv = ac.field_values[contact.field_values[field["id"]]]
    return 200, {"contacts": [r.contact(contact)], "fieldValue": r.field_value(fv, numeric_ids=True)}


async def list_field_values(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    """``filters[fieldid]`` (exact id) through the per-field index, ``filters[val]`` (exact value); id order."""
    limit, offset = paging(request)
    fid, val = request.query_params.get("filters[fieldid]"), request.query_params.get("filters[val]")
    field_id = as_int(fid) if fid is not None else None
    page: list[dict[str, Any]]
    if fid is not None and (field_id is None or str(field_id) != fid):
        total, page = 0, []
    elif val is None and field_id is not None:  # a field's values are indexed in id order (ids only grow)
        total, page = ac.values_by_field.page(field_id, offset, limit)
    elif val is None:
        ids = ac.field_value_ids.get()
        total, page = len(ids), [ac.field_values[i] for i in ids[offset:offset + limit]]
    else:
        pool = ac.values_by_field.records(field_id) if field_id is not None else \
            [ac.field_values[i] for i in ac.field_value_ids.get()]
        matching = [v for v in pool if v["value"] == val]
        total, page = len(matching), matching[offset:offset + limit]
    return 200, {"fieldValues": [r.field_value(v) for v in page], "meta": page_meta(total)}


async def get_field_value(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"fieldValue": r.field_value(_field_value(ac, request.path_params["id"]))}


async def update_field_value(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    fv = _field_value(ac, request.path_params["id"])
    data = await wrapped(request, "fieldValue")
    contact = ac.contacts[fv["contact"]]
    _changed(ac, contact, ac.set_field_value(contact, fv["field"], attrs.scalar_or_list(data.get("value"), "value")))
    return 200, {"contacts": [r.contact(contact)], "fieldValue": r.field_value(fv, numeric_ids=True)}


async def delete_field_value(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    fv = _field_value(ac, request.path_params["id"])
    del ac.field_values[fv["id"]]
    contact = ac.contacts.get(fv["contact"])
    if contact is not None:
        contact.field_values.pop(fv["field"], None)
        ac.touch(contact, True)
    return 200, {}


ROUTES: list[Route] = [
    api("/fields", list_fields, ["GET"]),
    api("/fields", create_field, ["POST"]),
    api("/fields/{id}", get_field, ["GET"]),
    api("/fields/{id}", update_field, ["PUT"]),
    api("/fields/{id}", delete_field, ["DELETE"]),
    api("/fieldOption/bulk", bulk_field_options, ["POST"]),
    api("/fieldRels", create_field_rel, ["POST"]),
    api("/fieldRels/{id}", delete_field_rel, ["DELETE"]),
    api("/fieldValues", create_field_value, ["POST"]),
    api("/fieldValues", list_field_values, ["GET"]),
    api("/fieldValues/{id}", get_field_value, ["GET"]),
    api("/fieldValues/{id}", update_field_value, ["PUT"]),
    api("/fieldValues/{id}", delete_field_value, ["DELETE"]),
]
