"""Dynamics opportunities → records of the AC custom object "D365 Opportunity" (push only).

The schema is created when missing, so AC offers its "D365 Opportunity is created / is
updated" automation triggers, as the seed describes. A record relates to the AC contact of
the opportunity's ``parentcontactid`` (else its ``customerid`` when that is a contact); an
opportunity whose contact does not sync is skipped with that reason (kept in the errors, and
retried when it may have synced). Records are upserted by ``externalId`` (one call each).
Without the Enterprise plan custom objects answer as the register describes: the entity is
reported unavailable once, not failed record by record.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sync_core.engine import history
from sync_core.engine.handler import Record, select_for
from sync_core.engine.mapping import changed_columns, dynamics_values, normalize, parse_ac_time
from sync_core.engine.pass_state import PRIMARY_ID, Pass
from sync_core.engine.sink import Action, Failure, Plan
from sync_core.model.codes import ErrorCode
from sync_core.model.config import FieldMapping
from sync_core.model.errors import PlanLimitError, RetriableError, SkippableError
from sync_core.model.standard import OPPORTUNITY_SCHEMA_LABEL, OPPORTUNITY_SCHEMA_SLUG, STANDARD_FIELDS
from sync_core.model.state import EntityName, RecordLink

log = logging.getLogger("sync_core.engine")

ENTITY: EntityName = "opportunity"
CONTACT_RELATIONSHIP = "primary-contact"
FIELD_TYPES = {"name": "text", "estimated-revenue": "currency", "estimated-close-date": "date",
               "actual-revenue": "currency", "stage": "text"}
LABELS = {"name": "Name", "estimated-revenue": "Est. Revenue", "estimated-close-date": "Est. Close Date",
          "actual-revenue": "Actual Revenue", "stage": "Stage"}
RELATION_COLUMNS = ("parentcontactid", "customerid")


class OpportunitiesUnavailable(Exception):
    """The AC plan has no custom objects."""


def schema_definition(*, date_fields: bool = True) -> dict[str, Any]:
    fields = []
    for fid, ftype in FIELD_TYPES.items():
        t = ftype if (ftype != "date" or date_fields) else "text"
        f: dict[str, Any] = {"id": fid, "labels": {"singular": LABELS[fid], "plural": LABELS[fid]},
                             "type": t, "required": fid == "name"}
        if t == "currency":
            f["defaultCurrency"] = "USD"
        fields.append(f)
    return {
        "slug": OPPORTUNITY_SCHEMA_SLUG,
        "labels": {"singular": OPPORTUNITY_SCHEMA_LABEL, "plural": "D365 Opportunities"},
        "description": "Opportunities synced from Microsoft Dynamics 365",
        "fields": fields,
        "relationships": [{"id": CONTACT_RELATIONSHIP, "labels": {"singular": "Contact", "plural": "Contacts"},
                           "description": "The opportunity's contact", "namespace": "contacts",
                           "hasMany": False}],
    }


async def find_schema(p: Pass) -> bool:
    """Whether the schema exists (cached when it does); a plan without custom objects says so here."""
    if p.caches.opportunity_schema is not None:
        return True
    try:
        schemas = await p.ac.list_schemas()
    except PlanLimitError as e:
        raise OpportunitiesUnavailable(str(e)) from e
    found = next((s for s in schemas if s.get("slug") == OPPORTUNITY_SCHEMA_SLUG), None)
    if found is not None:
        _remember(p, found)
    return found is not None


async def ensure_schema(p: Pass) -> tuple[str, dict[str, str]]:
    """The schema's id and its field types, created when missing."""
    if p.caches.opportunity_schema is None and not await find_schema(p):
        try:
            try:
                found = await p.ac.create_schema(schema_definition())
            except SkippableError:
                # Date fields are unconfirmed on custom objects (the register): fall back to text.
                found = await p.ac.create_schema(schema_definition(date_fields=False))
        except PlanLimitError as e:
            raise OpportunitiesUnavailable(str(e)) from e
        _remember(p, found)
    assert p.caches.opportunity_schema is not None
    return p.caches.opportunity_schema


def _remember(p: Pass, schema: Mapping[str, Any]) -> None:
    types = {str(f.get("id")): str(f.get("type")) for f in schema.get("fields") or []}
    p.caches.opportunity_schema = (str(schema["id"]), types)


