"""users/me, contacts (list/filter/page, CRUD, sync) and the per-contact sub-resources."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from . import attrs
from .contact_query import int_param, match_ids, threshold
from .errors import ACError, no_result
from .render import Renderer
from .state import ACState, Contact, as_int
from .web import api, page_meta, paging, wrapped


async def users_me(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    user = dict(ac.user)
    user["id"] = str(user["id"])
    return 200, {"user": {**user, "signature": None, "links": {"lists": f"{r.base}/users/{user['id']}/lists"}}}


async def list_contacts(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    matching = match_ids(request, ac)
    page = [ac.contacts[i] for i in matching[offset:offset + limit]]  # a slice: list or IdRange
    body: dict[str, Any] = {"scoreValues": [], "contacts": [r.contact(c) for c in page],
                            "meta": {**page_meta(len(matching)),
                                     "page_input": {"limit": limit, "offset": offset,
                                                    "status": int_param(request, "status") or -1}}}
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
    autos = ac.automations_of_contact(c.id)
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
    autos = [r.contact_automation(x) for x in ac.automations_of_contact(c.id)]
    return 200, {"contactAutomations": autos}


async def contact_tracking_logs(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    return 200, {"trackingLogs": [r.tracking_log(t) for t in ac.logs_by_contact.records(c.id)]}


async def contact_bounce_logs(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    c = ac.get_contact(request.path_params["id"])
    logs = sorted(ac.bounces_by_contact.records(c.id), key=lambda b: b["id"])
    return 200, {"bounceLogs": [r.bounce_log(b) for b in logs]}


async def list_activities(request: Request, ac: ACState, r: Renderer) -> tuple[int, Any]:
    limit, offset = paging(request)
    contact_raw = request.query_params.get("contact")
    if contact_raw is not None:
        cid = as_int(contact_raw)
        if cid is None or cid not in ac.contacts:
            raise no_result("Subscriber", contact_raw)
        items = ac.activities_by_contact.records(cid)
    else:
        items = list(ac.activities.values())
    if after := request.query_params.get("after"):
        limit_ts = threshold(ac, after)
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
    api("/contacts/{id}/bounceLogs", contact_bounce_logs, ["GET"]),
    api("/activities", list_activities, ["GET"]),
]
