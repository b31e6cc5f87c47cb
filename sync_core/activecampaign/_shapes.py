"""Reading AC's envelopes: a single resource under its singular name, a collection under its plural."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote


def seg(value: str | int) -> str:
    """One path segment, escaped."""
    return quote(str(value), safe="")


def one(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    return value if isinstance(value, dict) else {}


def many(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = body.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
