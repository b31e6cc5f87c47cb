"""Saving a configuration checks it against both systems' metadata and names the field of every issue.

The rules are the seed's Data Configuration rules (DESIGN.md §5): every mapped field exists
on its side; each pair is type-compatible by :data:`COMPATIBLE` (and the compatible
candidates of a field can be listed); AC deal fields cannot be mapped; Email and Account
stay on; a standard field turned off may be remapped to a custom field; when records may be
created in Dynamics (pull or bi-directional), every column a create needs is mapped or
given a constant; option sets map value by value to the AC field's options; opportunity
fields are fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync_core.engine.odata import ODataSyntaxError, parse_filter
from sync_core.model.config import ConnectionConfig, EntityMapping, FieldMapping
from sync_core.model.standard import STANDARD_FIELDS
from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import DataverseClient, EntityMetadata

CONFIG_KEY: dict[EntityName, str] = {"account": "accounts", "contact": "contacts", "lead": "leads",
                                     "opportunity": "opportunities"}

# Dynamics AttributeTypeName → the AC field types that can hold its values without loss.
COMPATIBLE: dict[str, frozenset[str]] = {
    "StringType": frozenset({"text", "textarea", "hidden"}),
    "MemoType": frozenset({"textarea", "text", "hidden"}),
    "PicklistType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "StateType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "StatusType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "MultiSelectPicklistType": frozenset({"multiselect", "listbox", "checkbox"}),
    "BooleanType": frozenset({"checkbox", "dropdown", "radio", "text", "hidden"}),
    "IntegerType": frozenset({"number", "text", "hidden"}),
    "BigIntType": frozenset({"number", "text", "hidden"}),
    "DecimalType": frozenset({"number", "text", "hidden", "currency"}),
    "DoubleType": frozenset({"number", "text", "hidden"}),
    "MoneyType": frozenset({"currency", "number", "text", "hidden"}),
    "DateTimeType": frozenset({"date", "datetime", "text", "hidden"}),
    "UniqueidentifierType": frozenset({"text", "hidden"}),
}
"""Lookups (Lookup, Customer, Owner) map only through the standard Account mapping."""
OPTION_TYPES = frozenset({"PicklistType", "StateType", "StatusType", "MultiSelectPicklistType"})
AC_OPTION_TYPES = frozenset({"dropdown", "radio", "multiselect", "listbox", "checkbox"})

AC_CONTACT_STANDARD_TYPES = {"email": "text", "firstName": "text", "lastName": "text", "phone": "text"}
AC_ACCOUNT_STANDARD_TYPES = {"name": "text", "accountUrl": "text"}
AUTO_FILLED = frozenset({"ownerid", "transactioncurrencyid", "statecode", "statuscode", "createdon", "modifiedon"})


@dataclass(frozen=True)
class ConfigIssue:
    """One problem of a configuration, at ``field`` (a dotted path into the document)."""

    field: str
    message: str
    candidates: list[str] | None = None


@dataclass
class AcField:
    key: str
    type: str
    title: str
    options: list[str] = field(default_factory=list)


async def ac_fields(ac: ActiveCampaignClient, entity: EntityName) -> dict[str, AcField]:
    """The AC fields a Dynamics entity can map to, keyed like mappings (``field:<id>``)."""
    out: dict[str, AcField] = {}
    if entity in ("contact", "lead"):
        for key, t in AC_CONTACT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        for f in await ac.list_fields():
            options = [str(o.get("value") or o.get("label") or "") for o in f.get("options") or []
                       if isinstance(o, dict)]
            out[f"field:{f['id']}"] = AcField(f"field:{f['id']}", str(f.get("type") or "text").lower(),
                                              str(f.get("title") or ""), options)
        out["accountContact.jobTitle"] = AcField("accountContact.jobTitle", "text", "Job title (account contact)")
        out["account"] = AcField("account", "account", "Account")
    elif entity == "account":
        for key, t in AC_ACCOUNT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        for f in await ac.list_account_custom_fields():
            opts = f.get("fieldOptions") or []
            out[f"field:{f['id']}"] = AcField(f"field:{f['id']}", str(f.get("fieldType") or "text").lower(),
                                              str(f.get("fieldLabel") or ""), [str(o) for o in opts])
    return out


def compatible(dynamics_type: str, ac_type: str) -> bool:
    return ac_type in COMPATIBLE.get(dynamics_type, frozenset())


def candidates_for_dynamics(attr_type: str, fields: Mapping[str, AcField]) -> list[str]:
    return sorted(k for k, f in fields.items() if compatible(attr_type, f.type))


def candidates_for_ac(ac_type: str, meta: EntityMetadata) -> list[str]:
    return sorted(a.logical_name for a in meta.attributes.values() if compatible(a.type_name, ac_type))


async def validate_connection_config(config: ConnectionConfig, *, dv: DataverseClient,
                                     ac: ActiveCampaignClient) -> list[ConfigIssue]:
    """Every issue of ``config`` against the two systems' metadata (empty: it can be saved)."""
    issues: list[ConfigIssue] = []
    for entity, key in CONFIG_KEY.items():
        mapping = config.entities.of(entity)
        if not mapping.enabled:
            continue
        meta = await dv.entity_metadata(entity)
        fields = await ac_fields(ac, entity) if entity != "opportunity" else {}
        issues.extend(check_entity(entity, mapping, meta, fields, prefix=f"entities.{key}"))
    return issues


