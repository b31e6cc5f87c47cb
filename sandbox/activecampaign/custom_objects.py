"""Custom-object schemas and records (Enterprise only), upsert rules per
https://developers.activecampaign.com/reference/create-or-update-record (reference §8)."""

from __future__ import annotations

import uuid
from typing import Any

from .errors import ACError, object_error
from .state import ACState, as_int
from .timefmt import is_iso_date, is_iso_datetime, nano_utc

BASE_TYPES = frozenset({"text", "textarea", "number", "decimal", "currency", "dropdown", "multiselect"})
DATE_TYPES = frozenset({"date", "datetime"})
FIELD_KEYS = frozenset({"id", "labels", "type", "description", "isRequired", "origin", "scale", "defaultCurrency",
                        "options"})
NAMESPACES = frozenset({"contacts", "accounts", "deals"})
NOT_FOUND = ACError(404, {"message": "Not Found"})
BAD_REQUEST = ACError(400, {"errors": [{"status": 400, "title": "Bad Request"}]})


def _new_id(ac: ACState) -> str:
    return str(uuid.UUID(int=ac.rng.getrandbits(128), version=4))


def _invalid(name: str, detail: str) -> ACError:
    return object_error(422, f'Invalid value for field "{name}"', detail, "/data/attributes/" + name.replace(".", "/"))


def _labels(value: Any, name: str) -> dict[str, str]:
    if (not isinstance(value, dict) or not value.get("singular") or not value.get("plural")
            or not all(isinstance(v, str) for v in value.values())):
        raise _invalid(name, "Labels must give a singular and a plural text")
    return value