def _field_value(ftype: str, value: Any) -> Any:
    if value is None:
        return None
    if ftype in ("currency", "number", "decimal"):
        # A plain number (the schema's default currency applies); the register lists the shape.
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if ftype == "date":
        return str(value)[:10]
    return str(value) if ftype == "text" else value


async def _contact_ac_id(p: Pass, record: Mapping[str, Any]) -> str | None:
    for column in RELATION_COLUMNS:
        guid = record.get(f"_{column}_value")
        if not guid:
            continue
        link = await p.store.get_link(p.cid, "contact", str(guid))
        if link is not None and link.ac_id:
            return link.ac_id
    return None


@dataclass(slots=True)
class _Planned:
    record: Mapping[str, Any]
    values: dict[str, Any]
    link: RecordLink | None
    contact_id: str


class OpportunityHandler:
    entity: EntityName = ENTITY

    def __init__(self, p: Pass) -> None:
        self.fields = opportunity_fields()
        self.open_errors: set[str] = set()

    async def prepare(self, p: Pass) -> list[str]:
        """Before reading: a plan without custom objects makes the entity unavailable, not failed."""
        await find_schema(p)
        return select_for(p, ENTITY, self.fields, *(f"_{c}_value" for c in RELATION_COLUMNS))

    async def plan(self, p: Pass, records: Sequence[Record], *, full_read: bool) -> Plan:
        plan = Plan(ENTITY, writer=self)
        id_col = PRIMARY_ID[ENTITY]
        links = await p.store.get_links(p.cid, ENTITY, [str(r[id_col]) for r in records])
        for r in records:
            did = str(r[id_col])
            values = dynamics_values(r, self.fields)
            for column in RELATION_COLUMNS:
                values[column] = normalize(r.get(f"_{column}_value"))
            link = links.get(did)
            changed = changed_columns(values, link.dynamics_values if link else None)
            if link is not None and not changed:
                p.count(ENTITY, "unchanged")
                continue
            label = str(values.get("name") or "")
            contact_id = await _contact_ac_id(p, r)
            if contact_id is None:
                plan.failures.append(Failure(
                    ENTITY, did, ErrorCode.CONTACT_NOT_SYNCED, counted_as="skipped_no_synced_contact",
                    sample=("skip", label), cause="skipped: the opportunity's contact does not sync to ActiveCampaign"))
                continue
            plan.actions.append(Action("create" if link is None else "update", did, label,
                                       item=_Planned(r, values, link, contact_id)))
        return plan

    async def write(self, p: Pass, plan: Plan) -> None:
        schema_id, types = await ensure_schema(p)
        saved: list[RecordLink] = []
        for action in plan.actions:
            x: _Planned = action.item
            did = action.record_id
            record = {
                "externalId": f"d365-{did}",
                "fields": [{"id": f.activecampaign, "value": _field_value(types.get(f.activecampaign, "text"),
                                                                         x.values.get(f.dynamics))}
                           for f in self.fields if f.activecampaign in types],
                "relationships": {CONTACT_RELATIONSHIP: [x.contact_id]},
            }
            try:
                upserted = await p.ac.upsert_record(schema_id, record)
            except (SkippableError, RetriableError) as e:
                await p.sink.fail(Failure(ENTITY, did, e.error_code, f"{type(e).__name__}: {e}"))
                continue
            p.count(ENTITY, "created" if x.link is None else "updated")
            link = x.link or RecordLink(entity=ENTITY, dynamics_id=did, ac_id=None)
            link.ac_id = str(upserted.get("id") or link.ac_id or "")
            before = dict(link.dynamics_values)
            link.dynamics_values = x.values
            history.pushed(link, before, at=p.clock.now(), run_id=p.run.run_id)
            link.ac_values = {"contact": x.contact_id}
            link.dynamics_modified = parse_ac_time(x.record.get("modifiedon")) or link.dynamics_modified
            link.synced_at = p.clock.now()
            saved.append(link)
            if did in self.open_errors:
                await p.sink.clear(ENTITY, did)
                self.open_errors.discard(did)
        await p.checkpoint("after_ac_write", {"entity": ENTITY, "count": len(saved)})
        await p.sink.save_links(saved)


def opportunity_fields() -> list[FieldMapping]:
    return [FieldMapping(dynamics=s.dynamics, activecampaign=s.activecampaign, direction="push")
            for s in STANDARD_FIELDS[ENTITY]]
