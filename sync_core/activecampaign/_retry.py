"""When to try again: ``Retry-After`` parsing and capped exponential backoff."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})
"""Statuses that mean "slow down": honour Retry-After and pause every sharer of the budget."""


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date; None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        return max(0.0, (when - now).total_seconds())
    if seconds != seconds or seconds < 0:  # NaN or negative
        return None
    return seconds


def backoff(attempt: int, *, base: float, cap: float) -> float:
    """Wait before retry number ``attempt`` (0-based): base·2^attempt, capped."""
    return float(min(cap, base * (2 ** min(attempt, 30))))
