"""Saving a configuration checks it against both systems' metadata and names the field of every issue.

The rules are the seed's Data Configuration rules (DESIGN.md §5): every mapped field exists
on its side; each pair is type-compatible by :data:`COMPATIBLE` (and the compatible
candidates of a field can be listed); AC deal fields cannot be mapped; Email and Account
stay on; a standard field turned off may be remapped to a custom field, one still on may
not; when records may be created in Dynamics (pull or bi-directional), every column a create
needs is mapped or given a constant; option sets map value by value to the AC field's
options; opportunity fields are fixed; criteria and custom filters name real columns with
operators their type supports (``validation_criteria``).

Every issue carries ``field``, a dotted path into the configuration document
(``entities.leads.custom[0].dynamics``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sync_core.engine.validation_criteria import check_criteria
from sync_core.engine.validation_requests import check_create_requests
from sync_core.engine.validation_types import (
    AC_OPTION_TYPES,
    AUTO_FILLED,
    CONFIG_KEY,
    LOOKUP_TYPES,
    OPTION_TYPES,
    AcField,
    ConfigIssue,
    ac_fields,
    candidates_for_ac,
    candidates_for_dynamics,
    compatible,
)
from sync_core.model.config import ConnectionConfig, EntityMapping, FieldMapping, mapped_fields
from sync_core.model.standard import STANDARD_FIELDS
from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import AttributeMetadata, DataverseClient, EntityMetadata

__all__ = ["AcField", "ConfigIssue", "ac_fields", "candidates_for_ac", "candidates_for_dynamics", "check_entity",
           "compatible", "required_columns", "validate_connection_config"]

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
    issues.extend(await check_create_requests(config, dv))
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
    issues.extend(check_criteria(entity, mapping, meta, prefix))
    issues.extend(_check_pulled_columns(entity, mapping, meta, prefix))
    return issues


# ---------------------------------------------------------------------------------------------- mappings


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
    push, pull = mapping.flows(m)
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


def _check_pulled_columns(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
                          prefix: str) -> list[ConfigIssue]:
    """A field that travels ActiveCampaign → Dynamics must be a column Dataverse lets us update."""
    out: list[ConfigIssue] = []
    standard = {s.dynamics: s.key for s in STANDARD_FIELDS[entity]}
    custom = {m.dynamics: i for i, m in enumerate(mapping.custom)}
    for f in mapped_fields(entity, mapping):
        attr = meta.attributes.get(f.dynamics)
        if attr is None or not mapping.flows(f)[1] or attr.is_valid_for_update:
            continue
        path = (f"{prefix}.custom[{custom[f.dynamics]}].direction" if f.dynamics in custom
                else f"{prefix}.standard.{standard.get(f.dynamics, f.dynamics)}")
        out.append(ConfigIssue(path, f"{f.dynamics} cannot be updated in Dynamics (not valid for update): it can "
                                     "only travel Dynamics → ActiveCampaign (direction push)"))
    return out


def required_columns(meta: EntityMetadata) -> set[str]:
    return {a.logical_name for a in meta.attributes.values()
            if a.required_level in ("ApplicationRequired", "SystemRequired") and a.is_valid_for_create
            and a.logical_name not in AUTO_FILLED and a.logical_name != meta.primary_id_attribute}


def dynamics_field_types(meta: EntityMetadata) -> Iterable[tuple[str, str]]:
    return ((a.logical_name, a.type_name) for a in meta.attributes.values())
