"""tags, contactTags, lists, contactLists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from . import attrs
from .errors import ACError, jsonapi, no_result, with_status
from .events import emit
from .render import Renderer
from .state import ACState, as_int
from .web import api, page_meta, paging, wrapped


def _tag(ac: ACState, raw: object) -> dict[str, Any]:
    tid = as_int(raw)
    if tid is None or tid not in ac.tags:
        raise no_result("Tag", raw)
    return ac.tags[tid]


async def list_tags(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    q = request.query_params
    exact = q.get("filters[search][eq]")
    tags = sorted(ac.tags.values(), key=lambda t: t["id"])
    if search := q.get("search"):  # "contains" is assumed (doc)
        tags = [t for t in tags if search.lower() in t["tag"].lower()]
    for key, value in q.multi_items():
        if match := SEARCH_FILTER.match(key):
            if match.group(1) not in SEARCH_OPERATORS:
                raise with_status(400, "Bad Request", f"Unsupported operator {match.group(1)!r}")
            tags = [t for t in tags if SEARCH_OPERATORS[match.group(1)](t["tag"].lower(), value.lower())]
    if (order := (q.get("orders[search]") or "").lower()) in ("asc", "desc"):
        tags.sort(key=lambda t: t["tag"].lower(), reverse=order == "desc")
    elif order == "weight":
        needle = (search or exact or next((v for k, v in q.multi_items() if SEARCH_FILTER.match(k)), "")).lower()
        tags.sort(key=lambda t: (t["tag"].lower() != needle, not t["tag"].lower().startswith(needle)))
    return 200, {"tags": [r.tag(t) for t in tags[offset:offset + limit]], "meta": page_meta(len(tags))}


SEARCH_FILTER = re.compile(r"^filters\[search\]\[([a-z_]+)\]$")
# Operators of filters[search][<operator>] (doc): eq, neq, lt, lte, gt, gte, contains, starts_with.
SEARCH_OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "eq": lambda a, b: a == b, "neq": lambda a, b: a != b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
    "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "contains": lambda a, b: b in a,
    "starts_with": lambda a, b: a.startswith(b)}


async def create_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "tag")
    name = (attrs.text(data, "tag") or "").strip()
    if not name:
        raise jsonapi(422, "Tag name is required", "field_missing", "/data/attributes/tag")
    tag_type = attrs.text(data, "tagType") or "contact"
    if ac.tag_named(name, tag_type) is not None:
        raise jsonapi(422, "Duplicate tag", "duplicate", "/data/attributes/tag")
    return 201, {"tag": r.tag(ac.create_tag(name, tag_type, attrs.text(data, "description") or ""))}


async def get_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"tag": r.tag(_tag(ac, request.path_params["id"]), with_count=True)}


async def update_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    tag = _tag(ac, request.path_params["id"])
    data = await wrapped(request, "tag")
    changes = {key: attrs.text(data, key) for key in ("tag", "tagType", "description")}
    for key, value in changes.items():
        if value is not None:
            tag[key] = value
    ac.tag_renamed(tag["id"])
    return 200, {"tag": r.tag(tag)}


async def delete_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    tag = _tag(ac, request.path_params["id"])
    for ct in ac._tags_by_tag.records(tag["id"]):
        ac.remove_contact_tag(ct["id"])
    del ac.tags[tag["id"]]
    return 200, {}


async def add_contact_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "contactTag")
    for key in ("contact", "tag"):
        if data.get(key) in (None, ""):
            raise ACError(422, {"errors": [{"status": 422, "title": "Missing attribute",
                                            "source": {"pointer": f"/data/attributes/{key}"}}]})
    cid = as_int(data["contact"])
    if cid is None or cid not in ac.contacts:
        raise with_status(404, "Not Found", "Contact not found")
    tid = as_int(data["tag"])
    if tid is None or tid not in ac.tags:
        raise with_status(404, "Not Found", "Tag not found")
    return 201, {"contactTag": r.contact_tag(ac.add_contact_tag(ac.contacts[cid], tid))}


async def remove_contact_tag(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    ct_id = as_int(request.path_params["id"])
    if ct_id is None or ct_id not in ac.contact_tags:
        raise no_result("SubscriberTag", request.path_params["id"])
    ac.remove_contact_tag(ct_id)
    return 200, {}


def _list(ac: ACState, raw: object) -> dict[str, Any]:
    lid = as_int(raw)
    if lid is None or lid not in ac.lists:
        raise no_result("_List", raw)
    return ac.lists[lid]


async def list_lists(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    lists = sorted(ac.lists.values(), key=lambda x: x["id"])
    if (name := request.query_params.get("filters[name]")) is not None:
        lists = [x for x in lists if name.lower() in x["name"].lower()]
    return 200, {"lists": [r.list(x) for x in lists[offset:offset + limit]], "meta": page_meta(len(lists))}


def create_list_record(ac: ACState, name: str, stringid: str | None = None, **extra: Any) -> dict[str, Any]:
    lid = ac.next_id("list")
    record = {"id": lid, "name": name, "stringid": stringid or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"),
              "cdate": ac.now(), **extra}
    ac.lists[lid] = record
    return record


async def create_list(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "list")
    name = (attrs.text(data, "name") or "").strip()
    if not name:
        raise jsonapi(422, "List name is required", "field_missing", "/data/attributes/name")
    record = create_list_record(ac, name, attrs.text(data, "stringid"), sender_url=attrs.text(data, "sender_url") or "",
                                sender_reminder=attrs.text(data, "sender_reminder") or "")
    emit(ac, "list_add", "api", list_id=record["id"], extra=[("list[id]", str(record["id"])),
                                                              ("list[name]", record["name"])])
    rendered = r.list(record)
    return 200, {"list": {"name": rendered["name"], "stringid": rendered["stringid"], "cdate": rendered["cdate"],
                          "udate": rendered["cdate"], "links": rendered["links"], "id": rendered["id"]}}


async def get_list(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"list": r.list(_list(ac, request.path_params["id"]))}


async def delete_list(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    lst = _list(ac, request.path_params["id"])
    for cl in ac._lists_by_list.records(lst["id"]):
        del ac.contact_lists[cl["id"]]
    for key in [k for k, v in ac.field_rels.items() if v["relid"] == lst["id"]]:
        del ac.field_rels[key]
    del ac.lists[lst["id"]]
    return 200, {}


async def update_contact_list(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "contactList")
    cid, lid, status = as_int(data.get("contact")), as_int(data.get("list")), as_int(data.get("status"))
    if cid is None or cid not in ac.contacts:
        raise no_result("Subscriber", data.get("contact"))
    if lid is None or lid not in ac.lists:
        raise no_result("_List", data.get("list"))
    if status not in (1, 2):
        raise jsonapi(422, "Invalid status", "field_invalid", "/data/attributes/status")
    contact = ac.contacts[cid]
    cl = ac.set_list_status(contact, lid, status, sourceid=attrs.integer(data, "sourceid", default=0) or 0)
    body = r.contact_list(cl)
    body["status"] = status
    return 200, {"contacts": [r.contact(contact)], "contactList": body}


ROUTES: list[Route] = [
    api("/tags", list_tags, ["GET"]),
    api("/tags", create_tag, ["POST"]),
    api("/tags/{id}", get_tag, ["GET"]),
    api("/tags/{id}", update_tag, ["PUT"]),
    api("/tags/{id}", delete_tag, ["DELETE"]),
    api("/contactTags", add_contact_tag, ["POST"]),
    api("/contactTags/{id}", remove_contact_tag, ["DELETE"]),
    api("/lists", list_lists, ["GET"]),
    api("/lists", create_list, ["POST"]),
    api("/lists/{id}", get_list, ["GET"]),
    api("/lists/{id}", delete_list, ["DELETE"]),
    api("/contactLists", update_contact_list, ["POST"]),
]
