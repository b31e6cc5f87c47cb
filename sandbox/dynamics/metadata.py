"""``EntityDefinitions`` (dynamics-webapi.md §6): tables, attributes, picklist option sets.

Metadata queries are never paged; ``$select``, ``$filter`` (including complex paths such as
``CanChangeTrackingBeEnabled/Value``) and ``$expand=Attributes(...)`` / ``OptionSet`` work.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .dataverse import MONEY_MAX, MONEY_MIN, MONEY_PRECISION, Dataverse
from .errors import DataverseError, bad_request
from .http import ApiRequest, ApiResponse
from .odata_filter import compile_filter, dict_resolver
from .query import parse_expand
from .schema import Column, Table

NS = uuid.UUID("2f1d3c4e-0000-4000-8000-00000000d365")
CAST_PREFIX = "Microsoft.Dynamics.CRM."
_TYPE_CLASS = {
    "String": "StringAttributeMetadata",
    "Memo": "MemoAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "DateOnly": "DateTimeAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Uniqueidentifier": "AttributeMetadata",
}


def _label(text: str) -> dict[str, Any]:
    localized = {"Label": text, "LanguageCode": 1033}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def entity(table: Table) -> dict[str, Any]:
    return {
        "@odata.type": "#Microsoft.Dynamics.CRM.EntityMetadata",
        "MetadataId": str(uuid.uuid5(NS, table.logical)),
        "LogicalName": table.logical,
        "SchemaName": table.logical.capitalize(),
        "EntitySetName": table.entity_set,
        "LogicalCollectionName": table.entity_set,
        "PrimaryIdAttribute": table.pk,
        "PrimaryNameAttribute": table.primary_name,
        "ObjectTypeCode": table.object_type_code,
        "ChangeTrackingEnabled": table.change_tracking,
        "CanChangeTrackingBeEnabled": {"Value": table.can_change_tracking, "CanBeChanged": True},
        "IsOptimisticConcurrencyEnabled": True,
        "DisplayName": _label(table.logical.capitalize()),
    }


def attribute(table: Table, column: Column) -> dict[str, Any]:
    type_name = "DateTime" if column.type == "DateOnly" else column.type
    out: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{_TYPE_CLASS.get(column.type, 'AttributeMetadata')}",
        "MetadataId": str(uuid.uuid5(NS, f"{table.logical}.{column.name}")),
        "LogicalName": column.name,
        "SchemaName": column.name.capitalize(),
        "EntityLogicalName": table.logical,
        "AttributeType": type_name,
        "AttributeTypeName": {"Value": f"{type_name}Type"},
        "RequiredLevel": {
            "Value": column.required,
            "CanBeChanged": column.required != "SystemRequired",
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "IsPrimaryId": column.name == table.pk,
        "IsPrimaryName": column.name == table.primary_name,
        "IsValidForCreate": column.writable and not column.create_only_ignored,
        "IsValidForUpdate": column.writable and column.updatable,
        "IsValidForRead": True,
        "DisplayName": _label(column.name),
    }
    if column.max_length is not None:
        out["MaxLength"] = column.max_length
        out["Format"] = "Email" if column.name.startswith("emailaddress") else "Text"
    if column.type == "DateOnly":
        out["Format"] = "DateOnly"
        out["DateTimeBehavior"] = {"Value": "DateOnly"}
    if column.type == "Money":
        out["MinValue"], out["MaxValue"], out["Precision"] = MONEY_MIN, MONEY_MAX, MONEY_PRECISION
    if column.is_lookup:
        out["Targets"] = list(column.targets)
    if column.default is not None:
        out["DefaultValue"] = column.default
    return out


def option_set(table: Table, column: Column) -> dict[str, Any]:
    return {
        "MetadataId": str(uuid.uuid5(NS, f"{table.logical}.{column.name}.options")),
        "Name": f"{table.logical}_{column.name}",
        "IsGlobal": False,
        "OptionSetType": column.type,
        "Options": [{"Value": v, "Label": _label(text)} for v, text in column.options],
    }


def _select(item: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return item
    names = {n.strip() for n in select.split(",")}
    keep = {"@odata.type", "MetadataId", "Attributes", "OptionSet", "GlobalOptionSet"} | names  # + expansions
    return {k: v for k, v in item.items() if k in keep}


def _filter(items: list[dict[str, Any]], text: str | None, req: ApiRequest) -> list[dict[str, Any]]:
    if not text:
        return items
    match = compile_filter(text, dict_resolver(), aliases=req.aliases())
    return [i for i in items if match(i)]


_KEY = re.compile(r"^(?:LogicalName='(?P<name>[^']*)'|(?P<id>[0-9a-fA-F-]{36}))$")


def _find(items: list[tuple[str, Any]], key: str, kind: str) -> Any:
    m = _KEY.match(key)
    if not m:
        raise bad_request(f"The key '{key}' is not valid for {kind}.")
    for name, obj in items:
        if m.group("name") == name or (m.group("id") and m.group("id").lower() == obj["MetadataId"]):
            return obj
    raise DataverseError(404, "0x80040217", f"Could not find {kind} with key {key}.")


def handle(dv: Dataverse, req: ApiRequest, segments: list[str]) -> ApiResponse:
    """segments: ["EntityDefinitions(...)", "Attributes(...)", "Microsoft.Dynamics.CRM.X"]."""
    if req.method != "GET":
        raise DataverseError(405, "0x80060888", "The metadata sandbox is read-only.")
    first = segments[0]
    tables = sorted(dv.tables.values(), key=lambda t: t.logical)
    entities = [(t.logical, entity(t)) for t in tables]
    if first == "EntityDefinitions":
        if len(segments) > 1:
            raise bad_request("Address one table with EntityDefinitions(LogicalName='...').")
        items = _filter([e for _, e in entities], req.param("$filter"), req)
        value = [_with_expand(dv, req, e) for e in items]
        return ApiResponse.json(
            200,
            {
                "@odata.context": f"{req.base}$metadata#EntityDefinitions",
                "value": [_select(v, req.param("$select")) for v in value],
            },
        )
    key = first[len("EntityDefinitions(") : -1]
    meta = _find(entities, key, "EntityMetadata")
    table = dv.tables[meta["LogicalName"]]
    if len(segments) == 1:
        return ApiResponse.json(
            200,
            {
                "@odata.context": f"{req.base}$metadata#EntityDefinitions/$entity",
                **_select(_with_expand(dv, req, meta), req.param("$select")),
            },
        )
    attr_seg = segments[1]
    pairs = [(c.name, attribute(table, c)) for c in table.columns.values()]
    rest = segments[2:]
    if attr_seg.startswith("Attributes("):
        attr = _find(pairs, attr_seg[len("Attributes(") : -1], "AttributeMetadata")
        if rest:
            _cast_check(attr, rest[0])
        return ApiResponse.json(200, _attr_out(dv, req, table, attr))
    if attr_seg != "Attributes":
        raise bad_request(f"Resource not found for the segment '{attr_seg}'.")
    attrs = [a for _, a in pairs]
    if rest:
        cast = rest[0]
        if not cast.startswith(CAST_PREFIX):
            raise bad_request(f"Resource not found for the segment '{cast}'.")
        attrs = [a for a in attrs if a["@odata.type"] == "#" + cast]
    attrs = _filter(attrs, req.param("$filter"), req)
    return ApiResponse.json(
        200,
        {
            "@odata.context": f"{req.base}$metadata#EntityDefinitions('{table.logical}')/Attributes",
            "value": [_attr_out(dv, req, table, a) for a in attrs],
        },
    )


def _cast_check(attr: dict[str, Any], cast: str) -> None:
    if attr["@odata.type"] != "#" + cast:
        raise bad_request(f"The attribute '{attr['LogicalName']}' is not of type '{cast}'.")


def _attr_out(dv: Dataverse, req: ApiRequest, table: Table, attr: dict[str, Any]) -> dict[str, Any]:
    out = _select(attr, req.param("$select"))
    for name, _options in parse_expand(req.param("$expand") or ""):
        column = table.columns[attr["LogicalName"]]
        if name == "OptionSet":
            out["OptionSet"] = option_set(table, column) if column.options else None
        elif name == "GlobalOptionSet":
            out["GlobalOptionSet"] = None
        else:
            raise bad_request(f"Could not find a property named '{name}' on type '{attr['@odata.type'][1:]}'.")
    return out


def _with_expand(dv: Dataverse, req: ApiRequest, meta: dict[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    for name, options in parse_expand(req.param("$expand") or ""):
        if name != "Attributes":
            raise bad_request(
                f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."
            )
        table = dv.tables[meta["LogicalName"]]
        attrs = [attribute(table, c) for c in table.columns.values()]
        attrs = _filter(attrs, options.get("$filter"), req)
        out["Attributes"] = [_select(a, options.get("$select")) for a in attrs]
    return out
