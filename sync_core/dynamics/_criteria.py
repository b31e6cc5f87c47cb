"""Criteria compiled to an OData ``$filter`` with the meaning of ``model.criteria`` (so a read that
allows ``$filter`` selects exactly the records the in-memory evaluation keeps)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC

from sync_core.dynamics._odata import escape_like, format_literal, quote_string
from sync_core.model.config import Condition
from sync_core.model.criteria import LIKE_OPERATORS, ORDER_OPERATORS, TEXT_TYPES, as_text, instant
from sync_core.model.standard import read_column


def _instant_literal(value: str) -> str:
    """ISO text as an OData date/time literal (unquoted, UTC, whole seconds)."""
    when = instant(value)
    assert when is not None
    return format_literal(when.astimezone(UTC).replace(microsecond=0))


def compile_criteria(conditions: Sequence[Condition], *, column_types: Mapping[str, str] | None = None) -> str | None:
    """The criteria as an OData ``$filter`` expression with the meaning of ``model.criteria`` (``None``
    when there are none). ``column_types`` (``AttributeTypeName`` by column) lets it name the empty
    string of text columns; without it a text column is recognised by a text value."""
    parts = [_compile(c, column_types or {}) for c in conditions]
    if not parts:
        return None
    return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def _is_text(c: Condition, types: Mapping[str, str]) -> bool:
    t = types.get(c.field)
    if t is not None:
        return t in TEXT_TYPES
    values = c.value if isinstance(c.value, list) else [c.value]
    return any(isinstance(v, str) for v in values) or c.operator in LIKE_OPERATORS


def _compile(c: Condition, types: Mapping[str, str]) -> str:
    col = read_column(c.field)
    text = _is_text(c, types)
    present = f"{col} ne null and {col} ne ''" if text else f"{col} ne null"
    if c.operator == "is_empty":
        return f"{col} eq null or {col} eq ''" if text else f"{col} eq null"
    if c.operator == "is_not_empty":
        return present
    never = f"{col} eq null and {col} ne null"  # false under either null reading
    if c.operator == "in":
        assert isinstance(c.value, list)
        return " or ".join(f"{col} eq {format_literal(v)}" for v in c.value if v != "") or never
    assert c.value is not None and not isinstance(c.value, list)
    if c.value == "":  # the empty string is "no value": only ne/not_contains/... of it hold, on present values
        return present if c.operator in ("ne", "contains", "starts_with", "ends_with") else never
    if types.get(c.field) == "DateTimeType" and isinstance(c.value, str) and instant(c.value) is not None:
        expr = f"{col} {c.operator} {_instant_literal(c.value)}"
        return f"{present} and {expr}" if c.operator == "ne" else expr
    if c.operator in ORDER_OPERATORS and isinstance(c.value, str):
        return never  # text order is the collation's (validation refuses it): matches nothing, as in memory
    if c.operator in LIKE_OPERATORS:
        fn = {"contains": "contains", "not_contains": "contains", "starts_with": "startswith",
              "ends_with": "endswith"}[c.operator]
        lit = quote_string(escape_like(as_text(c.value)))
        expr = f"{fn}({col},{lit})"
        # An empty or null value satisfies no condition, not_contains included (see the module doc).
        return f"{present} and not {expr}" if c.operator == "not_contains" else expr
    if c.operator == "ne":
        return f"{present} and {col} ne {format_literal(c.value)}"
    return f"{col} {c.operator} {format_literal(c.value)}"
