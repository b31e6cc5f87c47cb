"""Record addressing and request bodies: keys, alternate keys, entity references, ``@odata.bind``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from .dataverse import Dataverse, Row
from .errors import DataverseError, bad_request, not_found
from .schema import Table

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$][\w.$]*)(?:\((?P<key>.*)\))?$")


def parse_key(table: Table, key: str) -> str | dict[str, Any]:
    """A GUID, or {column: value} for an alternate key such as ``azureactivedirectoryobjectid=<guid>``."""
    key = unquote(key).strip()
    if GUID.match(key):
        return key.lower()
    parts: dict[str, Any] = {}
    for piece in re.findall(r"(\w+)=('(?:[^']|'')*'|[^,]+)", key):
        name, raw = piece
        value: Any = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw.strip()
        if isinstance(value, str) and not raw.startswith("'") and GUID.match(value):
            value = value.lower()
        parts[name] = value
    invalid = not parts or set(parts) not in [set(k) for k in table.alternate_keys]
    if invalid:
        raise bad_request(
            f"The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.{table.logical}'. "
            "Ensure that the names and number of key properties match the declared or alternate key properties "
            "for the resource "
            f"'Microsoft.Dynamics.CRM.{table.logical}'."
        )
    return parts


def find(dv: Dataverse, table: Table, key: str) -> tuple[Row | None, str | dict[str, Any]]:
    parsed = parse_key(table, key)
    if isinstance(parsed, str):
        return dv.get(table.logical, parsed), parsed
    return dv.find_by_key(table.logical, parsed), parsed


def missing(table: Table, parsed: str | dict[str, Any]) -> DataverseError:
    if isinstance(parsed, str):
        return not_found(table.logical, parsed)
    return DataverseError(
        404, "0x80040217", f"A record with the specified key values does not exist in {table.logical} entity"
    )


def resolve_key(dv: Dataverse, table: Table, key: str) -> Row:
    row, parsed = find(dv, table, key)
    if row is None:
        raise missing(table, parsed)
    return row


def entity_ref(dv: Dataverse, url: str) -> tuple[Table, Row]:
    """Resolve "/accounts(<id>)", "accounts(<id>)" or an absolute ".../api/data/v9.2/accounts(<id>)"."""
    text = url.split("/api/data/v9.2/", 1)[-1].lstrip("/")
    match = SEGMENT.match(text)
    if not match or match.group("key") is None or match.group("name") not in dv.by_set:
        raise bad_request(f"The entity reference '{url}' is not valid.")
    table = dv.by_set[match.group("name")]
    return table, resolve_key(dv, table, match.group("key"))


# ------------------------------------------------------------------ body parsing


def split_body(dv: Dataverse, table: Table, body: Any) -> tuple[dict[str, Any], dict[str, tuple[str, str | None]]]:
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    values: dict[str, Any] = {}
    binds: dict[str, tuple[str, str | None]] = {}
    for name, value in body.items():
        if name.endswith("@odata.bind"):
            nav = name[: -len("@odata.bind")]
            if nav not in table.nav:
                raise bad_request(
                    f"An undeclared property '{nav}' which only has property annotations in the payload but no "
                    "property value was found in the payload. In OData, only declared navigation properties and "
                    "declared named streams can be represented as properties without values."
                )
            column, target = table.nav[nav]
            if value is None:
                binds[column] = (target, None)
                continue
            if not isinstance(value, str):
                raise bad_request(f"The value of '{name}' must be an entity reference string.")
            ref_table, ref_row = _bound(dv, value, nav)
            if nav == "ownerid" and ref_table.logical in ("systemuser", "team"):
                target = ref_table.logical
            if ref_table.logical != target:
                raise bad_request(
                    f"The navigation property '{nav}' expects a reference to '{target}', not '{ref_table.logical}'."
                )
            binds[column] = (target, ref_row[ref_table.pk])
        elif name.startswith("@") or "@" in name:
            continue  # instance annotations (@odata.type, ...) carry no data
        elif isinstance(value, dict | list):
            raise bad_request(f"Deep insert of '{name}' is not supported by the sandbox.")
        else:
            values[name] = value
    return values, binds


def _bound(dv: Dataverse, value: str, nav: str) -> tuple[Table, Row]:
    """The record an ``@odata.bind`` names; a malformed url is InvalidUrlForODataBindProperty (0x80090800)."""
    text = value.split("/api/data/v9.2/", 1)[-1].lstrip("/")
    match = SEGMENT.match(text)
    if not match or match.group("key") is None or match.group("name") not in dv.by_set:
        raise bad_request(f"Invalid url value '{value}' for lookup property '{nav}'.", "0x80090800")
    try:
        return entity_ref(dv, value)
    except DataverseError as exc:
        if exc.status == 404:  # register: bind_missing_status
            raise DataverseError(int(dv.switches["bind_missing_status"]), exc.code, exc.message) from None
        raise
