"""Dynamics leads and contacts created on ActiveCampaign's request (issue 18): the reads and the plan.

An automation asks by adding a tag (``create_requests.tag_create_lead`` / ``tag_create_contact``) or by
calling the webhook route, which only queues a ``pending`` request row. A tag change need not move the
contact's ``udate`` (register), so tagged contacts are found by their own read: ``GET /contacts?tagid=…``
in id order, at most ``pages_per_pass`` pages a pass, resumed from a checkpoint (cursor stream
``requests``). Queued requests are read again from AC by id: the webhook body is never trusted.

Each request is decided with reads only: already linked → only the tags are put right; the record this
request may already have created (its id is derived from the request's key, so a pass killed between the
create and the link write finds it; read for all of a pass's requests by id, 25 ids a query) → linked;
records of that email in the table (case-insensitive, as Dataverse compares; read for all of a pass's
requests in batches of 25) → the oldest linked, the others reported ``duplicate_email``; the person is the
other kind already → ``create_requests.other_kind``; otherwise created (``request_write``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync_core.engine.dynamics_reads import read_by_ids
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.pull_linking import records_by_key
from sync_core.engine.request_write import RequestItem, RequestWriter, backoff
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.errors import NotFoundError
from sync_core.model.state import AcCursor, CreateRequest, EntityName

STREAM = "requests"
PAGE = 100
QUEUED_PER_PASS = 200
_NAMESPACE = uuid.UUID("6f1c7f55-3f0e-4a8e-9a57-0b6c1f2de418")


def record_id(cid: str, entity: EntityName, ac_id: str) -> str:
    """The Dynamics id a request's record gets: the same for every attempt of one request."""
    return str(uuid.uuid5(_NAMESPACE, f"{cid}|{entity}|{ac_id}"))


def new_request(p: Pass, entity: EntityName, ac_id: str, source: str) -> CreateRequest:
    return CreateRequest(entity=entity, ac_id=ac_id, dynamics_id=record_id(p.cid, entity, ac_id),
                         source="webhook" if source == "webhook" else "tag", requested_at=p.clock.now())


@dataclass
class Due:
    """The AC contacts asking for one table this pass (contact id → the contact as AC holds it now)."""

    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: dict[str, CreateRequest] = field(default_factory=dict)
    by_email: dict[EntityName, dict[str, list[Mapping[str, Any]]]] = field(default_factory=dict)
    """The records of the contacts' emails per table (lower-case email → oldest first), read in batches."""

    own: set[str] = field(default_factory=set)
    """Of the ids the requests give their records, those that exist in Dynamics (an earlier attempt's)."""
    own_read: set[str] = field(default_factory=set)
    """The ids that read covered."""

    def found(self, entity: EntityName, email: str) -> list[Mapping[str, Any]]:
        return self.by_email.get(entity, {}).get(email, [])


async def run(p: Pass) -> None:
    """One pass's share of the requests for every table records are created in on request."""
    for entity in p.connection.requested():
        due = Due()
        await _tagged(p, entity, due)
        await _queued(p, entity, due)
        await _match_emails(p, entity, due)
        await _own_records(p, entity, due)
        for ac_id, contact in due.contacts.items():
            request = due.requests.get(ac_id) or await p.store.get_request(p.cid, entity, ac_id)
            if request is None:
                request = new_request(p, entity, ac_id, "tag")
            elif request.status == "failed" and request.next_attempt and request.next_attempt > p.clock.now():
                continue
            await p.sink.apply(p, await _plan(p, entity, request, contact, due))


async def _tag_id(p: Pass, name: str) -> str | None:
    key = name.strip().casefold()
    for tag in await p.ac.list_tags(search=name):
        if str(tag.get("tag") or "").strip().casefold() == key and tag.get("id") is not None:
            return str(tag["id"])
    return None  # nobody was ever tagged: no request


async def _tagged(p: Pass, entity: EntityName, due: Due) -> None:
    name = p.connection.create_requests.tag_for(entity)
    tag_id = await _tag_id(p, name) if name else None
    if tag_id is None:
        return
    cursor = await p.store.get_ac_cursor(p.cid, entity, stream=STREAM) or AcCursor(entity=entity, stream=STREAM)
    for _ in range(p.connection.create_requests.pages_per_pass):
        page: list[dict[str, Any]] = []
        async for contact in p.ac.iter_contacts(tag_id=tag_id, page_size=PAGE, after_id=cursor.position):
            page.append(contact)
            if len(page) >= PAGE:
                break
        p.count(entity, "request_tag_pages")
        due.contacts.update({str(c["id"]): c for c in page})
        cursor.position = str(page[-1]["id"]) if len(page) == PAGE else None
        if cursor.position is None:
            break
    cursor = await p.sink.save_cursor(cursor)
    if cursor.position is not None:
        p.time.more_work = True


async def _queued(p: Pass, entity: EntityName, due: Due) -> None:
    """Pending requests (a webhook's, or a tag's a killed pass left): the contact read again from AC."""
    for request in await p.store.list_requests(p.cid, status="pending", limit=QUEUED_PER_PASS):
        if request.entity != entity:
            continue
        due.requests[request.ac_id] = request
        if request.ac_id in due.contacts:
            continue
        try:
            due.contacts[request.ac_id] = await p.ac.get_contact(request.ac_id)
        except NotFoundError:
            request.status, request.outcome, request.updated_at = "failed", "the AC contact was deleted", p.clock.now()
            await p.sink.fail(Failure(entity, request.ac_id, ErrorCode.NOT_FOUND, request.outcome, retriable=False))
            await p.sink.save_request(request)


