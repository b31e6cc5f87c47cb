"""ActiveCampaign values as the sync compares them, and as Dynamics stores them when they are pulled.

AC answers every value as text, trims, and may store a dropdown plain or wrapped in ``||`` (register
#17) and a phone as typed or formatted; values are compared in the form each side stores them, so a
value the other side merely normalised never looks like a change and never ping-pongs. Converting to
Dynamics maps option values back through the field's ``option_map``, parses numbers, yes/no and dates,
and cuts text to the column's MaxLength (Dataverse would refuse it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sync_core.dynamics import AttributeMetadata
from sync_core.engine.mapping import normalize
from sync_core.model.config import FieldMapping

CONTACT_KEYS = ("email", "firstName", "lastName", "phone")
"""AC contact fields read from the contact itself; ``field:<id>`` come from its field values."""
ACCOUNT_KEYS = ("name", "accountUrl")

_PIPES = re.compile(r"^\|\|(.*)\|\|$", re.S)
_DIGITS = re.compile(r"\D")


class NotConvertible(ValueError):
    """An AC value the Dynamics column cannot hold (an option no ``option_map`` entry maps, a non-number)."""


def ac_form(key: str, value: Any) -> Any:
    """One canonical form of an AC value (what AC stores, whichever way it was sent)."""
    v = normalize(value)
    if isinstance(v, str):
        m = _PIPES.match(v)
        if m and "||" not in m.group(1):  # a single dropdown value, stored wrapped
            v = m.group(1).strip() or None
        if key == "email" and v:
            v = v.lower()
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int | float):
        return str(v)
    return v


def same_ac(key: str, a: Any, b: Any) -> bool:
    """Whether two AC values are one value as AC stores it (a phone: its digits)."""
    fa, fb = ac_form(key, a), ac_form(key, b)
    if key == "phone" and isinstance(fa, str) and isinstance(fb, str):
        return _DIGITS.sub("", fa) == _DIGITS.sub("", fb)
    return bool(fa == fb)


def _ac_values(record: Mapping[str, Any], field_values: Mapping[str, Any] | None, fields: list[FieldMapping],
               standard: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        key = f.activecampaign
        if key in standard:
            out[key] = ac_form(key, record.get(key))
        elif key.startswith("field:") and field_values is not None:
            out[key] = ac_form(key, field_values.get(key.split(":", 1)[1]))
    return out


def contact_ac_values(contact: Mapping[str, Any], field_values: Mapping[str, Any] | None,
                      fields: list[FieldMapping]) -> dict[str, Any]:
    """The AC values of ``fields`` this contact read holds (custom ones only when ``field_values`` is known)."""
    return _ac_values(contact, field_values, fields, CONTACT_KEYS)


def account_ac_values(account: Mapping[str, Any], field_values: Mapping[str, Any] | None,
                      fields: list[FieldMapping]) -> dict[str, Any]:
    """As :func:`contact_ac_values`, for an AC account."""
    return _ac_values(account, field_values, fields, ACCOUNT_KEYS)


def to_dynamics(f: FieldMapping, ac_value: Any, attr: AttributeMetadata | None) -> Any:
    """The Dynamics value of an AC value, as Dataverse will store it (``dynamics_values`` form)."""
    v = ac_form(f.activecampaign, ac_value)
    if v is None:
        return None
    if f.option_map is not None:
        back = {str(ac): dyn for dyn, ac in f.option_map.items()}
        if str(v) not in back:
            raise NotConvertible(f"{f.activecampaign} holds {v!r}, which the option map of {f.dynamics} "
                                 "does not map back to a Dynamics option")
        dyn = back[str(v)]
        return int(dyn) if dyn.lstrip("-").isdigit() else dyn
    kind = attr.type_name if attr is not None else "StringType"
    text = str(v)
    try:
        if kind == "BooleanType":
            return text.strip().lower() in ("1", "true", "yes", "on")
        if kind in ("IntegerType", "BigIntType", "PicklistType", "StateType", "StatusType"):
            return int(float(text))
        if kind in ("DecimalType", "DoubleType", "MoneyType"):
            return float(text)
    except ValueError:
        raise NotConvertible(f"{f.activecampaign} holds {text!r}, not a number for {f.dynamics}") from None
    if kind == "DateTimeType":
        return _date_text(text)
    limit = attr.max_length if attr is not None else None
    return _cut(text, limit) if limit else text


def _cut(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 code units (what MaxLength counts under either register reading, #24)."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out, units = [], 0
    for ch in text:
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
        out.append(ch)
    return "".join(out)


def _date_text(text: str) -> str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise NotConvertible(f"{text!r} is not a date") from None
