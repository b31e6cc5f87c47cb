"""Field values: read from a Dynamics record, compared with the last synced values, shaped for AC.

A mapping pairs a Dynamics column with an AC field key (see ``model.standard``). Values are
normalised before they are compared or stored (empty string and null are the same "no
value"; AC returns strings for everything), so an echo never looks like a change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sync_core.model.config import FieldMapping
from sync_core.model.standard import read_column
from sync_core.model.state import RecordLink

AC_CONTACT_STANDARD = {"email": "email", "firstName": "first_name", "lastName": "last_name", "phone": "phone"}
"""v3 contact field → bulk-import row field (bulk import uses snake_case)."""

ASSOCIATION_KEYS = frozenset({"account", "accountContact.jobTitle"})
"""AC keys that live on the account-contact association, not on the contact."""


def normalize(value: Any) -> Any:
    """One canonical form per value, so equal values compare equal across the two systems."""
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip()
        return v or None
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def dynamics_values(record: Mapping[str, Any], fields: Iterable[FieldMapping]) -> dict[str, Any]:
    """The mapped columns of a Dynamics record, normalised, keyed by column."""
    out: dict[str, Any] = {}
    for f in fields:
        v = normalize(record.get(read_column(f.dynamics)))
        if f.dynamics == "emailaddress1" and isinstance(v, str):
            v = v.lower()
        out[f.dynamics] = v
    return out


def select_columns(fields: Iterable[FieldMapping], extra: Sequence[str]) -> list[str]:
    cols = {read_column(f.dynamics) for f in fields}
    cols.update(extra)
    return sorted(cols)


def select_signature(columns: Sequence[str]) -> str:
    """Identifies a ``$select``: a delta link embeds it, so a new one means a new baseline."""
    return hashlib.sha256(",".join(sorted(columns)).encode()).hexdigest()[:16]


def changed_columns(current: Mapping[str, Any], last: Mapping[str, Any] | None) -> list[str]:
    if last is None:
        return [c for c, v in current.items() if v is not None]
    return [c for c, v in current.items() if last.get(c) != v]


def own_write(record: Mapping[str, Any], link: RecordLink) -> bool:
    """Whether this read of a Dynamics record is the sync's own last write (a pull) coming back: the record
    still has the etag that write left (an echo, counted as such rather than as unchanged)."""
    etag = record.get("@odata.etag")
    last = link.history[-1] if link.history else None
    return bool(etag) and etag == link.dynamics_etag and last is not None and last.get("direction") == "pull"


def ac_value(field: FieldMapping, value: Any) -> Any:
    """A Dynamics value as the AC field wants it (option sets through the option map)."""
    if value is None:
        return ""
    if field.option_map is not None:
        return field.option_map.get(str(value), "")
    if isinstance(value, bool):
        return "1" if value else "0"
    return value


def contact_payload(values: Mapping[str, Any]) -> dict[str, Any]:
    """AC key → value pairs as a v3 ``contact`` object (``contact/sync``, ``PUT contacts/{id}``)."""
    body: dict[str, Any] = {}
    field_values: list[dict[str, Any]] = []
    for key, v in values.items():
        if key in ASSOCIATION_KEYS:
            continue
        if key.startswith("field:"):
            field_values.append({"field": key.split(":", 1)[1], "value": "" if v is None else str(v)})
        else:
            body[key] = "" if v is None else v
    if field_values:
        body["fieldValues"] = field_values
    return body


def import_row(values: Mapping[str, Any], *, tags: Sequence[str] = (), list_ids: Sequence[int] = (),
               subscribe: bool = True) -> dict[str, Any]:
    """AC key → value pairs as one ``import/bulk_import`` row."""
    row: dict[str, Any] = {}
    fields: list[dict[str, Any]] = []
    for key, v in values.items():
        if key in ASSOCIATION_KEYS:
            continue
        if key.startswith("field:"):
            fields.append({"id": int(key.split(":", 1)[1]), "value": "" if v is None else str(v)})
        elif key in AC_CONTACT_STANDARD:
            row[AC_CONTACT_STANDARD[key]] = "" if v is None else v
    if fields:
        row["fields"] = fields
    if tags:
        row["tags"] = list(tags)
    if list_ids:
        row["subscribe" if subscribe else "unsubscribe"] = [{"listid": i} for i in list_ids]
    return row


def ac_values_for(fields: Iterable[FieldMapping], values: Mapping[str, Any], columns: set[str]) -> dict[str, Any]:
    """AC key → AC-shaped value for the mapped ``columns`` of a normalised Dynamics record."""
    return {f.activecampaign: ac_value(f, values.get(f.dynamics)) for f in fields if f.dynamics in columns}


def parse_ac_time(value: Any) -> datetime | None:
    """An AC or Dataverse timestamp as an aware datetime (naive ones are taken as UTC)."""
    if not value or not isinstance(value, str):
        return None
    s = value.strip().replace(" ", "T", 1)
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    # Nanosecond fractions (custom objects) are more than fromisoformat takes.
    if "." in s:
        head, _, rest = s.partition(".")
        digits = "".join(ch for ch in rest if ch.isdigit())
        tz = rest[len(digits):]
        s = f"{head}.{digits[:6]}{tz}"
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def utc_text(at: datetime) -> str:
    """A time for people to read, in UTC to the minute (``2026-12-03 10:15 UTC``): what the API's messages and
    the command line print, whatever offset AC's account time zone gave it."""
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
