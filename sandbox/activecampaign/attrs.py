"""Reading the attributes of a request body with AC's 422 for a value of the wrong kind (register, fixed table).

A text attribute sent as a number is kept as its digits (AC is PHP and coerces); sent as an object, an array or
a boolean it is refused with 422 ``field_invalid`` naming it. ``null`` means "not sent".
"""

from __future__ import annotations

from typing import Any

from .errors import ACError, jsonapi


def invalid(key: str, detail: str = "") -> ACError:
    return jsonapi(422, f"The {key} attribute is invalid", "field_invalid", f"/data/attributes/{key}", detail)


def missing(key: str) -> ACError:
    return jsonapi(422, f"The {key} attribute was not provided", "field_missing", f"/data/attributes/{key}")


def number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def text(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (required and value == ""):
        if required:
            raise missing(key)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(key, "must be a string")
    return value if isinstance(value, str) else number_text(value)


def integer(data: dict[str, Any], key: str, *, default: int | None = None, minimum: int | None = None) -> int | None:
    """An integer attribute: an int or a string of digits (ids are sent both ways); booleans count as 0/1."""
    value = data.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or (minimum is not None and value < minimum):
        raise invalid(key, "must be an integer")
    return value


def objects(data: dict[str, Any], key: str) -> list[dict[str, Any]] | None:
    """An array of objects (``fields``, ``fieldValues``, ...), or None when not sent."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise invalid(key, "must be an array of objects")
    return value


def scalar_or_list(value: Any, key: str, *, allow_null: bool = True) -> Any:
    """A custom-field value: text, a number, or (multi-value fields) an array of those."""
    if value is None and allow_null:
        return None
    items = value if isinstance(value, list) else [value]
    if any(isinstance(v, bool) or not isinstance(v, str | int | float) for v in items):
        raise invalid(key, "must be a string, a number or an array of them")
    return value


def obj(data: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid(key, "must be an object")
    return value
