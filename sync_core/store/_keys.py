"""RowKey building blocks: every id or email round-trips, and ordering does what queries need.

Table keys may not hold ``/ \\ # ?`` or control characters, and ``'`` or ``|`` would confuse our
filters and separators, so values are percent-encoded (``quote``) with only a small safe set left
readable. ``|`` separates key parts and never appears inside an encoded part.
"""

from __future__ import annotations

import string
from datetime import UTC, datetime
from urllib.parse import quote, unquote

SEP = "|"
_SAFE = "@+="  # plus quote's always-safe "_.-~"
_MAX_TICKS = 10**19 - 1


def ascii_quoter(safe: str) -> dict[int, str]:
    """``str.translate`` table that percent-encodes an ASCII string as ``quote(s, safe=safe)`` does
    (letters, digits, ``_.-~`` and ``safe`` kept; every other character as ``%XX``): one C call
    instead of quote's per-byte Python loop, for the ids and emails every key is built from."""
    kept = set(string.ascii_letters + string.digits + "_.-~" + safe)
    return {c: chr(c) if chr(c) in kept else f"%{c:02X}" for c in range(128)}


_ENC = ascii_quoter(_SAFE)


def enc(value: str) -> str:
    """A key part for ``value``: percent-encoded, reversible with :func:`dec`."""
    if value.isascii():
        return value.translate(_ENC)
    return quote(value, safe=_SAFE)


def dec(part: str) -> str:
    return unquote(part)


def key(*parts: str) -> str:
    """Join already-encoded parts."""
    return SEP.join(parts)


def prefix_range(prefix: str) -> tuple[str, str]:
    """``(low, high)`` so that ``low <= RowKey < high`` selects exactly the keys starting with ``prefix``."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def newest_first(at: datetime) -> str:
    """A fixed-width key part that sorts later times first (Table queries return keys ascending)."""
    micros = int(as_utc(at).timestamp() * 1_000_000)
    return f"{_MAX_TICKS - micros:019d}"


def as_utc(at: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)
