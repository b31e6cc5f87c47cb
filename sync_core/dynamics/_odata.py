"""OData literal formatting for ``$filter`` expressions.

The helpers return OData *text* (``name eq 'O''Brien'``); the client percent-encodes the whole
query option when it builds the URL, so ``+``, ``&``, ``#`` and non-ASCII need no care here
(reference §9: "URL-encode special chars in values").
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from uuid import UUID

_GUID = re.compile(r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$")

# Characters left as they are in a query option value; everything else is percent-encoded,
# notably ``%`` ``+`` ``&`` ``#`` ``=`` ``;`` and spaces.
_QUERY_SAFE = "$,()'*:@/!-._~"


def quote_string(value: str) -> str:
    """An OData string literal: single quotes around, embedded quotes doubled (``'O''Brien'``)."""
    return "'" + value.replace("'", "''") + "'"


def escape_like(value: str) -> str:
    """Make ``%``, ``_`` and ``[`` literal inside ``contains``/``startswith``/``endswith``.

    Dataverse evaluates these functions as T-SQL ``LIKE`` patterns, where ``%``, ``_``, ``[]``
    and ``[^]`` are wildcards (filter-rows.md "Use wildcard characters"); T-SQL makes a
    wildcard literal by enclosing it in brackets. Quote the result with :func:`quote_string`.
    """
    out = []
    for ch in value:
        out.append(f"[{ch}]" if ch in "%_[" else ch)
    return "".join(out)


def format_literal(value: Any) -> str:
    """Any Python value as an OData literal for ``$filter``.

    Datetimes become unquoted UTC ISO-8601 (``2024-01-01T00:00:00Z``; naive ones are taken as
    UTC), dates ``2024-01-01``, GUIDs unquoted, ``None`` ``null``, booleans ``true``/``false``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and infinity have no OData literal here")
        text = format(Decimal(repr(value)), "f")  # never in exponent form
        return text if "." in text else f"{text}.0"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("NaN and infinity have no OData literal here")
        return format(value, "f")
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        utc = aware.astimezone(UTC)
        text = utc.strftime("%Y-%m-%dT%H:%M:%S")
        if utc.microsecond:
            text += f".{utc.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return quote_string(value)
    raise TypeError(f"no OData literal for {type(value).__name__}")


def is_guid(value: str) -> bool:
    return bool(_GUID.match(value))


def normalize_guid(value: str | UUID) -> str:
    """Lower-case, no braces: the form Dataverse returns and the form we compare."""
    return str(UUID(str(value)))


def key_segment(record_id: str | UUID) -> str:
    """The key inside ``entityset(...)``: a GUID as is, or an alternate key ``col='v',col2=1`` verbatim."""
    text = str(record_id)
    if is_guid(text):
        return normalize_guid(text)
    if "=" in text:
        return text
    raise ValueError("a record id is a GUID or an alternate key expression like emailaddress1='a@b.c'")


def alternate_key(**columns: Any) -> str:
    """An alternate-key segment, e.g. ``alternate_key(emailaddress1="a@b.c")`` → ``emailaddress1='a@b.c'``."""
    if not columns:
        raise ValueError("an alternate key needs at least one column")
    return ",".join(f"{name}={format_literal(value)}" for name, value in columns.items())


def encode_query(options: list[tuple[str, str]]) -> str:
    """``$select=a,b&$filter=...`` with each value percent-encoded (names kept, they are ``$``-prefixed)."""
    return "&".join(f"{name}={quote(value, safe=_QUERY_SAFE)}" for name, value in options)
