"""Saving a configuration checks it against both systems' metadata and names the field of every issue.

The rules are the seed's Data Configuration rules (DESIGN.md §5): every mapped field exists
on its side; each pair is type-compatible by :data:`COMPATIBLE` (and the compatible
candidates of a field can be listed); AC deal fields cannot be mapped; Email and Account
stay on; a standard field turned off may be remapped to a custom field, one still on may
not; when records may be created in Dynamics (pull or bi-directional), every column a create
needs is mapped or given a constant; option sets map value by value to the AC field's
options; opportunity fields are fixed; criteria and custom filters name real columns with
operators their type supports (see ``criteria`` / ``odata`` for the semantics).

Every issue carries ``field``, a dotted path into the configuration document
(``entities.leads.custom[0].dynamics``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sync_core.dynamics import BoolOp, Call, Compare, Node, Not, ODataSyntaxError, parse_filter
from sync_core.model.config import Condition, ConnectionConfig, EntityMapping, FieldMapping, mapped_fields
from sync_core.model.criteria import LIKE_OPERATORS, ORDER_OPERATORS, TEXT_TYPES
from sync_core.model.standard import STANDARD_FIELDS
from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import AttributeMetadata, DataverseClient, EntityMetadata

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
NUMBER_TYPES = frozenset({"IntegerType", "BigIntType", "DecimalType", "DoubleType", "MoneyType"})
INTEGER_TYPES = frozenset({"IntegerType", "BigIntType", "PicklistType", "StateType", "StatusType"})
LOOKUP_TYPES = frozenset({"LookupType", "CustomerType", "OwnerType"})
ORDERED_TYPES = NUMBER_TYPES | {"DateTimeType"}

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
    """Option values (what a contact's field value holds) of dropdown/radio/listbox/checkbox fields."""


async def ac_fields(ac: ActiveCampaignClient, entity: EntityName) -> dict[str, AcField]:
    """The AC fields a Dynamics entity can map to, keyed like mappings (``field:<id>``)."""
    out: dict[str, AcField] = {}
    if entity in ("contact", "lead"):
        for key, t in AC_CONTACT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        fields = await ac.list_fields()
        # A field's own ``options`` are only option ids; the values come side-loaded as ``fieldOptions``.
        options = await ac.list_all_field_options() if any(_ac_type(f.get("type")) in AC_OPTION_TYPES
                                                            for f in fields) else {}
        for f in fields:
            key = f"field:{f['id']}"
            values = [str(o.get("value") if o.get("value") not in (None, "") else o.get("label") or "")
                      for o in options.get(str(f["id"]), [])]
            out[key] = AcField(key, _ac_type(f.get("type")), str(f.get("title") or ""), values)
        out["accountContact.jobTitle"] = AcField("accountContact.jobTitle", "text", "Job title (account contact)")
        out["account"] = AcField("account", "account", "Account")
    elif entity == "account":
        for key, t in AC_ACCOUNT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        for f in await ac.list_account_custom_fields():
            opts = f.get("fieldOptions") or []
            out[f"field:{f['id']}"] = AcField(f"field:{f['id']}", _ac_type(f.get("fieldType")),
                                              str(f.get("fieldLabel") or ""),
                                              [str(o.get("value") if isinstance(o, dict) else o) for o in opts])
    return out


def _ac_type(t: Any) -> str:
    return str(t or "text").lower()


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
    else:
        for i, m in enumerate(mapping.custom):
            issues.extend(_check_pair(entity, m, meta, ac, f"{prefix}.custom[{i}]", mapping=mapping))
        issues.extend(_check_duplicates(mapping, prefix))
    issues.extend(_check_criteria(entity, mapping, meta, prefix))
    issues.extend(_check_constants(entity, mapping, meta, prefix))
    if mapping.direction != "push" and entity != "opportunity":
        issues.extend(_check_required(entity, mapping, meta, prefix))
    return issues


# ---------------------------------------------------------------------------------------------- mappings


def _flows(mapping: EntityMapping, m: FieldMapping) -> tuple[bool, bool]:
    """(Dynamics → AC, AC → Dynamics) for one mapping within its entity's direction."""
    push = mapping.direction in ("bidirectional", "push") and m.direction in ("both", "push")
    pull = mapping.direction in ("bidirectional", "pull") and m.direction in ("both", "pull")
    return push, pull


def _check_pair(entity: EntityName, m: FieldMapping, meta: EntityMetadata, ac: Mapping[str, AcField], path: str,
                *, mapping: EntityMapping) -> list[ConfigIssue]:
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
    push, pull = _flows(mapping, m)
    if not (push or pull):
        out.append(ConfigIssue(f"{path}.direction", f"a {m.direction} field of a {mapping.direction} entity "
                                                    "never syncs"))
    if attr is None or acf is None:
        return out
    if attr.type_name in LOOKUP_TYPES:
        out.append(ConfigIssue(f"{path}.dynamics", f"{m.dynamics} is a lookup: lookups map only through the "
                                                   "standard Account mapping", candidates_for_ac(acf.type, meta)))
        return out
    if not compatible(attr.type_name, acf.type):
        out.append(ConfigIssue(path, f"{m.dynamics} ({attr.type_name}) is not compatible with "
                                     f"{m.activecampaign} ({acf.type})", candidates_for_dynamics(attr.type_name, ac)))
        return out
    if pull and not attr.is_valid_for_update and not attr.is_valid_for_create:
        out.append(ConfigIssue(f"{path}.dynamics", f"{m.dynamics} is read-only in Dynamics: it can only be pushed"))
    if attr.type_name in OPTION_TYPES and acf.type in AC_OPTION_TYPES:
        out.extend(_check_options(m, attr, acf, path, push=push, pull=pull))
    elif m.option_map is not None:
        out.append(ConfigIssue(f"{path}.option_map", "an option map pairs a Dynamics option set with an "
                                                     "ActiveCampaign field that has options"))
    return out


def _check_options(m: FieldMapping, attr: AttributeMetadata, acf: AcField, path: str, *, push: bool,
                   pull: bool) -> list[ConfigIssue]:
    """Each Dynamics option value maps to a real option of the AC field (and back, when it pulls)."""
    dyn = {str(v): label for v, label in (attr.options or {}).items()}
    if m.option_map is None:
        return [ConfigIssue(f"{path}.option_map", "an option set needs each of its values mapped to an "
                                                  "ActiveCampaign option", sorted(acf.options))]
    out: list[ConfigIssue] = []
    for v, option in m.option_map.items():
        if v not in dyn:
            out.append(ConfigIssue(f"{path}.option_map.{v}", f"{m.dynamics} has no option value {v}", sorted(dyn)))
        if option not in acf.options:
            out.append(ConfigIssue(f"{path}.option_map.{v}", f"{m.activecampaign} has no option {option!r}",
                                   sorted(acf.options)))
    if push:
        for v in sorted(set(dyn) - set(m.option_map), key=_option_order):
            out.append(ConfigIssue(f"{path}.option_map.{v}", f"{m.dynamics} value {v} ({dyn[v]}) has no "
                                                             "ActiveCampaign option", sorted(acf.options)))
    if pull:
        for option in sorted(set(acf.options) - set(m.option_map.values())):
            out.append(ConfigIssue(f"{path}.option_map", f"{m.activecampaign} option {option!r} has no "
                                                         f"{m.dynamics} value", sorted(dyn, key=_option_order)))
    return out


def _option_order(v: str) -> tuple[int, str]:
    return (int(v), v) if v.lstrip("-").isdigit() else (0, v)


def _check_duplicates(mapping: EntityMapping, prefix: str) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    seen_dyn: dict[str, int] = {}
    seen_ac: dict[str, int] = {}
    for i, m in enumerate(mapping.custom):
        if m.dynamics in seen_dyn:
            out.append(ConfigIssue(f"{prefix}.custom[{i}].dynamics",
                                   f"{m.dynamics} is already mapped by custom[{seen_dyn[m.dynamics]}]"))
        if m.activecampaign in seen_ac:
            out.append(ConfigIssue(f"{prefix}.custom[{i}].activecampaign",
                                   f"{m.activecampaign} is already mapped by custom[{seen_ac[m.activecampaign]}]"))
        seen_dyn.setdefault(m.dynamics, i)
        seen_ac.setdefault(m.activecampaign, i)
    return out


# ---------------------------------------------------------------------------------------------- creates


def _check_constants(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                     prefix: str) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    for col, value in mapping.constants.items():
        attr = meta.attributes.get(col)
        path = f"{prefix}.constants.{col}"
        if attr is None:
            out.append(ConfigIssue(path, f"{entity} has no column {col!r}"))
        elif not attr.is_valid_for_create:
            out.append(ConfigIssue(path, f"{col} cannot be set when a {entity} is created"))
        elif (problem := _value_problem(attr, value)) is not None:
            out.append(ConfigIssue(path, problem))
    return out


def _check_required(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                    prefix: str) -> list[ConfigIssue]:
    mapped = {f.dynamics for f in mapped_fields(entity, mapping) if _flows(mapping, f)[1]}
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


# ---------------------------------------------------------------------------------------------- criteria


def _value_problem(attr: AttributeMetadata, value: Any) -> str | None:
    """Why ``value`` cannot be compared with (or stored in) ``attr``; ``None`` when it can."""
    t = attr.type_name
    name = attr.logical_name
    if t in TEXT_TYPES:
        return None if isinstance(value, str) else f"{name} is text: give a text value"
    if t == "BooleanType":
        return None if isinstance(value, bool) else f"{name} is yes/no: give true or false"
    if t in INTEGER_TYPES:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} takes a whole number"
        if attr.options and value not in attr.options:
            return f"{name} has no option value {value}"
        return None
    if t in NUMBER_TYPES:
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"{name} takes a number"
    if t == "DateTimeType":
        if isinstance(value, (date, datetime)):
            return None
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return f"{name} takes a date (YYYY-MM-DD) or an ISO 8601 date and time"
        return None
    if t in LOOKUP_TYPES or t == "UniqueidentifierType":
        return None if isinstance(value, str) and _is_guid(value) else f"{name} takes a record id (GUID)"
    return f"{name} ({t}) cannot be used in criteria"


