"""Criteria: evaluated in memory (change-tracking reads forbid ``$filter``) and compiled to ``$filter``.

Both forms follow one meaning, chosen so that it does not depend on readings the documentation
leaves open (DESIGN.md §5, register in ``sandbox/dynamics/ASSUMPTIONS.md``):

- strings compare ignoring case, and ignoring accents when ``accent_insensitive`` (register #1:
  the server's collation decides; the engine passes the connection's reading);
- a null or empty-string value satisfies nothing but ``is_empty`` — ``ne`` and ``not_contains``
  included. The compiled filter says so explicitly (``col ne null and ...``), so it holds whether
  or not the server lets ``ne`` match null (register #2);
- ``contains``/``starts_with``/``ends_with`` are literal: ``%``, ``_`` and ``[`` are escaped,
  since Dataverse reads these functions as SQL ``LIKE`` patterns;
- ``gt``/``ge``/``lt``/``le`` are for numbers (text order is the server collation's business and
  validation refuses it).

``column_types`` (Dataverse ``AttributeTypeName`` by column) lets the compiled filter name the
empty string of text columns; without it a text column is recognised by a text value.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync_core.engine.mapping import read_column
from sync_core.model.config import Condition, Scalar

TEXT_TYPES = frozenset({"StringType", "MemoType"})
LIKE_OPERATORS = frozenset({"contains", "not_contains", "starts_with", "ends_with"})
ORDER_OPERATORS = frozenset({"gt", "ge", "lt", "le"})


def fold(s: str, *, accent_insensitive: bool) -> str:
    """The form two strings are compared in: case folded, and accents removed when asked."""
    s = s.casefold()
    if accent_insensitive:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        s = unicodedata.normalize("NFC", s)
    return s


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
    if op in LIKE_OPERATORS:
        a = fold(_text(raw), accent_insensitive=ai)
        b = fold(_text(value), accent_insensitive=ai)
        if op == "contains":
            return b in a
        if op == "not_contains":
            return b not in a
        if op == "starts_with":
            return a.startswith(b)
        return a.endswith(b)
    a, b = _comparable(raw, value, ai)
    if a is None or b is None:
        return False  # a text value against a number column (validation refuses it): no match
    if op == "eq":
        return bool(a == b)
    if op == "ne":
        return bool(a != b)
    if isinstance(a, str):
        return False  # text order is the server collation's business (validation refuses it)
    try:
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


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _comparable(raw: Any, value: Scalar, ai: bool) -> tuple[Any, Any]:
    if isinstance(raw, bool) or isinstance(value, bool):
        return (raw if isinstance(raw, bool) else None), (value if isinstance(value, bool) else None)
    if isinstance(raw, (int, float, Decimal)):
        if isinstance(value, (int, float)):
            return Decimal(str(raw)), Decimal(str(value))
        return None, None
    if isinstance(value, str):
        when = _instant(raw), _instant(value)
        if when[0] is not None and when[1] is not None:
            return when  # a date/time column: Dataverse answers ISO 8601 text, criteria hold ISO text
        return fold(str(raw), accent_insensitive=ai), fold(value, accent_insensitive=ai)
    return None, None


def _instant(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if not isinstance(v, str) or len(v) < 10 or not v[:4].isdigit() or v[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def odata_literal(value: Scalar | None) -> str:
    """A value as OData text: strings quoted with ``'`` doubled; numbers never in exponent form."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity have no OData literal")
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else f"{text}.0"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


def _instant_literal(value: str) -> str:
    """ISO text as an OData date/time literal (unquoted, UTC)."""
    when = _instant(value)
    assert when is not None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def escape_like(value: str) -> str:
    """Make ``%``, ``_`` and ``[`` literal inside contains/startswith/endswith (T-SQL: ``[%]``)."""
    return "".join(f"[{ch}]" if ch in "%_[" else ch for ch in value)


def to_odata_filter(conditions: Sequence[Condition], *, column_types: Mapping[str, str] | None = None) -> str | None:
    """The same criteria as an OData ``$filter`` expression (``None`` when there are none)."""
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
        return " or ".join(f"{col} eq {odata_literal(v)}" for v in c.value if v != "") or never
    assert c.value is not None and not isinstance(c.value, list)
    if c.value == "":  # the empty string is "no value": only ne/not_contains/... of it hold, on present values
        return present if c.operator in ("ne", "contains", "starts_with", "ends_with") else never
    if types.get(c.field) == "DateTimeType" and isinstance(c.value, str) and _instant(c.value) is not None:
        expr = f"{col} {c.operator} {_instant_literal(c.value)}"
        return f"{present} and {expr}" if c.operator == "ne" else expr
    if c.operator in ORDER_OPERATORS and isinstance(c.value, str):
        return never  # text order is the collation's (validation refuses it): matches nothing, as in memory
    if c.operator in LIKE_OPERATORS:
        fn = {"contains": "contains", "not_contains": "contains", "starts_with": "startswith",
              "ends_with": "endswith"}[c.operator]
        lit = "'" + escape_like(_text(c.value)).replace("'", "''") + "'"
        expr = f"{fn}({col},{lit})"
        # An empty or null value satisfies no condition, not_contains included (see the module doc).
        return f"{present} and not {expr}" if c.operator == "not_contains" else expr
    if c.operator == "ne":
        return f"{present} and {col} ne {odata_literal(c.value)}"
    return f"{col} {c.operator} {odata_literal(c.value)}"
