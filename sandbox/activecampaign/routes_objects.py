"""customObjects/schemas and customObjects/records (plan-gated: Enterprise)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from .custom_objects import NOT_FOUND, add_schema_fields, create_schema, render_record, render_schema, upsert_record
from .render import Renderer
from .state import ACState
from .web import Handler, api, paging, require_feature, wrapped

REL_FILTER = re.compile(r"^filters\[relationships\.([^\]]+)\]\[eq\]$")


def gated(fn: Handler) -> Handler:
    async def run(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
        require_feature(ac, "custom_objects")
        return await fn(request, ac, r)

    run.__name__ = fn.__name__
    return run


def _schema(ac: ACState, request: Request, key: str = "id") -> dict[str, Any]:
    schema = ac.co_schemas.get(request.path_params[key])
    if schema is None:
        raise NOT_FOUND
    return schema


def _meta(total: int, count: int, limit: int, offset: int) -> dict[str, int]:
    return {"total": total, "count": count, "limit": limit, "offset": offset}


async def list_schemas(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    items = sorted(ac.co_schemas.values(), key=lambda s: s["cdate"])
    page = [render_schema(s) for s in items[offset:offset + limit]]
    return 200, {"schemas": page, "meta": _meta(len(items), len(page), limit, offset)}


async def post_schema(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 201, {"schema": render_schema(create_schema(ac, await wrapped(request, "schema")))}


async def get_schema(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"schema": render_schema(_schema(ac, request))}


async def put_schema(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    schema = _schema(ac, request, "schemaId")
    data = await wrapped(request, "schema")
    if request.headers.get("validateOnly", "").lower() == "true":
        snapshot = {**schema, "fields": list(schema["fields"])}
        return 200, {"schema": render_schema(add_schema_fields(ac, snapshot, data))}
    return 200, {"schema": render_schema(add_schema_fields(ac, schema, data))}


async def delete_schema(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    schema = _schema(ac, request)
    del ac.co_schemas[schema["id"]]
    ac.co_records.pop(schema["id"], None)
    return 200, None


async def list_records(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    schema = _schema(ac, request, "schemaId")
    limit, offset = paging(request)
    items = sorted(ac.co_records[schema["id"]].values(), key=lambda x: (x["cdate"], x["id"]))
    for key, value in request.query_params.multi_items():
        if match := REL_FILTER.match(key):
            items = [x for x in items if value in [str(i) for i in x["relationships"].get(match.group(1), [])]]
        elif key == "filters[externalId][eq]":
            items = [x for x in items if x["externalId"] == value]
    page = [render_record(x) for x in items[offset:offset + limit]]
    return 200, {"records": page, "meta": _meta(len(items), len(page), limit, offset)}


async def post_record(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    schema = _schema(ac, request, "schemaId")
    created, record = upsert_record(ac, schema, await wrapped(request, "record"))
    status = 201 if created else int(ac.switches["custom_object_update_status"])
    return status, {"record": render_record(record)}


def _record(ac: ACState, request: Request) -> dict[str, Any]:
    schema = _schema(ac, request, "schemaId")
    record = ac.co_records[schema["id"]].get(request.path_params["recordId"])
    if record is None:
        raise NOT_FOUND
    return record


def _record_by_external(ac: ACState, request: Request) -> dict[str, Any]:
    schema = _schema(ac, request, "schemaId")
    external = request.path_params["externalId"]
    for record in ac.co_records[schema["id"]].values():
        if record["externalId"] == external:
            return record
    raise NOT_FOUND


async def get_record(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"record": render_record(_record(ac, request))}


async def delete_record(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _record(ac, request)
    del ac.co_records[record["schemaId"]][record["id"]]
    return 202, None


async def get_record_external(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"record": render_record(_record_by_external(ac, request))}


async def delete_record_external(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    record = _record_by_external(ac, request)
    del ac.co_records[record["schemaId"]][record["id"]]
    return 202, None


ROUTES: list[Route] = [
    api("/customObjects/schemas", gated(list_schemas), ["GET"]),
    api("/customObjects/schemas", gated(post_schema), ["POST"]),
    api("/customObjects/schemas/{id}", gated(get_schema), ["GET"]),
    api("/customObjects/schemas/{id}", gated(delete_schema), ["DELETE"]),
    api("/customObjects/schemas/{schemaId}", gated(put_schema), ["PUT"]),
    api("/customObjects/records/{schemaId}", gated(list_records), ["GET"]),
    api("/customObjects/records/{schemaId}", gated(post_record), ["POST"]),
    api("/customObjects/records/{schemaId}/external/{externalId}", gated(get_record_external), ["GET"]),
    api("/customObjects/records/{schemaId}/external/{externalId}", gated(delete_record_external), ["DELETE"]),
    api("/customObjects/records/{schemaId}/{recordId}", gated(get_record), ["GET"]),
    api("/customObjects/records/{schemaId}/{recordId}", gated(delete_record), ["DELETE"]),
]