def _is_guid(v: str) -> bool:
    import re

    return re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", v) is not None


def _check_condition(c: Condition, meta: EntityMetadata, path: str) -> list[ConfigIssue]:
    attr = meta.attributes.get(c.field)
    if attr is None:
        return [ConfigIssue(f"{path}.field", f"no column {c.field!r}", sorted(meta.attributes))]
    t = attr.type_name
    if c.operator in LIKE_OPERATORS and t not in TEXT_TYPES:
        return [ConfigIssue(f"{path}.operator", f"{c.operator} works on text; {c.field} is {t}")]
    if c.operator in ORDER_OPERATORS and t not in ORDERED_TYPES:
        return [ConfigIssue(f"{path}.operator", f"{c.operator} compares numbers and dates; {c.field} is {t} "
                                                "(text order depends on the server's collation)")]
    if c.operator in ("is_empty", "is_not_empty"):
        return []
    values = c.value if isinstance(c.value, list) else [c.value]
    out: list[ConfigIssue] = []
    for j, v in enumerate(values):
        vpath = f"{path}.value[{j}]" if isinstance(c.value, list) else f"{path}.value"
        if c.operator in LIKE_OPERATORS:
            problem = None if isinstance(v, (str, int, float)) and v != "" else "give the text to look for"
        elif v == "":
            problem = "an empty value matches nothing: use is_empty / is_not_empty"
        else:
            problem = _value_problem(attr, v)
        if problem is not None:
            out.append(ConfigIssue(vpath, problem))
    return out


