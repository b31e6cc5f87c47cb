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
from typing import Any

from sync_core.engine.context import PRIMARY_ID, PassContext
from sync_core.engine.criteria import matches
from sync_core.engine.mapping import changed_columns, dynamics_values, normalize, parse_ac_time
from sync_core.engine.odata import parse_filter
from sync_core.model.config import FieldMapping
from sync_core.model.errors import PlanLimitError, RetriableError, SkippableError
from sync_core.model.standard import OPPORTUNITY_SCHEMA_LABEL, OPPORTUNITY_SCHEMA_SLUG, STANDARD_FIELDS
from sync_core.model.state import EntityName, RecordError, RecordLink

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


async def ensure_schema(ctx: PassContext) -> tuple[str, dict[str, str]]:
    """The schema's id and its field types, created when missing."""
    if ctx.opportunity_schema is not None:
        return ctx.opportunity_schema
    try:
        schemas = await ctx.ac.list_schemas()
        found = next((s for s in schemas if s.get("slug") == OPPORTUNITY_SCHEMA_SLUG), None)
        if found is None:
            try:
                found = await ctx.ac.create_schema(schema_definition())
            except SkippableError:
                # Date fields are unconfirmed on custom objects (the register): fall back to text.
                found = await ctx.ac.create_schema(schema_definition(date_fields=False))
    except PlanLimitError as e:
        raise OpportunitiesUnavailable(str(e)) from e
    types = {str(f.get("id")): str(f.get("type")) for f in found.get("fields") or []}
    ctx.opportunity_schema = (str(found["id"]), types)
    return ctx.opportunity_schema


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


async def _contact_ac_id(ctx: PassContext, record: Mapping[str, Any]) -> str | None:
    for column in RELATION_COLUMNS:
        guid = record.get(f"_{column}_value")
        if not guid:
            continue
        link = await ctx.store.get_link(ctx.cid, "contact", str(guid))
        if link is not None and link.ac_id:
            return link.ac_id
    return None


async def process_page(ctx: PassContext, fields: Sequence[FieldMapping], records: Sequence[Mapping[str, Any]],
                       *, open_errors: set[str]) -> None:
    mapping = ctx.connection.entities.opportunities
    id_col = PRIMARY_ID[ENTITY]
    schema_id, types = await ensure_schema(ctx)
    ctx.run.count(ENTITY, "read", len(records))
    custom = parse_filter(mapping.custom_filter) if mapping.scope == "custom" and mapping.custom_filter else None
    links = await ctx.store.get_links(ctx.cid, ENTITY, [str(r[id_col]) for r in records])
    saved: list[RecordLink] = []
    for r in records:
        did = str(r[id_col])
        if (mapping.scope == "criteria" and not matches(r, mapping.criteria)) or (custom and not custom.matches(r)):
            ctx.run.count(ENTITY, "skipped_criteria")
            continue
        values = dynamics_values(r, fields)
        for column in RELATION_COLUMNS:
            values[column] = normalize(r.get(f"_{column}_value"))
        link = links.get(did)
        changed = changed_columns(values, link.dynamics_values if link else None)
        if link is not None and not changed:
            ctx.run.count(ENTITY, "unchanged")
            continue
        contact_id = await _contact_ac_id(ctx, r)
        if contact_id is None:
            ctx.run.count(ENTITY, "skipped_no_synced_contact")
            ctx.sample(ENTITY, "skip", did, str(values.get("name") or ""), "its contact does not sync")
            if not ctx.dry_run:
                now = ctx.clock.now()
                await ctx.store.record_error(ctx.cid, RecordError(
                    entity=ENTITY, side="activecampaign", record_id=did, code="contact_not_synced",
                    cause="skipped: the opportunity's contact does not sync to ActiveCampaign",
                    first_seen=now, last_seen=now))
            continue
        if ctx.dry_run:
            ctx.run.count(ENTITY, "would_create" if link is None else "would_update")
            ctx.sample(ENTITY, "create" if link is None else "update", did, str(values.get("name") or ""))
            continue
        record = {
            "externalId": f"d365-{did}",
            "fields": [{"id": f.activecampaign, "value": _field_value(types.get(f.activecampaign, "text"),
                                                                     values.get(f.dynamics))}
                       for f in fields if f.activecampaign in types],
            "relationships": {CONTACT_RELATIONSHIP: [contact_id]},
        }
        try:
            upserted = await ctx.ac.upsert_record(schema_id, record)
        except (SkippableError, RetriableError) as e:
            ctx.run.count(ENTITY, "errors")
            now = ctx.clock.now()
            await ctx.store.record_error(ctx.cid, RecordError(
                entity=ENTITY, side="activecampaign", record_id=did, cause=f"{type(e).__name__}: {e}",
                code=type(e).__name__, first_seen=now, last_seen=now))
            continue
        ctx.run.count(ENTITY, "created" if link is None else "updated")
        link = link or RecordLink(entity=ENTITY, dynamics_id=did, ac_id=None)
        link.ac_id = str(upserted.get("id") or link.ac_id or "")
        link.dynamics_values = values
        link.ac_values = {"contact": contact_id}
        link.dynamics_modified = parse_ac_time(r.get("modifiedon")) or link.dynamics_modified
        link.synced_at = ctx.clock.now()
        saved.append(link)
        if did in open_errors:
            await ctx.store.clear_error(ctx.cid, ENTITY, "activecampaign", did)
            open_errors.discard(did)
    await ctx.checkpoint("after_ac_write", {"entity": ENTITY, "count": len(saved)})
    if saved:
        await ctx.store.save_links(ctx.cid, saved)


def opportunity_fields() -> list[FieldMapping]:
    return [FieldMapping(dynamics=s.dynamics, activecampaign=s.activecampaign, direction="push")
            for s in STANDARD_FIELDS[ENTITY]]
