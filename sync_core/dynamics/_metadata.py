"""EntityDefinitions responses → :class:`EntityMetadata` (reference §6)."""

from __future__ import annotations

from typing import Any

from sync_core.dynamics._models import AttributeMetadata, EntityMetadata

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
