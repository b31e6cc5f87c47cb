"""Configuration checks of criteria and custom filters: real columns, operators their types support,
values of the column's type (the semantics are ``model.criteria`` and the Dynamics package's filter)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Literal, get_args

from sync_core.dynamics import (
    AttributeMetadata,
    BoolOp,
    Call,
    Compare,
    EntityMetadata,
    Node,
    Not,
    ODataSyntaxError,
    is_guid,
    parse_filter,
)
from sync_core.engine.validation_types import (
    INTEGER_TYPES,
    LOOKUP_TYPES,
    NUMBER_TYPES,
    ORDERED_TYPES,
    ConfigIssue,
)
from sync_core.model.config import Condition, EntityMapping, Operator
from sync_core.model.criteria import LIKE_OPERATORS, NO_VALUE_OPERATORS, ORDER_OPERATORS, TEXT_TYPES
from sync_core.model.state import EntityName

ValueKind = Literal["text", "yes_no", "whole_number", "number", "date", "record_id"]
OPERATORS: tuple[Operator, ...] = get_args(Operator)


def value_kind(type_name: str) -> ValueKind | None:
    """What a condition on a column of this type compares with; ``None``: the type cannot be used in criteria."""
    if type_name in TEXT_TYPES:
        return "text"
    if type_name == "BooleanType":
        return "yes_no"
    if type_name in INTEGER_TYPES:  # before NUMBER_TYPES: IntegerType and BigIntType are in both
        return "whole_number"
    if type_name in NUMBER_TYPES:
        return "number"
    if type_name == "DateTimeType":
        return "date"
    if type_name in LOOKUP_TYPES or type_name == "UniqueidentifierType":
        return "record_id"
    return None


CRITERIA_TYPES: tuple[str, ...] = tuple(sorted(
    TEXT_TYPES | INTEGER_TYPES | NUMBER_TYPES | LOOKUP_TYPES | {"BooleanType", "DateTimeType", "UniqueidentifierType"}))
"""The column types criteria accept: those ``value_kind`` knows."""


def operator_problem(operator: str, name: str, type_name: str) -> str | None:
    """Why ``operator`` cannot be used on column ``name`` of that type; ``None`` when it can."""
    if operator in LIKE_OPERATORS and type_name not in TEXT_TYPES:
        return f"{operator} works on text; {name} is {type_name}"
    if operator in ORDER_OPERATORS and type_name not in ORDERED_TYPES:
        return (f"{operator} compares numbers and dates; {name} is {type_name} "
                "(text order depends on the server's collation)")
    return None


ANY_TYPE_OPERATORS: list[Operator] = [op for op in OPERATORS if op in NO_VALUE_OPERATORS]
"""What a condition on a column of a type ``value_kind`` does not know may use: no value to compare."""


def operators_for(type_name: str) -> list[Operator]:
    """The operators a condition on a column of this type may use: the checks below accept them with a value of
    the column's kind."""
    if value_kind(type_name) is None:
        return list(ANY_TYPE_OPERATORS)
    return [op for op in OPERATORS if operator_problem(op, "", type_name) is None]


def value_problem(attr: AttributeMetadata, value: Any) -> str | None:
    """Why ``value`` cannot be compared with (or stored in) ``attr``; ``None`` when it can."""
    kind = value_kind(attr.type_name)
    name = attr.logical_name
    if kind == "text":
        return None if isinstance(value, str) else f"{name} is text: give a text value"
    if kind == "yes_no":
        return None if isinstance(value, bool) else f"{name} is yes/no: give true or false"
    if kind == "whole_number":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} takes a whole number"
        if attr.options and value not in attr.options:
            return f"{name} has no option value {value}"
        return None
    if kind == "number":
        return None if isinstance(value, (int, float)) and not isinstance(value, bool) else f"{name} takes a number"
    if kind == "date":
        if isinstance(value, (date, datetime)):
            return None
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return f"{name} takes a date (YYYY-MM-DD) or an ISO 8601 date and time"
        return None
    if kind == "record_id":
        return None if isinstance(value, str) and is_guid(value) else f"{name} takes a record id (GUID)"
    return f"{name} ({attr.type_name}) cannot be used in criteria"


def _check_condition(c: Condition, meta: EntityMetadata, path: str) -> list[ConfigIssue]:
    attr = meta.attributes.get(c.field)
    if attr is None:
        return [ConfigIssue(f"{path}.field", f"no column {c.field!r}", sorted(meta.attributes))]
    if (problem := operator_problem(c.operator, c.field, attr.type_name)) is not None:
        return [ConfigIssue(f"{path}.operator", problem)]
    if c.operator in NO_VALUE_OPERATORS:
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
            problem = value_problem(attr, v)
        if problem is not None:
            out.append(ConfigIssue(vpath, problem))
    return out


def check_criteria(entity: EntityName, mapping: EntityMapping, meta: EntityMetadata,
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
    problem = operator_problem(node.op, name, attr.type_name)
    if problem is None and node.right.value is not None:
        problem = value_problem(attr, node.right.value)
    if problem is not None:
        yield problem