def check_entity(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                 ac: Mapping[str, AcField], *, prefix: str) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    standard = {s.key: s for s in STANDARD_FIELDS[entity]}
    for key, on in mapping.standard.items():
        s = standard.get(key)
        if s is None:
            issues.append(ConfigIssue(f"{prefix}.standard.{key}", f"{entity} has no standard mapping {key!r}",
                                      sorted(standard)))
        elif s.locked and not on:
            issues.append(ConfigIssue(f"{prefix}.standard.{key}", f"the {key} mapping cannot be turned off"))
    if entity == "opportunity" and mapping.custom:
        issues.append(ConfigIssue(f"{prefix}.custom", "opportunity fields are fixed; they cannot be remapped"))
    for i, m in enumerate(mapping.custom):
        issues.extend(_check_pair(entity, m, meta, ac, f"{prefix}.custom[{i}]", standard_keys=standard,
                                  mapping=mapping))
    issues.extend(_check_criteria(mapping, meta, prefix))
    if mapping.direction != "push" and entity != "opportunity":
        issues.extend(_check_required(entity, mapping, meta, prefix))
    return issues


def _check_pair(entity: EntityName, m: FieldMapping, meta: EntityMetadata, ac: Mapping[str, AcField], path: str,
                *, standard_keys: Mapping[str, Any], mapping: EntityMapping) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    if m.activecampaign.lower().startswith("deal"):
        return [ConfigIssue(f"{path}.activecampaign", "ActiveCampaign deal fields cannot be mapped")]
    attr = meta.attributes.get(m.dynamics)
    if attr is None:
        out.append(ConfigIssue(f"{path}.dynamics", f"{entity} has no column {m.dynamics!r}"))
    acf = ac.get(m.activecampaign)
    if acf is None:
        out.append(ConfigIssue(f"{path}.activecampaign", f"ActiveCampaign has no field {m.activecampaign!r}",
                               candidates_for_dynamics(attr.type_name, ac) if attr else None))
    for s in STANDARD_FIELDS[entity]:
        taken = s.locked or mapping.standard.get(s.key, True)
        if taken and (s.activecampaign == m.activecampaign or s.dynamics == m.dynamics):
            out.append(ConfigIssue(path, f"{s.key} is a standard mapping that is on: turn it off to remap it"))
    if attr is None or acf is None:
        return out
    if not compatible(attr.type_name, acf.type):
        out.append(ConfigIssue(path, f"{m.dynamics} ({attr.type_name}) is not compatible with "
                                     f"{m.activecampaign} ({acf.type})", candidates_for_dynamics(attr.type_name, ac)))
    if attr.type_name in OPTION_TYPES and acf.type in AC_OPTION_TYPES:
        dyn_options = {str(v) for v in (attr.options or {})}
        if m.option_map is None:
            out.append(ConfigIssue(f"{path}.option_map", "an option set needs each of its values mapped to an "
                                                         "ActiveCampaign option", sorted(acf.options)))
        else:
            for v, label in m.option_map.items():
                if v not in dyn_options:
                    out.append(ConfigIssue(f"{path}.option_map.{v}", f"{m.dynamics} has no option value {v}",
                                           sorted(dyn_options)))
                if acf.options and label not in acf.options:
                    out.append(ConfigIssue(f"{path}.option_map.{v}", f"{m.activecampaign} has no option {label!r}",
                                           sorted(acf.options)))
    return out


def _check_criteria(mapping: EntityMapping, meta: EntityMetadata, prefix: str) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    if mapping.scope == "criteria" and not mapping.criteria:
        out.append(ConfigIssue(f"{prefix}.criteria", "match criteria needs at least one condition"))
    for i, c in enumerate(mapping.criteria):
        if c.field not in meta.attributes:
            out.append(ConfigIssue(f"{prefix}.criteria[{i}].field", f"no column {c.field!r}"))
    if mapping.scope == "custom":
        if not mapping.custom_filter:
            out.append(ConfigIssue(f"{prefix}.custom_filter", "custom criteria need a filter expression"))
        else:
            try:
                columns = parse_filter(mapping.custom_filter).columns()
            except ODataSyntaxError as e:
                out.append(ConfigIssue(f"{prefix}.custom_filter", str(e)))
            else:
                for col in sorted(columns):
                    base = col[1:-6] if col.startswith("_") and col.endswith("_value") else col
                    if base not in meta.attributes:
                        out.append(ConfigIssue(f"{prefix}.custom_filter", f"no column {col!r}"))
    return out


def _check_required(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                    prefix: str) -> list[ConfigIssue]:
    from sync_core.model.config import mapped_fields

    mapped = {f.dynamics for f in mapped_fields(entity, mapping) if f.direction != "push"}
    needed = required_columns(meta)
    return [ConfigIssue(f"{prefix}.constants.{col}",
                        f"{col} is required to create a {entity} in Dynamics: map it or give it a constant")
            for col in sorted(needed - mapped - set(mapping.constants))]


def required_columns(meta: EntityMetadata) -> set[str]:
    return {a.logical_name for a in meta.attributes.values()
            if a.required_level in ("ApplicationRequired", "SystemRequired") and a.is_valid_for_create
            and a.logical_name not in AUTO_FILLED and a.logical_name != meta.primary_id_attribute}


def dynamics_field_types(meta: EntityMetadata) -> Iterable[tuple[str, str]]:
    return ((a.logical_name, a.type_name) for a in meta.attributes.values())
