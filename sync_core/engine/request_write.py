"""The writes of a create request, in an order a kill at any point resumes without a second record.

1. the request row, ``pending``, with the id the record will get (``create_requests.record_id``);
2. the create: mapped AC values, the entity's ``constants`` where AC has none, the configured owner
   (``ownerid@odata.bind``) and that id, so a second attempt finds the first one's record instead;
3. the link (from the record as Dataverse stored it, so nothing travels back as a change);
4. in AC the request tag removed, ``D365: Lead``/``D365: Contact`` and ``D365: Pulled from ActiveCampaign``
   added; 5. the row ``done``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sync_core.engine import history
from sync_core.engine.ac_changes import pulled_fields
from sync_core.engine.ac_values import contact_ac_values, to_dynamics
from sync_core.engine.mapping import dynamics_values, parse_ac_time, select_columns
from sync_core.engine.pass_state import ENTITY_SET, PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.errors import ConflictError, SkippableError
from sync_core.model.state import CreateRequest, EntityName, RecordLink

ACCOUNT_KEYS = ("account", "jobTitle")
"""AC association fields a create does not carry (the contact's account links through the pull)."""


@dataclass
class RequestItem:
    request: CreateRequest
    contact: dict[str, Any]
    record_id: str = ""
    record: Mapping[str, Any] | None = None
    field_values: dict[str, Any] | None = field(default=None)


class RequestWriter:
    async def write(self, p: Pass, plan: Plan) -> None:
        for action in plan.actions:
            item: RequestItem = action.item
            if action.kind == "request_failed":
                await p.sink.save_request(item.request)
                continue
            item.request.status = "pending"
            await p.sink.save_request(item.request)
            try:
                await self._carry_out(p, plan.entity, action, item)
            except SkippableError as e:
                await _failed(p, plan.entity, item.request, e)

    async def _carry_out(self, p: Pass, entity: EntityName, action: Action, item: RequestItem) -> None:
        request = item.request
        if action.kind in ("request_create", "request_link"):
            fields = pulled_fields(p, entity)
            if any(f.activecampaign.startswith("field:") for f in fields):
                item.field_values = {str(v.get("field")): v.get("value")
                                     for v in await p.ac.list_contact_field_values(request.ac_id)}
            if action.kind == "request_create":
                record = await _create(p, entity, item, fields)
                request.outcome = "created"
                p.count(entity, "requests_created")
            else:
                record = await p.dv.get(ENTITY_SET[entity], item.record_id,
                                        select=select_columns(fields, [PRIMARY_ID[entity], "emailaddress1"])) or {}
                request.outcome = "linked"
                p.count(entity, "requests_linked")
            await p.checkpoint("after_request_create", {"entity": entity, "ac_id": request.ac_id})
            await p.sink.save_links([_link(p, entity, item, record, fields, created=action.kind == "request_create")])
        await _retag(p, entity, request.ac_id)
        request.status, request.dynamics_id, request.updated_at = "done", item.record_id, p.clock.now()
        request.next_attempt = None
        await p.sink.save_request(request)
        await p.sink.clear(entity, request.ac_id)


async def _create(p: Pass, entity: EntityName, item: RequestItem, fields: list[Any]) -> Mapping[str, Any]:
    meta = await p.dv.entity_metadata(entity)
    ac = contact_ac_values(item.contact, item.field_values, fields)
    body: dict[str, Any] = {}
    for f in fields:
        if f.activecampaign in ACCOUNT_KEYS:
            continue
        value = to_dynamics(f, ac.get(f.activecampaign), meta.attributes.get(f.dynamics))
        if value not in (None, ""):
            body[f.dynamics] = value
    for column, value in p.connection.entities.of(entity).constants.items():
        if body.get(column) in (None, ""):
            body[column] = value
    owner = p.connection.create_requests.owner
    assert owner is not None, "the configuration refuses requests without an owner"
    body["ownerid@odata.bind"] = f"/{'systemusers' if owner.kind == 'systemuser' else 'teams'}({owner.id})"
    body[PRIMARY_ID[entity]] = item.record_id
    try:
        created = await p.dv.create(ENTITY_SET[entity], body, return_representation=True)
    except ConflictError:  # its id exists: another attempt of this request created it meanwhile
        existing = await p.dv.get(ENTITY_SET[entity], item.record_id)
        if existing is None:
            raise
        return existing
    return created if isinstance(created, dict) else {PRIMARY_ID[entity]: created}


def _link(p: Pass, entity: EntityName, item: RequestItem, record: Mapping[str, Any], fields: list[Any], *,
          created: bool) -> RecordLink:
    email = item.request.email
    link = RecordLink(entity=entity, dynamics_id=item.record_id, ac_id=item.request.ac_id, email=email,
                      dynamics_values=dynamics_values(record, fields),
                      ac_values=contact_ac_values(item.contact, item.field_values, fields),
                      ac_modified=parse_ac_time(item.contact.get("udate")), synced_at=p.clock.now(),
                      dynamics_etag=str(record.get("@odata.etag") or "") or None)
    changes = {c: (None, v) for c, v in link.dynamics_values.items() if v is not None} if created else {}
    history.add(link, at=p.clock.now(), run_id=p.run.run_id, direction="pull", why="created on request",
                changes=changes)
    return link


async def _retag(p: Pass, entity: EntityName, ac_id: str) -> None:
    cr, push = p.connection.create_requests, p.connection.push
    have = {str(t.get("tag")): str(t.get("id")) for t in await p.ac.list_contact_tags(ac_id)}
    request_tag = cr.tag_for(entity)
    if request_tag:
        tag_id = await p.ac.ensure_tag(request_tag)
        if tag_id in have:
            await p.ac.remove_contact_tag(have[tag_id])
    for name in (push.tag_lead if entity == "lead" else push.tag_contact, cr.tag_pulled):
        tag_id = await p.ac.ensure_tag(name)
        if tag_id not in have:
            await p.ac.add_contact_tag(ac_id, tag_id)


async def _failed(p: Pass, entity: EntityName, request: CreateRequest, e: SkippableError) -> None:
    cause = f"Dynamics or ActiveCampaign refused the request: {e}"
    request.status, request.outcome, request.updated_at = "failed", cause[:1000], p.clock.now()
    request.attempts += 1
    request.next_attempt = p.clock.now() + backoff(request.attempts)
    await p.sink.save_request(request)
    await p.sink.fail(Failure(entity, request.ac_id, e.error_code, cause, counted_as="requests_failed",
                              retriable=False))  # retried by the request row, not as a Dynamics record


def backoff(attempts: int) -> timedelta:
    """When a failed request is tried again: 15 minutes, doubling, at most a day."""
    return timedelta(minutes=min(24 * 60, 15 * 2 ** max(0, attempts - 1)))
