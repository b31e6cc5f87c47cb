"""Criteria: evaluated in memory (change-tracking reads forbid ``$filter``) and compiled to ``$filter``.

Both forms follow Dataverse's semantics (DESIGN.md §5): string comparison ignores case (and,
with the default collation, accents — a register entry); a comparison with null is false
(SQL three-valued logic), except ``is_empty``/``is_not_empty``; ``contains``/``starts_with``/
``ends_with`` are literal, so ``%``, ``_`` and ``[`` are escaped in the compiled filter.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sync_core.engine.mapping import read_column
from sync_core.model.config import Condition, Scalar


def _fold(s: str, *, accent_insensitive: bool) -> str:
    s = s.casefold()
    if accent_insensitive:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
    return s


def _coerce(a: Any, b: Scalar, accent_insensitive: bool) -> tuple[Any, Any]:
    if isinstance(a, str) and isinstance(b, str):
        return _fold(a, accent_insensitive=accent_insensitive), _fold(b, accent_insensitive=accent_insensitive)
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a), bool(b)
    if isinstance(a, (int, float)) and isinstance(b, str):
        try:
            return a, float(b)
        except ValueError:
            return str(a), b
    if isinstance(a, str) and isinstance(b, (int, float)):
        try:
            return float(a), b
        except ValueError:
            return a, str(b)
    return a, b


def matches(record: Mapping[str, Any], conditions: Sequence[Condition], *, accent_insensitive: bool = True) -> bool:
    """True when the record satisfies every condition (they are ANDed)."""
    return all(_holds(record, c, accent_insensitive) for c in conditions)


def _holds(record: Mapping[str, Any], c: Condition, ai: bool) -> bool:
    raw = record.get(read_column(c.field))
    empty = raw is None or raw == ""
    if c.operator == "is_empty":
        return empty
    if c.operator == "is_not_empty":
        return not empty
    if empty:
        return False
    if c.operator == "in":
        assert isinstance(c.value, list)
        return any(_compare(raw, "eq", v, ai) for v in c.value)
    assert c.value is not None and not isinstance(c.value, list)
    return _compare(raw, c.operator, c.value, ai)


def _compare(raw: Any, op: str, value: Scalar, ai: bool) -> bool:
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        a = _fold(str(raw), accent_insensitive=ai)
        b = _fold(str(value), accent_insensitive=ai)
        if op == "contains":
            return b in a
        if op == "not_contains":
            return b not in a
        if op == "starts_with":
            return a.startswith(b)
        return a.endswith(b)
    a, b = _coerce(raw, value, ai)
    try:
        if op == "eq":
            return bool(a == b)
        if op == "ne":
            return bool(a != b)
        if op == "gt":
            return bool(a > b)
        if op == "ge":
            return bool(a >= b)
        if op == "lt":
            return bool(a < b)
        if op == "le":
            return bool(a <= b)
    except TypeError:
        return False
    raise ValueError(f"unknown operator {op}")


def odata_literal(value: Scalar | None) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def escape_like(value: str) -> str:
    """Make ``%``, ``_`` and ``[`` literal inside contains/startswith/endswith."""
    return value.replace("[", "[[]").replace("%", "[%]").replace("_", "[_]")


def to_odata_filter(conditions: Sequence[Condition]) -> str | None:
    """The same criteria as an OData ``$filter`` expression (``None`` when there are none)."""
    parts = [_compile(c) for c in conditions]
    if not parts:
        return None
    return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]


def _compile(c: Condition) -> str:
    col = read_column(c.field)
    if c.operator == "is_empty":
        return f"{col} eq null"
    if c.operator == "is_not_empty":
        return f"{col} ne null"
    if c.operator == "in":
        assert isinstance(c.value, list)
        return " or ".join(f"{col} eq {odata_literal(v)}" for v in c.value)
    assert c.value is not None and not isinstance(c.value, list)
    if c.operator in ("contains", "not_contains", "starts_with", "ends_with"):
        fn = {"contains": "contains", "not_contains": "contains", "starts_with": "startswith",
              "ends_with": "endswith"}[c.operator]
        lit = "'" + escape_like(str(c.value)).replace("'", "''") + "'"
        expr = f"{fn}({col},{lit})"
        # not contains() is true for null in OData, false in memory: keep the null out explicitly.
        return f"{col} ne null and not {expr}" if c.operator == "not_contains" else expr
    if c.operator == "ne":
        return f"{col} ne null and {col} ne {odata_literal(c.value)}"
    return f"{col} {c.operator} {odata_literal(c.value)}"