def _description(data: dict[str, Any], name: str) -> str:
    value = data.get("description", "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _invalid(name, "The description must be a text")
    return value


def create_schema(ac: ACState, data: dict[str, Any]) -> dict[str, Any]:
    slug = data.get("slug")
    if not isinstance(slug, str) or not slug.strip():
        raise _invalid("schema.slug", "Schema slug is required")
    slug = slug.strip()
    if any(s["slug"] == slug for s in ac.co_schemas.values()):
        raise _invalid("schema.slug", "Schema slug must be unique")
    labels = _labels(data.get("labels"), "schema.labels")
    description = _description(data, "schema.description")
    fields = _check_fields(ac, data.get("fields") or [])
    relationships = []
    rels = data.get("relationships") or []
    if not isinstance(rels, list):
        raise _invalid("schema.relationships", "Relationships must be an array")
    for rel in rels:
        if (not isinstance(rel, dict) or not isinstance(rel.get("id"), str) or not rel["id"]
                or not isinstance(rel.get("namespace"), str) or rel["namespace"] not in NAMESPACES):
            raise _invalid("schema.relationships", "Relationships need an id and a namespace of "
                           "contacts, accounts or deals")
        rel_labels = _labels(rel["labels"], "schema.relationships.labels") if rel.get("labels") else {}
        relationships.append({"id": rel["id"], "labels": rel_labels,
                              "description": _description(rel, "schema.relationships.description"),
                              "namespace": rel["namespace"],
                              "hasMany": bool(rel.get("hasMany", False))})
    now = ac.now()
    schema: dict[str, Any] = {"id": _new_id(ac), "slug": slug, "visibility": "private", "labels": labels,
              "description": description, "cdate": now, "udate": now, "fields": fields,
              "icons": {"default": "https://d226aj4ao1t61q.cloudfront.net/n9mayqo2d_customobject.png"},
              "relationships": relationships}
    ac.co_schemas[schema["id"]] = schema
    ac.co_records[schema["id"]] = {}
    return schema


def _check_fields(ac: ACState, items: Any, existing: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise _invalid("schema.fields", "Schema fields must be an array")
    allowed = BASE_TYPES | (DATE_TYPES if ac.switches["custom_object_date_fields"] == "accepted" else frozenset())
    seen = {f["id"] for f in existing or []}
    out = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise _invalid("schema.fields.id", "Schema fields must provide an id")
        _labels(item.get("labels"), "schema.fields.labels")
        if not isinstance(item.get("type"), str) or item["type"] not in allowed:
            raise _invalid("schema.fields.type", f"Unsupported field type {item.get('type')!r}")
        if item["id"] in seen:
            raise _invalid("schema.fields.id", f"Field id {item['id']!r} is already defined")
        seen.add(item["id"])
        _check_field_extras(item)
        kept = {k: v for k, v in item.items() if k in FIELD_KEYS and v is not None}
        out.append(kept | {"required": bool(item.get("required") or item.get("isRequired"))})
    return out


def _check_field_extras(item: dict[str, Any]) -> None:
    options = item.get("options")
    if options is not None and (not isinstance(options, list)
                                or not all(isinstance(o, dict) and isinstance(o.get("value"), str) for o in options)):
        raise _invalid("schema.fields.options", "Options must be an array of {value}")
    scale = item.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int) or scale < 0):
        raise _invalid("schema.fields.scale", "The scale must be a non-negative integer")
    for key in ("required", "isRequired"):
        if not isinstance(item.get(key, False), bool):
            raise _invalid(f"schema.fields.{key}", f"{key} must be a boolean")
    for key in ("defaultCurrency", "description", "origin"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise _invalid(f"schema.fields.{key}", f"{key} must be a text")


def add_schema_fields(ac: ACState, schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    fields = _check_fields(ac, data.get("fields") or [], schema["fields"])
    labels = _labels(data["labels"], "schema.labels") if data.get("labels") is not None else None
    description = _description(data, "schema.description") if "description" in data else None
    schema["fields"].extend(fields)
    if labels is not None:
        schema["labels"] = labels
    if description is not None:
        schema["description"] = description
    schema["udate"] = ac.now()
    return schema


def render_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"id": schema["id"], "slug": schema["slug"], "visibility": schema["visibility"],
            "labels": schema["labels"], "description": schema["description"],
            "createdTimestamp": nano_utc(schema["cdate"]), "updatedTimestamp": nano_utc(schema["udate"]),
            "fields": schema["fields"], "icons": schema["icons"], "relationships": schema["relationships"]}


def render_record(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "externalId": record["externalId"], "schemaId": record["schemaId"],
            "fields": [{"id": k, "value": v} for k, v in record["fields"].items()],
            "relationships": {k: [str(x) for x in v] for k, v in record["relationships"].items()},
            "createdTimestamp": nano_utc(record["cdate"]), "updatedTimestamp": nano_utc(record["udate"])}


def _check_value(field: dict[str, Any], value: Any) -> None:
    ftype, fid = field["type"], field["id"]
    ok = True
    if value is None:
        ok = not field.get("required")
    elif ftype in ("number", "decimal", "currency"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif ftype == "date":
        ok = isinstance(value, str) and is_iso_date(value)
    elif ftype == "datetime":
        ok = isinstance(value, str) and is_iso_datetime(value)
    elif ftype == "multiselect":
        ok = isinstance(value, list) and _in_options(field, value)
    elif ftype == "dropdown":
        ok = isinstance(value, str) and _in_options(field, [value])
    else:
        ok = isinstance(value, str)
    if not ok:
        raise _invalid(fid, f"{fid} cannot accept the value {value!r} for a {ftype} field.")


def _in_options(field: dict[str, Any], values: list[Any]) -> bool:
    options = {o.get("value") for o in field.get("options") or [] if isinstance(o, dict)}
    return not options or all(v in options for v in values)


def upsert_record(ac: ACState, schema: dict[str, Any], data: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Returns (created, record)."""
    records = ac.co_records[schema["id"]]
    given_id = data.get("id")
    external = data.get("externalId")
    if external is not None and not isinstance(external, str):
        raise _invalid("externalId", "externalId must be a string")
    target: dict[str, Any] | None = None
    by_id = records.get(str(given_id)) if given_id is not None else None
    if by_id is not None and (external is None or external == by_id["externalId"]):
        target = by_id  # matching id with matching or no externalId: update
    elif external is not None:
        target = next((r for r in records.values() if r["externalId"] == external), None)
    fields_in = data.get("fields") or []
    if not isinstance(fields_in, list):
        raise BAD_REQUEST
    defs = {f["id"]: f for f in schema["fields"]}
    values: dict[str, Any] = {}
    for item in fields_in:
        fid = str(item.get("id")) if isinstance(item, dict) else ""
        if fid not in defs:
            raise _invalid(str(fid), f"{fid} cannot accept a value that is not defined in the schema.")
        _check_value(defs[fid], item.get("value"))
        values[fid] = item.get("value")
    merged = {**(target["fields"] if target else {}), **values}
    for fid, definition in defs.items():
        if definition.get("required") and merged.get(fid) is None:
            raise _invalid(fid, f"{fid} is required.")
    relationships = _check_relationships(ac, schema, data.get("relationships"))
    now = ac.now()
    if target is None:
        record_id = _new_id(ac)
        target = {"id": record_id, "externalId": external or "", "schemaId": schema["id"], "fields": merged,
                  "relationships": relationships, "cdate": now, "udate": now}
        records[record_id] = target
        return True, target
    target["fields"] = merged
    if data.get("relationships") is not None:
        target["relationships"] = relationships
    if external is not None:
        target["externalId"] = external
    target["udate"] = now
    return False, target


def _check_relationships(ac: ACState, schema: dict[str, Any], raw: Any) -> dict[str, list[int]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise BAD_REQUEST
    defs = {r["id"]: r for r in schema["relationships"]}
    out: dict[str, list[int]] = {}
    for key, ids in raw.items():
        rel = defs.get(key)
        if rel is None:
            raise _invalid(f"relationships.{key}", f"{key} is not a relationship of this schema.")
        if not isinstance(ids, list):
            raise _invalid(f"relationships.{key}", "Relationship values must be an array of ids.")
        if not rel["hasMany"] and len(ids) > 1:
            raise _invalid(f"relationships.{key}", f"{key} accepts only one related record.")
        parsed = [as_int(i) for i in ids]
        known: set[int] | None = {"contacts": set(ac.contacts), "accounts": set(ac.accounts)}.get(rel["namespace"])
        for original, value in zip(ids, parsed, strict=True):
            if value is None or (known is not None and value not in known):
                raise _invalid(f"relationships.{key}", f"Related {rel['namespace']} id {original} does not exist.")
        out[key] = [v for v in parsed if v is not None]
    return out
