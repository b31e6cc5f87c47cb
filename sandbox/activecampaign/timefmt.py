"""Rendering and parsing AC timestamps.

v3 contact-ish resources render ISO-8601 with the account's offset (``2018-09-12T16:53:50-05:00``);
``*_utc_timestamp`` and account custom-field data render ``YYYY-MM-DD HH:MM:SS``; custom objects render UTC
``Z`` with nanoseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo


def iso_local(ts: float | None, zone: str) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).isoformat(timespec="seconds")


def plain_local(ts: float, zone: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def plain_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def local_date(ts: float, zone: str) -> str:
    return datetime.fromtimestamp(ts, ZoneInfo(zone)).date().isoformat()


def nano_utc(ts: float) -> str:
    whole = int(ts)
    nanos = round((ts - whole) * 1_000_000_000)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_filter_time(value: str, *, naive_zone: tzinfo, granularity: str) -> float:
    """Threshold (epoch seconds) for ``filters[updated_after]`` and friends.

    A value without an offset is read in ``naive_zone``. With ``granularity == "date"`` only the date part of
    the value counts and the threshold is 00:00 of that day. Raises ValueError on an unreadable value.
    """
    text = value.strip().replace(" ", "T", 1)
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if _DATE_ONLY.match(text):
        parsed = datetime.combine(date.fromisoformat(text), time(0, 0))
    else:
        parsed = datetime.fromisoformat(text)
    zone = parsed.tzinfo or naive_zone
    if granularity == "date":
        parsed = datetime.combine(parsed.date(), time(0, 0))
    return parsed.replace(tzinfo=zone).timestamp()


def is_iso_date(value: str) -> bool:
    if not _DATE_ONLY.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def is_iso_datetime(value: str) -> bool:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return "T" in value
