"""users/me, contacts (list/filter/page, CRUD, sync) and the per-contact sub-resources."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.routing import Route

from . import attrs
from .errors import ACError, no_result
from .render import Renderer
from .state import ACState, Contact, as_int
from .timefmt import parse_filter_time
from .web import api, page_meta, paging, wrapped

ORDER_KEYS = {
    "id": lambda c: c.id, "cdate": lambda c: (c.cdate, c.id), "email": lambda c: (c.email.lower(), c.id),
    "first_name": lambda c: (c.first_name.lower(), c.id), "last_name": lambda c: (c.last_name.lower(), c.id),
    "name": lambda c: ((c.first_name + " " + c.last_name).lower(), c.id),
}


async def users_me(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    user = dict(ac.user)
    user["id"] = str(user["id"])
    return 200, {"user": {**user, "signature": None, "links": {"lists": f"{r.base}/users/{user['id']}/lists"}}}


def _threshold(ac: ACState, value: str) -> float:
    zone = ZoneInfo(ac.switches["account_timezone"]) if ac.switches["updated_after_tz"] == "account" else UTC
    try:
        return parse_filter_time(value, naive_zone=zone, granularity=ac.switches["updated_after_granularity"])
    except ValueError as err:
        raise ACError(400, {"errors": [{"status": 400, "title": "Bad Request",
                                        "detail": f"Invalid date value {value!r}"}]}) from err


def _ids_param(request: Request) -> set[int] | None:
    raw = request.query_params.getlist("ids[]") + request.query_params.getlist("ids")
    if not raw:
        return None
    out: set[int] = set()
    for item in raw:
        for part in item.split(","):
            value = as_int(part)
            if value is not None:
                out.add(value)
    return out


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = as_int(raw.lstrip("-")) if raw.startswith("-") else as_int(raw)
    if value is None:
        raise ACError(400, {})
    return -value if raw.startswith("-") else value


class Matches:
    """Contacts matching a query: a slice of the sorted ids until a filter or an order needs the records.

    Paging by ``id_greater`` in id order therefore touches only the page, not every later contact.
    """

    def __init__(self, ac: ACState, ids: list[int]) -> None:
        self.ac = ac
        self.ids = ids
        self.items: list[Contact] | None = None

    def records(self) -> list[Contact]:
        if self.items is None:
            contacts = self.ac.contacts
            self.items = [contacts[i] for i in self.ids]
        return self.items

    def keep(self, predicate: Callable[[Contact], bool]) -> None:
        self.items = [c for c in self.records() if predicate(c)]

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else len(self.ids)

    def page(self, offset: int, limit: int) -> list[Contact]:
        if self.items is not None:
            return self.items[offset:offset + limit]
        contacts = self.ac.contacts
        return [contacts[i] for i in self.ids[offset:offset + limit]]


def _id_range(request: Request, ac: ACState) -> Matches:
    """Contacts in id order, cut by ``id_greater``/``id_less`` with a bisection (no scan of the others)."""
    ids = ac.contact_ids.get()
    start, end = 0, len(ids)
    if (greater := _int_param(request, "id_greater")) is not None:
        start = bisect.bisect_right(ids, greater)
    if (less := _int_param(request, "id_less")) is not None:
        end = bisect.bisect_left(ids, less)
    return Matches(ac, ids[start:end] if start < end else [])


def filter_contacts(request: Request, ac: ACState) -> list[Contact]:
    return match_contacts(request, ac).records()


def match_contacts(request: Request, ac: ACState) -> Matches:
    q = request.query_params
    result = _id_range(request, ac)
    if (email := q.get("email")) is not None:
        wanted = email.strip().lower()
        result.keep(lambda c: c.email.lower() == wanted)
    if (like := q.get("email_like")) is not None:
        fragment = like.lower()
        result.keep(lambda c: fragment in c.email.lower())
    if (search := q.get("search")) not in (None, "", "null"):
        s = str(search).lower()
        result.keep(lambda c: s in c.email.lower() or s in c.first_name.lower() or s in c.last_name.lower()
                    or s in c.phone.lower())
    if (phone := q.get("phone")) is not None:
        result.keep(lambda c: c.phone.startswith(phone))
    if (ids := _ids_param(request)) is not None:
        result.keep(lambda c: c.id in ids)
    if (exclude := _int_param(request, "exclude")) is not None:
        result.keep(lambda c: c.id != exclude)
    if (tagid := _int_param(request, "tagid")) is not None:
        tagged = {ct["contact"] for ct in ac.contact_tags.values() if ct["tag"] == tagid}
        result.keep(lambda c: c.id in tagged)
    if (seriesid := _int_param(request, "seriesid")) is not None:
        inside = {x["contact"] for x in ac.contact_automations.values() if x["automation"] == seriesid}
        result.keep(lambda c: c.id in inside)
    listid = _int_param(request, "listid")
    status = _int_param(request, "status")
    if listid is not None or (status is not None and status != -1):
        members = {cl["contact"] for cl in ac.contact_lists.values()
                   if (listid is None or cl["list"] == listid) and (status in (None, -1) or cl["status"] == status)}
        result.keep(lambda c: c.id in members)
    for name, attr, after in (("filters[updated_after]", "udate", True), ("filters[updated_before]", "udate", False),
                              ("filters[created_after]", "cdate", True), ("filters[created_before]", "cdate", False)):
        if (value := q.get(name)) is not None and value != "":
            limit = _threshold(ac, value)
            result.keep(_time_bound(attr, after, limit))
    _order(request, ac, result)
    return result


def _time_bound(attr: str, after: bool, limit: float) -> Callable[[Contact], bool]:
    def check(c: Contact) -> bool:
        value: float = getattr(c, attr)
        return value >= limit if after else value < limit

    return check


def _order(request: Request, ac: ACState, matches: Matches) -> None:
    orders = [(k[len("orders["):-1], v) for k, v in request.query_params.multi_items()
              if k.startswith("orders[") and k.endswith("]")]
    orders = [(k, v) for k, v in orders if k in ORDER_KEYS]
    if not orders:
        orders = [(ac.switches["contacts_default_order"], "ASC")]
    if len(orders) == 1 and orders[0][0] == "id":  # already in id order (match_contacts starts from it)
        if orders[0][1].strip().lower() == "desc":
            if matches.items is None:
                matches.ids = matches.ids[::-1]
            else:
                matches.items.reverse()
        return
    contacts = matches.records()
    # Several criteria apply in query-string order: sort by the last first (stable sorts).
    for key, direction in reversed(orders):
        contacts.sort(key=ORDER_KEYS[key], reverse=direction.strip().lower() == "desc")


async def list_contacts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    matching = match_contacts(request, ac)
    page = matching.page(offset, limit)
    body: dict[str, Any] = {"scoreValues": [], "contacts": [r.contact(c) for c in page],
                            "meta": {**page_meta(len(matching)),
                                     "page_input": {"limit": limit, "offset": offset,
                                                    "status": _int_param(request, "status") or -1}}}
    if ac.switches["contacts_list_include"] == "honoured":
        body.update(_side_loaded(ac, r, page, request.query_params.get("include") or ""))
    return 200, body


INCLUDABLE = ("fieldValues", "contactLists", "contactTags")


def _side_loaded(ac: ACState, r: Renderer, page: list[Contact], include: str) -> dict[str, Any]:
    """``include=fieldValues,contactLists,contactTags`` (register: ``contacts_list_include``)."""
    wanted = {part.strip() for part in include.split(",")} & set(INCLUDABLE)
    out: dict[str, Any] = {}
    if "fieldValues" in wanted:
        out["fieldValues"] = [fv for c in page for fv in r.contact_field_values(c)]
    if "contactLists" in wanted:
        out["contactLists"] = [r.contact_list(cl) for c in page for cl in ac.lists_of_contact(c.id)]
    if "contactTags" in wanted:
        out["contactTags"] = [r.contact_tag(ct) for c in page for ct in ac.tags_of_contact(c.id)]
    return out


def contact_bundle(ac: ACState, r: Renderer, c: Contact) -> dict[str, Any]:
    lists = ac.lists_of_contact(c.id)
    autos = [x for x in ac.contact_automations.values() if x["contact"] == c.id]
    links = ac.links_of_contact(c.id)
    body = r.contact(c)
    body.update({"contactAutomations": [str(x["id"]) for x in autos], "contactLists": [str(x["id"]) for x in lists],
                 "fieldValues": [str(i) for i in sorted(c.field_values.values())], "geoIps": [], "deals": [],
                 "accountContacts": [str(x["id"]) for x in links]})
    return {"contactAutomations": [r.contact_automation(x) for x in autos],
            "contactLists": [r.contact_list(x) for x in lists], "deals": [],
            "fieldValues": r.contact_field_values(c), "geoAddresses": [], "geoIps": [],
            "accountContacts": [r.account_contact(x) for x in links], "contact": body}


async def get_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, contact_bundle(ac, r, ac.get_contact(request.path_params["id"]))


def _write_body(ac: ACState, r: Renderer, c: Contact) -> dict[str, Any]:
    body = r.contact(c)
    body["organization"] = ""  # a string in the create and sync answers (the document's examples and schema)
    body["fieldValues"] = [str(i) for i in sorted(c.field_values.values())]
    return {"fieldValues": r.contact_field_values(c), "contact": body}


async def create_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "contact")
    contact = ac.create_contact(data)
    return 201, _write_body(ac, r, contact)


async def update_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    contact = ac.get_contact(request.path_params["id"])
    data = await wrapped(request, "contact")
    ac.update_contact(contact, data)
    return 200, _write_body(ac, r, contact)


async def delete_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    cid = as_int(request.path_params["id"])
    if cid is None or cid not in ac.contacts:
        raise ACError(404, {"message": f"No result found for contact with id {request.path_params['id']}"})
    ac.delete_contact(ac.contacts[cid])
    return 200, {}


async def sync_contact(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    data = await wrapped(request, "contact")
    existing = ac.contact_by_email(attrs.text(data, "email") or "")
    if existing is None:
        return 201, _write_body(ac, r, ac.create_contact(data))
    ac.update_contact(existing, data)
    return int(ac.switches["sync_update_status"]), _write_body(ac, r, existing)


# ------------------------------------------------------------------ per-contact sub-resources
async def contact_field_values(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    return 200, {"fieldValues": r.contact_field_values(ac.get_contact(request.path_params["id"]))}


async def contact_contact_tags(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    return 200, {"contactTags": [r.contact_tag(ct) for ct in ac.tags_of_contact(c.id)]}


async def contact_contact_lists(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    return 200, {"contactLists": [r.contact_list(cl) for cl in ac.lists_of_contact(c.id)]}


async def contact_account_contacts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    links = [r.account_contact(x) for x in ac.links_of_contact(c.id)]
    return 200, {"accountContacts": links}


async def contact_automations_of(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    autos = [r.contact_automation(x) for x in ac.contact_automations.values() if x["contact"] == c.id]
    return 200, {"contactAutomations": autos}


async def contact_tracking_logs(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    return 200, {"trackingLogs": [r.tracking_log(t) for t in ac.tracking_logs.values() if t["contact"] == c.id]}


async def list_activities(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    contact_raw = request.query_params.get("contact")
    items = list(ac.activities.values())
    if contact_raw is not None:
        cid = as_int(contact_raw)
        if cid is None or cid not in ac.contacts:
            raise no_result("Subscriber", contact_raw)
        items = [a for a in items if a["contact"] == cid]
    if after := request.query_params.get("after"):
        limit_ts = _threshold(ac, after)
        items = [a for a in items if a["tstamp"] >= limit_ts]
    descending = request.query_params.get("orders[tstamp]", "DESC").lower() == "desc"
    items.sort(key=lambda a: (a["tstamp"], a["id"]), reverse=descending)
    page = items[offset:offset + limit]
    contact_ids = sorted({a["contact"] for a in page})
    contacts = [{"cdate": r.t(ac.contacts[i].cdate), "email": ac.contacts[i].email,
                 "firstName": ac.contacts[i].first_name, "lastName": ac.contacts[i].last_name, "id": str(i)}
                for i in contact_ids if i in ac.contacts]
    recipients = [{"reltype": "Subscriber", "relid": str(a["contact"]), "activityid": str(a["id"]),
                   "recipient": {"type": "contact", "id": str(a["contact"])}} for a in page]
    return 200, {"contacts": contacts, "activityRecipients": recipients,
                 "activities": [r.activity(a) for a in page], "meta": page_meta(len(items))}


ROUTES: list[Route] = [
    api("/users/me", users_me, ["GET"]),
    api("/contacts", list_contacts, ["GET"]),
    api("/contacts", create_contact, ["POST"]),
    api("/contacts/{id}", get_contact, ["GET"]),
    api("/contacts/{id}", update_contact, ["PUT"]),
    api("/contacts/{id}", delete_contact, ["DELETE"]),
    api("/contact/sync", sync_contact, ["POST"]),
    api("/contacts/{id}/fieldValues", contact_field_values, ["GET"]),
    api("/contacts/{id}/contactTags", contact_contact_tags, ["GET"]),
    api("/contacts/{id}/contactLists", contact_contact_lists, ["GET"]),
    api("/contacts/{id}/accountContacts", contact_account_contacts, ["GET"]),
    api("/contacts/{id}/contactAutomations", contact_automations_of, ["GET"]),
    api("/contacts/{id}/trackingLogs", contact_tracking_logs, ["GET"]),
    api("/activities", list_activities, ["GET"]),
]