def _check_criteria(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                    prefix: str) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    if mapping.scope == "criteria" and not mapping.criteria:
        out.append(ConfigIssue(f"{prefix}.criteria", "match criteria needs at least one condition"))
    for i, c in enumerate(mapping.criteria):
        out.extend(_check_condition(c, meta, f"{prefix}.criteria[{i}]"))
    if mapping.scope == "custom" and entity != "opportunity":
        out.append(ConfigIssue(f"{prefix}.scope", "custom criteria exist for opportunities only"))
    elif mapping.scope == "custom":
        if not mapping.custom_filter or not mapping.custom_filter.strip():
            out.append(ConfigIssue(f"{prefix}.custom_filter", "custom criteria need a filter expression"))
        else:
            out.extend(check_custom_filter(mapping.custom_filter, meta, f"{prefix}.custom_filter"))
    return out


def check_custom_filter(text: str, meta: EntityMetadata, path: str) -> list[ConfigIssue]:
    """A custom ``$filter`` text: it parses, names real columns, and uses operators their types support."""
    try:
        root = parse_filter(text).root
    except ODataSyntaxError as e:
        return [ConfigIssue(path, str(e))]
    out: list[ConfigIssue] = []
    for problem in _filter_problems(root, meta):
        if all(problem != i.message for i in out):
            out.append(ConfigIssue(path, problem))
    return out


def _filter_column(name: str, meta: EntityMetadata) -> AttributeMetadata | None:
    attr = meta.attributes.get(name)
    if attr is not None and attr.type_name not in LOOKUP_TYPES:
        return attr
    if name.startswith("_") and name.endswith("_value"):
        base = meta.attributes.get(name[1:-6])
        if base is not None and base.type_name in LOOKUP_TYPES:
            return base
    return None


def _filter_problems(node: Node, meta: EntityMetadata) -> Iterable[str]:
    if isinstance(node, BoolOp):
        yield from _filter_problems(node.left, meta)
        yield from _filter_problems(node.right, meta)
        return
    if isinstance(node, Not):
        yield from _filter_problems(node.operand, meta)
        return
    name = node.column.name if isinstance(node, Call) else node.left.name
    attr = _filter_column(name, meta)
    if attr is None:
        looked_up = meta.attributes.get(name)
        yield (f"{name} is a lookup: filter on _{name}_value" if looked_up is not None
               else f"no column {name!r}")
        return
    if isinstance(node, Call):
        if attr.type_name not in TEXT_TYPES:
            yield f"{node.fn}() works on text; {name} is {attr.type_name}"
        return
    assert isinstance(node, Compare)
    if node.op in ORDER_OPERATORS and attr.type_name not in ORDERED_TYPES:
        yield (f"{node.op} compares numbers and dates; {name} is {attr.type_name} "
               "(text order depends on the server's collation)")
    elif node.right.value is not None and (problem := _value_problem(attr, node.right.value)) is not None:
        yield problem
