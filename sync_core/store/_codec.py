"""Python values ⇄ Table entity properties.

Long text (JSON documents, last synced values, delta links) is split across numbered
properties, because one string property holds at most 64 KiB (32,768 UTF-16 code units) while a
whole entity may hold 1 MiB. Datetimes are stored as aware UTC ``Edm.DateTime``; counters as
``Edm.Int64``; dicts and lists as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from azure.data.tables import EdmType, EntityProperty

from sync_core.store._keys import as_utc
from sync_core.store.errors import ValueTooLargeError

CHUNK_UNITS = 32_000
"""UTF-16 code units per string property (Azure's limit is 32,768)."""
ENTITY_BYTES = 1_000_000
"""Our ceiling for one entity, under Azure's 1 MiB including keys and property names."""
MAX_PROPERTIES = 250


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _split(text: str) -> list[str]:
    out: list[str] = []
    rest = text
    while rest:
        piece = rest[:CHUNK_UNITS]
        excess = _units(piece) - CHUNK_UNITS
        while excess > 0:  # characters outside the BMP take two units each
            piece = piece[: len(piece) - max(1, excess // 2)]
            excess = _units(piece) - CHUNK_UNITS
        out.append(piece)
        rest = rest[len(piece):]
    return out or [""]


def put_text(entity: dict[str, Any], name: str, text: str | None) -> None:
    """Store ``text`` under ``name`` (and ``name__1``, ``name__2`` … when it is long)."""
    if text is None:
        return
    parts = _split(text)
    entity[name] = parts[0]
    for i, part in enumerate(parts[1:], start=1):
        entity[f"{name}__{i}"] = part


def get_text(entity: Mapping[str, Any], name: str) -> str | None:
    first = entity.get(name)
    if first is None:
        return None
    parts = [str(first)]
    i = 1
    while (more := entity.get(f"{name}__{i}")) is not None:
        parts.append(str(more))
        i += 1
    return "".join(parts)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def put_json(entity: dict[str, Any], name: str, value: Any) -> None:
    put_text(entity, name, dumps(value))


def get_json(entity: Mapping[str, Any], name: str, default: Any = None) -> Any:
    text = get_text(entity, name)
    return default if text is None else json.loads(text)


def put_dt(entity: dict[str, Any], name: str, value: datetime | None) -> None:
    if value is not None:
        entity[name] = as_utc(value)


def get_dt(entity: Mapping[str, Any], name: str) -> datetime | None:
    v = entity.get(name)
    if v is None:
        return None
    if isinstance(v, datetime):  # the SDK's TablesEntityDatetime: hand back a plain datetime
        v = as_utc(v)
        return datetime(v.year, v.month, v.day, v.hour, v.minute, v.second, v.microsecond, tzinfo=UTC)
    return as_utc(datetime.fromisoformat(str(v)))


def i64(value: int) -> EntityProperty:
    return EntityProperty(value, EdmType.INT64)


def get_int(entity: Mapping[str, Any], name: str, default: int = 0) -> int:
    v = entity.get(name)
    if v is None:
        return default
    if isinstance(v, EntityProperty):
        v = v.value
    return int(v)


def check_size(entity: Mapping[str, Any], what: str) -> None:
    """Refuse an entity the service would reject, with a message that says what was too big."""
    if len(entity) > MAX_PROPERTIES:
        raise ValueTooLargeError(f"{what}: too many properties ({len(entity)}) for one table entity")
    # A character is at most two UTF-16 units: when even that bound fits, counting them exactly
    # (an encode of every value) cannot find it too big.
    if _size(entity, lambda text: 2 * len(text)) <= ENTITY_BYTES:
        return
    size = _size(entity, _units)
    if size > ENTITY_BYTES:
        raise ValueTooLargeError(f"{what}: about {size} bytes, more than one table entity holds (1 MiB)")


def _size(entity: Mapping[str, Any], units: Callable[[str], int]) -> int:
    size = 0
    for name, value in entity.items():
        size += 2 * len(name) + 8
        if isinstance(value, str):
            size += 2 * units(value) + 4
        elif isinstance(value, EntityProperty) and isinstance(value.value, str):
            size += 2 * units(value.value) + 4
        else:
            size += 8
    return size
