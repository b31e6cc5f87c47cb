"""Table and column metadata (reference §6): the EntityDefinitions reads and their parsing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from sync_core.dynamics._base import PATH_SAFE, DataverseBase
from sync_core.dynamics._models import AttributeMetadata, EntityMetadata
from sync_core.dynamics._odata import quote_string

ENTITY_SELECT = "LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ChangeTrackingEnabled"
ATTRIBUTE_SELECT = "LogicalName,SchemaName,AttributeTypeName,RequiredLevel,IsValidForCreate,IsValidForUpdate"

# Casts that carry type-specific properties: (cast, $select, $expand)
STRING_CASTS = ("StringAttributeMetadata", "MemoAttributeMetadata")
LOOKUP_CAST = "LookupAttributeMetadata"
OPTION_CASTS = ("PicklistAttributeMetadata", "MultiSelectPicklistAttributeMetadata", "StateAttributeMetadata",
                "StatusAttributeMetadata")


def managed_value(value: Any, default: Any = None) -> Any:
    """``{"Value": x, "CanBeChanged": ...}`` → ``x``; plain values pass through."""
    if isinstance(value, dict):
        return value.get("Value", default)
    return default if value is None else value


def label_text(label: Any) -> str:
    if not isinstance(label, dict):
        return ""
    user = label.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label") is not None:
        return str(user["Label"])
    for loc in label.get("LocalizedLabels") or []:
        if isinstance(loc, dict) and loc.get("Label") is not None:
            return str(loc["Label"])
    return ""


def parse_options(row: dict[str, Any]) -> dict[int, str]:
    """Options of an OptionSet/GlobalOptionSet expansion (local set wins when both are present)."""
    for key in ("OptionSet", "GlobalOptionSet"):
        os_ = row.get(key)
        if isinstance(os_, dict) and os_.get("Options"):
            return {int(o["Value"]): label_text(o.get("Label")) for o in os_["Options"] if "Value" in o}
    return {}


def parse_attribute(row: dict[str, Any]) -> AttributeMetadata:
    type_name = managed_value(row.get("AttributeTypeName")) or str(row.get("AttributeType") or "")
    return AttributeMetadata(
        logical_name=str(row["LogicalName"]),
        type_name=str(type_name),
        required_level=str(managed_value(row.get("RequiredLevel"), "None")),
        is_valid_for_create=bool(row.get("IsValidForCreate", True)),
        is_valid_for_update=bool(row.get("IsValidForUpdate", True)),
        schema_name=row.get("SchemaName"),
    )


def build_entity(entity: dict[str, Any], attributes: dict[str, AttributeMetadata]) -> EntityMetadata:
    return EntityMetadata(
        logical_name=str(entity["LogicalName"]),
        entity_set_name=str(entity["EntitySetName"]),
        primary_id_attribute=str(entity["PrimaryIdAttribute"]),
        primary_name_attribute=entity.get("PrimaryNameAttribute"),
        change_tracking_enabled=bool(managed_value(entity.get("ChangeTrackingEnabled"), False)),
        attributes=attributes,
    )


class MetadataApi(DataverseBase):
    """``EntityDefinitions`` reads, cached per client."""

    async def entity_metadata(self, logical_name: str) -> EntityMetadata:
        """Table and column metadata (§6), fetched once per client and table."""
        cached = self._metadata.get(logical_name)
        if cached is not None:
            return cached
        lock = self._metadata_locks.setdefault(logical_name, asyncio.Lock())
        async with lock:
            cached = self._metadata.get(logical_name)
            if cached is None:
                cached = await self._load_metadata(logical_name)
                self._metadata[logical_name] = cached
            return cached

    async def _metadata_rows(self, path: str, options: list[tuple[str, str]]) -> list[dict[str, Any]]:
        _, body = await self._get_json(self.url(path, options), kind="metadata")
        return list(body.get("value") or []) if isinstance(body, dict) else []

    async def _load_metadata(self, logical_name: str) -> EntityMetadata:
        entity_path = f"EntityDefinitions(LogicalName={quote(quote_string(logical_name), safe=PATH_SAFE)})"
        _, entity = await self._get_json(self.url(entity_path, [("$select", ENTITY_SELECT)]),
                                         kind="metadata")
        rows = await self._metadata_rows(f"{entity_path}/Attributes", [("$select", ATTRIBUTE_SELECT)])
        attrs = {a.logical_name: a for a in map(parse_attribute, rows)}
        extra: dict[str, dict[str, Any]] = {name: {} for name in attrs}
        for cast in STRING_CASTS:
            for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{cast}",
                                                 [("$select", "LogicalName,MaxLength")]):
                if row.get("LogicalName") in extra and row.get("MaxLength") is not None:
                    extra[row["LogicalName"]]["max_length"] = int(row["MaxLength"])
        for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{LOOKUP_CAST}",
                                             [("$select", "LogicalName,Targets")]):
            if row.get("LogicalName") in extra:
                extra[row["LogicalName"]]["targets"] = tuple(row.get("Targets") or ())
        for cast in OPTION_CASTS:
            expand = "OptionSet($select=Options),GlobalOptionSet($select=Options)"
            if cast in ("StateAttributeMetadata", "StatusAttributeMetadata"):
                expand = "OptionSet($select=Options)"
            for row in await self._metadata_rows(f"{entity_path}/Attributes/Microsoft.Dynamics.CRM.{cast}",
                                                 [("$select", "LogicalName"), ("$expand", expand)]):
                if row.get("LogicalName") in extra:
                    extra[row["LogicalName"]]["options"] = parse_options(row)
        merged = {name: _with(attr, extra[name]) for name, attr in attrs.items()}
        return build_entity(entity, merged)

    async def entity_set_name(self, logical_name: str) -> str:
        return (await self.entity_metadata(logical_name)).entity_set_name


def _with(attr: AttributeMetadata, extra: dict[str, Any]) -> AttributeMetadata:
    return replace(attr, **extra) if extra else attr