async def _match_emails(p: Pass, entity: EntityName, due: Due) -> None:
    """Every due contact's email matched in one ``or`` query per 25 emails (not one query per request); the
    other table too when ``other_kind`` is ``refuse``."""
    emails = sorted({e for c in due.contacts.values() if (e := str(c.get("email") or "").strip().lower())})
    other: EntityName = "lead" if entity == "contact" else "contact"
    tables = [entity, other] if p.connection.create_requests.other_kind == "refuse" else [entity]
    for table in tables:
        found: dict[str, list[Mapping[str, Any]]] = {}
        rows = await records_by_key(p, table, emails, [PRIMARY_ID[table], "createdon", "emailaddress1"])
        for r in sorted(rows, key=lambda r: str(r.get("createdon") or "")):
            found.setdefault(str(r.get("emailaddress1") or "").strip().lower(), []).append(r)
        due.by_email[table] = found


async def _own_records(p: Pass, entity: EntityName, due: Due) -> None:
    """Which of the due requests' records an earlier attempt created: one ``or`` query per 25 ids (not a read
    by id per request). The ids are derived from the requests' keys, so a new request's is known too."""
    ids = {record_id(p.cid, entity, ac_id) for ac_id in due.contacts}
    ids.update(r.dynamics_id for r in due.requests.values() if r.dynamics_id)
    rows = await read_by_ids(p, entity, [PRIMARY_ID[entity]], sorted(ids))
    due.own = {str(r[PRIMARY_ID[entity]]).lower() for r in rows}
    due.own_read = {i.lower() for i in ids}


async def _plan(p: Pass, entity: EntityName, request: CreateRequest, contact: Mapping[str, Any], due: Due) -> Plan:
    plan = Plan(entity, writer=RequestWriter())
    email = str(contact.get("email") or "").strip().lower()
    request.email = email or None
    item = RequestItem(request=request, contact=dict(contact))
    linked = [lk for lk in await p.store.get_links_by_ac(p.cid, "contact", request.ac_id) if lk.entity == entity]
    if linked:
        item.record_id = linked[0].dynamics_id
        plan.actions.append(Action("request_done", item.record_id, email, "already linked", item=item))
        return plan
    key = request.dynamics_id.lower()
    own = key in due.own if key in due.own_read else await p.dv.get(ENTITY_SET[entity], request.dynamics_id)
    if own:  # created by an earlier attempt that did not get to its link
        item.record_id = request.dynamics_id
        plan.actions.append(Action("request_link", request.dynamics_id, email, "created earlier", item=item))
        return plan
    found = due.found(entity, email) if email else []
    taken = await p.store.get_links(p.cid, entity, [str(r[PRIMARY_ID[entity]]) for r in found])
    free = [r for r in found if str(r[PRIMARY_ID[entity]]) not in taken]
    if free:
        item.record_id, item.record = str(free[0][PRIMARY_ID[entity]]), free[0]
        plan.failures.extend(_duplicates(entity, email, free[1:]))
        plan.actions.append(Action("request_link", item.record_id, email, "existing email", item=item))
        return plan
    if found:
        return _refused(p, plan, request, ErrorCode.DUPLICATE_EMAIL,
                        f"every {entity} with the email {email} is linked to another ActiveCampaign contact")
    other: EntityName = "lead" if entity == "contact" else "contact"
    if p.connection.create_requests.other_kind == "refuse" and email and due.found(other, email):
        return _refused(p, plan, request, ErrorCode.EXISTS_AS_OTHER_KIND,
                        f"{email} is already a Dynamics {other} (create_requests.other_kind is refuse)")
    item.record_id = request.dynamics_id
    plan.actions.append(Action("request_create", request.dynamics_id, email, request.source, item=item))
    return plan


def _duplicates(entity: EntityName, email: str, rest: Sequence[Mapping[str, Any]]) -> list[Failure]:
    return [Failure(entity, str(r[PRIMARY_ID[entity]]), ErrorCode.DUPLICATE_EMAIL, retriable=False, side="dynamics",
                    cause=f"another {entity} has the email {email}; only the oldest is linked") for r in rest]


def _refused(p: Pass, plan: Plan, request: CreateRequest, code: ErrorCode, cause: str) -> Plan:
    """A request that cannot be carried out: a record error on the AC contact. The request row retries it
    (``next_attempt``); the error is not ``retriable`` so the push's retries never read the AC id as a
    Dynamics id."""
    plan.failures.append(Failure(plan.entity, request.ac_id, code, cause, counted_as="requests_failed",
                                 retriable=False, sample=("request_failed", request.email or request.ac_id)))
    request.status, request.outcome = "failed", cause
    request.attempts += 1
    request.updated_at = p.clock.now()
    request.next_attempt = p.clock.now() + backoff(request.attempts)
    plan.actions.append(Action("request_failed", request.ac_id, request.email or "", cause,
                               item=RequestItem(request=request, contact={})))
    return plan
