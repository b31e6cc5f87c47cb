"""What the configuration checks know of the two systems: field types, compatibility, AC's fields."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync_core.model.state import EntityName

if TYPE_CHECKING:
    from sync_core.activecampaign import ActiveCampaignClient
    from sync_core.dynamics import EntityMetadata

CONFIG_KEY: dict[EntityName, str] = {"account": "accounts", "contact": "contacts", "lead": "leads",
                                     "opportunity": "opportunities"}

# Dynamics AttributeTypeName → the AC field types that can hold its values without loss.
COMPATIBLE: dict[str, frozenset[str]] = {
    "StringType": frozenset({"text", "textarea", "hidden"}),
    "MemoType": frozenset({"textarea", "text", "hidden"}),
    "PicklistType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "StateType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "StatusType": frozenset({"dropdown", "radio", "text", "hidden"}),
    "MultiSelectPicklistType": frozenset({"multiselect", "listbox", "checkbox"}),
    "BooleanType": frozenset({"checkbox", "dropdown", "radio", "text", "hidden"}),
    "IntegerType": frozenset({"number", "text", "hidden"}),
    "BigIntType": frozenset({"number", "text", "hidden"}),
    "DecimalType": frozenset({"number", "text", "hidden", "currency"}),
    "DoubleType": frozenset({"number", "text", "hidden"}),
    "MoneyType": frozenset({"currency", "number", "text", "hidden"}),
    "DateTimeType": frozenset({"date", "datetime", "text", "hidden"}),
    "UniqueidentifierType": frozenset({"text", "hidden"}),
}
"""Lookups (Lookup, Customer, Owner) map only through the standard Account mapping."""
OPTION_TYPES = frozenset({"PicklistType", "StateType", "StatusType", "MultiSelectPicklistType"})
AC_OPTION_TYPES = frozenset({"dropdown", "radio", "multiselect", "listbox", "checkbox"})
NUMBER_TYPES = frozenset({"IntegerType", "BigIntType", "DecimalType", "DoubleType", "MoneyType"})
INTEGER_TYPES = frozenset({"IntegerType", "BigIntType", "PicklistType", "StateType", "StatusType"})
LOOKUP_TYPES = frozenset({"LookupType", "CustomerType", "OwnerType"})
ORDERED_TYPES = NUMBER_TYPES | {"DateTimeType"}

AC_CONTACT_STANDARD_TYPES = {"email": "text", "firstName": "text", "lastName": "text", "phone": "text"}
AC_ACCOUNT_STANDARD_TYPES = {"name": "text", "accountUrl": "text"}
AUTO_FILLED = frozenset({"ownerid", "transactioncurrencyid", "statecode", "statuscode", "createdon", "modifiedon"})


@dataclass(frozen=True)
class ConfigIssue:
    """One problem of a configuration, at ``field`` (a dotted path into the document)."""

    field: str
    message: str
    candidates: list[str] | None = None


@dataclass
class AcField:
    key: str
    type: str
    title: str
    options: list[str] = field(default_factory=list)
    """Option values (what a contact's field value holds) of dropdown/radio/listbox/checkbox fields."""


async def ac_fields(ac: ActiveCampaignClient, entity: EntityName) -> dict[str, AcField]:
    """The AC fields a Dynamics entity can map to, keyed like mappings (``field:<id>``)."""
    out: dict[str, AcField] = {}
    if entity in ("contact", "lead"):
        for key, t in AC_CONTACT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        fields = await ac.list_fields()
        # A field's own ``options`` are only option ids; the values come side-loaded as ``fieldOptions``.
        options = await ac.list_all_field_options() if any(_ac_type(f.get("type")) in AC_OPTION_TYPES
                                                            for f in fields) else {}
        for f in fields:
            key = f"field:{f['id']}"
            values = [str(o.get("value") if o.get("value") not in (None, "") else o.get("label") or "")
                      for o in options.get(str(f["id"]), [])]
            out[key] = AcField(key, _ac_type(f.get("type")), str(f.get("title") or ""), values)
        out["accountContact.jobTitle"] = AcField("accountContact.jobTitle", "text", "Job title (account contact)")
        out["account"] = AcField("account", "account", "Account")
    elif entity == "account":
        for key, t in AC_ACCOUNT_STANDARD_TYPES.items():
            out[key] = AcField(key, t, key)
        for f in await ac.list_account_custom_fields():
            opts = f.get("fieldOptions") or []
            out[f"field:{f['id']}"] = AcField(f"field:{f['id']}", _ac_type(f.get("fieldType")),
                                              str(f.get("fieldLabel") or ""),
                                              [str(o.get("value") if isinstance(o, dict) else o) for o in opts])
    return out


def _ac_type(t: Any) -> str:
    return str(t or "text").lower()


def compatible(dynamics_type: str, ac_type: str) -> bool:
    return ac_type in COMPATIBLE.get(dynamics_type, frozenset())


def candidates_for_dynamics(attr_type: str, fields: Mapping[str, AcField]) -> list[str]:
    return sorted(k for k, f in fields.items() if compatible(attr_type, f.type))


def candidates_for_ac(ac_type: str, meta: EntityMetadata) -> list[str]:
    return sorted(a.logical_name for a in meta.attributes.values() if compatible(a.type_name, ac_type))
