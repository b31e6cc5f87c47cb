"""Criteria in memory: what a condition means, evaluated on a record as Dynamics returned it.

Change-tracking reads forbid ``$filter``, so criteria are evaluated here; where a read allows one,
the Dynamics package compiles the same conditions to ``$filter`` (``sync_core.dynamics``
``compile_criteria``) with the same meaning, chosen so that it does not depend on readings the
documentation chosen so that it does not depend on readings the documentation
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
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sync_core.model.standard import read_column

if TYPE_CHECKING:  # config uses these semantics; the types are only named here
    from sync_core.model.config import Condition, Scalar

TEXT_TYPES = frozenset({"StringType", "MemoType"})
LIKE_OPERATORS = frozenset({"contains", "not_contains", "starts_with", "ends_with"})
ORDER_OPERATORS = frozenset({"gt", "ge", "lt", "le"})
NO_VALUE_OPERATORS = frozenset({"is_empty", "is_not_empty"})
LIST_OPERATORS = frozenset({"in"})
"""The operators that take no value, and those that take a non-empty list; every other takes one value."""


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
        a = fold(as_text(raw), accent_insensitive=ai)
        b = fold(as_text(value), accent_insensitive=ai)
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


def as_text(v: Any) -> str:
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
        when = instant(raw), instant(value)
        if when[0] is not None and when[1] is not None:
            return when  # a date/time column: Dataverse answers ISO 8601 text, criteria hold ISO text
        return fold(str(raw), accent_insensitive=ai), fold(value, accent_insensitive=ai)
    return None, None


def instant(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if not isinstance(v, str) or len(v) < 10 or not v[:4].isdigit() or v[4:5] != "-":
        return None
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
